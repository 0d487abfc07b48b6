"""``d``: a read-only dashboard of every service's maturity level and DORA classes side by side.

The rows come from an ``InsightsProvider`` (maturity assessment and DORA metrics over
the deployment history); the screen only lays them out: one line per service ×
environment, the service's name and level on its first line, each figure with its
class (on a narrow terminal the class alone). The line under the table spells out the
selected row: its figures when the table leaves them out, what is missing and the next
step, or why it could not be measured. Without a provider it says so.
"""

from __future__ import annotations

from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import DataTable, Static

from cockpit.errors import words
from cockpit.ui.insight_rows import DoraFigure, InsightRow, InsightsProvider
from cockpit.ui.presenters import Fragment
from cockpit.ui.screens.presence import is_shown
from cockpit.ui.widgets.detail.insights import class_fragment
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.tones import toned

LEVEL_WORDS = {1: "1 manual", 2: "2 CI", 3: "3 delivery", 4: "4 deployment"}
#: The figure columns, in the order DoraReport.metrics gives them, and narrow.
FIGURE_TITLES = ("deploy frequency", "lead time", "change failures", "time to restore")
SHORT_TITLES = ("deploys", "lead time", "failures", "restore")
#: Below this width the figures' values move to the note line; their classes stay.
WIDE = 110

Cell = tuple[Fragment, ...]


def figure_cell(figure: DoraFigure | None, value_width: int = 0, *, values: bool = True) -> Cell:
    """``2.4 per day ● elite``, the value padded so that the classes line up; the class
    alone when ``values`` is false (narrow terminals: the note line gives the values)."""
    if figure is None:
        return (("?", "muted"),)
    if not values:
        return (class_fragment(figure),)
    return ((f"{figure.value:<{value_width}} ", ""), class_fragment(figure))


def level_cell(row: InsightRow, *, words: bool = True) -> Cell:
    """``4 deployment``; the digit alone on a narrow terminal (the note names the level)."""
    level = row.maturity.level
    if level is None:
        return (("? unknown" if words else "?", "muted"),)
    tone = "ok" if level == 4 else "warn" if level == 3 else "bad"
    return ((LEVEL_WORDS.get(level, str(level)) if words else str(level), tone),)


def dashboard_cells(rows: tuple[InsightRow, ...], *, values: bool = True) -> list[list[Cell]]:
    """One list of cells per row; a service's name and level only on its first row."""
    table: list[list[Cell]] = []
    previous: str | None = None
    widths = [
        max((len(r.dora[i].value) for r in rows if r.dora), default=0)
        for i in range(len(FIGURE_TITLES))
    ]
    for row in rows:
        first = row.service != previous
        previous = row.service
        figures: list[DoraFigure | None] = list(row.dora) or [None] * len(FIGURE_TITLES)
        table.append(
            [
                ((row.service, "bold"),) if first else (("", ""),),
                ((row.environment, ""),),
                level_cell(row, words=values) if first else (("", ""),),
                *(figure_cell(f, w, values=values) for f, w in zip(figures, widths, strict=True)),
            ]
        )
    return table


def cell_width(cell: Cell) -> int:
    return sum(len(text) for text, _ in cell)


def row_note(row: InsightRow, *, values: bool = False) -> list[Fragment]:
    """The selected row in words: missing items and the next step, or why not measured;
    with ``values``, the four figures first (when the table shows only their classes)."""
    out: list[Fragment] = [(f"{row.service}/{row.environment}: ", "bold")]
    if values and row.dora:
        out.append((" · ".join(f.value for f in row.dora) + " · ", ""))
    if values and row.maturity.level is not None:
        out.append((f"level {row.maturity.level} {row.maturity.name} · ", ""))
    maturity = row.maturity
    if maturity.level is None:
        out.append((f"maturity not assessed: {maturity.error or 'no answer'}", "bad"))
    elif maturity.next_step:
        out.append((f"next step: {maturity.next_step}", ""))
        if maturity.missing:
            out.append((f" · missing: {', '.join(maturity.missing)}", "muted"))
    else:
        out.append(("nothing missing", "ok"))
    if row.dora_error:
        out.append((f" · DORA: {row.dora_error}", "bad"))
    return out


class DashboardScreen(Screen[None]):
    """Read-only: nothing on this screen writes."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("j", "cursor('down')", "Down", show=False),
        Binding("k", "cursor('up')", "Up", show=False),
    ]

    def __init__(self, provider: InsightsProvider | None) -> None:
        super().__init__()
        self._provider = provider
        self._rows: tuple[InsightRow, ...] = ()
        #: Under ``WIDE`` columns the table shows the classes only.
        self._narrow = False

    def compose(self) -> ComposeResult:
        yield Static(
            toned(
                [
                    ("Maturity and DORA", "bold"),
                    ("  every service · DORA over the last 30 days · read-only", "muted"),
                ]
            ),
            id="dashboard-title",
        )
        yield DataTable(id="dashboard-table", cursor_type="row", zebra_stripes=False)
        yield Static(id="dashboard-note")
        yield KeyFooter()

    def on_mount(self) -> None:
        if self._provider is None:
            self._note([("maturity and DORA data are not connected in this session", "muted")])
            return
        self._note(
            [("◌ measuring… (CI configuration and deployment history of every service)", "info")]
        )
        self._load()

    def _note(self, fragments: list[Fragment]) -> None:
        self.query_one("#dashboard-note", Static).update(toned(fragments))

    @work(exclusive=True, group="insights", exit_on_error=False)
    async def _load(self) -> None:
        assert self._provider is not None
        try:
            rows = await self._provider()
        except Exception as error:
            if not is_shown(self):
                return
            message = words(error)
            self._note([(f"✖ {message}", "bad")])
            return
        if not is_shown(self):  # closed (or the app quit) while GitLab answered
            return
        self.show_rows(rows)

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < WIDE
        if narrow != self._narrow:
            self._narrow = narrow
            if self._rows:
                self.show_rows(self._rows)

    def show_rows(self, rows: tuple[InsightRow, ...]) -> None:
        self._rows = rows
        table: DataTable[Content] = self.query_one(DataTable)
        cursor = table.cursor_row
        table.clear(columns=True)
        cells = dashboard_cells(rows, values=not self._narrow)
        titles = ("service", "env", "level", *(SHORT_TITLES if self._narrow else FIGURE_TITLES))
        for index, title in enumerate(titles):
            # Content cells are not measured by the table: give each column its width.
            width = max([len(title), *(cell_width(line[index]) for line in cells)])
            table.add_column(title, width=width)
        for line in cells:
            table.add_row(*(toned(cell) for cell in line))
        if not rows:
            self._note([("no service to measure", "muted")])
        elif 0 < cursor < len(rows):
            table.move_cursor(row=cursor)

    @on(DataTable.RowHighlighted)
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        if 0 <= event.cursor_row < len(self._rows):
            self._note(row_note(self._rows[event.cursor_row], values=self._narrow))

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()
