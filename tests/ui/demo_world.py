"""The demo world frozen at one moment, read by the real engine through real HTTP.

What ``cockpit demo`` shows, made repeatable for the README's screenshots, snapshot
tests and pilot tests: the simulator runs on its own loop in a background thread (as in
``cockpit demo``) with a MANUAL clock and a fixed seed, so nothing moves unless
:meth:`FrozenDemo.advance` moves it; the engine's two clocks (world time and wall time)
are both the simulator's clock, so ages, pause countdowns and every source's freshness
come out the same on every run. The app gets the real action layer (its audit log in
the world's own directory) and the real insights provider.

    with frozen_demo() as demo:
        app, engine = demo.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settled(app, engine)
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cockpit.actions import ActionContext, AuditLog
from cockpit.actions.context import secrets_of
from cockpit.config import Config, load
from cockpit.engine import Engine
from cockpit.sim.background import BackgroundSimulator
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import RecordedRequest
from cockpit.sim.kube.store import ROLLOUT
from cockpit.sim.server import Simulator
from cockpit.ui.action_port import CockpitActions
from cockpit.ui.app import CockpitApp
from cockpit.ui.run import insights_provider
from tests.helpers import eventually
from tests.live import FAST_POLL


@dataclass
class FrozenDemo:
    background: BackgroundSimulator
    simulator: Simulator
    config: Config
    directory: Path

    def advance(self, seconds: float) -> None:
        """Move the world forward (on the simulator's own loop)."""
        self.background.call(self.simulator.advance, seconds)

    def writes(self) -> list[RecordedRequest]:
        """Every write the simulated GitLab and Kubernetes received, oldest first."""
        return self.background.call(lambda: self.simulator.requests_seen(writes_only=True))

    def rollout(self, namespace: str, name: str) -> dict[str, Any]:
        """The Rollout object as the simulated cluster holds it."""
        return self.background.call(self.simulator.world.kube.store.get, ROLLOUT, namespace, name)

    def engine(self) -> Engine:
        clock = self.simulator.clock.now
        return Engine(self.config, clock=clock, wall_clock=clock)

    def actions(self, engine: Engine, *, read_only: bool = False) -> CockpitActions:
        audit = AuditLog(self.directory / "audit.jsonl", secrets=secrets_of(self.config))
        context = ActionContext.from_engine(
            engine, read_only=read_only, audit=audit, local_user="oncall"
        )
        return CockpitActions(context)

    def app(self, *, read_only: bool = False) -> tuple[CockpitApp, Engine]:
        """A cockpit over a fresh engine (the app starts it, and stops it when it ends)."""
        engine = self.engine()
        app = CockpitApp(
            engine,
            read_only=read_only,
            actions=self.actions(engine, read_only=read_only),
            insights=insights_provider(engine, self.config),
        )
        return app, engine


@contextlib.contextmanager
def frozen_demo(
    scenario: str = "demo",
    *,
    seed: int = 7,
    advance: float = 0.0,
    ports: Mapping[str, int] | None = None,
) -> Iterator[FrozenDemo]:
    """The scenario served on loopback with a manual clock, moved ``advance`` seconds on."""
    background = BackgroundSimulator(scenario, seed=seed, clock=SimClock(manual=True), ports=ports)
    simulator = background.start()
    try:
        with tempfile.TemporaryDirectory(prefix="cockpit-frozen-demo-") as name:
            directory = Path(name)
            simulator.write_state_dir(directory)
            config = replace(load(directory / "cockpit.toml", environ={}), poll=FAST_POLL)
            demo = FrozenDemo(background, simulator, config, directory)
            if advance:
                demo.advance(advance)
            yield demo
    finally:
        background.stop()


async def settled(app: CockpitApp, engine: Engine, *, timeout: float = 30.0) -> None:
    """Wait until every source answered, the follow-up reads (pipeline details, flags,
    health charts) are in, and every row shows its pipeline, rollout and health."""
    assert await engine.wait_ready(timeout), "the engine never heard from every source"
    assert await engine.wait_settled(timeout), "the engine's follow-up reads never completed"

    def complete() -> bool:
        states = engine.states.values()
        return bool(states) and all(
            s.pipeline is not None and s.rollout is not None and s.health is not None
            for s in states
        )

    await eventually(complete, timeout=timeout, message="every row's pipeline, rollout and health")
    await eventually(lambda: dict(app.states) == dict(engine.states), message="the screen's rows")
