"""The cockpit application: screens over the engine's live snapshots, writes via the action layer.

``CockpitApp(engine)`` subscribes to the engine, keeps the latest snapshot, and hands
each update to the screens that show live data, coalescing bursts into one repaint per
frame. It asks the action layer for a plan, has it checked against the live systems
(saying so on the row meanwhile), runs it only through the confirm dialog, once, then
shows the result and asks the engine for a refresh of that row. For as long as it runs,
the action layer's health guard judges every canary in flight: a tripped guard marks
its row and is announced once.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar

from textual import events, on, work
from textual.app import App
from textual.binding import Binding, BindingType
from textual.timer import Timer
from textual.widgets import Input
from textual.worker import Worker, WorkerState

from cockpit import triage
from cockpit.errors import words
from cockpit.intents import Intent, NoAction
from cockpit.locations import styles_dir
from cockpit.model import EnvKey, FeatureFlag, HealthStatus, Job, ServiceState
from cockpit.ui.action_port import ActionPort, StopWatching
from cockpit.ui.insight_rows import InsightsProvider
from cockpit.ui.palette import CockpitCommands
from cockpit.ui.presenters import guard_reason
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.live import LiveScreen
from cockpit.ui.screens.overview import OverviewScreen
from cockpit.ui.screens.presence import is_shown
from cockpit.ui.terminal import SlowLine
from cockpit.ui.type_ahead import LIMIT_SECONDS, TEXT_FIELD_ACTIONS, TypeAhead

if TYPE_CHECKING:
    from cockpit.actions import ActionPlan
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
        warnings: tuple[str, ...] = (),
    ) -> None:
        super().__init__()
        #: Said once, as notifications, when the screen starts (the configuration's).
        self.startup_warnings = warnings
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
        #: The row whose plan is being checked against the live systems (one at a time).
        self.checking: EnvKey | None = None
        #: The health guard's tripped verdicts, per row.
        self.guard_reports: dict[EnvKey, Any] = {}
        self._stop_guard: StopWatching | None = None
        #: Keys typed while a text field opens (see cockpit.ui.type_ahead).
        self.type_ahead = TypeAhead()
        self._type_ahead_limit: Timer | None = None

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
        if self.actions is not None:
            self._stop_guard = self.actions.watch_health(self.engine, self._guard_report)
        self.slow_line = SlowLine(self)
        self.set_interval(SlowLine.CHECK, self.slow_line.check)
        self.push_screen(OverviewScreen())
        for warning in self.startup_warnings:
            self.notify(warning, severity="warning", timeout=15)
        self.run_worker(
            self.engine.start(), name="engine-start", group="engine", exit_on_error=False
        )

    async def on_unmount(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._stop_guard is not None:
            await self._stop_guard()
        await self.engine.stop()

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(
                words(error),
                title=event.worker.name or "error",
                severity="error",
                timeout=10,
            )

    # ------------------------------------------------------------------ keys

    async def on_event(self, event: events.Event) -> None:
        """Keys that follow a key opening a text field wait for that field
        (cockpit.ui.type_ahead); every other event goes on as Textual sends it."""
        if isinstance(event, events.Key) and not event.is_forwarded:
            if self.type_ahead.holding:
                self.type_ahead.hold(event)
                return
            if self._opens_text_field(event.key):
                self.type_ahead.start()
                self._type_ahead_limit = self.set_timer(LIMIT_SECONDS, self._drop_type_ahead)
        await super().on_event(event)

    def _opens_text_field(self, key: str) -> bool:
        if isinstance(self.focused, Input):
            return False
        active = self.active_bindings.get(key)
        return active is not None and active.enabled and active.binding.action in TEXT_FIELD_ACTIONS

    @on(events.DescendantFocus)
    async def _text_field_focused(self, event: events.DescendantFocus) -> None:
        if not (self.type_ahead.holding and isinstance(event.widget, Input)):
            return
        if self._type_ahead_limit is not None:
            self._type_ahead_limit.stop()
        for key in self.type_ahead.release():
            await super().on_event(key)

    def _drop_type_ahead(self) -> None:
        dropped = self.type_ahead.release()
        if dropped:
            self.notify(
                f"{len(dropped)} key(s) typed while a text field opened were ignored",
                severity="warning",
                timeout=4,
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
            self.call_later(self._show_pending)

    def _show_pending(self) -> None:
        # Not ``_flush``: that name is Textual's (``App._flush(stderr)``, called when
        # captured stdout/stderr is flushed, textual/app.py ``_PrintCapture.flush``).
        self._flush_scheduled = False
        changed = frozenset(self._pending)
        self._pending.clear()
        self._show_rows(changed)

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
        intent: Intent,
        *,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | NoAction:
        """The action layer's plan for this row, or why there is none (in words)."""
        if self.actions is None:
            return NoAction("actions are not connected in this session: cockpit is view-only")
        return self.actions.plan(
            state, intent, read_only=self.read_only or state.read_only, job=job, flag=flag
        )

    def request_action(self, outcome: ActionPlan | NoAction) -> None:
        """Check a plan against the live systems, then open the confirm dialog for it.

        A :class:`NoAction` is only shown: its reason. While one plan is being checked, other write keys
        are answered with a notice, not queued: one dialog at a time.
        """
        if isinstance(outcome, NoAction):
            self.notify(outcome.reason, severity="warning")
            return
        if self.actions is None:
            return
        if self.checking is not None:
            self.notify(f"still checking what the action on {self.checking} would do", timeout=3)
            return
        plan: Any = outcome
        self.checking = plan.key
        self._show_rows(frozenset({plan.key}))
        self._check_plan(plan)

    @work(exclusive=True, group="enrich", exit_on_error=False)
    async def _check_plan(self, plan: Any) -> None:
        assert self.actions is not None
        try:
            exact = await self.actions.enrich(plan)
        except Exception as error:  # nothing was sent: say why the dialog did not open
            message = words(error)
            self.notify(
                f"could not check what this would do: {message}; nothing was sent",
                title=plan.title,
                severity="error",
                timeout=10,
            )
            return
        finally:
            self.checking = None
            self._show_rows(frozenset({plan.key}))
        if not self.screen_stack or not is_shown(self.screen_stack[-1]):
            return  # the app is quitting: no dialog any more
        self.push_screen(
            ConfirmScreen(
                exact,
                self.actions.execute,
                check_safety=self.actions.check_safety,
                recheck=self.actions.recheck,
            ),
            callback=lambda result: self._action_done(exact, result),
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
        self._show_rows(frozenset({key}))

    # ------------------------------------------------------------------ health guard

    def _guard_report(self, report: Any) -> None:
        """A verdict of the health guard: mark the row; notify once per new trigger.

        The guard reports every change of its verdict (each new sample changes the
        numbers); a person hears about a canary once when it trips, and once more for
        what the guard did about it (an automatic abort and its result).
        """
        key: EnvKey = report.key
        previous = self.guard_reports.get(key)
        if report.triggered:
            self.guard_reports[key] = report
        else:
            self.guard_reports.pop(key, None)
        if report.triggered:
            tripped = previous is None or previous.canary != report.canary
            acted = previous is not None and report.action and report.action != previous.action
            if tripped or acted:
                self.notify(
                    f"{key}: {self._guard_words(report)}",
                    title="Health guard",
                    severity="error",
                    timeout=30,
                )
        if previous is not None or report.triggered:
            self._show_rows(frozenset({key}))

    def attention(self, state: ServiceState) -> tuple[str, ...]:
        """Why this row needs a person, most urgent first: the health guard's verdict (with
        its numbers and the key to press) before the reasons read from the row itself."""
        reasons = triage.attention(state)
        report = self.guard_reports.get(state.key)
        if report is None:
            return reasons
        if state.health is not None and state.health.status is HealthStatus.BAD:
            reasons = reasons[1:]  # the guard says it better: "under 99 % for 3 samples…"
        return ("health guard: " + self._guard_words(report), *reasons)

    def _guard_words(self, report: Any) -> str:
        verdict = report.verdict
        state = self._states.get(report.key)
        return guard_reason(
            verdict.bad_streak,
            report.threshold,
            verdict.latest,
            report.action,
            read_only=self.read_only or (state is not None and state.read_only),
        )

    def _show_rows(self, keys: frozenset[EnvKey]) -> None:
        """Repaint what the screens show about these rows (marks, notes, "checking…").

        A screen still being composed is skipped: its own mount shows every row; so is
        every screen once the app is quitting (Textual is removing their widgets).
        """
        for screen in self.screen_stack:
            if isinstance(screen, LiveScreen) and is_shown(screen):
                screen.apply_update(self.states, keys)

    # ------------------------------------------------------------------ views

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_dashboard(self) -> None:
        self.push_screen(DashboardScreen(self.insights))
