"""A hand-driven engine with the real engine's surface, and demo-like service states.

Pilot tests, snapshot tests, the screenshot script and the render benchmark use it to
put the screen in precise situations: ``engine.publish(state)`` replaces rows and
notifies subscribers exactly as the real engine does (a whole snapshot plus the keys
that changed). ``demo_states(now)`` builds the demo world's situations by hand: a canary
whose success rate falls at 20 %, a manual gate, a blue-green preview, a failed pipeline,
a service with no traffic and one whose Prometheus is down.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType

from cockpit.engine import HeaderInfo, StateUpdate
from cockpit.model import (
    AnalysisMetric,
    AnalysisRun,
    Deployment,
    EnvKey,
    FeatureFlag,
    FlagStrategy,
    Health,
    HealthStatus,
    Job,
    LinkState,
    Measurement,
    Pipeline,
    Revision,
    Rollout,
    RolloutStep,
    Sample,
    ServiceState,
    SourceName,
    SourceStatus,
    Stage,
    Strategy,
)

#: The fixed moment screenshots and snapshot tests are taken at.
DEMO_NOW = datetime(2026, 11, 26, 3, 12, 0, tzinfo=UTC)


@dataclass(frozen=True)
class FakeConfig:
    read_only: bool = False


@dataclass
class FakeEngine:
    """The engine surface the UI uses, driven by hand."""

    initial: Iterable[ServiceState] = ()
    clock: datetime = DEMO_NOW
    header: HeaderInfo = field(
        default_factory=lambda: HeaderInfo(
            kube_contexts=("prod-eu", "staging-eu"),
            gitlab_host="gitlab.example.com",
            prometheus_host="prometheus.monitoring:9090",
        )
    )
    config: FakeConfig = field(default_factory=FakeConfig)
    #: Job logs by job id; a missing id raises like the GitLab source does.
    traces: dict[int, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._states: dict[EnvKey, ServiceState] = {s.key: s for s in self.initial}
        self._listeners: list[Callable[[StateUpdate], None]] = []
        self.refreshes: list[EnvKey | None] = []
        self.trace_calls: list[int] = []
        self.started = False
        self.stopped = False

    @property
    def states(self) -> Mapping[EnvKey, ServiceState]:
        return MappingProxyType(dict(self._states))

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    def subscribe(self, listener: Callable[[StateUpdate], None]) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def refresh(self, key: EnvKey | None = None) -> None:
        self.refreshes.append(key)

    async def job_trace(self, key: EnvKey, job_id: int) -> str:
        self.trace_calls.append(job_id)
        if job_id not in self.traces:
            from cockpit.errors import CockpitError

            raise CockpitError(f"GitLab: job {job_id} not found (404)")
        return self.traces[job_id]

    def now(self) -> datetime:
        return self.clock

    def wall_now(self) -> datetime:
        return self.clock

    def publish(self, *states: ServiceState) -> None:
        """Replace rows and notify subscribers with the keys that really changed."""
        changed = frozenset(s.key for s in states if self._states.get(s.key) != s)
        for state in states:
            self._states[state.key] = state
        update = StateUpdate(states=self.states, changed=changed, at=self.clock)
        for listener in list(self._listeners):
            listener(update)


# --------------------------------------------------------------------------- demo world


def _ok_sources(now: datetime) -> tuple[SourceStatus, ...]:
    return tuple(
        SourceStatus(source=name, state=LinkState.OK, last_success=now - timedelta(seconds=2))
        for name in SourceName
    )


def _history(now: datetime, values: list[float | None], step: float = 60.0) -> tuple[Sample, ...]:
    count = len(values)
    return tuple(
        Sample(at=now - timedelta(seconds=step * (count - 1 - i)), value=v)
        for i, v in enumerate(values)
    )


def _pipeline(
    pid: int, sha: str, now: datetime, statuses: dict[str, list[tuple[str, str]]]
) -> Pipeline:
    stages = []
    job_id = pid * 10
    for stage_name, jobs in statuses.items():
        built = []
        for name, status in jobs:
            job_id += 1
            finished = status in ("success", "failed", "canceled")
            built.append(
                Job(
                    id=job_id,
                    name=name,
                    stage=stage_name,
                    status=status,
                    duration=47.0 + job_id % 60 if finished else None,
                    started_at=now - timedelta(minutes=6) if status != "created" else None,
                    allow_failure=name == "dependency-scan",
                    needs=("build",) if stage_name == "test" else (),
                    environment="production" if name == "deploy-production" else None,
                    user="alice",
                )
            )
        stages.append(Stage(name=stage_name, jobs=tuple(built)))
    stage_statuses = [stage.status for stage in stages]
    status = "success"
    for candidate in ("failed", "running", "manual", "created"):
        if candidate in stage_statuses:
            status = candidate
            break
    return Pipeline(
        id=pid,
        status=status,
        ref="main",
        sha=sha,
        created_at=now - timedelta(minutes=9),
        user="alice",
        stages=tuple(stages),
    )


_CANARY_STEPS = (
    RolloutStep(0, "setWeight", "setWeight: 20", weight=20),
    RolloutStep(1, "pause", "pause: 5m", duration=300),
    RolloutStep(2, "analysis", "analysis"),
    RolloutStep(3, "setWeight", "setWeight: 50", weight=50),
    RolloutStep(4, "pause", "pause"),
    RolloutStep(5, "setWeight", "setWeight: 100", weight=100),
)


def _deployments(
    env: str, now: datetime, shas: list[tuple[str, str, int]]
) -> tuple[Deployment, ...]:
    return tuple(
        Deployment(
            id=900 + i,
            iid=90 - i,
            status="success",
            ref="main",
            sha=sha,
            created_at=now - timedelta(hours=hours),
            finished_at=now - timedelta(hours=hours) + timedelta(minutes=4),
            environment=env,
            user=user,
            commit_title=f"change {sha[:4]}",
        )
        for i, (sha, user, hours) in enumerate(shas)
    )


def checkout_production(now: datetime = DEMO_NOW) -> ServiceState:
    """A canary at 20 % whose success rate is falling under the threshold."""
    rates = [0.998, 0.997, 0.998, 0.996, 0.997, 0.995, 0.991, 0.987, 0.982, 0.978, 0.974, 0.971]
    latency = [0.21, 0.22, 0.2, 0.23, 0.22, 0.25, 0.31, 0.38, 0.44, 0.52, 0.61, 0.66]
    return ServiceState(
        key=EnvKey("checkout", "production"),
        pipeline=_pipeline(
            4812,
            "9f3c2a1be07d44c1",
            now,
            {
                "build": [("build", "success")],
                "test": [
                    ("unit", "success"),
                    ("integration", "success"),
                    ("dependency-scan", "failed"),
                ],
                "deploy": [("deploy-staging", "success"), ("deploy-production", "success")],
            },
        ),
        rollout=Rollout(
            kind="Rollout",
            name="checkout",
            namespace="checkout",
            strategy=Strategy.CANARY,
            phase="Paused",
            message="CanaryPauseStep",
            step_index=1,
            steps=_CANARY_STEPS,
            set_weight=20,
            actual_weight=20,
            paused=True,
            pause_reasons=("CanaryPauseStep",),
            paused_at=now - timedelta(seconds=150),
            pause_ends_at=now + timedelta(seconds=150),
            stable_hash="6d8f7c9b5",
            current_hash="7b9c8d6f4",
            revision=14,
            images=("registry.example.com/shop/checkout:1.42.0",),
            stable_images=("registry.example.com/shop/checkout:1.41.3",),
            replicas=5,
            current_replicas=6,
            updated_replicas=1,
            ready_replicas=6,
            available_replicas=6,
            revisions=(
                Revision(
                    14,
                    "7b9c8d6f4",
                    ("registry.example.com/shop/checkout:1.42.0",),
                    replicas=1,
                    ready=1,
                    role="canary",
                ),
                Revision(
                    13,
                    "6d8f7c9b5",
                    ("registry.example.com/shop/checkout:1.41.3",),
                    replicas=5,
                    ready=5,
                    role="stable",
                ),
                Revision(
                    12, "5c7e6b8a3", ("registry.example.com/shop/checkout:1.41.2",), role="old"
                ),
            ),
            analysis_runs=(
                AnalysisRun(
                    name="checkout-7b9c8d6f4-14-1",
                    phase="Running",
                    rollout_type="Background",
                    metrics=(
                        AnalysisMetric(
                            name="success-rate",
                            phase="Running",
                            count=3,
                            successful=2,
                            failed=1,
                            measurements=(
                                Measurement("Successful", "0.995"),
                                Measurement("Successful", "0.991"),
                                Measurement("Failed", "0.974"),
                            ),
                        ),
                    ),
                ),
            ),
        ),
        health=Health(
            threshold=0.99,
            success_rate=0.971,
            status=HealthStatus.BAD,
            latency_p99=0.66,
            sampled_at=now,
            history=_history(now, list(rates)),
            latency_history=_history(now, list(latency)),
        ),
        deployments=_deployments(
            "production",
            now,
            [
                ("9f3c2a1be07d44c1", "alice", 0),
                ("3e1d0c9b8a7f6e5d", "bob", 26),
                ("1a2b3c4d5e6f7a8b", "carol", 74),
            ],
        ),
        flags=(
            FeatureFlag(
                "new-payment-form",
                True,
                "Stripe elements form",
                (FlagStrategy(1, "default", scopes=("production",)),),
            ),
            FeatureFlag("one-click-checkout", False, "Skip the review step"),
        ),
        sources=_ok_sources(now),
    )


def checkout_staging(now: datetime = DEMO_NOW) -> ServiceState:
    return ServiceState(
        key=EnvKey("checkout", "staging"),
        pipeline=checkout_production(now).pipeline,
        rollout=Rollout(
            kind="Rollout",
            name="checkout",
            namespace="checkout-staging",
            strategy=Strategy.CANARY,
            phase="Healthy",
            step_index=6,
            steps=_CANARY_STEPS,
            set_weight=100,
            actual_weight=100,
            stable_hash="7b9c8d6f4",
            current_hash="7b9c8d6f4",
            images=("registry.example.com/shop/checkout:1.42.0",),
            replicas=2,
            ready_replicas=2,
            available_replicas=2,
        ),
        health=Health(
            threshold=0.99,
            success_rate=0.999,
            status=HealthStatus.OK,
            history=_history(now, [0.999] * 12),
        ),
        deployments=_deployments("staging", now, [("9f3c2a1be07d44c1", "alice", 1)]),
        sources=_ok_sources(now),
    )


def payments_production(now: datetime = DEMO_NOW) -> ServiceState:
    """A pipeline waiting on its manual production gate."""
    pipeline = _pipeline(
        4790,
        "c0ffee12ab34cd56",
        now,
        {
            "build": [("build", "success")],
            "test": [("unit", "success"), ("contract", "success")],
            "deploy": [("deploy-staging", "success"), ("deploy-production", "manual")],
        },
    )
    return ServiceState(
        key=EnvKey("payments", "production"),
        pipeline=pipeline,
        manual_gate=pipeline.job("deploy-production"),
        rollout=Rollout(
            kind="Deployment",
            name="payments",
            namespace="payments",
            strategy=Strategy.ROLLING,
            phase="Healthy",
            images=("registry.example.com/shop/payments:2.8.1",),
            replicas=3,
            ready_replicas=3,
            available_replicas=3,
            updated_replicas=3,
        ),
        health=Health(
            threshold=0.995,
            success_rate=0.9991,
            status=HealthStatus.OK,
            history=_history(now, [0.999, 0.9993, 0.9991, 0.9995, 0.999, 0.9992, 0.9991] * 2),
        ),
        deployments=_deployments(
            "production", now, [("b16b00b5aa11cc22", "dave", 50), ("a1b2c3d4e5f60718", "erin", 120)]
        ),
        sources=_ok_sources(now),
    )


def search_production(now: datetime = DEMO_NOW) -> ServiceState:
    """A blue-green rollout whose preview waits for the switch."""
    return ServiceState(
        key=EnvKey("search", "production"),
        pipeline=_pipeline(
            3301,
            "5eac4c4f00d1e2f3",
            now,
            {
                "build": [("build", "success")],
                "test": [("unit", "success")],
                "deploy": [("deploy", "success")],
            },
        ),
        rollout=Rollout(
            kind="Rollout",
            name="search",
            namespace="search",
            strategy=Strategy.BLUEGREEN,
            phase="Paused",
            message="BlueGreenPause",
            paused=True,
            active_selector="6cbccd9f99",
            preview_selector="74b948fccb",
            stable_hash="6cbccd9f99",
            current_hash="74b948fccb",
            images=("registry.example.com/shop/search:3.1.0",),
            stable_images=("registry.example.com/shop/search:3.0.9",),
            replicas=3,
            ready_replicas=6,
            available_replicas=3,
        ),
        health=Health(
            threshold=0.99,
            success_rate=0.9962,
            status=HealthStatus.OK,
            history=_history(now, [0.996, 0.997, 0.995, 0.996, 0.997, 0.996]),
        ),
        deployments=_deployments("production", now, [("5eac4c4f00d1e2f3", "frank", 0)]),
        sources=_ok_sources(now),
    )


def cart_production(now: datetime = DEMO_NOW) -> ServiceState:
    """A failed pipeline (integration tests)."""
    return ServiceState(
        key=EnvKey("cart", "production"),
        pipeline=_pipeline(
            5120,
            "deadbeef01234567",
            now,
            {
                "build": [("build", "success")],
                "test": [("unit", "success"), ("integration", "failed")],
                "deploy": [("deploy-staging", "created"), ("deploy-production", "created")],
            },
        ),
        rollout=Rollout(
            kind="Rollout",
            name="cart",
            namespace="cart",
            strategy=Strategy.CANARY,
            phase="Healthy",
            step_index=6,
            steps=_CANARY_STEPS,
            set_weight=100,
            actual_weight=100,
            stable_hash="1111aaaa",
            current_hash="1111aaaa",
            images=("registry.example.com/shop/cart:0.9.7",),
            replicas=4,
            ready_replicas=4,
        ),
        health=Health(
            threshold=0.99,
            success_rate=0.9994,
            status=HealthStatus.OK,
            history=_history(now, [0.999] * 10),
        ),
        deployments=(
            replace(
                _deployments("production", now, [("0badc0de0badc0de", "gina", 3)])[0],
                is_rollback=True,
            ),
        ),
        sources=_ok_sources(now),
    )


def users_production(now: datetime = DEMO_NOW) -> ServiceState:
    """Healthy, and idle at night: no traffic at all."""
    return ServiceState(
        key=EnvKey("users", "production"),
        pipeline=_pipeline(
            2001,
            "abcdef0123456789",
            now,
            {"build": [("build", "success")], "deploy": [("deploy", "success")]},
        ),
        rollout=Rollout(
            kind="Deployment",
            name="users",
            namespace="users",
            strategy=Strategy.ROLLING,
            phase="Healthy",
            images=("registry.example.com/shop/users:5.0.2",),
            replicas=2,
            ready_replicas=2,
        ),
        health=Health(
            threshold=0.99,
            success_rate=None,
            status=HealthStatus.NO_TRAFFIC,
            history=_history(now, [0.999, 0.998, None, None, None, None]),
        ),
        deployments=_deployments("production", now, [("abcdef0123456789", "henry", 200)]),
        sources=_ok_sources(now),
    )


def notifications_production(now: datetime = DEMO_NOW) -> ServiceState:
    """Prometheus stopped answering 47 seconds ago: health is unknown, and says why."""
    sources = tuple(
        SourceStatus(
            source=SourceName.PROMETHEUS,
            state=LinkState.DEGRADED,
            last_success=now - timedelta(seconds=47),
            last_error="connection refused",
            last_error_at=now - timedelta(seconds=5),
        )
        if s.source is SourceName.PROMETHEUS
        else s
        for s in _ok_sources(now)
    )
    return ServiceState(
        key=EnvKey("notifications", "production"),
        pipeline=_pipeline(
            1500,
            "feedface12345678",
            now,
            {"build": [("build", "success")], "deploy": [("deploy", "running")]},
        ),
        rollout=Rollout(
            kind="Deployment",
            name="notifications",
            namespace="notifications",
            strategy=Strategy.ROLLING,
            phase="Progressing",
            images=("registry.example.com/shop/notifications:1.3.0",),
            replicas=3,
            ready_replicas=2,
        ),
        health=Health(threshold=0.99, status=HealthStatus.UNKNOWN),
        deployments=_deployments("production", now, [("feedface12345678", "ivan", 0)]),
        sources=sources,
    )


def demo_states(now: datetime = DEMO_NOW) -> tuple[ServiceState, ...]:
    return (
        checkout_production(now),
        checkout_staging(now),
        payments_production(now),
        search_production(now),
        cart_production(now),
        users_production(now),
        notifications_production(now),
    )


def demo_engine(now: datetime = DEMO_NOW) -> FakeEngine:
    """An engine showing the demo's situations at a fixed moment."""
    checkout = checkout_production(now)
    running = checkout.pipeline.jobs[0] if checkout.pipeline else None
    traces = {}
    if running is not None:
        traces[running.id] = (
            "\x1b[0KRunning with gitlab-runner 17.5.0\n"
            "section_start:1764126000:prepare_script\r\x1b[0K\x1b[36;1mPreparing environment\x1b[0;m\n"
            "Running on runner-abc\n"
            "section_end:1764126001:prepare_script\r\x1b[0K\n"
            "\x1b[32;1m$ make build\x1b[0;m\n"
            "compiling 42%\rcompiling 100%\n"
            "\x1b[32;1mJob succeeded\x1b[0;m\n"
        )
    return FakeEngine(initial=demo_states(now), clock=now, traces=traces)
