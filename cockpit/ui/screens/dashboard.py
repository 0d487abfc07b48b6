"""``d``: a read-only dashboard of every service's maturity level and DORA classes side by side.

The rows come from an ``InsightsProvider`` (maturity assessment and DORA metrics over
the deployment history); the screen only lays them out. Without a provider it says so.
"""

from __future__ import annotations

from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from cockpit.ui.insight_rows import DoraFigure, InsightRow, InsightsProvider
from cockpit.ui.widgets.tones import toned

CLASS_TONES = {"elite": "ok", "high": "ok", "medium": "warn", "low": "bad"}
LEVEL_WORDS = {1: "1 manual", 2: "2 CI", 3: "3 delivery", 4: "4 deployment"}


def figure_cell(figure: DoraFigure) -> tuple[tuple[str, str], ...]:
    cls = figure.cls or "n/a"
    return ((figure.value, ""), (f" {cls}", CLASS_TONES.get(cls, "muted")))


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

    def compose(self) -> ComposeResult:
        yield Static(
            toned([("Maturity and DORA", "bold"), ("  read-only", "muted")]), id="dashboard-title"
        )
        table: DataTable[object] = DataTable(
            id="dashboard-table", cursor_type="row", zebra_stripes=False
        )
        table.add_columns(
            "service",
            "env",
            "level",
            "deploy freq.",
            "lead time",
            "change fail",
            "restore",
            "next step",
        )
        yield table
        yield Static(id="dashboard-note")
        yield Footer()

    def on_mount(self) -> None:
        if self._provider is None:
            self.query_one("#dashboard-note", Static).update(
                toned([("maturity and DORA data are not connected in this session", "muted")])
            )
            return
        self.query_one("#dashboard-note", Static).update(toned([("◌ measuring…", "info")]))
        self._load()

    @work(exclusive=True, group="insights", exit_on_error=False)
    async def _load(self) -> None:
        assert self._provider is not None
        try:
            rows = await self._provider()
        except Exception as error:
            message = getattr(error, "message", None) or str(error)
            self.query_one("#dashboard-note", Static).update(toned([(f"✖ {message}", "bad")]))
            return
        self.show_rows(rows)

    def show_rows(self, rows: tuple[InsightRow, ...]) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for row in rows:
            level = LEVEL_WORDS.get(row.level, "?") if row.level is not None else "? unknown"
            table.add_row(
                row.service,
                row.environment,
                level,
                toned(figure_cell(row.deployment_frequency)),
                toned(figure_cell(row.lead_time)),
                toned(figure_cell(row.change_failure_rate)),
                toned(figure_cell(row.time_to_restore)),
                row.next_step or "—",
            )
        self.query_one("#dashboard-note", Static).update(
            toned(
                [
                    (
                        f"{len(rows)} service environments · levels per the maturity model; DORA classes per the report",
                        "muted",
                    )
                ]
            )
        )

    def action_cursor(self, direction: str) -> None:
        table = self.query_one(DataTable)
        table.action_cursor_down() if direction == "down" else table.action_cursor_up()
