"""Outages end as soon as the source answers; a slow or hung source shows as such.

The engine reads the simulator over real HTTP; faults are switched on and off with
``sim.set_fault``. Backoff is made an hour long where it matters, so that only the
behaviour under test (a probe noticing the source is back, a liveness check) can end
the wait: the tests wait on conditions, never on the clock.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from cockpit.backoff import BackoffPolicy
from cockpit.engine.kube_feed import LIVENESS_WINDOW, KubeFeed
from cockpit.model import EnvKey, LinkState, SourceName
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import Fault
from cockpit.sim.kube.store import ROLLOUT
from tests.helpers import eventually
from tests.live import live_engine, state

CART = EnvKey("cart", "production")


@pytest.fixture
def hour_long_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every poller and watch would wait an hour after a failure; probes are capped."""
    monkeypatch.setattr(
        BackoffPolicy, "delay", lambda self, failures, rng, retry_after=None: 3600.0
    )


def every_row(engine, source: SourceName, predicate) -> bool:
    return all(predicate(s.source(source)) for s in engine.states.values())


def failing(status) -> bool:
    return status.state in (LinkState.DEGRADED, LinkState.DOWN) and bool(status.last_error)


@pytest.mark.parametrize(
    ("source", "api"),
    [(SourceName.GITLAB, "gitlab"), (SourceName.PROMETHEUS, "prometheus")],
)
async def test_when_a_polled_source_answers_again_every_row_is_fresh_at_once(
    tmp_path: Path, hour_long_backoff: None, source: SourceName, api: str
) -> None:
    async with live_engine("healthy", tmp_path) as (sim, engine):
        assert await engine.wait_ready(20)
        sim.set_fault(api, Fault("error", status=500))
        await eventually(lambda: every_row(engine, source, failing), timeout=20)
        sim.set_fault(api, None)
        answered = engine.wall_now()
        # Every poller backs off for an hour: only the probe's first answer releases them.
        await eventually(
            lambda: every_row(
                engine,
                source,
                lambda s: s.state is LinkState.OK and s.last_success > answered,
            ),
            timeout=20,
            message=f"every row's {source} fresh again",
        )


@pytest.mark.parametrize("expire", [False, True], ids=["reconnect", "relist-after-410"])
async def test_when_the_apiserver_answers_again_every_watch_resumes_at_once(
    tmp_path: Path, hour_long_backoff: None, expire: bool
) -> None:
    async with live_engine("healthy", tmp_path) as (sim, engine):
        assert await engine.wait_ready(20)
        sim.set_fault("kube", Fault("error", status=503))
        sim.drop_watches(expire=expire)
        await eventually(lambda: every_row(engine, SourceName.KUBE, failing), timeout=20)

        def pause_cart(rollout: dict) -> None:
            rollout["spec"]["paused"] = True

        sim.world.kube.store.update(ROLLOUT, "production", "cart", pause_cart)
        sim.set_fault("kube", None)
        await eventually(
            lambda: every_row(engine, SourceName.KUBE, lambda s: s.state is LinkState.OK),
            timeout=20,
            message="every row's Kubernetes ok again",
        )
        await eventually(lambda: state(engine, "cart", "production").rollout.paused)


async def test_retry_after_is_honoured_then_everything_is_released_at_once(
    tmp_path: Path, hour_long_backoff: None
) -> None:
    async with live_engine("healthy", tmp_path) as (sim, engine):
        assert await engine.wait_ready(20)
        sim.set_fault("gitlab", Fault("rate_limit", retry_after=2))
        set_at = time.monotonic()
        await eventually(lambda: every_row(engine, SourceName.GITLAB, failing), timeout=20)
        await eventually(
            lambda: any(
                r.path.endswith("/version") and r.received > set_at
                for r in sim.requests_seen("gitlab")
            ),
            timeout=20,
            message="the probe to ask again",
        )
        sim.set_fault("gitlab", None)
        answered = engine.wall_now()
        await eventually(
            lambda: every_row(
                engine,
                SourceName.GITLAB,
                lambda s: s.state is LinkState.OK and s.last_success > answered,
            ),
            timeout=20,
        )
        failed_at = min(r.received for r in sim.requests_seen("gitlab") if r.received > set_at)
        probes = [
            r.received
            for r in sim.requests_seen("gitlab")
            if r.received > set_at and r.path.endswith("/version")
        ]
        # The first 429 said "in 2 s": the probe asked no sooner (the pollers not at all).
        assert probes and probes[0] >= failed_at + 2.0


async def test_a_slow_source_shows_as_slow_with_its_answer_time_and_holds_up_nothing(
    tmp_path: Path,
) -> None:
    async with live_engine("healthy", tmp_path) as (sim, engine):
        assert await engine.wait_ready(20)
        sim.set_fault("prometheus", Fault("latency", seconds=2.5))
        await eventually(
            lambda: every_row(
                engine,
                SourceName.PROMETHEUS,
                lambda s: s.state is LinkState.OK and s.slow is not None and s.slow >= 2.5,
            ),
            timeout=30,
            message="Prometheus shown slow",
        )
        before = engine.last_success(CART, SourceName.GITLAB)
        await eventually(
            lambda: engine.last_success(CART, SourceName.GITLAB) > before,
            message="GitLab to keep updating meanwhile",
        )
        sim.set_fault("prometheus", None)
        await eventually(
            lambda: every_row(engine, SourceName.PROMETHEUS, lambda s: s.slow is None),
            timeout=30,
            message="Prometheus fast again",
        )


async def test_a_hung_apiserver_is_noticed_while_no_event_flows_and_recovers(
    tmp_path: Path,
) -> None:
    # A manual clock: nothing in the cluster moves, so no watch event would ever say
    # anything, and the default bookmarks come once a minute.
    async with live_engine("healthy", tmp_path, clock=SimClock(manual=True)) as (sim, engine):
        assert await engine.wait_ready(20)
        await eventually(
            lambda: every_row(engine, SourceName.KUBE, lambda s: s.state is LinkState.OK)
        )
        sim.set_fault("kube", Fault("frozen"))
        await eventually(
            lambda: every_row(engine, SourceName.KUBE, failing),
            timeout=30,
            message="the hung apiserver noticed",
        )
        assert "timed out" in state(engine, "cart", "production").source(SourceName.KUBE).last_error
        assert state(engine, "cart", "production").source(SourceName.GITLAB).state is LinkState.OK
        sim.set_fault("kube", None)
        await eventually(
            lambda: every_row(engine, SourceName.KUBE, lambda s: s.state is LinkState.OK),
            timeout=20,
            message="Kubernetes ok again",
        )


async def test_bookmarks_keep_a_quiet_watch_alive_without_extra_requests(tmp_path: Path) -> None:
    async with live_engine(
        "healthy", tmp_path, clock=SimClock(manual=True), bookmark_interval=0.5
    ) as (_, engine):
        assert await engine.wait_ready(20)
        feed = engine.feed(SourceName.KUBE)
        assert isinstance(feed, KubeFeed)
        watch = next(iter(feed.watches.values()))
        first = watch.heard_at
        # Nothing changes in the cluster; only BOOKMARKs arrive, for longer than the
        # liveness window.
        await eventually(
            lambda: watch.heard_at > first + LIVENESS_WINDOW + 1,
            timeout=30,
            message="bookmarks to arrive",
        )
        assert feed.probes == 0
        assert every_row(engine, SourceName.KUBE, lambda s: s.state is LinkState.OK)


async def test_without_bookmarks_a_quiet_cluster_is_asked_whether_it_answers(
    tmp_path: Path,
) -> None:
    async with live_engine("healthy", tmp_path, clock=SimClock(manual=True)) as (_, engine):
        assert await engine.wait_ready(20)
        feed = engine.feed(SourceName.KUBE)
        assert isinstance(feed, KubeFeed)
        await eventually(lambda: feed.probes >= 1, timeout=30, message="a liveness probe")
        assert every_row(engine, SourceName.KUBE, lambda s: s.state is LinkState.OK)
