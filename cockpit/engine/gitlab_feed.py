"""The GitLab feed: one poller per project, for the pipeline, deployments and flags.

Each project's poller reads the latest pipeline of its ref (with the jobs), and the
deployments of the environments configured for it when they can have moved; feature
flags and the full deployment history come with the follow-up poll and then every few
minutes. The interval adapts: fast while a pipeline, a deploy job or a rollout of the
project moves, slow when all is calm, stretched when GitLab's rate-limit quota is
nearly spent. The manual deploy job waiting for an environment (the level-3 gate) is
found in the deployment records.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from cockpit.backoff import BackoffPolicy, adaptive_interval, rate_limited_wait
from cockpit.config import Config, EnvironmentConfig, ServiceConfig
from cockpit.engine.polling import PollerGroup, Spawn, probe_cap, slow_latency
from cockpit.engine.protocols import GitLabReads, Probing, Quota
from cockpit.engine.store import RowStore
from cockpit.model import (
    ACTIVE_STATUSES,
    Deployment,
    EnvKey,
    FeatureFlag,
    Job,
    Pipeline,
    SourceName,
)

#: Deployments per environment in the first poll's one request for all environments.
FIRST_PAGE = 3
#: How soon the second poll follows the first, which reads only what the overview needs
#: (the second waits for every row's first picture, then reads details and history).
FOLLOW_UP_SECONDS = 1.0
#: Deployments fetched per environment: the detail shows ten (DORA and the maturity
#: assessment read deeper history on demand).
DEPLOYMENT_PAGE = 10
#: Backoff after failures: from 1–2 s up to two minutes.
GITLAB_BACKOFF = BackoffPolicy(base=2.0, cap=120.0)


@dataclass
class Project:
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


class GitLabFeed:
    """Pipelines, deployments, gates and flags of every row with a GitLab project."""

    source = SourceName.GITLAB

    def __init__(
        self,
        gitlab: GitLabReads,
        store: RowStore,
        config: Config,
        *,
        rng: random.Random,
        spawn: Spawn,
    ) -> None:
        self.gitlab = gitlab
        self._store = store
        self._config = config
        self.projects: dict[str, Project] = {}
        self.group = PollerGroup(
            SourceName.GITLAB,
            rng=rng,
            spawn=spawn,
            probe=gitlab.probe if isinstance(gitlab, Probing) else None,
            policy=GITLAB_BACKOFF,
            probe_cap=probe_cap(self.interval()),
        )

    def covers(self, service: ServiceConfig, env: EnvironmentConfig) -> bool:
        return bool(service.gitlab_project)

    def interval(self) -> float | None:
        return self._config.poll.gitlab_idle

    def start(self) -> None:
        for row in self._store.rows.values():
            path = row.service.gitlab_project
            if not path or SourceName.GITLAB not in row.sources:
                continue
            project = self.projects.setdefault(
                path, Project(path=path, ref=row.service.ref, keys=[])
            )
            project.keys.append(row.key)
        for project in self.projects.values():
            self.group.add(
                f"gitlab:{project.path}",
                functools.partial(self.poll_project, project),
                policy=GITLAB_BACKOFF,
                on_error=functools.partial(self._store.failed, project.keys, SourceName.GITLAB),
            )

    def follow_ups(self) -> set[tuple[str, object]]:
        return {("project", path) for path in self.projects}

    def refresh(self, key: EnvKey | None) -> None:
        """Poll now; the projects' slow reads (flags, deployment history) are due again too:
        after a write, or when a person asks, a flag just toggled must not wait for the
        next five-minute read."""
        if key is None:
            for project in self.projects.values():
                project.make_slow_reads_due()
            self.group.wake_all()
            return
        path = self._store.rows[key].service.gitlab_project or ""
        if path in self.projects:
            self.projects[path].make_slow_reads_due()
        poller = self.group.pollers.get(f"gitlab:{path}")
        if poller is not None:
            poller.wake()

    async def close(self) -> None:
        await self.gitlab.close()

    async def job_trace(self, project: str, job_id: int) -> str:
        return await self.gitlab.job_trace(project, job_id)

    # ------------------------------------------------------------------ one poll

    def _moving(self, project: Project) -> bool:
        for key in project.keys:
            row = self._store.rows[key]
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

    async def poll_project(self, project: Project) -> float:
        """Read what can have changed in one project; seconds until the next read."""
        poll = self._config.poll
        gitlab = self.gitlab
        store = self._store
        before = project.pipeline
        first = not project.polled
        if not first:
            await store.ready.wait()  # the first complete picture of every row comes first
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
        now = store.wall_now()
        project.polled = True
        moving = self._moving(project) or (
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
            store.followed_up(("project", project.path))
        slow = slow_latency(gitlab)
        for key in project.keys:
            row = store.rows[key]
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
            store.ok(row, SourceName.GITLAB, changed, slow=slow)
        moving = moving or self._moving(project)
        interval = adaptive_interval(
            moving=moving, active=poll.gitlab_active, idle=poll.gitlab_idle
        )
        if first:
            # Soon after the first complete picture: the details and the flags.
            interval = min(interval, FOLLOW_UP_SECONDS)
        if isinstance(gitlab, Quota) and gitlab.rate_limit is not None:
            # A nearly spent quota stretches the interval until it resets.
            quota = gitlab.rate_limit
            interval += rate_limited_wait(
                quota.remaining, quota.limit, quota.reset_at - time.time()
            )
        return interval

    async def _read_deployments(
        self, project: Project, *, all_at_once: bool
    ) -> dict[EnvKey, tuple[Deployment, ...]]:
        """Each of the project's environments' latest deployments.

        ``all_at_once``: one short request for every environment (the project's newest
        deployments, split by environment), then one more only for an environment that
        page did not reach. Otherwise one request per environment, each a full page.
        """
        gitlab = self.gitlab
        mixed: tuple[Deployment, ...] | None = None
        if all_at_once:
            # The newest few of every environment at once: enough for the overview (the
            # last deployment, a waiting gate); the follow-up poll reads full pages.
            mixed = tuple(
                await gitlab.deployments(project.path, None, limit=FIRST_PAGE * len(project.keys))
            )
        found: dict[EnvKey, tuple[Deployment, ...]] = {}
        for key in project.keys:
            environment = self._store.rows[key].env.gitlab_environment
            mine = tuple(d for d in mixed or () if d.environment == environment)
            if not mine:
                mine = tuple(
                    await gitlab.deployments(project.path, environment, limit=DEPLOYMENT_PAGE)
                )
            found[key] = mine
            project.deploy_jobs.update(d.job_name for d in mine if d.job_name)
        return found
