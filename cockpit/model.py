"""The data cockpit shows: immutable snapshots of pipelines, rollouts, health and history.

Everything here is a frozen dataclass (sequences are tuples), so two snapshots compare
with ``==`` and the engine can publish a new ``ServiceState`` only when something really
changed. Sources build these from API JSON; the engine assembles them per service ×
environment; the UI, the actions and the insights only read them.

Nothing in this module does I/O or imports anything outside the standard library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

# --------------------------------------------------------------------------- keys


@dataclass(frozen=True, order=True)
class EnvKey:
    """One row of the cockpit: a service in one environment."""

    service: str
    environment: str

    def __str__(self) -> str:
        return f"{self.service}/{self.environment}"


# --------------------------------------------------------------------------- GitLab

#: Pipeline, job and bridge statuses as GitLab reports them (``Ci::HasStatus``).
PIPELINE_STATUSES = (
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
)
ACTIVE_STATUSES = frozenset(
    {"created", "waiting_for_resource", "preparing", "waiting_for_callback", "pending", "running"}
)


@dataclass(frozen=True)
class Job:
    """A pipeline job (or bridge) as the Jobs API reports it."""

    id: int
    name: str
    stage: str
    status: str
    allow_failure: bool = False
    created_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    #: Names of the jobs this one ``needs`` (from the CI configuration; the Jobs API has none).
    needs: tuple[str, ...] = ()
    #: Environment the job deploys to, when known (from the CI configuration or a deployment).
    environment: str | None = None
    failure_reason: str | None = None
    coverage: float | None = None
    user: str | None = None
    web_url: str | None = None
    is_bridge: bool = False

    @property
    def playable(self) -> bool:
        """GitLab's own rule: a job waiting for a human (``when: manual``) or a timer."""
        return self.status in ("manual", "scheduled")

    @property
    def retryable(self) -> bool:
        return self.status in ("failed", "canceled", "success")

    @property
    def cancelable(self) -> bool:
        return self.status in ACTIVE_STATUSES


@dataclass(frozen=True)
class Stage:
    name: str
    jobs: tuple[Job, ...]

    @property
    def status(self) -> str:
        """The stage status GitLab would show, derived from its jobs."""
        return stage_status(self.jobs)


def stage_status(jobs: tuple[Job, ...]) -> str:
    """Combine job statuses the way GitLab's ``Ci::HasStatus.composite`` does (simplified).

    Failed jobs that are allowed to fail count as success; a stage that only has
    manual jobs left is ``manual``.
    """
    if not jobs:
        return "created"
    statuses = [("success" if j.status == "failed" and j.allow_failure else j.status) for j in jobs]
    present = set(statuses)
    if present <= {"skipped"}:
        return "skipped"
    if present <= {"success", "skipped"}:
        return "success"
    if "running" in present or "canceling" in present:
        return "running"
    if "failed" in present and not (present & ACTIVE_STATUSES):
        return "failed"
    if present & {"pending", "preparing", "waiting_for_resource", "waiting_for_callback"}:
        return "pending"
    if "failed" in present:
        return "running"
    if "canceled" in present:
        return "canceled"
    if "manual" in present:
        return "manual"
    if "scheduled" in present:
        return "scheduled"
    if "created" in present:
        return "created"
    return statuses[0]


@dataclass(frozen=True)
class Pipeline:
    id: int
    status: str
    ref: str
    sha: str
    iid: int | None = None
    source: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    duration: float | None = None
    user: str | None = None
    web_url: str | None = None
    stages: tuple[Stage, ...] = ()

    @property
    def jobs(self) -> tuple[Job, ...]:
        return tuple(j for s in self.stages for j in s.jobs)

    @property
    def current_stage(self) -> Stage | None:
        """The stage an engineer looks at: the first not finished well, else the last."""
        for stage in self.stages:
            if stage.status not in ("success", "skipped"):
                return stage
        return self.stages[-1] if self.stages else None

    def job(self, name: str) -> Job | None:
        return next((j for j in self.jobs if j.name == name), None)


@dataclass(frozen=True)
class Deployment:
    """One GitLab deployment to an environment (the environment's history)."""

    id: int
    iid: int
    status: str  # created | running | success | failed | canceled | skipped | blocked
    ref: str
    sha: str
    created_at: datetime
    environment: str
    #: ``deployable.finished_at``: the REST entity has no top-level finished_at.
    finished_at: datetime | None = None
    user: str | None = None
    job_id: int | None = None
    job_name: str | None = None
    job_status: str | None = None
    pipeline_id: int | None = None
    #: When the commit was authored (for lead time).
    commit_created_at: datetime | None = None
    commit_title: str | None = None
    #: True when this deployment re-deployed a sha that had already been deployed
    #: to the environment earlier (GitLab's "rollback" retries an old deploy job).
    is_rollback: bool = False


@dataclass(frozen=True)
class FlagStrategy:
    id: int | None
    name: str
    parameters: tuple[tuple[str, str], ...] = ()
    scopes: tuple[str, ...] = ()


@dataclass(frozen=True)
class FeatureFlag:
    name: str
    active: bool
    description: str | None = None
    strategies: tuple[FlagStrategy, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True)
class FileChange:
    """One file changed between two commits (an entry of the compare API's ``diffs``)."""

    old_path: str
    new_path: str
    new_file: bool = False
    deleted_file: bool = False
    renamed_file: bool = False
    diff: str = ""


@dataclass(frozen=True)
class Comparison:
    """What changed from one commit to another (``GET /repository/compare``)."""

    from_sha: str
    to_sha: str
    files: tuple[FileChange, ...] = ()
    commits: int = 0
    #: GitLab gave up comparing (huge diff): the file list is incomplete.
    timed_out: bool = False


#: Where the common frameworks keep database migrations: the default of a service's
#: ``migration_paths`` setting, read by the rollback safety check. Globs use ``*`` within
#: a directory, ``**/`` for any number of directories and ``[0-9]`` classes.
DEFAULT_MIGRATION_PATHS: tuple[str, ...] = (
    "**/db/migrate/*.rb",  # Rails
    "**/database/migrations/*.php",  # Laravel
    "**/migrations/[0-9]*.py",  # Django
    "**/alembic/versions/*.py",  # Alembic
    "**/migrations/versions/*.py",  # Alembic (Flask-Migrate layout)
    "**/db/migration/V*__*.sql",  # Flyway
    "**/db/changelog/**/*.xml",  # Liquibase
    "**/db/changelog/**/*.yaml",
    "**/db/changelog/**/*.yml",
    "**/db/changelog/**/*.json",
    "**/db/changelog/**/*.sql",
    "**/prisma/migrations/*/migration.sql",  # Prisma
    "**/migrations/*.up.sql",  # golang-migrate
    "**/db/migrations/*.sql",  # dbmate and friends
)


@dataclass(frozen=True)
class GroupProject:
    """A project of a GitLab group, with what assessing it needs."""

    path: str  # path_with_namespace
    default_branch: str | None
    #: Its available environments' names.
    environments: tuple[str, ...] = ()


@dataclass(frozen=True)
class CiLint:
    """The project's CI configuration as GitLab's lint endpoint returns it."""

    valid: bool
    merged_yaml: str | None = None
    errors: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()


# --------------------------------------------------------------------------- Kubernetes


class Strategy(StrEnum):
    CANARY = "canary"
    BLUEGREEN = "bluegreen"
    ROLLING = "rolling"


@dataclass(frozen=True)
class RolloutStep:
    """One canary step, rendered as the plugin's ``CanaryStepString`` does."""

    index: int
    kind: str  # setWeight | pause | analysis | experiment | setCanaryScale | ...
    text: str  # "setWeight: 20", "pause", "pause: 10m", "analysis", ...
    weight: int | None = None
    #: Pause length in seconds; None for an indefinite pause (waits for promote).
    duration: float | None = None


@dataclass(frozen=True)
class Measurement:
    phase: str  # Successful | Failed | Inconclusive | Error | Running
    value: str | None
    started_at: datetime | None = None
    finished_at: datetime | None = None
    message: str | None = None


@dataclass(frozen=True)
class AnalysisMetric:
    name: str
    phase: str
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    message: str | None = None
    measurements: tuple[Measurement, ...] = ()


@dataclass(frozen=True)
class AnalysisRun:
    name: str
    phase: str  # Pending | Running | Successful | Failed | Error | Inconclusive
    message: str | None = None
    #: Label ``rollout-type``: Step | Background | PrePromotion | PostPromotion.
    rollout_type: str | None = None
    step_index: int | None = None
    pod_hash: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None
    metrics: tuple[AnalysisMetric, ...] = ()


@dataclass(frozen=True)
class Revision:
    """A ReplicaSet generation of a Rollout or Deployment (the undo targets)."""

    number: int
    pod_hash: str
    images: tuple[str, ...]
    created_at: datetime | None = None
    replicas: int = 0
    ready: int = 0
    #: Role in the rollout: stable | canary | active | preview | old
    role: str = "old"


@dataclass(frozen=True)
class Rollout:
    """What a Rollout (canary or blue-green) or a Deployment (rolling) is doing."""

    kind: str  # "Rollout" | "Deployment"
    name: str
    namespace: str
    strategy: Strategy
    phase: str  # Healthy | Progressing | Paused | Degraded
    message: str = ""
    generation: int | None = None
    #: ``status.currentStepIndex`` (canary); ``len(steps)`` when all steps are done.
    step_index: int | None = None
    steps: tuple[RolloutStep, ...] = ()
    #: Desired canary weight (the plugin's SetWeight) and what the replicas give (ActualWeight).
    set_weight: int = 0
    actual_weight: int = 0
    paused: bool = False
    pause_reasons: tuple[str, ...] = ()
    #: When the current pause began and, for a timed pause, when it ends.
    paused_at: datetime | None = None
    pause_ends_at: datetime | None = None
    aborted: bool = False
    aborted_at: datetime | None = None
    stable_hash: str | None = None
    current_hash: str | None = None
    #: Blue-green: pod hashes the active and preview Services select.
    active_selector: str | None = None
    preview_selector: str | None = None
    revision: int | None = None
    images: tuple[str, ...] = ()
    stable_images: tuple[str, ...] = ()
    replicas: int = 0
    current_replicas: int = 0
    updated_replicas: int = 0
    ready_replicas: int = 0
    available_replicas: int = 0
    revisions: tuple[Revision, ...] = ()
    analysis_runs: tuple[AnalysisRun, ...] = ()

    @property
    def step_count(self) -> int:
        return len(self.steps)

    @property
    def in_progress(self) -> bool:
        """A new version is on its way and not yet stable (not aborted)."""
        if self.aborted:
            return False
        if self.strategy is Strategy.ROLLING:
            return self.phase == "Progressing"
        return self.current_hash is not None and self.current_hash != self.stable_hash

    @property
    def preview_ready(self) -> bool:
        """Blue-green: the preview stack runs the new version and waits for the switch."""
        return (
            self.strategy is Strategy.BLUEGREEN
            and self.preview_selector is not None
            and self.preview_selector != self.active_selector
            and self.paused
        )

    @property
    def current_step(self) -> RolloutStep | None:
        if self.step_index is None or not (0 <= self.step_index < len(self.steps)):
            return None
        return self.steps[self.step_index]


# --------------------------------------------------------------------------- Prometheus


class HealthStatus(StrEnum):
    OK = "ok"
    BAD = "bad"
    NO_TRAFFIC = "no-traffic"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Sample:
    at: datetime
    #: None when there was no traffic (0/0 = NaN, or an empty result).
    value: float | None


@dataclass(frozen=True)
class Health:
    """Success rate against the environment's threshold, plus recent history."""

    threshold: float
    success_rate: float | None = None  # None: no traffic (or not measured yet)
    status: HealthStatus = HealthStatus.UNKNOWN
    latency_p99: float | None = None  # seconds
    sampled_at: datetime | None = None
    history: tuple[Sample, ...] = ()
    latency_history: tuple[Sample, ...] = ()


def classify_health(
    success_rate: float | None, threshold: float, *, measured: bool
) -> HealthStatus:
    """The health verdict for a measured (or unmeasured) success rate."""
    if not measured:
        return HealthStatus.UNKNOWN
    if success_rate is None:
        return HealthStatus.NO_TRAFFIC
    return HealthStatus.OK if success_rate >= threshold else HealthStatus.BAD


# --------------------------------------------------------------------------- sources


class SourceName(StrEnum):
    GITLAB = "gitlab"
    KUBE = "kube"
    PROMETHEUS = "prometheus"


class LinkState(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # answering, but some calls fail or the data is getting old
    DOWN = "down"  # nothing has come back for a while
    UNKNOWN = "unknown"  # not contacted yet


@dataclass(frozen=True)
class SourceStatus:
    """How fresh and how reliable one source's data is for a row."""

    source: SourceName
    state: LinkState = LinkState.UNKNOWN
    last_success: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None
    #: Seconds the source's last answer took, when slower than it should be (None: fast).
    slow: float | None = None

    def age(self, now: datetime) -> float | None:
        """Seconds since the last successful read, or None if there never was one."""
        if self.last_success is None:
            return None
        return max(0.0, (now - self.last_success).total_seconds())


# --------------------------------------------------------------------------- the row


@dataclass(frozen=True)
class ServiceState:
    """Everything known about one service in one environment, at one moment."""

    key: EnvKey
    pipeline: Pipeline | None = None
    #: The manual deploy job waiting for this environment, if any (the level-3 gate).
    manual_gate: Job | None = None
    rollout: Rollout | None = None
    health: Health | None = None
    deployments: tuple[Deployment, ...] = ()  # newest first
    flags: tuple[FeatureFlag, ...] = ()
    sources: tuple[SourceStatus, ...] = field(default_factory=tuple)
    #: True when the configuration marks this environment read-only.
    read_only: bool = False

    @property
    def service(self) -> str:
        return self.key.service

    @property
    def environment(self) -> str:
        return self.key.environment

    @property
    def last_deployment(self) -> Deployment | None:
        return self.deployments[0] if self.deployments else None

    def source(self, name: SourceName) -> SourceStatus:
        for status in self.sources:
            if status.source == name:
                return status
        return SourceStatus(source=name)
