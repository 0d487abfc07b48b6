"""The engine: keeps every service × environment's state current, cheaply and honestly.

It owns the three sources and runs one task per shared poller or watch:

* one Kubernetes list+watch per (context, namespace, kind) — not per service;
* one GitLab poller per project (pipeline, then deployments and flags when needed),
  fast while a pipeline or rollout moves, slow when everything is calm;
* one Prometheus poller per environment (its own success-rate and latency queries),
  faster while that environment's rollout is in flight.

Pollers never overlap (poll, then re-arm), back off exponentially with jitter on
failure, never ask sooner than ``Retry-After`` says, and can be woken early by
:meth:`Engine.refresh`. Each result lands in a per-row working record; a row's
:class:`~cockpit.model.ServiceState` is rebuilt only when something in it changed, and
listeners receive one :class:`StateUpdate` per burst of changes. Every row carries, per
source, whether its data is ok, degraded or down, when it last succeeded and the last
error in words, so nothing is ever shown old as if it were new.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from cockpit.backoff import BackoffPolicy, adaptive_interval, rate_limited_wait
from cockpit.config import Config, EnvironmentConfig, ServiceConfig
from cockpit.model import (
    ACTIVE_STATUSES,
    Deployment,
    EnvKey,
    FeatureFlag,
    Health,
    Job,
    LinkState,
    Pipeline,
    Rollout,
    Sample,
    ServiceState,
    SourceName,
    SourceStatus,
    classify_health,
)
from cockpit.redact import shown
from cockpit.sources.errors import SourceError

log = logging.getLogger(__name__)

#: How far back the health charts reach, and the width of one chart bin.
HEALTH_WINDOW = timedelta(minutes=30)
HEALTH_STEP = timedelta(minutes=1)
#: Deployments per environment in the first poll's one request for all environments.
FIRST_PAGE = 3
#: How soon the second poll follows the first, which reads only what the overview needs
#: (the second waits for every row's first picture, then reads details and history).
FOLLOW_UP_SECONDS = 1.0
#: Deployments fetched per environment: the detail shows ten (DORA and the maturity
#: assessment read deeper history on demand).
DEPLOYMENT_PAGE = 10


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HeaderInfo:
    """What the screen's header names: where the data comes from."""

    kube_contexts: tuple[str, ...]
    gitlab_host: str | None
    prometheus_host: str | None


@dataclass(frozen=True)
class StateUpdate:
    """A new snapshot of every row, and which rows differ from the previous one."""

    states: Mapping[EnvKey, ServiceState]
    changed: frozenset[EnvKey]
    at: datetime


Listener = Callable[[StateUpdate], None]


# --------------------------------------------------------------------------- pollers


def degraded_after(interval: float) -> float:
    """Seconds without fresh data before a silent source is degraded: two missed polls."""
    return 2 * interval + 10


def down_after(interval: float) -> float:
    """Seconds without fresh data before a source is down (its cells then show stale)."""
    return max(60.0, 3 * interval + 10)


class Poller:
    """Call ``poll`` over and over, one call at a time.

    ``poll`` returns how many seconds to wait before the next call. A
    :class:`SourceError` is reported through ``on_error`` and answered with backoff; any
    other exception is reported too (as an internal error) so that no poller ever dies.
    :meth:`wake` starts the next call at once, unless the source asked us to wait.
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], Awaitable[float]],
        *,
        policy: BackoffPolicy,
        rng: random.Random,
        on_error: Callable[[SourceError], None],
        source: SourceName,
        on_recovered: Callable[[Poller], None] | None = None,
    ) -> None:
        self.name = name
        self._poll = poll
        self._policy = policy
        self._rng = rng
        self._on_error = on_error
        self._on_recovered = on_recovered
        self.source = source
        self._wake = asyncio.Event()
        self._hold_until = 0.0  # loop time before which wake() is ignored (Retry-After)
        self.failures = 0
        self.polls = 0

    def wake(self) -> None:
        if asyncio.get_running_loop().time() >= self._hold_until:
            self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.polls += 1
            # Cleared before the call, not after: a wake() while it runs (a write just
            # landed) may come too late for this read, so it buys the next one at once.
            self._wake.clear()
            try:
                delay = await self._poll()
                recovered = self.failures > 0
                self.failures = 0
                self._hold_until = 0.0
                if recovered and self._on_recovered is not None:
                    self._on_recovered(self)
            except asyncio.CancelledError:
                raise
            except SourceError as error:
                self.failures += 1
                delay = self._policy.delay(self.failures, self._rng, retry_after=error.retry_after)
                if error.retry_after:
                    self._hold_until = loop.time() + delay
                self._on_error(error)
            except Exception as error:  # a bug must not stop the screen from updating
                self.failures += 1
                delay = self._policy.delay(self.failures, self._rng)
                self._on_error(unexpected(self.source, error, f"poller {self.name}"))
            # asyncio.timeout, not wait_for: wait_for (3.11) can swallow a cancellation that
            # arrives as the event is set, and stop() would then wait for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, delay)):
                    await self._wake.wait()


def parse_workload(
    kind: str, name: str, obj: Mapping[str, Any], replicasets: list[dict], runs: list[dict]
) -> Rollout:
    """A Rollout or Deployment from the watches' objects; SourceError when they do not
    parse (a status that is not an object, steps that are not a list)."""
    from cockpit.sources.rollouts_parse import parse_deployment_workload, parse_rollout

    try:
        if kind == "Rollout":
            return parse_rollout(obj, replicasets, runs)
        return parse_deployment_workload(obj, replicasets)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        raise SourceError(
            SourceName.KUBE,
            f"unexpected answer from Kubernetes for {kind} {shown(name, 60)}: "
            f"{type(error).__name__}: {shown(error)}",
        ) from None


#: Characters of a source's error kept on its row (a server's error page can be
#: megabytes; the row, the table under ``cockpit status`` and the screen show one line).
ERROR_LIMIT = 400


def unexpected(source: SourceName, error: Exception, where: str) -> SourceError:
    """Any other exception from a source, as that source's error: one short line.

    The traceback goes to the debug log only, once per kind of failure and place, never
    to the terminal (``logging``'s last-resort handler prints warnings and above on
    stderr, under the table of ``cockpit status``).
    """
    signature = (where, type(error).__name__)
    if signature not in _LOGGED:
        _LOGGED.add(signature)
        log.debug("%s failed", where, exc_info=error)
    return SourceError(
        source, f"internal error while reading {source}: {type(error).__name__}: {shown(error)}"
    )


_LOGGED: set[tuple[str, str]] = set()


# --------------------------------------------------------------------------- rows


@dataclass
class _Row:
    """The engine's working copy of one row (mutable; published as a frozen ServiceState)."""

    key: EnvKey
    service: ServiceConfig
    env: EnvironmentConfig
    pipeline: Pipeline | None = None
    manual_gate: Job | None = None
    rollout: Rollout | None = None
    health: Health | None = None
    deployments: tuple[Deployment, ...] = ()
    flags: tuple[FeatureFlag, ...] = ()
    sources: dict[SourceName, SourceStatus] = field(default_factory=dict)
    #: True last success per source (published lazily: see _ok()).
    fresh: dict[SourceName, datetime] = field(default_factory=dict)
    #: When the latency was last asked for (wall clock).
    latency_at: datetime | None = None
    #: The success-rate chart has its 30 minutes of history.
    chart_loaded: bool = False


@dataclass
class _Project:
    """One GitLab project and the rows that read from it."""

    path: str
    ref: str
    keys: list[EnvKey]
    #: What the last poll read (the source asks only for what can have changed since).
    pipeline: Pipeline | None = None
    polled: bool = False
    #: (id, status) of the pipeline whose details (user, times, bridges) were last read.
    detailed: tuple[int, str] | None = None
    deployments_at: datetime | None = None
    flags_at: datetime | None = None
    #: Names of the jobs that have deployed to this project's environments.
    deploy_jobs: set[str] = field(default_factory=set)
    #: Each environment has its full page of deployments (the first poll reads less).
    full_history: bool = False

    def make_slow_reads_due(self) -> None:
        """The next poll reads the flags and the deployment history too."""
        self.flags_at = self.deployments_at = None


def deploy_jobs_moved(before: Pipeline | None, after: Pipeline | None, names: set[str]) -> bool:
    """Whether the latest pipeline changed in a way the deployment records can reflect.

    A new pipeline (GitLab creates its deployment records with it), a new pipeline
    status, or a job known to deploy changing status. Other jobs finishing cannot move
    an environment's history, so they cost no deployments request.
    """
    if before is None or after is None:
        return before is not after
    if before.id != after.id or before.status != after.status:
        return True
    old = {job.id: job.status for job in before.jobs if job.name in names}
    new = {job.id: job.status for job in after.jobs if job.name in names}
    return old != new


def gate_from(
    deployments: Iterable[Deployment], pipeline: Pipeline | None, environment: str
) -> Job | None:
    """The manual deploy job waiting for an environment, from its deployment records.

    GitLab creates a deployment (status ``created``, or ``blocked`` awaiting approval)
    as soon as a pipeline with a deploy job for the environment exists; while that job
    waits for a human, its status is ``manual``.
    """
    for deployment in deployments:
        if deployment.status in ("created", "blocked") and deployment.job_status in (
            "manual",
            "scheduled",
        ):
            if pipeline is not None and deployment.job_id is not None:
                for job in pipeline.jobs:
                    if job.id == deployment.job_id:
                        return replace(job, environment=job.environment or environment)
            return Job(
                id=deployment.job_id or 0,
                name=deployment.job_name or "deploy",
                stage="deploy",
                status=deployment.job_status or "manual",
                environment=environment,
            )
    return None


def merge_history(history: tuple[Sample, ...], sample: Sample, now: datetime) -> tuple[Sample, ...]:
    """Put a fresh sample into its one-minute bin and drop bins older than the window."""
    bin_start = _bin(sample.at)
    kept = [s for s in history if s.at > now - HEALTH_WINDOW and _bin(s.at) != bin_start]
    kept.append(Sample(at=bin_start, value=sample.value))
    kept.sort(key=lambda s: s.at)
    return tuple(kept)


def binned(samples: Iterable[Sample], now: datetime) -> tuple[Sample, ...]:
    """A range query's samples as the chart's one-minute bins over the whole window.

    Every bin is there, ``None`` where Prometheus had nothing (no series, or no traffic),
    so the chart always spans its 30 minutes and a later "no traffic" answer lands in an
    existing bin instead of growing the chart.
    """
    values = {_bin(sample.at): sample.value for sample in samples}
    step = HEALTH_STEP
    count = int(HEALTH_WINDOW / step)
    newest = _bin(now)
    return tuple(
        Sample(at=at, value=values.get(at))
        for at in (newest - step * index for index in range(count - 1, -1, -1))
    )


def _bin(moment: datetime) -> datetime:
    seconds = int(HEALTH_STEP.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


# --------------------------------------------------------------------------- the engine


class Engine:
    """Live state of every configured service × environment (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        *,
        gitlab: object | None = None,
        kube: object | None = None,
        prometheus: object | None = None,
        clock: Callable[[], datetime] = utcnow,
        wall_clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self.gitlab = gitlab if gitlab is not None else self._make_gitlab()
        self.kube = kube if kube is not None else self._make_kube()
        self.prometheus = prometheus if prometheus is not None else self._make_prometheus()
        self._rows: dict[EnvKey, _Row] = {}
        self._projects: dict[str, _Project] = {}
        self._published: dict[EnvKey, ServiceState] = {}
        self._listeners: list[Listener] = []
        self._dirty: set[EnvKey] = set()
        self._flush_scheduled = False
        self._tasks: list[asyncio.Task[None]] = []
        self._pollers: dict[str, Poller] = {}
        self._health_pollers: dict[EnvKey, Poller] = {}
        self._project_pollers: dict[str, Poller] = {}
        self._ready = asyncio.Event()
        self._settled = asyncio.Event()
        #: (row, source) pairs not heard from yet, and follow-up reads not yet in.
        self._unheard: set[tuple[EnvKey, SourceName]] = set()
        self._unsettled: set[tuple[str, object]] = set()
        self._watches: dict[tuple[str, str, str], object] = {}
        self._watch_ready: set[tuple[str, str, str]] = set()
        self._watch_errors: dict[tuple[str, str, str], SourceError] = {}
        self._owned_index: dict[tuple[str, str, str], dict[tuple[str, str], list[dict]]] = {}
        self._kube_index: dict[tuple[str, str, str, str], list[EnvKey]] = {}
        self._kube_namespace: dict[EnvKey, str] = {}
        for service, env in config.environments():
            row = _Row(key=env.key, service=service, env=env)
            for source in self._sources_for(service, env):
                row.sources[source] = SourceStatus(source=source)
            self._rows[env.key] = row
            self._published[env.key] = self._build(row)
        self.header = HeaderInfo(
            kube_contexts=tuple(
                sorted(
                    {
                        env.kube_context or "(current context)"
                        for _, env in config.environments()
                        if env.workload_name
                    }
                )
            ),
            gitlab_host=config.gitlab.host if config.gitlab else None,
            prometheus_host=_host(config.prometheus.url) if config.prometheus else None,
        )

    # ------------------------------------------------------------------ sources

    def _make_gitlab(self) -> object | None:
        if self.config.gitlab is None:
            return None
        from cockpit.sources.gitlab import GitLabSource

        return GitLabSource(self.config.gitlab)

    def _make_kube(self) -> object | None:
        if not any(env.workload_name for _, env in self.config.environments()):
            return None
        from cockpit.sources.kube import KubeSource

        return KubeSource(self.config.kubernetes)

    def _make_prometheus(self) -> object | None:
        if self.config.prometheus is None:
            return None
        from cockpit.sources.prometheus import PrometheusSource

        return PrometheusSource(self.config.prometheus)

    def _sources_for(self, service: ServiceConfig, env: EnvironmentConfig) -> list[SourceName]:
        sources = []
        if self.gitlab is not None and service.gitlab_project:
            sources.append(SourceName.GITLAB)
        if self.kube is not None and env.workload_name:
            sources.append(SourceName.KUBE)
        if self.prometheus is not None and env.success_rate:
            sources.append(SourceName.PROMETHEUS)
        return sources

    # ------------------------------------------------------------------ public API

    @property
    def states(self) -> Mapping[EnvKey, ServiceState]:
        return MappingProxyType(self._published)

    def now(self) -> datetime:
        """World time: what time it is in the systems watched (ages of events, query windows).

        The wall clock, except in a simulated world that runs faster (``cockpit demo``).
        """
        return self._clock()

    def wall_now(self) -> datetime:
        """Wall-clock time: how fresh each source's data is, and when to poll again."""
        return self._wall_clock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    def env_config(self, key: EnvKey) -> tuple[ServiceConfig, EnvironmentConfig]:
        row = self._rows[key]
        return row.service, row.env

    def last_success(self, key: EnvKey, source: SourceName) -> datetime | None:
        """The true time of the last successful read (published states may lag it)."""
        return self._rows[key].fresh.get(source)

    async def job_trace(self, key: EnvKey, job_id: int) -> str:
        if self.gitlab is None:
            raise SourceError(SourceName.GITLAB, "GitLab is not configured")
        row = self._rows[key]
        return await self.gitlab.job_trace(row.service.gitlab_project, job_id)

    def refresh(self, key: EnvKey | None = None) -> None:
        """Ask every poller concerned to poll now (kube watches are live anyway).

        The projects' slow reads (feature flags, deployment history) are due again too:
        after a write, or when a person asks, a flag just toggled must not wait for the
        next five-minute read.
        """
        if key is None:
            for project in self._projects.values():
                project.make_slow_reads_due()
            for poller in self._pollers.values():
                poller.wake()
            return
        row = self._rows.get(key)
        if row is None:
            return
        path = row.service.gitlab_project or ""
        if path in self._projects:
            self._projects[path].make_slow_reads_due()
        project = self._project_pollers.get(path)
        if project is not None:
            project.wake()
        health = self._health_pollers.get(key)
        if health is not None:
            health.wake()

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the follow-up reads are in too: pipeline details, flags, health charts."""
        try:
            await asyncio.wait_for(self._settled.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every row has heard from each of its sources once (success or error)."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def start(self) -> None:
        # Before the sources start: one that fails at once (a kubeconfig that cannot be
        # read) has then been heard from, and ready does not wait for it in vain.
        self._unheard = {(row.key, source) for row in self._rows.values() for source in row.sources}
        self._start_gitlab()
        self._start_kube()
        self._start_prometheus()
        self._spawn(self._housekeeping(), "engine-housekeeping")
        self._unsettled = {("project", path) for path in self._projects} | {
            ("chart", row.key)
            for row in self._rows.values()
            if SourceName.PROMETHEUS in row.sources
        }
        if not self._unheard:
            self._ready.set()
        self._check_settled()

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for source in (self.gitlab, self.kube, self.prometheus):
            close = getattr(source, "close", None)
            if close is not None:
                with contextlib.suppress(Exception):
                    result = close()
                    if asyncio.iscoroutine(result):
                        await result

    def _spawn(self, coroutine: Awaitable[None], name: str) -> None:
        self._tasks.append(asyncio.create_task(coroutine, name=name))  # type: ignore[arg-type]

    def _add_poller(self, poller: Poller) -> None:
        self._pollers[poller.name] = poller
        self._spawn(poller.run(), poller.name)

    def _source_recovered(self, first: Poller) -> None:
        """One poller got an answer after failures: its source is back, so the others of
        that source still backing off try now rather than at the end of their backoff
        (a server that asked for patience with Retry-After still gets it)."""
        for poller in self._pollers.values():
            if poller is not first and poller.source is first.source and poller.failures:
                poller.wake()

    # ------------------------------------------------------------------ GitLab

    def _start_gitlab(self) -> None:
        if self.gitlab is None:
            return
        for row in self._rows.values():
            path = row.service.gitlab_project
            if not path or SourceName.GITLAB not in row.sources:
                continue
            project = self._projects.setdefault(
                path, _Project(path=path, ref=row.service.ref, keys=[])
            )
            project.keys.append(row.key)
        for project in self._projects.values():
            poller = Poller(
                f"gitlab:{project.path}",
                lambda project=project: self._poll_project(project),
                policy=BackoffPolicy(base=2.0, cap=120.0),
                rng=self._rng,
                on_error=lambda error, project=project: self._failed(
                    project.keys, SourceName.GITLAB, error
                ),
                source=SourceName.GITLAB,
                on_recovered=self._source_recovered,
            )
            self._project_pollers[project.path] = poller
            self._add_poller(poller)

    def _project_moving(self, project: _Project) -> bool:
        for key in project.keys:
            row = self._rows[key]
            if row.pipeline is not None and row.pipeline.status in ACTIVE_STATUSES:
                return True
            if row.rollout is not None and (
                row.rollout.in_progress or row.rollout.phase == "Progressing"
            ):
                return True
            if any(
                d.status in ("running", "created") and d.job_status in ACTIVE_STATUSES
                for d in row.deployments[:3]
            ):
                return True
        return False

    async def _poll_project(self, project: _Project) -> float:
        poll = self.config.poll
        gitlab = self.gitlab
        assert gitlab is not None
        before = project.pipeline
        first = not project.polled
        if not first:
            await self._ready.wait()  # the first complete picture of every row comes first
        pipeline = await gitlab.pipeline(project.path, project.ref, previous=before)
        if (
            pipeline is not None
            and not first
            and project.detailed != (pipeline.id, pipeline.status)
        ):
            # The overview needs the jobs; who ran it and its bridges can follow a poll later.
            pipeline = await gitlab.pipeline_details(project.path, pipeline)
            project.detailed = (pipeline.id, pipeline.status)
        project.pipeline = pipeline
        now = self.wall_now()
        project.polled = True
        moving = self._project_moving(project) or (
            pipeline is not None and pipeline.status in ACTIVE_STATUSES
        )
        history_due = (
            project.deployments_at is None
            or (now - project.deployments_at).total_seconds() >= poll.history
        )
        deployments: dict[EnvKey, tuple[Deployment, ...]] = {}
        if (
            first
            or not project.full_history
            or history_due
            or deploy_jobs_moved(before, pipeline, project.deploy_jobs)
        ):
            deployments = await self._read_deployments(project, all_at_once=first)
            project.full_history = not first
            project.deployments_at = now
        flags: tuple[FeatureFlag, ...] | None = None
        if first:
            pass  # flags are not on the overview: the follow-up poll reads them
        elif project.flags_at is None or (now - project.flags_at).total_seconds() >= poll.flags:
            flags = tuple(await gitlab.feature_flags(project.path))
            project.flags_at = now
            self._followed_up(("project", project.path))
        for key in project.keys:
            row = self._rows[key]
            changed = False
            if row.pipeline != pipeline:
                row.pipeline = pipeline
                changed = True
            if key in deployments and row.deployments != deployments[key]:
                row.deployments = deployments[key]
                changed = True
            gate = gate_from(row.deployments, pipeline, row.env.gitlab_environment)
            if row.manual_gate != gate:
                row.manual_gate = gate
                changed = True
            if flags is not None and row.flags != flags:
                row.flags = flags
                changed = True
            self._ok(row, SourceName.GITLAB, changed)
        moving = moving or self._project_moving(project)
        interval = adaptive_interval(
            moving=moving, active=poll.gitlab_active, idle=poll.gitlab_idle
        )
        if first:
            # Soon after the first complete picture: the details and the flags.
            interval = min(interval, FOLLOW_UP_SECONDS)
        quota = getattr(gitlab, "rate_limit", None)
        if quota is not None:
            # A nearly spent quota stretches the interval until it resets.
            interval += rate_limited_wait(
                quota.remaining, quota.limit, quota.reset_at - time.time()
            )
        return interval

    async def _read_deployments(
        self, project: _Project, *, all_at_once: bool
    ) -> dict[EnvKey, tuple[Deployment, ...]]:
        """Each of the project's environments' latest deployments.

        ``all_at_once``: one short request for every environment (the project's newest
        deployments, split by environment), then one more only for an environment that
        page did not reach. Otherwise one request per environment, each a full page.
        """
        gitlab = self.gitlab
        assert gitlab is not None
        mixed: tuple[Deployment, ...] | None = None
        if all_at_once:
            # The newest few of every environment at once: enough for the overview (the
            # last deployment, a waiting gate); the follow-up poll reads full pages.
            mixed = tuple(
                await gitlab.deployments(project.path, None, limit=FIRST_PAGE * len(project.keys))
            )
        found: dict[EnvKey, tuple[Deployment, ...]] = {}
        for key in project.keys:
            environment = self._rows[key].env.gitlab_environment
            mine = tuple(d for d in mixed or () if d.environment == environment)
            if not mine:
                mine = tuple(
                    await gitlab.deployments(project.path, environment, limit=DEPLOYMENT_PAGE)
                )
            found[key] = mine
            project.deploy_jobs.update(d.job_name for d in mine if d.job_name)
        return found

    # ------------------------------------------------------------------ Kubernetes

    def _start_kube(self) -> None:
        if self.kube is None:
            return
        policy = BackoffPolicy(base=0.5, cap=30.0)

        def backoff(failures: int, error: SourceError) -> float:
            return policy.delay(failures, self._rng, retry_after=error.retry_after)

        kinds_per_namespace: dict[tuple[str, str], set[str]] = {}
        for row in self._rows.values():
            env = row.env
            if SourceName.KUBE not in row.sources or not env.workload_name:
                continue
            context = env.kube_context or ""
            kind = env.workload_kind or "Rollout"
            try:
                namespace = self.kube.namespace(env.kube_context, env.namespace)
            except SourceError as error:
                self._failed([row.key], SourceName.KUBE, error)
                continue
            except Exception as error:
                self._failed([row.key], SourceName.KUBE, unexpected(SourceName.KUBE, error, "kube"))
                continue
            kinds = kinds_per_namespace.setdefault((context, namespace), set())
            kinds.update({kind, "ReplicaSet"})
            if kind == "Rollout":
                kinds.add("AnalysisRun")
            self._kube_index.setdefault((context, namespace, kind, env.workload_name), []).append(
                row.key
            )
            self._kube_namespace[row.key] = namespace
        for (context, namespace), kinds in sorted(kinds_per_namespace.items()):
            for kind in sorted(kinds):
                try:
                    watch = self.kube.watch(context or None, namespace, kind, backoff=backoff)
                except Exception as error:  # the kubeconfig or its context cannot be used
                    failure = (
                        error
                        if isinstance(error, SourceError)
                        else unexpected(SourceName.KUBE, error, "kube watch")
                    )
                    self._failed(self._namespace_keys(context, namespace), SourceName.KUBE, failure)
                    break
                self._watches[(context, namespace, kind)] = watch
                self._spawn(
                    self._run_watch(context, namespace, kind, watch),
                    f"kube:{context}/{namespace}/{kind}",
                )

    def _namespace_keys(self, context: str, namespace: str) -> list[EnvKey]:
        return [
            key
            for (ctx, ns, _kind, _name), keys in self._kube_index.items()
            if ctx == context and ns == namespace
            for key in keys
        ]

    async def _run_watch(self, context: str, namespace: str, kind: str, watch: object) -> None:
        """Apply one watch's changes to the rows it feeds; its failures mark them degraded.

        The watch itself re-lists on 410, reconnects and backs off (with this engine's
        policy); it reports each failure as a change carrying the error.
        """
        key = (context, namespace, kind)
        async for change in watch.changes():  # type: ignore[attr-defined]
            if change.error is not None:
                self._watch_errors[key] = change.error
                self._failed(
                    self._namespace_keys(context, namespace), SourceName.KUBE, change.error
                )
                continue
            self._owned_index.pop(key, None)
            recovered = self._watch_errors.pop(key, None) is not None
            first = key not in self._watch_ready
            self._watch_ready.add(key)
            names = None if first or change.relisted or recovered else change.names
            self._kube_changed(context, namespace, kind, names)

    def _kube_changed(
        self, context: str, namespace: str, kind: str, names: Iterable[str] | None
    ) -> None:
        """Recompute the rows that a change to ``names`` of ``kind`` can affect."""
        if names is None:
            keys = set(self._namespace_keys(context, namespace))
        else:
            owners = set()
            if kind in ("Rollout", "Deployment"):
                owners = {(kind, name) for name in names}
            else:
                cache = self._watch_cache(context, namespace, kind)
                for name in names:
                    owner = _owner(cache.get(name))
                    if owner is not None:
                        owners.add(owner)
                    else:  # deleted (gone from the cache) or unowned: any row may care
                        owners |= {
                            (k, n)
                            for (c, ns, k, n) in self._kube_index
                            if (c, ns) == (context, namespace)
                        }
            keys = set()
            for owner_kind, owner_name in owners:
                keys.update(self._kube_index.get((context, namespace, owner_kind, owner_name), ()))
        now = self.now()
        for key in keys:
            self._recompute_rollout(self._rows[key], now)

    def _owned(
        self, context: str, namespace: str, kind: str
    ) -> Mapping[tuple[str, str], list[dict]]:
        """A watch's objects by their controlling owner, rebuilt once after each change."""
        key = (context, namespace, kind)
        index = self._owned_index.get(key)
        if index is None:
            index = {}
            for obj in self._watch_cache(context, namespace, kind).values():
                owner = _owner(obj)
                if owner is not None:
                    index.setdefault(owner, []).append(obj)
            self._owned_index[key] = index
        return index

    def _watch_cache(self, context: str, namespace: str, kind: str) -> Mapping[str, dict]:
        watch = self._watches.get((context, namespace, kind))
        return watch.objects if watch is not None else {}  # type: ignore[attr-defined]

    def _recompute_rollout(self, row: _Row, now: datetime) -> None:
        env = row.env
        context = env.kube_context or ""
        namespace = self._kube_namespace[row.key]
        kind = env.workload_kind or "Rollout"
        needed = {(context, namespace, kind), (context, namespace, "ReplicaSet")}
        if kind == "Rollout":
            needed.add((context, namespace, "AnalysisRun"))
        if not needed <= self._watch_ready:
            return  # not every list has arrived yet: a partial picture would mislead
        obj = self._watch_cache(context, namespace, kind).get(env.workload_name or "")
        if obj is None:
            self._failed(
                [row.key],
                SourceName.KUBE,
                SourceError(
                    SourceName.KUBE,
                    f"{kind} {env.workload_name!r} not found in namespace {namespace}",
                ),
            )
            if row.rollout is not None:
                row.rollout = None
                self._mark(row.key)
            return
        owner = (kind, env.workload_name or "")
        replicasets = self._owned(context, namespace, "ReplicaSet").get(owner, [])
        runs = (
            self._owned(context, namespace, "AnalysisRun").get(owner, [])
            if kind == "Rollout"
            else []
        )
        try:
            rollout = parse_workload(kind, env.workload_name or "", obj, replicasets, runs)
        except SourceError as error:
            self._failed([row.key], SourceName.KUBE, error)
            return
        changed = rollout != row.rollout
        row.rollout = rollout
        if any(watch in self._watch_errors for watch in needed):
            if changed:
                self._mark(row.key)  # new content, but a watch it needs is still failing
            return
        self._ok(row, SourceName.KUBE, changed)
        if changed and rollout.in_progress:
            # A rollout started moving: health and pipeline deserve a fresh look now.
            health = self._health_pollers.get(row.key)
            if health is not None:
                health.wake()

    # ------------------------------------------------------------------ Prometheus

    def _start_prometheus(self) -> None:
        if self.prometheus is None:
            return
        for row in self._rows.values():
            if SourceName.PROMETHEUS not in row.sources:
                continue
            poller = Poller(
                f"prometheus:{row.key}",
                lambda row=row: self._poll_health(row),
                policy=BackoffPolicy(base=1.0, cap=60.0),
                rng=self._rng,
                on_error=lambda error, row=row: self._failed(
                    [row.key], SourceName.PROMETHEUS, error
                ),
                source=SourceName.PROMETHEUS,
                on_recovered=self._source_recovered,
            )
            self._health_pollers[row.key] = poller
            self._add_poller(poller)

    async def _poll_health(self, row: _Row) -> float:
        """The success rate (every poll), its chart, and latency (less often unless moving).

        The first poll asks only for the current value, the cheapest query, so that every
        row has one quickly; the follow-up poll (once every row has its first picture) loads
        the last 30 minutes for the chart in one range query; later polls add the current
        value to the chart.
        """
        prometheus = self.prometheus
        assert prometheus is not None
        env = row.env
        poll = self.config.poll
        moving = row.rollout is not None and row.rollout.in_progress
        previous = row.health
        if previous is not None and not row.chart_loaded:
            await self._ready.wait()
        now = self.now()
        start, step = now - HEALTH_WINDOW, HEALTH_STEP.total_seconds()
        if previous is not None and not row.chart_loaded:
            samples = await prometheus.query_range(
                env.success_rate, start=start, end=now, step=step
            )
            rate = samples[-1].value if samples and now - samples[-1].at < HEALTH_STEP else None
            history = binned(samples, now)
            row.chart_loaded = True
            self._followed_up(("chart", row.key))
        else:
            rate = await prometheus.query(env.success_rate)
            history = merge_history(previous.history if previous else (), Sample(now, rate), now)
        latency = previous.latency_p99 if previous else None
        latency_history = previous.latency_history if previous else ()
        wall = self.wall_now()
        latency_due = row.chart_loaded and (
            moving
            or row.latency_at is None
            or (wall - row.latency_at).total_seconds() >= poll.history
        )
        if env.latency and latency_due:
            if not latency_history:
                samples = await prometheus.query_range(env.latency, start=start, end=now, step=step)
                latency = samples[-1].value if samples else None
                latency_history = binned(samples, now)
            else:
                latency = await prometheus.query(env.latency)
                latency_history = merge_history(latency_history, Sample(now, latency), now)
            row.latency_at = wall
        health = Health(
            threshold=env.threshold,
            success_rate=rate,
            status=classify_health(rate, env.threshold, measured=True),
            latency_p99=latency,
            sampled_at=_bin(now),
            history=history,
            latency_history=tuple(latency_history),
        )
        changed = health != row.health
        row.health = health
        self._ok(row, SourceName.PROMETHEUS, changed)
        if not row.chart_loaded:
            return FOLLOW_UP_SECONDS
        return adaptive_interval(moving=moving, active=poll.prometheus_active, idle=poll.prometheus)

    # ------------------------------------------------------------------ source health

    def _expected_interval(self, row: _Row, source: SourceName) -> float | None:
        poll = self.config.poll
        if source is SourceName.GITLAB:
            return poll.gitlab_idle
        if source is SourceName.PROMETHEUS:
            return poll.prometheus
        return None  # a watch is quiet when nothing changes: only errors make it stale

    def _ok(self, row: _Row, source: SourceName, changed: bool) -> None:
        now = self.wall_now()
        row.fresh[source] = now
        current = row.sources.get(source)
        if current is None:
            return
        if current.state is not LinkState.OK or current.last_error is not None:
            row.sources[source] = SourceStatus(source=source, state=LinkState.OK, last_success=now)
            changed = True
        elif changed:
            row.sources[source] = replace(current, last_success=now)
        if changed:
            self._mark(row.key)
        self._heard(row.key, source)

    def _failed(self, keys: Iterable[EnvKey], source: SourceName, error: SourceError) -> None:
        now = self.wall_now()
        for key in keys:
            row = self._rows[key]
            current = row.sources.get(source)
            if current is None:
                continue
            last = row.fresh.get(source)
            down = down_after(self._expected_interval(row, source) or 20.0)
            state = (
                LinkState.DEGRADED
                if last is not None and (now - last).total_seconds() < down
                else LinkState.DOWN
            )
            new = SourceStatus(
                source=source,
                state=state,
                last_success=last,
                last_error=shown(error.message, ERROR_LIMIT),
                last_error_at=now,
            )
            if (new.state, new.last_error) != (current.state, current.last_error):
                row.sources[source] = new
                self._mark(key)
            self._heard(key, source)

    async def _housekeeping(self) -> None:
        """Once a second: mark sources whose data has grown old, without any event."""
        while True:
            await asyncio.sleep(1.0)
            now = self.wall_now()
            for row in self._rows.values():
                for source, status in list(row.sources.items()):
                    interval = self._expected_interval(row, source)
                    last = row.fresh.get(source)
                    if interval is None or last is None:
                        continue
                    age = (now - last).total_seconds()
                    if status.state is LinkState.OK and age > degraded_after(interval):
                        row.sources[source] = replace(
                            status, state=LinkState.DEGRADED, last_success=last
                        )
                        self._mark(row.key)
                    elif status.state is LinkState.DEGRADED and age > down_after(interval):
                        row.sources[source] = replace(
                            status, state=LinkState.DOWN, last_success=last
                        )
                        self._mark(row.key)

    def _heard(self, key: EnvKey, source: SourceName) -> None:
        """A source answered for a row (success or error): one step towards ready."""
        if self._unheard:
            self._unheard.discard((key, source))
            if not self._unheard:
                self._ready.set()
                self._check_settled()

    def _followed_up(self, what: tuple[str, object]) -> None:
        """A follow-up read (a project's details and flags, a row's chart) is in."""
        if self._unsettled:
            self._unsettled.discard(what)
            self._check_settled()

    def _check_settled(self) -> None:
        if self._ready.is_set() and not self._unsettled:
            self._settled.set()

    # ------------------------------------------------------------------ publishing

    def _build(self, row: _Row) -> ServiceState:
        return ServiceState(
            key=row.key,
            pipeline=row.pipeline,
            manual_gate=row.manual_gate,
            rollout=row.rollout,
            health=row.health,
            deployments=row.deployments,
            flags=row.flags,
            sources=tuple(row.sources[s] for s in SourceName if s in row.sources),
            read_only=self.config.read_only or row.env.read_only,
        )

    def _mark(self, key: EnvKey) -> None:
        self._dirty.add(key)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        changed = set()
        for key in dirty:
            state = self._build(self._rows[key])
            if state != self._published.get(key):
                self._published[key] = state
                changed.add(key)
        if not changed:
            return
        update = StateUpdate(
            states=MappingProxyType(dict(self._published)),
            changed=frozenset(changed),
            at=self.now(),
        )
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a broken listener must not stop the others
                log.exception("state listener failed")


def _owner(obj: Mapping[str, object] | None) -> tuple[str, str] | None:
    """The controlling owner (kind, name) of a Kubernetes object."""
    if not obj:
        return None
    metadata = obj.get("metadata") or {}
    for reference in metadata.get("ownerReferences") or ():  # type: ignore[union-attr]
        if reference.get("controller", True):
            return reference.get("kind"), reference.get("name")
    return None
