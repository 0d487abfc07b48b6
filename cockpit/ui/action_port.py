"""What the screen asks of the action layer: a plan, made exact, executed once; and the guard.

The UI never decides what a write does; it asks ``cockpit.actions`` for a plan (or the
reason there is none), has it made exact from the live systems (``enrich``: the full
URLs, the live re-check, the migrations a rollback crosses), shows it in the confirm
dialog, and executes exactly that plan once. While the screen runs, the health guard
judges every canary in flight and reports to it (``watch_health``).

``ActionPort`` is that surface; ``CockpitActions`` adapts ``cockpit.actions`` to it
through one :class:`~cockpit.actions.ActionContext` per session (imported when first
used, so the screen starts without it). Tests pass a double.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cockpit.actions import ActionContext, ActionPlan, ActionResult
    from cockpit.actions.guard import GuardReport
    from cockpit.model import FeatureFlag, Job, ServiceState

#: The intents the keys map to, as ``cockpit.actions.plan`` names them.
INTENTS = {
    "promote": "Promote",
    "promote-full": "Full promote",
    "rollback": "Rollback",
    "abort": "Abort",
    "retry": "Retry rollout",
    "job-retry": "Retry job",
    "job-play": "Play job",
    "job-cancel": "Cancel job",
    "flag-toggle": "Toggle flag",
}

#: Stops following the engine (the health guard) and waits for what it started.
StopWatching = Callable[[], Awaitable[None]]


class ActionPort(Protocol):
    def plan(
        self,
        state: ServiceState,
        intent: str,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | str:
        """The plan for ``intent`` on this row, or the reason in words why it does not apply."""
        ...

    async def enrich(self, plan: ActionPlan) -> ActionPlan:
        """The plan made exact from the live systems (what the dialog shows)."""
        ...

    async def execute(self, plan: ActionPlan) -> ActionResult: ...

    def watch_health(self, engine: Any, on_report: Callable[[GuardReport], None]) -> StopWatching:
        """Judge every canary in flight on each engine update; ``on_report`` hears each verdict."""
        ...


class CockpitActions:
    """``cockpit.actions`` behind the port, with one ``ActionContext`` for the session."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context

    @classmethod
    def from_engine(cls, engine: Any, *, read_only: bool) -> CockpitActions:
        """Bound to the engine's sources, configuration and refresh; ``--read-only`` as given."""
        from cockpit.actions import ActionContext

        return cls(ActionContext.from_engine(engine, read_only=read_only))

    def plan(
        self,
        state: ServiceState,
        intent: str,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | str:
        from cockpit.actions import NoAction
        from cockpit.errors import UsageError

        try:
            outcome = self.context.plan(state, intent, job=job, flag=flag, read_only=read_only)
        except UsageError as error:  # a row the configuration does not know
            return str(error)
        if isinstance(outcome, NoAction):
            return outcome.reason
        if outcome.read_only:
            # execute() would refuse it (and does, for the command line); the screen says
            # so at the key press instead of opening a dialog that cannot send anything.
            return self.context.read_only_reason(state.key) or outcome.read_only
        return outcome

    async def enrich(self, plan: ActionPlan) -> ActionPlan:
        from cockpit.actions import enrich

        return await enrich(plan, self.context)

    async def execute(self, plan: ActionPlan) -> ActionResult:
        from cockpit.actions import execute

        return await execute(plan, self.context)

    def watch_health(self, engine: Any, on_report: Callable[[GuardReport], None]) -> StopWatching:
        from dataclasses import replace

        from cockpit.actions.guard import HealthGuard
        from cockpit.insights.health_guard import GuardVerdict

        guard = HealthGuard(self.context, on_report=on_report)

        def follow(update: Any) -> None:
            # The guard forgets a row silently once its canary is no longer in flight
            # (promoted, aborted, done); the screen must hear that, or the row stays marked.
            before = dict(guard.reports)
            guard.on_update(update)
            for key, last in before.items():
                if key not in guard.reports:
                    gone = GuardVerdict(False, 0, last.verdict.latest, "no canary in flight")
                    on_report(replace(last, verdict=gone, action=None))

        detach = engine.subscribe(follow)
        for state in engine.states.values():  # rows the engine already knows
            guard.check(state)

        async def stop() -> None:
            detach()
            await guard.close()

        return stop
