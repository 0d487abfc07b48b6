"""The engine against the simulated world over real HTTP: it follows what moves, and each
source's failure degrades only that source, which recovers without a restart."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from cockpit.config import load
from cockpit.engine import Engine
from cockpit.model import EnvKey, HealthStatus, LinkState, SourceName
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import Fault
from cockpit.sim.kube.store import ROLLOUT
from cockpit.sim.server import simulate
from tests.helpers import eventually
from tests.live import FAST_POLL, live_engine, state, with_environments

API = EnvKey("api", "production")
CHECKOUT = EnvKey("checkout", "production")
SOURCES = (SourceName.GITLAB, SourceName.KUBE, SourceName.PROMETHEUS)


async def test_a_canary_is_followed_step_by_step(tmp_path: Path) -> None:
    clock = SimClock(manual=True)
    async with live_engine("demo", tmp_path, clock=clock) as (sim, engine):
        assert await engine.wait_ready(20)

        def rollout():
            return engine.states[API].rollout

        # The demo's api canary has just set its weight to 20 %; the canary pods are starting.
        await eventually(lambda: rollout() is not None and rollout().step_index == 2)
        assert (rollout().set_weight, rollout().actual_weight) == (20, 5)
        # (simulated seconds to advance, step index, SetWeight, ActualWeight, paused)
        expected = [
            (30, 3, 20, 20, True),  # pods ready: the 5-minute pause
            (5 * 60, 5, 50, 50, True),  # the 10-minute pause at 50 %
            (11 * 60, 7, 100, 100, False),  # all steps done
        ]
        for seconds, index, set_weight, actual, paused in expected:
            await sim.advance(seconds)
            await eventually(
                lambda index=index: rollout().step_index == index,
                message=f"the engine to see step {index}",
            )
            now = rollout()
            assert (now.set_weight, now.actual_weight, now.paused) == (set_weight, actual, paused)
            if paused:
                assert now.pause_reasons == ("CanaryPauseStep",)
                assert now.pause_ends_at is not None and now.pause_ends_at > clock.now()
        done = rollout()
        assert done.phase == "Healthy"
        assert done.stable_hash == done.current_hash
        # The background analysis measured the canary the whole way, and passed.
        run = done.analysis_runs[0]
        assert run.metrics[0].measurements
        assert all(m.phase == "Successful" for m in run.metrics[0].measurements)


async def test_status_of_every_row_arrives_and_no_traffic_stays_unknown_to_math(
    tmp_path: Path,
) -> None:
    async with live_engine("demo", tmp_path, clock=SimClock(manual=True)) as (_, engine):
        assert await engine.wait_ready(20)
        await eventually(lambda: all(s.health is not None for s in engine.states.values()))
        states = engine.states
        assert len(states) == 24
        quiet = states[EnvKey("notifications", "staging")].health
        assert quiet.success_rate is None and quiet.status is HealthStatus.NO_TRAFFIC
        for key, row in states.items():
            assert row.pipeline is not None, key
            assert row.rollout is not None, key
            for source in SOURCES:
                assert row.source(source).state is LinkState.OK, (key, source)
        bad = states[CHECKOUT].health
        assert bad.status is HealthStatus.BAD and bad.success_rate < 0.99
        assert states[EnvKey("payments", "production")].manual_gate is not None


FAULTS = [
    pytest.param(SourceName.GITLAB, "gitlab", Fault("error", status=502), "502", id="gitlab-5xx"),
    pytest.param(
        SourceName.GITLAB,
        "gitlab",
        Fault("rate_limit", retry_after=1),
        "rate limit",
        id="gitlab-429",
    ),
    pytest.param(SourceName.GITLAB, "gitlab", Fault("unauthorized"), "401", id="gitlab-401"),
    pytest.param(
        SourceName.GITLAB, "gitlab", Fault("latency", seconds=2.0), "timed out", id="gitlab-slow"
    ),
    pytest.param(SourceName.KUBE, "kube", Fault("error", status=503), "503", id="kube-5xx"),
    pytest.param(SourceName.KUBE, "kube", Fault("unauthorized"), "401", id="kube-401"),
    pytest.param(
        SourceName.PROMETHEUS, "prometheus", Fault("error", status=503), "503", id="prometheus-5xx"
    ),
    pytest.param(
        SourceName.PROMETHEUS,
        "prometheus",
        Fault("latency", seconds=2.0),
        "timed out",
        id="prometheus-slow",
    ),
]


def short_timeouts(config):
    return replace(
        config,
        gitlab=replace(config.gitlab, timeout=1.0),
        prometheus=replace(config.prometheus, timeout=1.0),
    )


@pytest.mark.parametrize(("source", "api", "fault", "words"), FAULTS)
async def test_a_failing_source_degrades_only_itself_and_recovers(
    tmp_path: Path, source: SourceName, api: str, fault: Fault, words: str
) -> None:
    async with live_engine("healthy", tmp_path, adjust=short_timeouts) as (sim, engine):
        assert await engine.wait_ready(20)
        sim.set_fault(api, fault)
        if source is SourceName.KUBE:
            sim.drop_watches()  # open streams would otherwise carry on regardless

        def degraded() -> bool:
            status = state(engine, "cart", "production").source(source)
            return status.state in (LinkState.DEGRADED, LinkState.DOWN) and bool(status.last_error)

        await eventually(degraded, timeout=20, message=f"{source} degraded")
        message = state(engine, "cart", "production").source(source).last_error
        assert words.lower() in message.lower(), message
        # The other sources keep answering meanwhile.
        others = [s for s in SOURCES if s is not source and s is not SourceName.KUBE]
        before = {s: engine.last_success(CHECKOUT, s) for s in others}
        await eventually(
            lambda: all(engine.last_success(CHECKOUT, s) > before[s] for s in others),
            timeout=20,
            message="the other sources to keep updating",
        )
        for other in SOURCES:
            if other is not source:
                assert state(engine, "cart", "production").source(other).state is LinkState.OK
        sim.set_fault(api, None)
        await eventually(
            lambda: state(engine, "cart", "production").source(source).state is LinkState.OK,
            timeout=30,
            message=f"{source} to recover without a restart",
        )


async def test_a_dropped_and_expired_watch_relists_and_keeps_following(tmp_path: Path) -> None:
    async with live_engine("healthy", tmp_path) as (sim, engine):
        assert await engine.wait_ready(20)
        assert sim.drop_watches(expire=True) >= 1

        def pause_cart(rollout: dict) -> None:
            rollout["spec"]["paused"] = True

        sim.world.kube.store.update(ROLLOUT, "production", "cart", pause_cart)
        await eventually(
            lambda: state(engine, "cart", "production").rollout.paused,
            timeout=20,
            message="the change made while the watch was down",
        )
        assert state(engine, "cart", "production").source(SourceName.KUBE).state is LinkState.OK


@pytest.mark.prometheus
async def test_a_success_rate_drop_is_seen_within_two_scrape_intervals(
    tmp_path: Path, prometheus
) -> None:
    """Real Prometheus scrapes the simulator every second; the engine asks it every second.

    Counted in scrapes, not seconds: from the scrape after which Prometheus itself answers
    with the dropped rate, the engine shows it within two more scrapes.
    """
    async with simulate("bad-canary", state_dir=tmp_path) as sim:
        server = prometheus([sim.urls.metrics.removeprefix("http://")], interval="1s")
        config = replace(load(tmp_path / "cockpit.toml", environ={}), poll=FAST_POLL)
        config = replace(config, prometheus=replace(config.prometheus, url=server.url))
        # A short rate window, so that a change shows in a few scrapes rather than 5 minutes.
        config = with_environments(
            config,
            lambda env: replace(
                env, success_rate=env.success_rate.replace("[5m]", "[6s]"), latency=None
            ),
        )
        engine = Engine(config, clock=sim.clock.now)
        await engine.start()
        try:
            await _drop_seen_within_two_scrapes(engine, server.url)
        finally:
            await engine.stop()


async def _drop_seen_within_two_scrapes(engine: Engine, prometheus_url: str) -> None:
    query = engine.env_config(CHECKOUT)[1].success_rate
    async with httpx.AsyncClient(base_url=prometheus_url, timeout=5) as client:

        async def ask(expr: str) -> float | None:
            result = (await client.get("/api/v1/query", params={"query": expr})).json()["data"][
                "result"
            ]
            return float(result[0]["value"][1]) if result else None

        async def scrapes() -> int:
            return int(await ask('count_over_time(up{job="cockpit-test"}[1h])') or 0)

        def engine_rate() -> float | None:
            health = engine.states[CHECKOUT].health
            return health.success_rate if health is not None else None

        # Before: the canary at 20 % already fails about 1 % of requests.
        await eventually(
            lambda: (rate := engine_rate()) is not None and rate < 0.99,
            timeout=30,
            message="the engine to see the 20 % canary through Prometheus",
        )
        # Promote to 50 %: the success rate falls towards 97.5 %.
        await engine.kube.patch(
            None,
            "production",
            "Rollout",
            "checkout",
            {"status": {"pauseConditions": None}},
            patch_type="merge",
            subresource="status",
        )
        dropped = 0.982

        async def prometheus_sees_it() -> int | None:
            value = await ask(query)
            return await scrapes() if value is not None and value < dropped else None

        first = await eventually(
            prometheus_sees_it, timeout=60, interval=0.02, message="Prometheus to see the drop"
        )

        async def engine_sees_it() -> int | None:
            rate = engine_rate()
            return await scrapes() if rate is not None and rate < dropped else None

        seen = await eventually(
            engine_sees_it, timeout=30, interval=0.02, message="the engine to see the drop"
        )
        assert seen - first <= 2, (
            f"Prometheus had it at scrape {first}, the engine at scrape {seen}"
        )
        assert engine.states[CHECKOUT].health.status is HealthStatus.BAD
