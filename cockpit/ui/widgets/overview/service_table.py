"""The overview's table: one line per service × environment, drawn with the Line API.

Each visible line is rendered on demand (``render_line``) from the row's
``ServiceState`` and cached by what it depends on. An update repaints only the lines
whose state changed (``refresh`` of a one-line region); the whole table is repainted
only when the row order, the filter, the cursor's page or the width changed. That keeps
an update of one row to a few hundred bytes on the wire, where a ``DataTable`` repaints
everything it shows.

The widget announces (``CursorMoved``, ``OpenRequested``); the screen decides.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Region
from textual.message import Message
from textual.strip import Strip
from textual.widget import Widget

from cockpit import triage
from cockpit.model import EnvKey, ServiceState
from cockpit.ui.presenters import GAP, GUTTER, Cell, fit, layout_columns, row_cells

TONES = ("ok", "bad", "warn", "info", "muted", "bold")


class ServiceTable(Widget, can_focus=True):
    """Every service × environment, rows needing attention first."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "service-table--heading",
        "service-table--cursor",
        *(f"service-table--{tone}" for tone in TONES),
    }

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("j,down", "cursor(1)", "Down", show=False),
        Binding("k,up", "cursor(-1)", "Up", show=False),
        Binding("g,home", "first", "Top", show=False),
        Binding("G,end", "last", "Bottom", show=False),
        Binding("pagedown,ctrl+f", "page(1)", "Page down", show=False),
        Binding("pageup,ctrl+b", "page(-1)", "Page up", show=False),
        Binding("enter", "open", "Open", tooltip="Open the selected service's detail"),
    ]

    class CursorMoved(Message):
        """The selection moved to another row (or the selected row changed)."""

        def __init__(self, key: EnvKey | None) -> None:
            self.key = key
            super().__init__()

    class OpenRequested(Message):
        def __init__(self, key: EnvKey) -> None:
            self.key = key
            super().__init__()

    def __init__(
        self,
        *,
        now: datetime,
        sparklines: bool = True,
        attention: Callable[[ServiceState], tuple[str, ...]] = triage.attention,
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        #: Why a row needs a person (the ⚠ in the gutter): the row's own reasons and
        #: whatever the screen adds (the health guard's verdict).
        self._attention = attention
        self._states: dict[EnvKey, ServiceState] = {}
        self._order: list[EnvKey] = []
        self._filter = ""
        self._cursor_key: EnvKey | None = None
        #: Until the person moves the cursor it stays on the top row (the most urgent,
        #: whichever that is now); once moved, it follows the row it is on.
        self._moved_by_user = False
        self._top = 0
        self._now = now
        self._sparklines = sparklines
        self._line_cache: dict[EnvKey, tuple[object, Strip]] = {}

    # ------------------------------------------------------------------ data in

    @property
    def rows(self) -> tuple[EnvKey, ...]:
        """The keys shown, in display order (after filter and attention sort)."""
        return tuple(self._order)

    @property
    def selected(self) -> EnvKey | None:
        return self._cursor_key

    def set_now(self, now: datetime) -> None:
        """Ages in the rows are relative to this moment; repaint only when they can change.

        The rows show ages in minutes and more, so the moment is kept to the minute: a new
        snapshot a few seconds later must not repaint every row.
        """
        minute = now.replace(second=0, microsecond=0)
        if minute != self._now:
            self._now = minute
            # Most rows read the same a minute later ("2d", "18h"): repaint only the
            # ones whose line changed, as for new data.
            for key in self._order:
                self._refresh_row_if_shown_differently(key)

    def apply(self, states: Mapping[EnvKey, ServiceState], changed: frozenset[EnvKey]) -> None:
        """Take a new snapshot; repaint only the rows that changed, unless the order did."""
        self._states = dict(states)
        old_order = self._order
        self._order = self._ordered()
        if self._cursor_key not in self._order or not self._moved_by_user:
            top = self._order[0] if self._order else None
            moved = top != self._cursor_key
            self._cursor_key = top
            if moved or top in changed:
                self.post_message(self.CursorMoved(top))
        elif self._cursor_key in changed:
            self.post_message(self.CursorMoved(self._cursor_key))
        if self._order != old_order:
            self._keep_cursor_visible()
            self.refresh()
            return
        for key in changed:
            if key in self._order:
                self._refresh_row_if_shown_differently(key)

    def set_filter(self, text: str) -> None:
        text = text.strip().lower()
        if text == self._filter:
            return
        self._filter = text
        self._order = self._ordered()
        if self._cursor_key not in self._order or not self._moved_by_user:
            self._cursor_key = self._order[0] if self._order else None
            self.post_message(self.CursorMoved(self._cursor_key))
        self._top = 0
        self._keep_cursor_visible()
        self.refresh()

    def select(self, key: EnvKey) -> bool:
        """Move the cursor to ``key`` (clearing a filter that hides it)."""
        if key not in self._states:
            return False
        if key not in self._order:
            self.set_filter("")
        self._move_by_user(self._order.index(key))
        return True

    def _ordered(self) -> list[EnvKey]:
        needle = self._filter
        keys = [
            state
            for key, state in self._states.items()
            if not needle or needle in key.service.lower() or needle in key.environment.lower()
        ]
        return [s.key for s in sorted(keys, key=triage.sort_key)]

    # ------------------------------------------------------------------ cursor

    @property
    def _cursor(self) -> int:
        if self._cursor_key is None or self._cursor_key not in self._order:
            return 0
        return self._order.index(self._cursor_key)

    @property
    def _page(self) -> int:
        return max(1, self.size.height - 1)

    def _move_to(self, index: int) -> None:
        if not self._order:
            return
        index = max(0, min(len(self._order) - 1, index))
        old = self._cursor
        self._cursor_key = self._order[index]
        old_top = self._top
        self._keep_cursor_visible()
        if self._top != old_top:
            self.refresh()
        else:
            self._refresh_row(old)
            self._refresh_row(index)
        if index != old:
            self.post_message(self.CursorMoved(self._cursor_key))

    def _keep_cursor_visible(self) -> None:
        cursor, page = self._cursor, self._page
        if cursor < self._top:
            self._top = cursor
        elif cursor >= self._top + page:
            self._top = cursor - page + 1
        self._top = max(0, min(self._top, max(0, len(self._order) - page)))

    def _move_by_user(self, index: int) -> None:
        self._moved_by_user = True
        self._move_to(index)

    def action_cursor(self, delta: int) -> None:
        self._move_by_user(self._cursor + delta)

    def action_first(self) -> None:
        self._move_by_user(0)

    def action_last(self) -> None:
        self._move_by_user(len(self._order) - 1)

    def action_page(self, direction: int) -> None:
        self._move_by_user(self._cursor + direction * self._page)

    def action_open(self) -> None:
        if self._cursor_key is not None:
            self.post_message(self.OpenRequested(self._cursor_key))

    def on_click(self, event: events.Click) -> None:
        if event.y >= 1:
            self._move_by_user(self._top + event.y - 1)

    def on_mouse_scroll_down(self, event: events.MouseScrollDown) -> None:
        self._move_by_user(self._cursor + 3)

    def on_mouse_scroll_up(self, event: events.MouseScrollUp) -> None:
        self._move_by_user(self._cursor - 3)

    def on_mount(self) -> None:
        # Cached lines carry the theme's colours: a theme switch must redraw them.
        self.watch(self.app, "theme", self._theme_changed, init=False)

    def _theme_changed(self) -> None:
        self._line_cache.clear()
        self.refresh()

    def on_resize(self, event: events.Resize) -> None:
        self._line_cache.clear()
        self._keep_cursor_visible()

    # ------------------------------------------------------------------ drawing

    def _refresh_row_if_shown_differently(self, key: EnvKey) -> None:
        """Repaint a changed row only if what it shows changed (not a rate's tenth decimal).

        Textual writes a refreshed region whatever it holds, and over SSH the bytes are
        what cost: comparing the row's new line with the one on screen is cheap.
        """
        index = self._order.index(key)
        y = index - self._top + 1
        if not 1 <= y < self.size.height:
            return
        shown = self._line_cache.get(key)
        if shown is None or self.render_line(y) != shown[1]:
            self._refresh_row(index)

    def _refresh_row(self, index: int) -> None:
        y = index - self._top + 1
        if 1 <= y < self.size.height:
            self.refresh(Region(0, y, self.size.width, 1))

    def _style(self, tone: str) -> Style:
        if tone not in TONES:
            return Style()
        return self.get_component_rich_style(f"service-table--{tone}", partial=True)

    def _strip(self, cells: list[Cell], base: Style, overlay: Style | None = None) -> Strip:
        """Cells as one line; ``overlay`` (the cursor) goes over every tone."""
        top = overlay or Style()
        segments: list[Segment] = []
        for index, cell in enumerate(cells):
            if index:
                segments.append(Segment(" " * GAP, base + top))
            segments.extend(
                Segment(text, base + self._style(tone) + top) for text, tone in cell if text
            )
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        layout = layout_columns(width)
        base = self.rich_style
        if y == 0:
            heading = self.get_component_rich_style("service-table--heading")
            cells = [fit((), GUTTER - 1)]
            cells += [fit(((col.title, ""),), w) for col, w in layout]
            return self._strip(cells, base + heading).adjust_cell_length(width, base + heading)
        index = self._top + y - 1
        if index >= len(self._order):
            if index == 0 and not self._order:
                text = "no service matches the filter" if self._filter else "waiting for data…"
                return Strip(
                    [Segment(f"   {text}", base + self._style("muted"))]
                ).adjust_cell_length(width, base)
            return Strip.blank(width, base)
        key = self._order[index]
        state = self._states[key]
        selected = key == self._cursor_key
        marked = bool(self._attention(state))
        cache_key = (state, width, selected, self._now, self._sparklines, self.has_focus, marked)
        cached = self._line_cache.get(key)
        if cached is not None and cached[0] == cache_key:
            return cached[1]
        strip = self._render_row(state, layout, selected, width, marked)
        self._line_cache[key] = (cache_key, strip)
        return strip

    def _render_row(
        self, state: ServiceState, layout: tuple, selected: bool, width: int, marked: bool
    ) -> Strip:
        base = self.rich_style
        cursor = self.get_component_rich_style("service-table--cursor") if selected else None
        widths = {col.key: w for col, w in layout}
        if not self._sparklines and "health" in widths:
            widths["health"] = min(widths["health"], 15)
        cells = row_cells(state, self._now, widths)
        gutter: Cell = (
            ("›" if selected else " ", "bold"),
            ("⚠" if marked else " ", "bad" if marked else ""),
        )
        parts = [fit(gutter, GUTTER - 1)]
        parts += [fit(cells[col.key], w) for col, w in layout]
        fill = base + cursor if cursor is not None else base
        return self._strip(parts, base, cursor).adjust_cell_length(width, fill)

    def on_focus(self) -> None:
        self._line_cache.clear()
        self.refresh()

    def on_blur(self) -> None:
        self._line_cache.clear()
        self.refresh()
