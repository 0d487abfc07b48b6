"""A stand-in for the action layer: plans by simple rules, counts checks and executions.

``FakeActions.enrich`` records every plan it was asked to check (``enrich_error`` makes
it fail; ``hold_enrich=True`` holds it until ``release_enrich()``); ``execute`` records
every plan it was asked to run; with ``hold=True`` it waits until the test calls
``release()``, so a test can press keys while the write is in flight and then check that
exactly one request was sent. ``watch_health`` keeps the screen's callback, so a test
plays the health guard with ``report(...)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from cockpit.intents import NoAction
from cockpit.model import EnvKey, FeatureFlag, Job, ServiceState


@dataclass(frozen=True)
class FakePlan:
    intent: str
    key: EnvKey
    title: str
    summary: str
    target: tuple[str, ...] = ()
    changes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    severity: str = "normal"
    production: bool = False
    request: tuple[str, ...] = ()
    operation: str = ""
    safety_pending: bool = False
    stale: str | None = None

    @property
    def safety_decides(self) -> bool:
        return self.operation in ("undo", "redeploy")


@dataclass(frozen=True)
class FakeResult:
    ok: bool
    message: str


@dataclass
class FakeActions:
    hold: bool = False
    result: FakeResult = field(default_factory=lambda: FakeResult(True, "done"))
    executed: list[FakePlan] = field(default_factory=list)
    hold_enrich: bool = False
    enrich_error: Exception | None = None
    #: Warnings the live check adds (as ``cockpit.actions.enrich`` adds the migrations).
    enrich_warnings: tuple[str, ...] = ()
    enriched: list[FakePlan] = field(default_factory=list)
    #: The rollback safety check: held until ``release_safety()`` when ``hold_safety``;
    #: its warnings and whether it makes the plan strong.
    hold_safety: bool = False
    safety_warnings: tuple[str, ...] = ()
    #: The rollback ``r`` plans: its operation, and whether the safety check is to run.
    rollback_operation: str = ""
    safety_pending: bool = False
    #: What the re-check just before ``y`` finds (another cockpit's write).
    recheck_stale: str | None = None
    rechecked: list[FakePlan] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._gate = asyncio.Event()
        self._enrich_gate = asyncio.Event()
        self._safety_gate = asyncio.Event()
        self._on_report: Callable[[Any], None] | None = None
        self.watching = False

    def release(self) -> None:
        self._gate.set()

    def release_enrich(self) -> None:
        self._enrich_gate.set()

    def release_safety(self) -> None:
        self._safety_gate.set()

    async def check_safety(self, plan: FakePlan) -> FakePlan:
        if self.hold_safety:
            await self._safety_gate.wait()
        strong = "strong" if self.safety_warnings else plan.severity
        return replace(
            plan,
            warnings=(*plan.warnings, *self.safety_warnings),
            severity=strong,
            safety_pending=False,
        )

    async def recheck(self, plan: FakePlan) -> FakePlan:
        self.rechecked.append(plan)
        return replace(plan, stale=self.recheck_stale)

    async def enrich(self, plan: FakePlan) -> FakePlan:
        self.enriched.append(plan)
        if self.hold_enrich:
            await self._enrich_gate.wait()
        if self.enrich_error is not None:
            raise self.enrich_error
        return replace(plan, warnings=(*plan.warnings, *self.enrich_warnings))

    def watch_health(self, engine: Any, on_report: Callable[[Any], None]) -> Any:
        self._on_report = on_report
        self.watching = True

        async def stop() -> None:
            self.watching = False

        return stop

    def report(self, report: Any) -> None:
        """Play the health guard: hand the screen a report."""
        assert self._on_report is not None, "the screen is not watching health"
        self._on_report(report)

    def plan(
        self,
        state: ServiceState,
        intent: str,
        *,
        read_only: bool,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
    ) -> FakePlan | NoAction:
        if read_only:
            return NoAction(f"read-only mode: {intent} refused for {state.key}")
        rollout = state.rollout
        production = state.key.environment == "production"
        if intent == "promote":
            if state.manual_gate is not None:
                return FakePlan(
                    intent,
                    state.key,
                    f"Play {state.manual_gate.name} {state.key}",
                    "Plays the manual deploy job.",
                    production=production,
                    request=(f"POST /projects/1/jobs/{state.manual_gate.id}/play",),
                )
            if rollout is None or not rollout.paused:
                return NoAction("nothing is paused: promote does not apply")
            return FakePlan(
                intent,
                state.key,
                f"Promote {state.key}",
                "Moves the canary to the next step.",
                target=("revision 14 registry.example.com/shop/checkout:1.42.0",),
                production=production,
                request=('PATCH rollouts/checkout/status {"status":{"pauseConditions":null}}',),
            )
        if intent == "rollback":
            if rollout is None:
                return NoAction("no rollout to roll back")
            return FakePlan(
                intent,
                state.key,
                f"Abort canary {state.key}",
                "Sends all traffic back to the stable version at once.",
                target=(
                    "stable revision 13: registry.example.com/shop/checkout:1.41.3",
                    "deployed by bob 26h ago (3e1d0c9b)",
                ),
                changes=("the canary ReplicaSet scales down to 0",),
                warnings=(
                    "rollback crosses 1 destructive migration: drop_legacy_state_from_orders",
                ),
                severity="strong",
                production=production,
                request=(
                    'PATCH /apis/argoproj.io/v1alpha1/namespaces/checkout/rollouts/checkout/status {"status":{"abort":true}}',
                ),
                operation=self.rollback_operation,
                safety_pending=self.safety_pending,
            )
        if intent == "promote-full":
            if rollout is None or not rollout.in_progress:
                return NoAction("nothing in progress: full promote does not apply")
            return FakePlan(
                intent,
                state.key,
                f"Full promote {state.key}",
                "Skips the remaining steps and analysis.",
                severity="strong",
                production=production,
                request=('PATCH … {"status":{"promoteFull":true}}',),
            )
        if intent in ("abort", "retry"):
            return NoAction(f"{intent} does not apply: the rollout is not aborted")
        if intent.startswith("job-") and job is not None:
            return FakePlan(
                intent,
                state.key,
                f"{intent} {job.name}",
                f"{intent} job #{job.id}",
                request=(f"POST /projects/1/jobs/{job.id}/{intent[4:]}",),
            )
        if intent == "flag-toggle" and flag is not None:
            verb = "Disable" if flag.active else "Enable"
            return FakePlan(
                intent,
                state.key,
                f"{verb} flag {flag.name}",
                f"{verb}s {flag.name} for every user.",
                production=production,
                request=(f"PUT /projects/1/feature_flags/{flag.name}",),
            )
        return NoAction(f"{intent} does not apply here")

    async def execute(self, plan: FakePlan) -> FakeResult:
        self.executed.append(plan)
        if self.hold:
            await self._gate.wait()
        return self.result
