"""Pipelines, jobs, environments and deployments, and how they progress in time like GitLab's.

A pipeline is created with one job per :class:`~cockpit.sim.gitlab.ci.JobDefinition`,
each with a planned queue time, duration and outcome drawn when it is created.
:meth:`Pipeline.advance` moves it to a given instant in one pass over its jobs in
stage order: a job becomes ready when the jobs it waits for (its ``needs``, else every
job of earlier stages) have finished; ``when: manual`` jobs then wait for a human; a
failed, skipped or canceled dependency skips the job. Statuses combine into the
pipeline's the way GitLab's ``Ci::Status::Composite`` does.

The pipeline tells a :class:`JobListener` when a job starts and finishes, which is how
deployments (and the cluster) follow their deploy jobs. Nothing here draws random
numbers or reads a clock: every instant is passed in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from cockpit.sim.gitlab.ci import JobDefinition
from cockpit.sim.gitlab.repository import Commit, Person

ACTIVE = frozenset({"created", "waiting_for_resource", "preparing", "pending", "running"})
COMPLETED = frozenset({"success", "failed", "canceled", "skipped"})
CANCELABLE = frozenset(
    {"created", "waiting_for_resource", "preparing", "pending", "running", "scheduled"}
)


@dataclass(frozen=True)
class JobPlan:
    """What will happen to a job once it is allowed to run (drawn when it is created)."""

    queue: float  # seconds between ready and started
    duration: float
    fails: bool = False
    coverage: float | None = None


class Environment:
    def __init__(
        self,
        id: int,
        project_id: int,
        name: str,
        external_url: str,
        namespace: str,
        created_at: datetime,
    ) -> None:
        self.id = id
        self.project_id = project_id
        self.name = name
        self.external_url = external_url
        self.namespace = namespace
        self.created_at = created_at
        self.updated_at = created_at
        self.state = "available"
        self.deployments: list[Deployment] = []

    @property
    def tier(self) -> str:
        return (
            self.name
            if self.name in ("production", "staging", "testing", "development")
            else "other"
        )

    @property
    def last_deployment(self) -> Deployment | None:
        """The latest successful deployment (what GitLab's ``last_deployment`` is)."""
        for deployment in reversed(self.deployments):
            if deployment.status == "success":
                return deployment
        return None


class Deployment:
    """A deployment record: follows its deploy job (created → running → success/failed)."""

    def __init__(self, id: int, iid: int, environment: Environment, job: Job, at: datetime) -> None:
        self.id = id
        self.iid = iid
        self.environment = environment
        self.job = job
        self.status = "created"
        self.created_at = at
        self.updated_at = at
        self.finished_at: datetime | None = None
        environment.deployments.append(self)

    @property
    def sha(self) -> str:
        return self.job.pipeline.commit.sha

    @property
    def ref(self) -> str:
        return self.job.pipeline.ref

    @property
    def user(self) -> Person:
        return self.job.user

    def follow(self, at: datetime) -> None:
        status = _DEPLOYMENT_STATUS.get(self.job.status, "created")
        if status != self.status:
            self.status = status
            self.updated_at = at
            self.environment.updated_at = at
            if status in ("success", "failed", "canceled"):
                self.finished_at = at


_DEPLOYMENT_STATUS = {
    "created": "created",
    "manual": "created",
    "pending": "created",
    "running": "running",
    "success": "success",
    "failed": "failed",
    "canceled": "canceled",
    "skipped": "skipped",
}


class Job:
    def __init__(
        self,
        id: int,
        pipeline: Pipeline,
        definition: JobDefinition,
        plan: JobPlan,
        user: Person,
        at: datetime,
    ) -> None:
        self.id = id
        self.pipeline = pipeline
        self.definition = definition
        self.plan = plan
        self.user = user
        self.status = "created"
        self.created_at = at
        self.queued_at: datetime | None = None
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        self.retried = False
        self.failure_reason: str | None = None
        self.deployment: Deployment | None = None
        #: When the job became ready to run (its dependencies finished); None until then.
        self.ready_at: datetime | None = None

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def stage(self) -> str:
        return self.definition.stage

    @property
    def allow_failure(self) -> bool:
        return self.definition.allow_failure

    @property
    def environment(self) -> str | None:
        return self.definition.environment

    @property
    def playable(self) -> bool:
        return self.status in ("manual", "scheduled")

    @property
    def retryable(self) -> bool:
        """GitLab retries any completed job, also one already retried (a rollback does)."""
        return self.status in ("success", "failed", "canceled")

    @property
    def coverage(self) -> float | None:
        return self.plan.coverage if self.status == "success" else None

    def duration(self, now: datetime) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return max(0.0, (end - self.started_at).total_seconds())

    def queued_duration(self, now: datetime) -> float | None:
        if self.queued_at is None:
            return None
        end = self.started_at or now
        return max(0.0, (end - self.queued_at).total_seconds())

    @property
    def planned_start(self) -> datetime | None:
        if self.queued_at is None:
            return None
        return self.queued_at + timedelta(seconds=self.plan.queue)

    @property
    def planned_finish(self) -> datetime | None:
        if self.started_at is None:
            return None
        return self.started_at + timedelta(seconds=self.plan.duration)


class JobListener(Protocol):
    def job_started(self, job: Job, at: datetime) -> None: ...

    def job_finished(self, job: Job, at: datetime) -> None: ...


class Pipeline:
    def __init__(
        self,
        id: int,
        iid: int,
        project_id: int,
        commit: Commit,
        before_sha: str,
        user: Person,
        at: datetime,
        definitions: tuple[JobDefinition, ...],
        source: str = "push",
        ref: str = "main",
    ) -> None:
        self.id = id
        self.iid = iid
        self.project_id = project_id
        self.commit = commit
        self.before_sha = before_sha
        self.user = user
        self.created_at = at
        self.updated_at = at
        self.source = source
        self.ref = ref
        self.status = "created"
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None
        #: Every job ever created in this pipeline (retried ones too), in creation order.
        self.jobs: list[Job] = []
        #: The jobs the configuration defines, in stage order.
        self.definitions = definitions
        self._current: dict[str, Job] = {}
        #: What the people around this pipeline will do (the simulated team): seconds
        #: until someone plays a manual job that waits, or re-deploys after a failed
        #: production deploy (None: nobody will).
        self.play_after: float | None = None
        self.rollback_after: float | None = None
        #: Jobs whose follow-up (play, rollback) has been scheduled already.
        self.followed_up: set[int] = set()

    @property
    def sha(self) -> str:
        return self.commit.sha

    @property
    def name(self) -> str:
        return self.commit.title

    def add_job(self, job: Job) -> None:
        previous = self._current.get(job.name)
        if previous is not None:
            previous.retried = True
        self._current[job.name] = job
        self.jobs.append(job)

    def current_jobs(self) -> list[Job]:
        """The latest job of each name, in stage order (what the pipeline graph shows)."""
        return [self._current[d.name] for d in self.definitions]

    def job(self, name: str) -> Job | None:
        return self._current.get(name)

    def dependencies(self, job: Job) -> list[Job]:
        needs = job.definition.needs
        if needs is not None:
            return [self._current[n] for n in needs if n in self._current]
        return [
            self._current[d.name]
            for d in self.definitions
            if d.stage_index < job.definition.stage_index
        ]

    def dependents(self, job: Job) -> list[Job]:
        """Jobs that wait for this one, directly or not."""
        found: list[Job] = []
        frontier = [job]
        while frontier:
            current = frontier.pop()
            for other in self.current_jobs():
                if (
                    other is not current
                    and other not in found
                    and current in self.dependencies(other)
                ):
                    found.append(other)
                    frontier.append(other)
        return found

    # ------------------------------------------------------------------ progress

    def advance(self, now: datetime, listener: JobListener) -> datetime | None:
        """Move every job up to ``now``; return when something will next change by itself."""
        upcoming: datetime | None = None

        def later(moment: datetime) -> None:
            nonlocal upcoming
            if upcoming is None or moment < upcoming:
                upcoming = moment

        for job in self.current_jobs():
            if job.status == "created":
                deps = self.dependencies(job)
                states = [_dependency_state(d) for d in deps]
                if "waiting" in states:
                    continue
                ready = max((d.finished_at for d in deps if d.finished_at), default=self.created_at)
                if "bad" in states:
                    job.status = "skipped"
                    self._touch(ready)
                    if job.deployment is not None:
                        job.deployment.follow(ready)
                    continue
                if job.ready_at is None:
                    job.ready_at = ready
                if job.ready_at > now:
                    later(job.ready_at)
                    continue
                if job.definition.when == "manual":
                    job.status = "manual"
                    self._touch(job.ready_at)
                    continue
                job.status = "pending"
                job.queued_at = job.ready_at
                self._touch(job.ready_at)
            if job.status == "pending":
                start = job.planned_start
                assert start is not None
                if start > now:
                    later(start)
                    continue
                job.status = "running"
                job.started_at = start
                if self.started_at is None:
                    self.started_at = start
                self._touch(start)
                if job.deployment is not None:
                    job.deployment.follow(start)
                listener.job_started(job, start)
            if job.status == "running":
                finish = job.planned_finish
                assert finish is not None
                if finish > now:
                    later(finish)
                    continue
                job.finished_at = finish
                if job.plan.fails:
                    job.status = "failed"
                    job.failure_reason = "script_failure"
                else:
                    job.status = "success"
                self._touch(finish)
                if job.deployment is not None:
                    job.deployment.follow(finish)
                listener.job_finished(job, finish)
        self._settle()
        return upcoming

    def _touch(self, at: datetime) -> None:
        if at > self.updated_at:
            self.updated_at = at

    def _settle(self) -> None:
        jobs = self.current_jobs()
        self.status = composite_status([(j.status, j.allow_failure) for j in jobs])
        if self.status in COMPLETED:
            finishes = [j.finished_at for j in jobs if j.finished_at]
            self.finished_at = max(finishes, default=self.updated_at)
        else:
            self.finished_at = None

    @property
    def active(self) -> bool:
        """Something in it will still move without a human (not finished, not blocked)."""
        return any(j.status in ACTIVE for j in self.current_jobs())

    # ------------------------------------------------------------------ actions

    def play(self, job: Job, user: Person, at: datetime) -> None:
        job.status = "pending"
        job.user = user
        job.queued_at = at
        self._touch(at)

    def cancel_job(self, job: Job, at: datetime) -> bool:
        if job.status not in CANCELABLE:
            return False
        job.status = "canceled"
        if job.started_at is not None:
            job.finished_at = at
        self._touch(at)
        if job.deployment is not None:
            job.deployment.follow(at)
        return True

    def reset_skipped_after(self, job: Job) -> None:
        """What GitLab does on a retry: skipped jobs that wait for this one get another chance."""
        for other in self.dependents(job):
            if other.status == "skipped":
                other.status = "created"
                other.ready_at = None
                if other.deployment is not None:
                    other.deployment.follow(self.updated_at)

    def duration(self, now: datetime) -> int | None:
        if self.started_at is None:
            return None
        end = self.finished_at or now
        return int((end - self.started_at).total_seconds())

    def queued_duration(self) -> int | None:
        if self.started_at is None:
            return None
        return int((self.started_at - self.created_at).total_seconds())

    def coverage(self) -> float | None:
        values = [j.coverage for j in self.current_jobs() if j.coverage is not None]
        return round(sum(values) / len(values), 2) if values else None


def _dependency_state(job: Job) -> str:
    """How a job looks to the jobs that wait for it: ok, bad or waiting."""
    status = job.status
    if status == "success" or (status == "failed" and job.allow_failure):
        return "ok"
    if status == "manual" and job.allow_failure:
        return "ok"
    if status in ("failed", "canceled", "skipped"):
        return "bad"
    return "waiting"


def composite_status(jobs: list[tuple[str, bool]]) -> str:
    """Combine job statuses as GitLab's ``Ci::Status::Composite`` does.

    A failed job allowed to fail counts as success (with warnings); a manual job allowed
    to fail is ignored.
    """
    statuses: set[str] = set()
    for status, allow_failure in jobs:
        if allow_failure and status == "failed":
            statuses.add("success")
        elif allow_failure and status == "manual":
            statuses.add("ignored")
        else:
            statuses.add(status)
    if not statuses:
        return "skipped"

    def only(*allowed: str) -> bool:
        return statuses <= {*allowed, "ignored"}

    if only("skipped"):
        return "skipped"
    if only("success", "skipped"):
        return "success"
    if only("created"):
        return "created"
    if only("canceled", "success", "skipped"):
        return "canceled"
    if only("pending", "created", "skipped"):
        return "pending"
    if statuses & {"running", "pending"}:
        return "running"
    if "manual" in statuses:
        return "manual"
    if "scheduled" in statuses:
        return "scheduled"
    if "created" in statuses:
        return "running"
    return "failed"


def planned_length(
    definitions: tuple[JobDefinition, ...], plans: dict[str, JobPlan], *, play_after: float | None
) -> float:
    """Seconds from a pipeline's creation until it stops moving by itself.

    That is when its last job finishes, or when it blocks on a manual job (unless
    someone plays it ``play_after`` seconds later), following the same rules as
    :meth:`Pipeline.advance`.
    """
    finish: dict[str, float] = {}
    blocked: set[str] = set()
    stop = 0.0
    for definition in definitions:
        if definition.needs is not None:
            deps = list(definition.needs)
        else:
            deps = [d.name for d in definitions if d.stage_index < definition.stage_index]
        if any(d in blocked for d in deps):
            blocked.add(definition.name)
            continue
        ready = max((finish[d] for d in deps if d in finish), default=0.0)
        plan = plans[definition.name]
        if definition.when == "manual":
            if play_after is None:
                stop = max(stop, ready)
                if not definition.allow_failure:
                    blocked.add(definition.name)
                continue
            ready += play_after
        end = ready + plan.queue + plan.duration
        stop = max(stop, end)
        finish[definition.name] = end
        if plan.fails and not definition.allow_failure:
            blocked.add(definition.name)
    return stop
