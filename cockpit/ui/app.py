"""The cockpit application: screens over the engine's live snapshots, writes via the action layer.

``CockpitApp(engine)`` subscribes to the engine, keeps the latest snapshot, and hands
each update to the screens that show live data, coalescing bursts into one repaint per
frame. It asks the action layer for plans and runs a plan only through the confirm
dialog, once, then shows the result and asks the engine for a refresh of that row.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType
from textual.worker import Worker, WorkerState

from cockpit.locations import styles_dir
from cockpit.model import EnvKey, FeatureFlag, Job, ServiceState
from cockpit.ui.action_port import ActionPort
from cockpit.ui.commands import CockpitCommands
from cockpit.ui.insight_rows import InsightsProvider
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.live import LiveScreen
from cockpit.ui.screens.overview import OverviewScreen

if TYPE_CHECKING:
    from cockpit.engine import Engine, StateUpdate

STYLESHEETS = ("app.tcss", "overview.tcss", "detail.tcss", "dialogs.tcss")


class CockpitApp(App[None]):
    """Every service × environment, live; promote and roll back with a confirmed key."""

    TITLE = "cockpit"
    CSS_PATH: ClassVar[list[str | PurePath]] = [styles_dir() / name for name in STYLESHEETS]
    COMMANDS = App.COMMANDS | {CockpitCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", tooltip="Leave cockpit"),
        Binding("question_mark", "help", "Help", tooltip="Every key of this screen"),
        Binding("colon", "command_palette", "Commands", show=False),
        Binding("ctrl+r", "refresh", "Refresh", tooltip="Ask every source for fresh data now"),
    ]

    def __init__(
        self,
        engine: Engine,
        *,
        read_only: bool = False,
        low_bandwidth: bool = False,
        actions: ActionPort | None = None,
        insights: InsightsProvider | None = None,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.read_only = read_only
        self.low_bandwidth = low_bandwidth
        self.actions = actions
        self.insights = insights
        self._states: dict[EnvKey, ServiceState] = dict(engine.states)
        self._pending: set[EnvKey] = set()
        self._flush_scheduled = False
        self._unsubscribe: Any = None
        #: The last action result per row, shown with the row until the next action.
        self.action_notes: dict[EnvKey, tuple[str, str]] = {}

    def get_css_variables(self) -> dict[str, str]:
        """Under ``NO_COLOR`` the status colours become plain text: the glyphs and words
        carry the meaning, and a failure must not turn into a dimmer grey than success."""
        variables = super().get_css_variables()
        if self.no_color:
            for name in ("text-error", "text-success", "text-warning", "text-accent"):
                variables[name] = variables["foreground"]
        return variables

    # ------------------------------------------------------------------ lifecycle

    def on_mount(self) -> None:
        self.set_class(self.read_only, "-read-only")
        self.set_class(self.low_bandwidth, "-low-bandwidth")
        self._unsubscribe = self.engine.subscribe(self._on_engine_update)
        self.push_screen(OverviewScreen())
        self.run_worker(
            self.engine.start(), name="engine-start", group="engine", exit_on_error=False
        )

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        await self.engine.stop()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                getattr(error, "message", None) or str(error) or type(error).__name__,
                title=event.worker.name or "error",
                severity="error",
                timeout=10,
            )

    # ------------------------------------------------------------------ live data

    @property
    def states(self) -> Mapping[EnvKey, ServiceState]:
        return MappingProxyType(self._states)

    def _on_engine_update(self, update: StateUpdate) -> None:
        """Called by the engine on the event loop; coalesces bursts into one flush."""
        self._states = dict(update.states)
        self._pending |= update.changed
        if not self._flush_scheduled:
            self._flush_scheduled = True
            self.call_later(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        changed = frozenset(self._pending)
        self._pending.clear()
        states = self.states
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                screen.apply_update(states, changed)

    def action_refresh(self) -> None:
        screen = self.screen
        key = screen.selected_key if isinstance(screen, LiveScreen) else None
        self.engine.refresh(
            key if key is not None and not isinstance(screen, OverviewScreen) else None
        )
        self.notify("asked every source for fresh data", timeout=2)

    # ------------------------------------------------------------------ actions

    def plan(
        self,
        state: ServiceState,
        intent: str,
        *,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> object | str:
        """The action layer's plan for this row, or the reason (in words) there is none."""
        if self.actions is None:
            return "actions are not connected in this session: cockpit is view-only"
        return self.actions.plan(
            state, intent, read_only=self.read_only or state.read_only, job=job, flag=flag
        )

    def request_action(self, outcome: object | str) -> None:
        """Open the confirm dialog for a plan; a reason string is only shown."""
        if isinstance(outcome, str):
            self.notify(outcome, severity="warning")
            return
        if self.actions is None:
            return
        plan = outcome
        self.push_screen(
            ConfirmScreen(plan, self.actions.execute),
            callback=lambda result: self._action_done(plan, result),
        )

    def _action_done(self, plan: Any, result: Any) -> None:
        if result is None:
            return
        key: EnvKey = plan.key
        ok = bool(result.ok)
        self.action_notes[key] = ("✔ " if ok else "✖ ") + result.message, "ok" if ok else "bad"
        self.notify(
            result.message, title=plan.title, severity="information" if ok else "error", timeout=8
        )
        self.engine.refresh(key)
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen):
                screen.apply_update(self.states, frozenset({key}))

    # ------------------------------------------------------------------ views

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_dashboard(self) -> None:
        self.push_screen(DashboardScreen(self.insights))
