"""The first screen: every service × environment on one line, the ones needing a person first.

``/`` filters (substring of service or environment; ``esc`` clears), ``enter`` opens the
detail, ``f`` the feature flags, ``d`` the maturity/DORA dashboard; the write keys come
from ``LiveScreen``. Under the table, one line says why the selected row needs
attention and what the last action on it did.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Input, Static

from cockpit.model import EnvKey, ServiceState
from cockpit.ui.screens.live import LiveScreen, write_bindings
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.header import CockpitHeader, SourceBar
from cockpit.ui.widgets.overview.service_table import ServiceTable
from cockpit.ui.widgets.tones import toned


class OverviewScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", tooltip="Filter rows by service or environment"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
        *write_bindings(),
        Binding("f", "flags", "Flags", tooltip="Feature flags of the selected service"),
        Binding("d", "app.dashboard", "Dashboard", tooltip="Maturity level and DORA classes"),
    ]

    def compose(self) -> ComposeResult:
        engine = self.cockpit.engine
        yield CockpitHeader(
            contexts=engine.header.kube_contexts,
            gitlab_host=engine.header.gitlab_host,
            read_only=self.cockpit.read_only,
            clock=engine.now,
            id="header",
        )
        yield SourceBar(clock=engine.wall_now, id="sources")
        yield Input(placeholder="filter: service or environment (esc clears)", id="filter")
        yield ServiceTable(
            now=engine.now(),
            sparklines=not self.cockpit.low_bandwidth,
            attention=self.cockpit.attention,
            id="table",
        )
        yield Static(id="selection")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#filter", Input).display = False
        self.apply_update(self.cockpit.states, frozenset(self.cockpit.states))
        self.query_one(ServiceTable).focus()

    @property
    def table(self) -> ServiceTable:
        return self.query_one(ServiceTable)

    @property
    def selected_key(self) -> EnvKey | None:
        return self.table.selected

    def apply_update(
        self, states: Mapping[EnvKey, ServiceState], changed: frozenset[EnvKey]
    ) -> None:
        found = self.query(ServiceTable)
        if not found:
            return  # taken apart while the app quits: an update still queued has no table
        table = found.first()
        table.set_now(self.cockpit.engine.now())
        table.apply(states, changed)
        self.query_one(SourceBar).show_states(states.values())
        if table.selected in changed:
            self._show_selection()
            self.refresh_bindings()

    # ------------------------------------------------------------------ selection

    @on(ServiceTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_selection()
        self.refresh_bindings()

    def _show_selection(self) -> None:
        key = self.table.selected
        state = self.selected_state
        fragments: list[tuple[str, str]] = []
        if key is not None and state is not None:
            rows = self.table.rows
            fragments.append(
                (f"{rows.index(key) + 1}/{len(rows)} ", "muted") if key in rows else ("", "")
            )
            fragments.append((str(key), "bold"))
            fragments.extend(self.row_status(state))
        self.query_one("#selection", Static).update(toned(fragments))

    @on(ServiceTable.OpenRequested)
    def _open(self, event: ServiceTable.OpenRequested) -> None:
        from cockpit.ui.screens.detail import DetailScreen

        self.app.push_screen(DetailScreen(event.key))

    def open_service(self, key: EnvKey) -> None:
        """Select a row and open its detail (the palette's "go to service")."""
        if self.table.select(key):
            self._open(ServiceTable.OpenRequested(key))

    # ------------------------------------------------------------------ filter

    def action_filter(self) -> None:
        field = self.query_one("#filter", Input)
        field.display = True
        field.focus()

    @on(Input.Changed, "#filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value)

    @on(Input.Submitted, "#filter")
    def _filter_submitted(self) -> None:
        self.table.focus()

    def action_clear_filter(self) -> None:
        field = self.query_one("#filter", Input)
        if field.value or field.display:
            field.value = ""
            field.display = False
            self.table.set_filter("")
            self.table.focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "clear_filter":
            return self.query_one("#filter", Input).display
        if action == "flags":
            return self.selected_state is not None
        return super().check_action(action, parameters)

    # ------------------------------------------------------------------ flags

    def action_flags(self) -> None:
        from cockpit.ui.screens.flags import FlagsScreen

        key = self.selected_key
        if key is not None:
            self.app.push_screen(FlagsScreen(key))
