"""The engine with stand-in sources: shared watches, publishing only on change, isolation of failures."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit.backoff import BackoffPolicy, rate_limited_wait
from cockpit.config import PollConfig, parse
from cockpit.engine import Engine, Poller, StateUpdate, gate_from, merge_history
from cockpit.model import (
    Deployment,
    EnvKey,
    HealthStatus,
    Job,
    LinkState,
    Pipeline,
    Sample,
    SourceName,
    Stage,
)
from cockpit.sources.errors import SourceError
from cockpit.sources.kube import WatchChange
from tests.helpers import eventually

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)

CONFIG = """
[gitlab]
url = "http://gitlab.invalid"
token_env = "TEST_TOKEN"

[prometheus]
url = "http://prometheus.invalid"

[[service]]
name = "checkout"
gitlab_project = "shop/checkout"

  [[service.environment]]
  name = "production"
  namespace = "production"
  rollout = "checkout"

[[service]]
name = "cart"
gitlab_project = "shop/cart"

  [[service.environment]]
  name = "production"
  namespace = "production"
  rollout = "cart"

[[service]]
name = "auth"
gitlab_project = "shop/auth"

  [[service.environment]]
  name = "production"
  namespace = "production"
  deployment = "auth"
"""


#: Faster than a configuration file may poll (at least once a second): the tests wait
#: on conditions, and every second of polling is test time.
TEST_POLL = PollConfig(
    gitlab_active=0.05,
    gitlab_idle=0.05,
    prometheus=0.05,
    prometheus_active=0.05,
    history=0.01,
    flags=0.01,
)


def config():
    loaded = parse(CONFIG, Path("/tmp/cockpit.toml"), environ={"TEST_TOKEN": "secret"})
    return replace(loaded, poll=TEST_POLL)


def pipeline(status: str = "success", pid: int = 10) -> Pipeline:
    job = Job(id=pid * 10, name="unit_tests", stage="test", status=status)
    return Pipeline(
        id=pid,
        status=status,
        ref="main",
        sha="a" * 40,
        updated_at=NOW,
        stages=(Stage("test", (job,)),),
    )


class FakeGitLab:
    def __init__(self) -> None:
        self.pipelines: dict[str, Pipeline | None] = {}
        self.deployment_lists: dict[tuple[str, str], tuple[Deployment, ...]] = {}
        self.error: SourceError | None = None
        self.calls = 0

    async def pipeline(self, project: str, ref: str, *, previous=None) -> Pipeline | None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.pipelines.get(project, pipeline())

    async def pipeline_details(self, project: str, pipeline: Pipeline) -> Pipeline:
        return pipeline

    async def deployments(self, project: str, environment: str, *, limit: int = 20):
        return self.deployment_lists.get((project, environment), ())

    async def feature_flags(self, project: str):
        return ()


class FakePrometheus:
    def __init__(self) -> None:
        self.value: float | None = 0.999
        self.error: SourceError | None = None
        self.calls = 0

    async def query(self, expr: str, *, at=None) -> float | None:
        self.calls += 1
        if self.error is not None:
            raise self.error
        return self.value

    async def query_range(self, expr: str, *, start, end, step):
        if self.error is not None:
            raise self.error
        return (Sample(start, self.value), Sample(end, self.value))


def rollout_obj(name: str, weight: int) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "production", "generation": 1},
        "spec": {
            "replicas": 4,
            "strategy": {
                "canary": {
                    "trafficRouting": {"nginx": {"stableIngress": name}},
                    "steps": [{"setWeight": 20}, {"pause": {}}, {"setWeight": 100}],
                }
            },
            "template": {"spec": {"containers": [{"name": name, "image": f"r/{name}:v2"}]}},
        },
        "status": {
            "phase": "Paused",
            "currentStepIndex": 1,
            "currentPodHash": "new",
            "stableRS": "old",
            "observedGeneration": "1",
            "replicas": 5,
            "updatedReplicas": 1,
            "readyReplicas": 5,
            "availableReplicas": 5,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-26T02:59:00Z"}],
            "canary": {
                "weights": {"canary": {"weight": weight}, "stable": {"weight": 100 - weight}}
            },
        },
    }


def deployment_obj(name: str) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": "production",
            "generation": 1,
            "annotations": {"deployment.kubernetes.io/revision": "3"},
        },
        "spec": {
            "replicas": 2,
            "template": {"spec": {"containers": [{"name": name, "image": "r/auth:v3"}]}},
        },
        "status": {
            "observedGeneration": 1,
            "replicas": 2,
            "updatedReplicas": 2,
            "readyReplicas": 2,
            "availableReplicas": 2,
        },
    }


class FakeWatch:
    def __init__(self, kind: str, objects: dict[str, dict]) -> None:
        self.kind = kind
        self.objects = dict(objects)
        self.queue: asyncio.Queue[WatchChange] = asyncio.Queue()
        self.queue.put_nowait(WatchChange(names=frozenset(self.objects), relisted=True))

    async def changes(self) -> AsyncIterator[WatchChange]:
        while True:
            yield await self.queue.get()

    def apply(self, obj: dict) -> None:
        self.objects[obj["metadata"]["name"]] = obj
        self.queue.put_nowait(WatchChange(names=frozenset({obj["metadata"]["name"]})))


class FakeKube:
    def __init__(self) -> None:
        self.watches: dict[tuple, FakeWatch] = {}
        self.watch_calls: list[tuple] = []

    def namespace(self, context, namespace):
        return namespace or "default"

    def watch(self, context, namespace, kind, *, backoff=None) -> FakeWatch:
        self.watch_calls.append((context, namespace, kind))
        objects = {}
        if kind == "Rollout":
            objects = {"checkout": rollout_obj("checkout", 20), "cart": rollout_obj("cart", 50)}
        elif kind == "Deployment":
            objects = {"auth": deployment_obj("auth")}
        watch = FakeWatch(kind, objects)
        self.watches[(context, namespace, kind)] = watch
        return watch


@contextlib.asynccontextmanager
async def running_world(**engine_options):
    """An engine on the fake sources, started: (engine, gitlab, kube, prometheus, updates)."""
    gitlab, kube, prometheus = FakeGitLab(), FakeKube(), FakePrometheus()
    engine = Engine(
        config(),
        gitlab=gitlab,
        kube=kube,
        prometheus=prometheus,
        clock=lambda: NOW,
        rng=random.Random(1),
        **engine_options,
    )
    updates: list[StateUpdate] = []
    engine.subscribe(updates.append)
    await engine.start()
    try:
        yield engine, gitlab, kube, prometheus, updates
    finally:
        await engine.stop()


@pytest.fixture
async def world():
    async with running_world() as running:
        yield running


CHECKOUT = EnvKey("checkout", "production")
AUTH = EnvKey("auth", "production")


async def test_one_watch_per_namespace_and_kind_serves_every_service(world) -> None:
    engine, _, kube, _, _ = world
    assert await engine.wait_ready(5)
    assert sorted(kind for _, _, kind in kube.watch_calls) == [
        "AnalysisRun",
        "Deployment",
        "ReplicaSet",
        "Rollout",
    ]
    states = engine.states
    assert states[CHECKOUT].rollout.actual_weight == 20
    assert states[EnvKey("cart", "production")].rollout.actual_weight == 50
    assert states[AUTH].rollout.kind == "Deployment"


async def test_a_watch_event_updates_only_the_row_it_concerns(world) -> None:
    engine, _, kube, _, updates = world
    assert await engine.wait_ready(5)
    await eventually(lambda: engine.states[CHECKOUT].health is not None)
    before = len(updates)
    kube.watches[(None, "production", "Rollout")].apply(rollout_obj("checkout", 0) | {})
    await eventually(
        lambda: engine.states[CHECKOUT].rollout.actual_weight == 0, message="new weight"
    )
    assert updates[before:]
    assert all(update.changed == frozenset({CHECKOUT}) for update in updates[before:])


async def test_nothing_is_published_while_nothing_changes(world) -> None:
    engine, gitlab, _, prometheus, updates = world
    assert await engine.wait_ready(5)
    await eventually(lambda: gitlab.calls >= 6 and prometheus.calls >= 6, message="a few polls")
    settled = len(updates)
    calls = gitlab.calls + prometheus.calls
    await eventually(lambda: gitlab.calls + prometheus.calls >= calls + 12, message="more polls")
    assert len(updates) == settled


async def test_a_failing_source_degrades_only_itself_and_recovers(world) -> None:
    engine, gitlab, _, prometheus, _ = world
    assert await engine.wait_ready(5)
    prometheus.error = SourceError(SourceName.PROMETHEUS, "Prometheus answered 503")
    await eventually(
        lambda: (
            engine.states[CHECKOUT].source(SourceName.PROMETHEUS).state
            in (LinkState.DEGRADED, LinkState.DOWN)
        ),
        message="prometheus degraded",
    )
    status = engine.states[CHECKOUT].source(SourceName.PROMETHEUS)
    assert status.last_error == "Prometheus answered 503"
    assert engine.states[CHECKOUT].source(SourceName.GITLAB).state is LinkState.OK
    assert engine.states[CHECKOUT].source(SourceName.KUBE).state is LinkState.OK
    # The other sources keep updating while Prometheus is down.
    gitlab.pipelines["shop/checkout"] = pipeline("running", pid=11)
    await eventually(lambda: engine.states[CHECKOUT].pipeline.id == 11, message="new pipeline")
    prometheus.error = None
    prometheus.value = 0.95
    await eventually(
        lambda: engine.states[CHECKOUT].source(SourceName.PROMETHEUS).state is LinkState.OK,
        timeout=15,
        message="prometheus recovers",
    )
    await eventually(lambda: engine.states[CHECKOUT].health.status is HealthStatus.BAD)


async def test_no_traffic_is_neither_healthy_nor_failing(world) -> None:
    engine, _, _, prometheus, _ = world
    prometheus.value = None
    assert await engine.wait_ready(5)
    await eventually(
        lambda: engine.states[CHECKOUT].health.success_rate is None, message="a NaN sample"
    )
    health = engine.states[CHECKOUT].health
    assert health.success_rate is None
    assert health.status is HealthStatus.NO_TRAFFIC


async def test_retry_after_holds_back_refreshes(world) -> None:
    engine, gitlab, _, _, _ = world
    assert await engine.wait_ready(5)
    gitlab.error = SourceError(
        SourceName.GITLAB, "rate limited by GitLab", status=429, retry_after=60
    )
    await eventually(
        lambda: (
            engine.states[CHECKOUT].source(SourceName.GITLAB).last_error == "rate limited by GitLab"
        )
    )
    await eventually(
        lambda: all(p.failures >= 1 for n, p in engine._pollers.items() if n.startswith("gitlab"))
    )
    calls = gitlab.calls
    engine.refresh()
    for _ in range(20):
        await asyncio.sleep(0)
    assert gitlab.calls == calls  # a refresh does not jump the server's Retry-After


async def test_a_nearly_spent_rate_limit_stretches_the_gitlab_interval(world) -> None:
    import time

    from cockpit.sources.errors import RateLimit

    engine, gitlab, _, _, _ = world
    assert await engine.wait_ready(5)
    project = engine._projects["shop/checkout"]
    calm = await engine._poll_project(project)
    gitlab.rate_limit = RateLimit(limit=2000, remaining=0, reset_at=time.time() + 40)
    assert await engine._poll_project(project) >= calm + 35  # waits for the reset
    gitlab.rate_limit = RateLimit(limit=2000, remaining=1500, reset_at=time.time() + 40)
    assert await engine._poll_project(project) == calm  # plenty left: no change


def deployment(iid: int, status: str, job_status: str, job_id: int) -> Deployment:
    return Deployment(
        id=iid,
        iid=iid,
        status=status,
        ref="main",
        sha="b" * 40,
        created_at=NOW,
        environment="production",
        job_id=job_id,
        job_name="deploy_production",
        job_status=job_status,
    )


def test_the_manual_gate_is_the_waiting_deploy_job_of_that_environment() -> None:
    gate_job = Job(id=77, name="deploy_production", stage="production_deploy", status="manual")
    pipe = Pipeline(
        id=5,
        status="manual",
        ref="main",
        sha="b" * 40,
        stages=(Stage("production_deploy", (gate_job,)),),
    )
    history = (deployment(9, "created", "manual", 77), deployment(8, "success", "success", 60))
    gate = gate_from(history, pipe, "production")
    assert gate is not None and gate.id == 77 and gate.stage == "production_deploy"
    assert gate.environment == "production"
    assert gate_from((deployment(8, "success", "success", 60),), pipe, "production") is None
    assert gate_from((deployment(9, "created", "pending", 78),), pipe, "production") is None


def test_health_history_keeps_one_sample_per_minute_for_thirty_minutes() -> None:
    history: tuple[Sample, ...] = ()
    for second in range(0, 40 * 60, 15):
        now = NOW + timedelta(seconds=second)
        history = merge_history(history, Sample(now, 0.99), now)
    assert len(history) == 30
    assert all(b.at - a.at == timedelta(minutes=1) for a, b in itertools.pairwise(history))


def test_a_chart_spans_its_thirty_minutes_even_where_prometheus_had_nothing() -> None:
    from cockpit.engine import binned

    empty = binned((), NOW)
    assert len(empty) == 30 and all(s.value is None for s in empty)
    assert empty[-1].at == NOW and empty[0].at == NOW - timedelta(minutes=29)
    some = binned((Sample(NOW - timedelta(minutes=5, seconds=20), 0.98),), NOW)
    assert [s.value for s in some if s.value is not None] == [0.98]
    assert some[-7].value == 0.98  # the 02:54 bin (03:00 is the last)
    # A later "no traffic" answer fills the current bin instead of growing the chart.
    assert len(merge_history(empty, Sample(NOW + timedelta(seconds=20), None), NOW)) == 30


def test_backoff_grows_is_capped_jittered_and_respects_retry_after() -> None:
    policy = BackoffPolicy(base=1.0, cap=30.0)
    rng = random.Random(3)
    for failures, ceiling in [(1, 1), (2, 2), (3, 4), (6, 30), (20, 30)]:
        for _ in range(50):
            delay = policy.delay(failures, rng)
            assert ceiling / 2 <= delay <= ceiling
    assert policy.delay(1, rng, retry_after=45) >= 45
    assert policy.delay(0, rng) == 0


def test_an_exhausted_rate_limit_waits_for_its_reset() -> None:
    assert rate_limited_wait(0, 2000, 12.0) == 12.0
    assert rate_limited_wait(50, 2000, 10.0) == pytest.approx(0.2)
    assert rate_limited_wait(1500, 2000, 10.0) == 0.0
    assert rate_limited_wait(None, None, None) == 0.0


async def test_a_wake_during_a_poll_buys_the_next_poll_at_once() -> None:
    started = asyncio.Event()
    release = asyncio.Event()
    calls = 0

    async def poll() -> float:
        nonlocal calls
        calls += 1
        if calls == 1:
            started.set()
            await release.wait()
        return 3600.0  # calm: the next poll would be an hour away

    poller = Poller(
        "gitlab:shop/checkout",
        poll,
        policy=BackoffPolicy(base=1.0, cap=10.0),
        rng=random.Random(1),
        on_error=lambda error: None,
        source=SourceName.GITLAB,
    )
    task = asyncio.create_task(poller.run())
    try:
        await started.wait()
        poller.wake()  # a write landed while the first read was in flight
        release.set()
        await eventually(lambda: calls == 2, message="a second read right after the first")
    finally:
        task.cancel()


async def test_a_source_failing_for_a_while_goes_from_degraded_to_down() -> None:
    wall = [NOW]
    async with running_world(wall_clock=lambda: wall[0]) as (engine, _, _, prometheus, _):
        assert await engine.wait_ready(5)

        def prometheus_state() -> LinkState:
            return engine.states[CHECKOUT].source(SourceName.PROMETHEUS).state

        await eventually(lambda: prometheus_state() is LinkState.OK)
        prometheus.error = SourceError(SourceName.PROMETHEUS, "Prometheus answered 503")
        # A failure with fresh data behind it: degraded, the numbers still shown as they are.
        await eventually(lambda: prometheus_state() is LinkState.DEGRADED, message="degraded")
        # A minute on, the last numbers are too old to judge by: down (cells show stale).
        wall[0] = NOW + timedelta(seconds=61)
        await eventually(lambda: prometheus_state() is LinkState.DOWN, message="down")
        assert engine.states[CHECKOUT].source(SourceName.GITLAB).state is LinkState.OK
        prometheus.error = None
        await eventually(lambda: prometheus_state() is LinkState.OK, message="recovered")


async def test_when_a_source_answers_again_every_row_waiting_on_it_retries_at_once(
    world, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine, _, _, prometheus, _ = world
    # Every failure backs off for an hour: only the recovery of a sibling can end it.
    monkeypatch.setattr(
        BackoffPolicy, "delay", lambda self, failures, rng, retry_after=None: 3600.0
    )
    assert await engine.wait_ready(5)

    def prometheus_states() -> set[LinkState]:
        return {s.source(SourceName.PROMETHEUS).state for s in engine.states.values()}

    prometheus.error = SourceError(SourceName.PROMETHEUS, "Prometheus answered 503")
    await eventually(lambda: prometheus_states() == {LinkState.DEGRADED}, message="all fail")
    prometheus.error = None
    engine.refresh(CHECKOUT)  # one row asks again (a person pressed ctrl+r on it)
    await eventually(lambda: prometheus_states() == {LinkState.OK}, message="all recover")
