"""The simulator and a real engine wired together through real HTTP, for integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from cockpit.config import Config, EnvironmentConfig, PollConfig, load
from cockpit.engine import Engine
from cockpit.model import EnvKey, ServiceState, SourceName
from cockpit.sim.clock import SimClock
from cockpit.sim.server import Simulator, simulate

#: Poll fast: the tests wait on conditions, and every second of polling is test time.
FAST_POLL = PollConfig(
    gitlab_active=0.3,
    gitlab_idle=0.5,
    prometheus=0.5,
    prometheus_active=0.3,
    history=1.0,
    flags=2.0,
)


def with_environments(
    config: Config, change: Callable[[EnvironmentConfig], EnvironmentConfig]
) -> Config:
    services = tuple(
        replace(service, environments=tuple(change(env) for env in service.environments))
        for service in config.services
    )
    return replace(config, services=services)


@contextlib.asynccontextmanager
async def live_engine(
    scenario: str,
    state_dir: Path,
    *,
    clock: SimClock | None = None,
    time_scale: float = 1.0,
    poll: PollConfig = FAST_POLL,
    adjust: Callable[[Config], Config] | None = None,
    bookmark_interval: float | None = None,
    **engine_options: Any,
) -> AsyncIterator[tuple[Simulator, Engine]]:
    """The scenario served on loopback, and an engine reading it with the generated config."""
    async with simulate(
        scenario,
        clock=clock,
        time_scale=time_scale,
        state_dir=state_dir,
        bookmark_interval=bookmark_interval,
    ) as sim:
        config = replace(load(state_dir / "cockpit.toml", environ={}), poll=poll)
        if adjust is not None:
            config = adjust(config)
        engine = Engine(config, clock=sim.clock.now, **engine_options)
        await engine.start()
        try:
            yield sim, engine
        finally:
            await engine.stop()


def state(engine: Engine, service: str, environment: str) -> ServiceState:
    return engine.states[EnvKey(service, environment)]


def source_state(engine: Engine, service: str, environment: str, source: SourceName) -> str:
    return str(state(engine, service, environment).source(source).state)
