"""What the screen asks of the action layer: a plan to show, and its execution once confirmed.

The UI never decides what a write does; it asks ``cockpit.actions`` for a plan (or the
reason there is none), shows it in the confirm dialog, and executes exactly that plan
once. ``ActionPort`` is that surface; ``CockpitActions`` adapts ``cockpit.actions`` to it
(imported when first used, so the screen starts without it). Tests pass a double.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from cockpit.actions import ActionPlan, ActionResult
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

    async def execute(self, plan: ActionPlan) -> ActionResult: ...


class CockpitActions:
    """``cockpit.actions`` behind the port: ``plan`` → plan or reason; ``execute`` with a context."""

    def __init__(self, context: Any) -> None:
        self._context = context

    def plan(
        self,
        state: ServiceState,
        intent: str,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> ActionPlan | str:
        from cockpit import actions

        targets: dict[str, Any] = {}
        if job is not None:
            targets["job"] = job
        if flag is not None:
            targets["flag"] = flag
        outcome = actions.plan(state, intent, read_only=read_only, **targets)
        if isinstance(outcome, actions.NoAction):
            return outcome.reason
        return outcome

    async def execute(self, plan: ActionPlan) -> ActionResult:
        from cockpit import actions

        return await actions.execute(plan, self._context)
