"""The screen's port onto ``cockpit.actions``: the session's read-only flag, the engine's world
clock, plans or reasons, and a health guard whose every change of mind reaches the screen."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from cockpit.actions import ActionPlan, NoAction
from cockpit.config import Config
from cockpit.engine import StateUpdate
from cockpit.model import EnvKey, Sample, ServiceState
from cockpit.ui.action_port import CockpitActions
from cockpit.ui.run import action_port
from tests.unit.actions.states import CONFIG_PATH, KEY, NOW, bad_health, canary, finished
from tests.unit.actions.states import service as service_config
from tests.unit.actions.states import state as row_state

#: The world of a sped-up demo: ten hours ahead of the wall clock.
WORLD_NOW = NOW + timedelta(hours=10)


@dataclass
class StubEngine:
    """What ActionContext.from_engine reads from an engine, and its subscriptions."""

    config: Config
    initial: tuple[ServiceState, ...] = ()
    gitlab: Any = None
    kube: Any = None
    listeners: list[Callable[[StateUpdate], None]] = field(default_factory=list)
    refreshed: list[EnvKey] = field(default_factory=list)

    @property
    def states(self) -> Any:
        return MappingProxyType({s.key: s for s in self.initial})

    def now(self) -> datetime:
        return WORLD_NOW

    def refresh(self, key: EnvKey) -> None:
        self.refreshed.append(key)

    def subscribe(self, listener: Callable[[StateUpdate], None]) -> Callable[[], None]:
        self.listeners.append(listener)
        return lambda: self.listeners.remove(listener)

    def publish(self, *states: ServiceState) -> None:
        update = StateUpdate(
            MappingProxyType({s.key: s for s in states}), frozenset(s.key for s in states), NOW
        )
        for listener in list(self.listeners):
            listener(update)


def engine(*initial: ServiceState) -> StubEngine:
    return StubEngine(Config(path=CONFIG_PATH, services=(service_config(),)), initial)


def failing_canary() -> ServiceState:
    """A canary in flight whose success rate has been under the threshold for 3 samples."""
    rollout = canary()
    started = next(r.created_at for r in rollout.revisions if r.pod_hash == rollout.current_hash)
    assert started is not None
    samples = tuple(Sample(started + timedelta(minutes=i + 1), 0.95) for i in range(3))
    return row_state(rollout=rollout, health=replace(bad_health(), history=samples))


def test_the_session_read_only_flag_reaches_the_action_layer() -> None:
    actions = action_port(engine(), read_only=True)  # type: ignore[arg-type]
    assert isinstance(actions, CockpitActions)
    assert actions.context.read_only
    # The key is answered with the reason; no dialog for a plan that cannot be sent.
    reason = actions.plan(row_state(rollout=canary()), "rollback", read_only=False)
    assert reason == NoAction("read-only mode (--read-only): cockpit writes nothing")


def test_plans_are_dated_by_the_engines_world_clock() -> None:
    actions = action_port(engine(), read_only=False)  # type: ignore[arg-type]
    assert isinstance(actions, CockpitActions)
    assert actions.context.clock() == WORLD_NOW
    plan = actions.plan(row_state(rollout=canary()), "rollback", read_only=False)
    assert isinstance(plan, ActionPlan)


def test_a_key_that_does_not_apply_gets_its_reason() -> None:
    actions = action_port(engine(), read_only=False)  # type: ignore[arg-type]
    reason = actions.plan(row_state(rollout=finished()), "abort", read_only=False)
    assert isinstance(reason, NoAction) and reason.reason


async def test_the_guard_tells_the_screen_when_it_trips_and_when_it_forgets_a_row() -> None:
    bad = failing_canary()
    stub = engine(bad)
    actions = action_port(stub, read_only=False)  # type: ignore[arg-type]
    heard: list[Any] = []
    stop = actions.watch_health(stub, heard.append)
    # The rows the engine already had are judged at once.
    assert [(r.key, r.triggered) for r in heard] == [(KEY, True)]
    # The canary is aborted: the guard drops the row, and the screen hears it.
    stub.publish(row_state(rollout=replace(canary(), aborted=True), health=bad.health))
    assert [(r.key, r.triggered) for r in heard] == [(KEY, True), (KEY, False)]
    await stop()
    assert stub.listeners == []


async def test_retry_and_full_promote_of_a_canary_the_guard_failed_say_so() -> None:
    bad = failing_canary()
    stub = engine(bad)
    actions = action_port(stub, read_only=False)  # type: ignore[arg-type]
    stop = actions.watch_health(stub, lambda report: None)
    aborted = row_state(rollout=replace(canary(), aborted=True), health=bad.health)
    stub.publish(aborted)  # the canary was aborted for it; the guard forgets the row
    for intent in ("retry", "promote-full"):
        plan = actions.plan(aborted, intent, read_only=False)
        assert isinstance(plan, ActionPlan), plan
        assert plan.warnings[0] == (
            "the health guard failed this canary: success rate under 99.0 % for 3 samples "
            "in a row (95.0 %, 95.0 %, 95.0 %)"
        )
        assert "the success rate is 96.12 %, under the 99 % threshold" in plan.warnings
        assert plan.severity == "strong"
    await stop()


def test_retry_of_a_canary_the_guard_never_judged_names_the_latest_health() -> None:
    actions = action_port(engine(), read_only=False)  # type: ignore[arg-type]
    aborted = row_state(rollout=replace(canary(), aborted=True))
    plan = actions.plan(aborted, "retry", read_only=False)
    assert isinstance(plan, ActionPlan)
    assert plan.warnings and plan.warnings[0].startswith("latest health: ")
    assert not any("health guard" in w for w in plan.warnings)
