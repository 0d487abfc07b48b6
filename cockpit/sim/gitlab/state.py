"""The world's GitLab: projects with their repository, pipelines, environments, flags.

:class:`GitLabState` is built from the scenario (history from :mod:`history`), then
moved by :meth:`GitLabState.step` and by API writes. Timed happenings (a push, someone
pressing play, a rollback after a failed deploy) wait in one queue ordered by time;
pipelines that still move by themselves are kept in an active set, so a step where
nothing is due costs one comparison, whatever the size of the history.

Ids are GitLab-like: projects, pipelines, jobs, deployments and environments have
instance-wide ids handed out in time order; pipelines and deployments also have
per-project ``iid``\\ s.
"""

from __future__ import annotations

import heapq
import itertools
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.sim.gitlab import ci, history
from cockpit.sim.gitlab.flags import FeatureFlag, Scope, Strategy
from cockpit.sim.gitlab.history import CommitPlan, PushPlan
from cockpit.sim.gitlab.pipeline import Deployment, Environment, Job, JobPlan, Pipeline
from cockpit.sim.gitlab.repository import (
    Change,
    Commit,
    Person,
    Repository,
    camel_case,
    migration,
    seed_files,
    snake,
)
from cockpit.sim.scenario import EnvSpec, ServiceSpec, VersionProfile

if TYPE_CHECKING:
    from cockpit.sim.world import World

#: Pipelines a project keeps (the seeded four weeks fit). Older finished ones are
#: forgotten with their jobs and deployments, as GitLab's automatic pipeline cleanup
#: does (the project setting ``ci_delete_pipelines_in_seconds``), so that a world left
#: running for days holds a bounded history.
PIPELINES_KEPT = 100
#: Living world: new pushes come this many times faster than ``deploys_per_week``, so
#: a demo at time scale 30 shows a new pipeline every minute or two.
LIVE_SPEEDUP = 12.0
WEEK = 7 * 86400.0
#: Share of new builds in the living world that behave worse than the stable one.
WORSE_BUILD_RATIO = 0.1
#: The person cockpit's tokens act as when history needs an on-call engineer.
ONCALL = Person(1, "oncall", "On-call Engineer")
INSTANCE = "https://gitlab.shop.example.com"


@dataclass
class Project:
    id: int
    spec: ServiceSpec
    created_at: datetime
    repo: Repository
    ci_yaml: str
    definitions: tuple[ci.JobDefinition, ...]

    def __post_init__(self) -> None:
        self.pipelines: list[Pipeline] = []
        self.pipelines_by_id: dict[int, Pipeline] = {}
        self.jobs_by_id: dict[int, Job] = {}
        self.environments: dict[str, Environment] = {}
        self.deployments: dict[int, Deployment] = {}
        self.flags: dict[str, FeatureFlag] = {}
        self.next_pipeline_iid = 1
        self.next_deployment_iid = 1

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def path(self) -> str:
        return self.spec.project_path

    def environment_by_id(self, environment_id: int) -> Environment | None:
        return next((e for e in self.environments.values() if e.id == environment_id), None)


class GitLabState:
    """See the module docstring. Built from ``world.scenario`` at ``world.clock.now()``."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._live = False
        self.started_at = world.clock.now()
        self.now = self.started_at
        self._ids = {
            "project": itertools.count(1001),
            "pipeline": itertools.count(40001),
            "job": itertools.count(800001),
            "deployment": itertools.count(9001),
            "environment": itertools.count(101),
            "strategy": itertools.count(1),
            "scope": itertools.count(1),
        }
        self._seq = itertools.count()
        self._queue: list[tuple[datetime, int, str, Any]] = []
        self._active: dict[Pipeline, None] = {}
        self._wake_at = self.started_at
        self.projects: list[Project] = []
        self._by_id: dict[int, Project] = {}
        self._by_path: dict[str, Project] = {}
        self._commit_rngs: dict[str, random.Random] = {}
        self._live_rngs: dict[str, random.Random] = {}
        held = {s.service for s in world.scenario.situations}
        for spec in world.scenario.services:
            self._add_project(spec)
        for project in self.projects:
            start = self.started_at - timedelta(days=project.spec.history_days)
            plans = history.plan_history(
                project.spec,
                project.definitions,
                now=self.started_at,
                rng=world.rng("history", project.name),
                history_start=start,
            )
            for plan in plans:
                self._schedule(plan.at, "push", (project, plan))
        self._run_until(self.started_at)
        self._live = True
        for project in self.projects:
            if project.name not in held:
                rng = world.rng("live", project.name)
                self._live_rngs[project.name] = rng
                self._schedule(self._next_live_push(project, self.started_at), "live_push", project)
        self._wake()

    # ------------------------------------------------------------------ contract

    def deployed(self, service: str, environment: str) -> list[str]:
        """Shas of the successful deployments to an environment, oldest first."""
        env = self.project_by_name(service).environments[environment]
        done = [d for d in env.deployments if d.status == "success"]
        done.sort(key=lambda d: (d.finished_at or d.created_at, d.id))
        return [d.sha for d in done]

    def step(self, now: datetime) -> None:
        """Progress pipelines, jobs and the team's planned actions up to ``now``."""
        if now < self._wake_at:
            return
        self._run_until(now)
        self._wake()

    # ------------------------------------------------------------------ lookups

    def project(self, ref: str) -> Project | None:
        """A project by numeric id or full path (``shop/checkout``)."""
        if ref.isdigit():
            return self._by_id.get(int(ref))
        return self._by_path.get(ref)

    def project_by_name(self, service: str) -> Project:
        return next(p for p in self.projects if p.name == service)

    def project_of(self, pipeline: Pipeline) -> Project:
        return self._by_id[pipeline.project_id]

    # ------------------------------------------------------------------ actions (API)

    def play(self, job: Job, user: Person, now: datetime) -> None:
        """Press play on a manual job: it is pending at once, runs from the next step."""
        self._catch_up(now)
        job.pipeline.play(job, user, now)
        self._settle(job.pipeline)

    def retry(self, project: Project, job: Job, user: Person, now: datetime) -> Job:
        """Retry a job: a new job (and, for a deploy job, a new deployment) runs."""
        self._catch_up(now)
        new = self._retry(project, job, user, now)
        self._settle(job.pipeline)
        return new

    def cancel(self, job: Job, now: datetime) -> None:
        self._catch_up(now)
        job.pipeline.cancel_job(job, now)
        self._settle(job.pipeline)

    def retry_pipeline(
        self, project: Project, pipeline: Pipeline, user: Person, now: datetime
    ) -> None:
        """Retry the failed and canceled jobs (nothing happens when there are none)."""
        self._catch_up(now)
        for job in pipeline.current_jobs():
            if job.status in ("failed", "canceled"):
                self._retry(project, job, user, now)
        self._settle(pipeline)

    def cancel_pipeline(self, pipeline: Pipeline, now: datetime) -> None:
        self._catch_up(now)
        for job in pipeline.current_jobs():
            pipeline.cancel_job(job, now)
        self._settle(pipeline)

    def _catch_up(self, now: datetime) -> None:
        if now > self.now:
            self._run_until(now)

    def _settle(self, pipeline: Pipeline) -> None:
        self._advance(pipeline, self.now)
        self._wake()

    def next_id(self, kind: str) -> int:
        return next(self._ids[kind])

    # ------------------------------------------------------------------ building

    def _add_project(self, spec: ServiceSpec) -> None:
        created = self.started_at - timedelta(days=spec.history_days + 60)
        production = _env(spec, "production")
        ci_yaml = ci.template(spec.ci)
        repo = Repository()
        files = seed_files(
            name=spec.name,
            description=spec.description,
            ci_yaml=ci_yaml,
            kind=production.kind if production else "Rollout",
            namespace_hint=", ".join(sorted({e.namespace for e in spec.environments})),
        )
        project = Project(
            id=self.next_id("project"),
            spec=spec,
            created_at=created,
            repo=repo,
            ci_yaml=ci_yaml,
            definitions=ci.job_graph(ci_yaml),
        )
        self._commit_rngs[spec.name] = self._world.rng("commits", spec.name)
        founder = history.DEVELOPERS[project.id % len(history.DEVELOPERS)]
        initial = repo.commit(
            self._new_sha(spec.name),
            title="Initial commit",
            message="Initial commit\n",
            author=founder,
            created_at=created,
            changes=tuple(Change(path, content) for path, content in files.items()),
        )
        self._register(spec, initial, None)
        for env_spec in spec.environments:
            name = env_spec.environment
            url = (
                f"https://{spec.name}.shop.example.com"
                if name == "production"
                else f"https://{spec.name}.{name}.shop.example.com"
            )
            project.environments[name] = Environment(
                self.next_id("environment"), project.id, name, url, env_spec.namespace, created
            )
        for index, (flag_name, active) in enumerate(spec.flags):
            project.flags[flag_name] = self._seed_flag(flag_name, active, index, created)
        self.projects.append(project)
        self._by_id[project.id] = project
        self._by_path[project.path] = project

    def _seed_flag(self, name: str, active: bool, index: int, at: datetime) -> FeatureFlag:
        if index % 2 == 0:
            strategies = (
                Strategy(
                    self.next_id("strategy"), "default", (), (Scope(self.next_id("scope"), "*"),)
                ),
            )
        else:
            strategies = (
                Strategy(
                    self.next_id("strategy"),
                    "gradualRolloutUserId",
                    (("groupId", "default"), ("percentage", "25")),
                    (Scope(self.next_id("scope"), "production"),),
                ),
                Strategy(
                    self.next_id("strategy"),
                    "default",
                    (),
                    (Scope(self.next_id("scope"), "staging"),),
                ),
            )
        description = f"{name.replace('-', ' ').capitalize()}"
        return FeatureFlag(name, description, active, at, at, strategies)

    def _new_sha(self, service: str) -> str:
        return f"{self._commit_rngs[service].getrandbits(160):040x}"

    def _register(self, spec: ServiceSpec, commit: Commit, profile: VersionProfile | None) -> None:
        if profile is None:
            production = _env(spec, "production") or spec.environments[0]
            profile = production.stable
        self._world.versions.register(spec.name, commit.sha, profile)

    # ------------------------------------------------------------------ the queue

    def _schedule(self, at: datetime, kind: str, payload: Any) -> None:
        heapq.heappush(self._queue, (at, next(self._seq), kind, payload))

    def _run_until(self, now: datetime) -> None:
        while self._queue and self._queue[0][0] <= now:
            at, _, kind, payload = heapq.heappop(self._queue)
            for pipeline in list(self._active):
                self._advance(pipeline, at)
            self.now = at
            if kind in ("push", "live_push"):
                if kind == "live_push":
                    project = payload
                    rng = self._live_rngs[project.name]
                    plan = history.plan_live_push(
                        project.spec,
                        project.definitions,
                        at=at,
                        rng=rng,
                        counter=len(project.repo.commits),
                    )
                    self._schedule(self._next_live_push(project, at), "live_push", project)
                else:
                    project, plan = payload
                self._push(project, plan, now)
            elif kind == "play":
                job, user = payload
                if job.status == "manual":
                    job.pipeline.play(job, user, at)
                    self._advance(job.pipeline, at)
            elif kind == "rollback":
                self._rollback(*payload, at)
        self.now = now
        for pipeline in list(self._active):
            self._advance(pipeline, now)

    def _wake(self) -> None:
        times = [t for t in self._active.values() if t is not None]
        if self._queue:
            times.append(self._queue[0][0])
        self._wake_at = min(times) if times else datetime.max.replace(tzinfo=self.started_at.tzinfo)

    def _advance(self, pipeline: Pipeline, now: datetime) -> None:
        upcoming = pipeline.advance(now, self)
        if upcoming is None:
            self._active.pop(pipeline, None)
        else:
            self._active[pipeline] = upcoming
        self._follow_up(pipeline)

    def _follow_up(self, pipeline: Pipeline) -> None:
        """Schedule what the team does next: press play, or roll back a failed deploy."""
        for job in pipeline.current_jobs():
            if job.id in pipeline.followed_up:
                continue
            if job.status == "manual" and pipeline.play_after is not None and job.ready_at:
                pipeline.followed_up.add(job.id)
                when = job.ready_at + timedelta(seconds=pipeline.play_after)
                self._schedule(when, "play", (job, job.pipeline.user))
            elif (
                job.status == "failed"
                and job.environment == "production"
                and pipeline.rollback_after is not None
                and job.finished_at
            ):
                pipeline.followed_up.add(job.id)
                when = job.finished_at + timedelta(seconds=pipeline.rollback_after)
                self._schedule(when, "rollback", (self.project_of(pipeline), job))

    def _next_live_push(self, project: Project, after: datetime) -> datetime:
        rate = max(project.spec.deploys_per_week, 0.1) * LIVE_SPEEDUP / WEEK
        return after + timedelta(seconds=self._live_rngs[project.name].expovariate(rate))

    # ------------------------------------------------------------------ history and life

    def _push(self, project: Project, plan: PushPlan, horizon: datetime) -> None:
        spec = project.spec
        before = project.repo.head.sha
        commits = [self._write_commit(project, c) for c in plan.commits]
        for index, commit in enumerate(commits):
            profile = None
            if index == len(commits) - 1:
                if plan.candidate:
                    for env in spec.environments:
                        if env.candidate is not None:
                            self._world.versions.register(
                                spec.name, commit.sha, env.candidate, environment=env.environment
                            )
                elif self._live:
                    profile = self._live_profile(project)
            self._register(spec, commit, profile)
        if not plan.pipeline:
            return
        pipeline = Pipeline(
            id=self.next_id("pipeline"),
            iid=project.next_pipeline_iid,
            project_id=project.id,
            commit=commits[-1],
            before_sha=before,
            user=plan.pusher,
            at=plan.at,
            definitions=project.definitions,
        )
        project.next_pipeline_iid += 1
        pipeline.play_after = plan.play_after
        pipeline.rollback_after = plan.rollback_after
        for definition in project.definitions:
            job = Job(
                self.next_id("job"),
                pipeline,
                definition,
                plan.job_plans[definition.name],
                plan.pusher,
                plan.at,
            )
            self._attach(project, job)
        project.pipelines.append(pipeline)
        project.pipelines_by_id[pipeline.id] = pipeline
        self._advance(pipeline, horizon)
        self._forget_old_pipelines(project)

    def _forget_old_pipelines(self, project: Project) -> None:
        """Past ``PIPELINES_KEPT``, the oldest finished pipelines go with their jobs and
        deployments; a pipeline still moving, or one that made an environment's current
        deployment, stays."""
        excess = len(project.pipelines) - PIPELINES_KEPT
        if excess <= 0:
            return
        current = {env.last_deployment for env in project.environments.values()}
        forgotten: set[Pipeline] = set()
        for pipeline in project.pipelines:
            if len(forgotten) == excess:
                break
            if pipeline in self._active or pipeline.finished_at is None:
                continue
            if any(job.deployment in current for job in pipeline.jobs if job.deployment):
                continue
            forgotten.add(pipeline)
        for pipeline in forgotten:
            del project.pipelines_by_id[pipeline.id]
            for job in pipeline.jobs:
                project.jobs_by_id.pop(job.id, None)
                deployment = job.deployment
                if deployment is not None and project.deployments.pop(deployment.id, None):
                    deployment.environment.deployments.remove(deployment)
        project.pipelines[:] = [p for p in project.pipelines if p not in forgotten]

    def _attach(self, project: Project, job: Job) -> None:
        job.pipeline.add_job(job)
        project.jobs_by_id[job.id] = job
        if job.environment and job.environment in project.environments:
            deployment = Deployment(
                self.next_id("deployment"),
                project.next_deployment_iid,
                project.environments[job.environment],
                job,
                job.created_at,
            )
            project.next_deployment_iid += 1
            project.deployments[deployment.id] = deployment
            job.deployment = deployment

    def _retry(self, project: Project, job: Job, user: Person, at: datetime) -> Job:
        rng = self._world.rng("retry", job.id)
        low, high = ci.DURATIONS.get(job.name, ci.DEFAULT_DURATION)
        plan = JobPlan(
            queue=round(rng.uniform(2.0, 15.0), 3),
            duration=round(rng.uniform(low, high), 3),
            coverage=job.plan.coverage,
        )
        new = Job(self.next_id("job"), job.pipeline, job.definition, plan, user, at)
        self._attach(project, new)
        new.status = "pending"
        new.ready_at = at
        new.queued_at = at
        job.pipeline.reset_skipped_after(new)
        return new

    def _rollback(self, project: Project, failed: Job, at: datetime) -> None:
        env = project.environments[failed.environment or "production"]
        good = [
            d
            for d in env.deployments
            if d.status == "success" and d.finished_at is not None and d.finished_at <= at
        ]
        if not good:
            return
        target = max(good, key=lambda d: (d.finished_at or d.created_at, d.id))
        self._retry(project, target.job, ONCALL, at)
        self._advance(target.job.pipeline, at)

    def _live_profile(self, project: Project) -> VersionProfile | None:
        rng = self._live_rngs[project.name]
        if rng.random() >= WORSE_BUILD_RATIO:
            return None
        production = _env(project.spec, "production") or project.spec.environments[0]
        stable = production.stable
        return VersionProfile(
            success_rate=round(max(0.9, stable.success_rate - rng.uniform(0.004, 0.03)), 4),
            latency_ms=round(stable.latency_ms * rng.uniform(1.3, 2.0), 1),
        )

    def _write_commit(self, project: Project, plan: CommitPlan) -> Commit:
        repo = project.repo
        changes = _changes(project, plan)
        title = plan.title
        body = _BODIES.get(plan.kind, "")
        message = f"{title}\n\n{body}\n" if body else f"{title}\n"
        return repo.commit(
            self._new_sha(project.name),
            title=title,
            message=message,
            author=plan.author,
            created_at=plan.at,
            changes=changes,
        )

    # ------------------------------------------------------------------ JobListener

    def job_started(self, job: Job, at: datetime) -> None:
        if self._live and job.environment is not None:
            project = self.project_of(job.pipeline)
            self._world.kube.deploy(project.name, job.environment, job.pipeline.sha)

    def job_finished(self, job: Job, at: datetime) -> None:
        """Nothing more happens when a job ends: deployments follow their job already."""


_BODIES = {
    "feature": "Behind no flag: small, backwards compatible, covered by unit tests.",
    "fix": "Seen in production logs; covered by a regression test.",
    "chore": "",
    "migration": "Part of an expand-contract change; see the migration for details.",
}


def _env(spec: ServiceSpec, name: str) -> EnvSpec | None:
    return next((e for e in spec.environments if e.environment == name), None)


def _changes(project: Project, plan: CommitPlan) -> tuple[Change, ...]:
    repo = project.repo
    head = repo.head
    if plan.kind == "migration" and plan.migration is not None:
        path, kind = plan.migration
        return (Change(path, migration(path, kind)),)
    if plan.kind == "fix":
        current = repo.file_at("config/settings.yml", head)
        text = current.content if current else ""
        seed = int(head.sha[:6], 16)
        keys = ("request_timeout_ms", "retry_attempts", "cache_ttl_seconds", "page_size")
        key = keys[seed % len(keys)]
        value = {
            "request_timeout_ms": 1000 + seed % 40 * 100,
            "retry_attempts": 2 + seed % 4,
            "cache_ttl_seconds": 60 + seed % 20 * 30,
            "page_size": 20 + seed % 9 * 10,
        }[key]
        text = re.sub(rf"({key}: )\d+", rf"\g<1>{value}", text)
        return (Change("config/settings.yml", text),)
    if plan.kind == "chore":
        current = repo.file_at("Gemfile", head)
        text = current.content if current else ""
        gem = "rails" if plan.version.startswith("7") else "puma"
        text = re.sub(rf'gem "{gem}", "~> [0-9.]+"', f'gem "{gem}", "~> {plan.version}"', text)
        return (Change("Gemfile", text),)
    service = snake(project.name)
    path = f"app/services/{service}/{plan.stem}.rb"
    klass = camel_case(plan.stem)
    module = camel_case(service)
    # A feature that exists already is tuned: its limit changes (a one-line diff).
    limit = 10 + int(head.sha[:4], 16) % 90
    code = (
        f"module {module}\n"
        f"  # {plan.title}.\n"
        f"  class {klass}\n"
        f"    LIMIT = {limit}\n\n"
        "    def initialize(repository: Repository.new, clock: Time)\n"
        "      @repository = repository\n"
        "      @clock = clock\n"
        "    end\n\n"
        "    def call(params)\n"
        "      records = @repository.where(params.slice(:id, :state)).limit(LIMIT)\n"
        "      records.each { |record| record.touch(time: @clock.now) }\n"
        "    end\n"
        "  end\nend\n"
    )
    if repo.file_at(path, head) is not None:
        return (Change(path, code),)
    spec_code = (
        f"RSpec.describe {module}::{klass} do\n"
        '  it "touches at most LIMIT records" do\n'
        "    records = Array.new(3) { double(touch: true) }\n"
        "    repository = double(where: double(limit: records))\n"
        "    expect(described_class.new(repository:).call(id: 7)).to eq(records)\n"
        "  end\nend\n"
    )
    return (Change(path, code), Change(f"spec/unit/{service}/{plan.stem}_spec.rb", spec_code))
