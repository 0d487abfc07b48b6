"""What the screen asks of the action layer: a plan, made exact, executed once; and the guard.

The UI never decides what a write does; it asks ``cockpit.actions`` for a plan (or the
reason there is none), has it made exact from the live systems (``enrich``: the full
URLs and the live re-check, one read of the cluster), shows it in the confirm dialog
while the slower facts arrive (``check_safety``: the migrations a rollback crosses, from
GitLab), reads the cluster once more just before the dialog accepts ``y``
(``recheck``), and executes exactly that plan once. While the screen runs, the health
guard judges every canary in flight and reports to it (``watch_health``); a retry or a
full promotion of a canary the guard failed says so in its plan.

``ActionPort`` is that surface; ``CockpitActions`` adapts ``cockpit.actions`` to it
through one :class:`~cockpit.actions.ActionContext` per session (imported when first
used, so the screen starts without it). Tests pass a double.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Protocol

from cockpit.intents import Intent, NoAction

if TYPE_CHECKING:
    from cockpit.actions import ActionContext, ActionPlan, ActionResult
    from cockpit.actions.guard import GuardReport
    from cockpit.model import EnvKey, FeatureFlag, Job, ServiceState

#: Stops following the engine (the health guard) and waits for what it started.
StopWatching = Callable[[], Awaitable[None]]


class ActionPort(Protocol):
    def plan(
        self,
        state: ServiceState,
        intent: Intent,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | NoAction:
        """The plan for ``intent`` on this row, or why it does not apply (in words)."""
        ...

    async def enrich(self, plan: ActionPlan) -> ActionPlan:
        """The plan made exact from the live cluster (what the dialog opens with)."""
        ...

    async def check_safety(self, plan: ActionPlan) -> ActionPlan:
        """The plan with the rollback safety check's warnings (GitLab; may be slow)."""
        ...

    async def recheck(self, plan: ActionPlan) -> ActionPlan:
        """The plan re-checked against the live cluster (``stale`` says why it moved)."""
        ...

    async def execute(self, plan: ActionPlan) -> ActionResult: ...

    def watch_health(self, engine: Any, on_report: Callable[[GuardReport], None]) -> StopWatching:
        """Judge every canary in flight on each engine update; ``on_report`` hears each verdict."""
        ...


class CockpitActions:
    """``cockpit.actions`` behind the port, with one ``ActionContext`` for the session."""

    def __init__(self, context: ActionContext) -> None:
        self.context = context
        #: The last time the health guard failed each row's canary (kept after the abort).
        self.guard_failures: dict[EnvKey, GuardReport] = {}

    @classmethod
    def from_engine(cls, engine: Any, *, read_only: bool) -> CockpitActions:
        """Bound to the engine's sources, configuration and refresh; ``--read-only`` as given."""
        from cockpit.actions import ActionContext

        return cls(ActionContext.from_engine(engine, read_only=read_only))

    def plan(
        self,
        state: ServiceState,
        intent: Intent,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | NoAction:
        from cockpit.errors import UsageError

        try:
            outcome = self.context.plan(state, intent, job=job, flag=flag, read_only=read_only)
        except UsageError as error:  # a row the configuration does not know
            return NoAction(str(error))
        if isinstance(outcome, NoAction):
            return outcome
        if outcome.read_only:
            # execute() would refuse it (and does, for the command line); the screen says
            # so at the key press instead of opening a dialog that cannot send anything.
            return NoAction(self.context.read_only_reason(state.key) or outcome.read_only)
        return self._with_guard_failure(outcome)

    def _with_guard_failure(self, plan: ActionPlan) -> ActionPlan:
        """A retry or full promotion of the canary the guard failed names that failure."""
        from dataclasses import replace

        failure = self.guard_failures.get(plan.key)
        if plan.operation not in (Intent.RETRY, Intent.PROMOTE_FULL) or failure is None:
            return plan
        facts = plan.facts
        if facts is None or facts.current_hash != failure.canary:
            return plan
        words = failure.verdict.message.split(": press r", 1)[0]
        return replace(
            plan,
            warnings=(f"the health guard failed this canary: {words}", *plan.warnings),
            severity="strong",
        )

    async def enrich(self, plan: ActionPlan) -> ActionPlan:
        from cockpit.actions.execute import enrich_live

        return await enrich_live(plan, self.context)

    async def check_safety(self, plan: ActionPlan) -> ActionPlan:
        from cockpit.actions.execute import check_safety

        return await check_safety(plan, self.context)

    async def recheck(self, plan: ActionPlan) -> ActionPlan:
        from cockpit.actions.execute import enrich_live

        return await enrich_live(plan, self.context)

    async def execute(self, plan: ActionPlan) -> ActionResult:
        from cockpit.actions import execute

        return await execute(plan, self.context)

    def watch_health(self, engine: Any, on_report: Callable[[GuardReport], None]) -> StopWatching:
        from dataclasses import replace

        from cockpit.actions.guard import HealthGuard
        from cockpit.insights.health_guard import GuardVerdict

        def report(verdict: GuardReport) -> None:
            if verdict.triggered:
                self.guard_failures[verdict.key] = verdict
            on_report(verdict)

        guard = HealthGuard(self.context, on_report=report)

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
