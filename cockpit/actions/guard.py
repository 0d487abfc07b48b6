"""The health guard: a canary whose success rate keeps failing is marked, and aborted if asked.

:class:`HealthGuard` listens to the engine (``engine.subscribe``). For every row whose
Argo Rollout canary is in flight it asks
:func:`cockpit.insights.health_guard.evaluate` about the success-rate samples taken since
the canary began, against the environment's ``threshold`` and ``guard_samples``, and
keeps one :class:`GuardReport` per row — the verdict with its numbers, suggesting ``r``
— for the UI to mark the row and notify (``on_report``).

With ``auto_abort = true`` on the environment a triggered guard aborts the canary by
itself, through the same :func:`cockpit.actions.execute` a person's ``r`` uses (so the
live re-check, the in-flight guard and the audit log apply; the actor is ``cockpit
health guard``), at most ONCE per rollout revision: after a retry of the same revision
it only warns. Read-only wins: a read-only row or session is never written to.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from cockpit.actions.audit import HEALTH_GUARD
from cockpit.actions.context import ActionContext
from cockpit.actions.execute import execute
from cockpit.actions.planning import plan as make_plan
from cockpit.errors import UsageError
from cockpit.insights.health_guard import GuardVerdict, evaluate
from cockpit.intents import Intent, NoAction
from cockpit.model import EnvKey, Rollout, Sample, ServiceState, Strategy


@dataclass(frozen=True)
class GuardReport:
    """The guard's word on one row."""

    key: EnvKey
    verdict: GuardVerdict
    threshold: float
    consecutive: int
    #: The canary revision judged (its pod hash: a new revision is judged afresh).
    canary: str
    #: What the guard did or will not do about it (None: nothing to do).
    action: str | None = None

    @property
    def triggered(self) -> bool:
        return self.verdict.triggered

    @property
    def message(self) -> str:
        text = f"{self.key}: {self.verdict.message}"
        return f"{text}; {self.action}" if self.action else text


def canary_in_flight(rollout: Rollout | None) -> bool:
    return (
        rollout is not None
        and rollout.kind == "Rollout"
        and rollout.strategy is Strategy.CANARY
        and rollout.in_progress
    )


def canary_samples(state: ServiceState) -> tuple[Sample, ...]:
    """The success-rate samples taken since the canary's ReplicaSet was created."""
    if state.health is None:
        return ()
    rollout = state.rollout
    started: datetime | None = None
    if rollout is not None:
        started = next(
            (r.created_at for r in rollout.revisions if r.pod_hash == rollout.current_hash), None
        )
    history = state.health.history
    return tuple(s for s in history if started is None or s.at >= started)


class HealthGuard:
    """See the module docstring."""

    def __init__(
        self,
        ctx: ActionContext,
        *,
        on_report: Callable[[GuardReport], None] | None = None,
    ) -> None:
        self._ctx = ctx
        self._on_report = on_report
        self.reports: dict[EnvKey, GuardReport] = {}
        #: (row, canary pod hash) already aborted by the guard.
        self._aborted: set[tuple[EnvKey, str]] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    def attach(self, engine: object) -> Callable[[], None]:
        """Follow the engine's updates; returns the function that stops following."""
        return engine.subscribe(self.on_update)  # type: ignore[attr-defined,no-any-return]

    def on_update(self, update: object) -> None:
        states = update.states  # type: ignore[attr-defined]
        for key in update.changed:  # type: ignore[attr-defined]
            self.check(states[key])

    def check(self, state: ServiceState) -> GuardReport | None:
        """Judge one row now; the report (None when no canary is in flight)."""
        key = state.key
        rollout = state.rollout
        if not canary_in_flight(rollout) or rollout is None or rollout.current_hash is None:
            self.reports.pop(key, None)
            return None
        try:
            _, env = self._ctx.row(key)
        except UsageError:  # a row the configuration does not know: nothing to guard
            return None
        verdict = evaluate(
            canary_samples(state), threshold=env.threshold, consecutive=env.guard_samples
        )
        report = GuardReport(key, verdict, env.threshold, env.guard_samples, rollout.current_hash)
        previous = self.reports.get(key)
        if previous is not None and previous.canary == report.canary:
            report = replace(report, action=previous.action)
        if verdict.triggered and env.auto_abort:
            report = self._auto_abort(state, report)
        if report != previous:
            self.reports[key] = report
            self._tell(report)
        return report

    def _auto_abort(self, state: ServiceState, report: GuardReport) -> GuardReport:
        key = state.key
        once = (key, report.canary)
        if once in self._aborted:
            return report
        refused = self._ctx.read_only_reason(key) or (
            f"{key} is read-only" if state.read_only else None
        )
        if refused:
            return replace(report, action=f"auto_abort is on, but {refused}: nothing was sent")
        service, env = self._ctx.row(key)
        outcome = make_plan(
            state, Intent.ABORT, read_only=False, env=env, service=service, now=self._ctx.clock()
        )
        if isinstance(outcome, NoAction):
            return replace(report, action=f"auto_abort is on, but {outcome.reason}")
        self._aborted.add(once)
        task = asyncio.ensure_future(self._abort(key, outcome))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return replace(report, action="cockpit health guard is aborting the canary")

    async def _abort(self, key: EnvKey, plan: object) -> None:
        result = await execute(plan, self._ctx, actor=HEALTH_GUARD)  # type: ignore[arg-type]
        current = self.reports.get(key)
        if current is None:
            return
        said = "aborted by cockpit health guard" if result.ok else "auto-abort failed"
        updated = replace(current, action=f"{said}: {result.message}")
        self.reports[key] = updated
        self._tell(updated)

    def _tell(self, report: GuardReport) -> None:
        if self._on_report is not None:
            self._on_report(report)

    async def settle(self) -> None:
        """Wait for the aborts the guard started (tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
