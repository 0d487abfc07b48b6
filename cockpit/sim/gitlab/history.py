"""Deterministic history: what each project's team pushed, when, and how each pipeline went.

Everything random about GitLab's past is drawn here, from seeded streams, as plain
plans (:class:`PushPlan`); :class:`~cockpit.sim.gitlab.state.GitLabState` carries them
out. Same seed, same plans, byte for byte.

The shape of a history (per service, over ``history_days``):

* pushes on working days and hours, ``deploys_per_week`` of them a week, each with
  one commit (occasionally two) authored a little before the push (lead time);
* ``failure_ratio`` of them fail their production deploy, and about half of those are
  followed by a rollback (a retry of the previous good deploy job, as GitLab's
  "Rollback environment" does); a few fail earlier, in their tests;
* level-3 projects' production deploy waits for someone to press play;
* migration files each arrive in their own commit: the last ``recent_migrations`` in
  the final push (after the previous production deployment), older ones before;
* the final push follows the service's situation (``pipeline``, ``candidate``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cockpit.sim.gitlab.ci import DEFAULT_DURATION, DURATIONS, JobDefinition
from cockpit.sim.gitlab.pipeline import JobPlan, planned_length
from cockpit.sim.gitlab.repository import Person, migration_title
from cockpit.sim.scenario import ServiceSpec

DEVELOPERS = (
    Person(11, "aokafor", "Amara Okafor"),
    Person(12, "jweber", "Jonas Weber"),
    Person(13, "praman", "Priya Raman"),
    Person(14, "lmartin", "Lucas Martin"),
    Person(15, "srossi", "Sofia Rossi"),
    Person(16, "ktanaka", "Kenji Tanaka"),
    Person(17, "edemir", "Elif Demir"),
    Person(18, "mgarcia", "Mateo García"),
    Person(19, "hschmidt", "Hannah Schmidt"),
    Person(20, "ndubois", "Noah Dubois"),
)

#: Feature commits: (title, the file stem of the class the feature lives in).
_FEATURES = (
    ("Add pagination to the {name} listing", "pagination"),
    ("Expose per-endpoint metrics for {name}", "endpoint_metrics"),
    ("Cache {name} lookups in Redis", "lookup_cache"),
    ("Add idempotency keys to {name} writes", "idempotency_keys"),
    ("Emit structured request logs in {name}", "request_log"),
    ("Add a bulk endpoint to the {name} API", "bulk_endpoint"),
    ("Support ETag caching on {name} reads", "etag_cache"),
    ("Record an audit trail of {name} changes", "audit_trail"),
    ("Add a circuit breaker around {name} upstream calls", "circuit_breaker"),
    ("Validate {name} payloads against the schema", "payload_validation"),
)
_FIXES = (
    "Fix N+1 query in the {name} index",
    "Handle upstream timeouts in {name}",
    "Fix rounding in {name} totals",
    "Retry transient database errors in {name}",
    "Fix race between concurrent {name} updates",
    "Return 404 instead of 500 for unknown {name} ids",
    "Raise the {name} request timeout",
    "Lower the {name} cache TTL",
)
_CHORES = (
    "Bump rails to {version}",
    "Bump puma to {version}",
    "Update rubocop configuration",
)

#: Seconds between a history pipeline becoming blocked on a manual job and someone playing it.
PLAY_DELAY = (300.0, 5400.0)
#: Seconds between a failed production deploy and the rollback.
ROLLBACK_DELAY = (180.0, 1500.0)
#: The job that deploys to production in every CI template.
PRODUCTION_DEPLOY = "deploy_production"
#: How long before the world starts the last calm push happens, at least.
QUIET_BEFORE_NOW = timedelta(hours=2)


@dataclass(frozen=True)
class CommitPlan:
    at: datetime
    title: str
    author: Person
    #: feature | fix | chore | migration
    kind: str
    #: For a migration commit: (path, "expand" | "contract").
    migration: tuple[str, str] | None = None
    #: For a chore: the version it bumps to.
    version: str = ""
    #: For a feature: the file stem of the class it adds or changes.
    stem: str = ""


@dataclass(frozen=True)
class PushPlan:
    """One push to ``main`` and how its pipeline goes."""

    service: str
    #: When the pipeline is created.
    at: datetime
    commits: tuple[CommitPlan, ...]
    pusher: Person
    job_plans: dict[str, JobPlan] = field(hash=False, compare=False)
    #: Seconds after the manual production job starts waiting that someone plays it
    #: (None: nobody does).
    play_after: float | None = None
    #: Seconds after a failed production deploy that the previous one is re-deployed.
    rollback_after: float | None = None
    #: Only for pushes before the history window: a commit without a pipeline.
    pipeline: bool = True
    #: The head commit is the candidate version an environment is rolling out.
    candidate: bool = False


def draw_job_plans(
    rng: random.Random, definitions: tuple[JobDefinition, ...], failing_job: str | None
) -> dict[str, JobPlan]:
    plans = {}
    for definition in definitions:
        low, high = DURATIONS.get(definition.name, DEFAULT_DURATION)
        plans[definition.name] = JobPlan(
            queue=round(rng.uniform(2.0, 20.0), 3),
            duration=round(rng.uniform(low, high), 3),
            fails=definition.name == failing_job,
            coverage=round(rng.uniform(78.0, 94.0), 2) if definition.coverage else None,
        )
    return plans


def _working_moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    """A moment on a working day, working hours (UTC), between start and end."""
    span_days = max(1, (end - start).days)
    for _ in range(20):
        day = (start + timedelta(days=rng.randrange(span_days))).replace(
            hour=0, minute=0, second=0, microsecond=0
        )
        if day.weekday() >= 5:
            continue
        moment = day + timedelta(seconds=rng.uniform(8.5 * 3600, 18 * 3600))
        if start <= moment <= end:
            return moment
    return start + (end - start) * rng.random()


def _commit(
    rng: random.Random, name: str, at: datetime, author: Person, counter: int
) -> CommitPlan:
    roll = rng.random()
    if roll < 0.5:
        title, stem = rng.choice(_FEATURES)
        return CommitPlan(at, title.format(name=name), author, "feature", stem=stem)
    if roll < 0.85:
        title = rng.choice(_FIXES).format(name=name)
        return CommitPlan(at, title, author, "fix")
    version = f"7.2.{2 + counter % 7}" if rng.random() < 0.5 else f"6.4.{3 + counter % 5}"
    template = _CHORES[0] if version.startswith("7") else _CHORES[1]
    return CommitPlan(at, template.format(version=version), author, "chore", version=version)


def plan_history(
    spec: ServiceSpec,
    definitions: tuple[JobDefinition, ...],
    *,
    now: datetime,
    rng: random.Random,
    history_start: datetime,
) -> list[PushPlan]:
    """Every push of one service, oldest first (see the module docstring)."""
    name = spec.name
    count = max(4, round(spec.history_days * spec.deploys_per_week / 7))
    window_end = now - QUIET_BEFORE_NOW
    times = sorted(_working_moment(rng, history_start, window_end) for _ in range(count))
    migrations = list(spec.migrations)
    recent = (
        migrations[len(migrations) - spec.recent_migrations :] if spec.recent_migrations else []
    )
    older = migrations[: len(migrations) - len(recent)]
    has_production = any(d.environment == "production" for d in definitions)
    manual = any(d.when == "manual" and not d.allow_failure for d in definitions)

    plans: list[PushPlan] = []
    last_commit_at = history_start - timedelta(days=2)
    # Older migrations: before the window (their own commits, no pipeline), in order.
    for index, (path, kind) in enumerate(older):
        at = history_start - timedelta(days=len(older) - index, hours=rng.uniform(1, 6))
        author = rng.choice(DEVELOPERS)
        plans.append(
            PushPlan(
                service=name,
                at=at,
                commits=(CommitPlan(at, migration_title(path), author, "migration", (path, kind)),),
                pusher=author,
                job_plans={},
                pipeline=False,
            )
        )
        last_commit_at = at

    situation_final = (
        spec.pipeline is not None
        or any(e.candidate is not None for e in spec.environments)
        or bool(recent)
    )
    for index, push_at in enumerate(times):
        final = index == count - 1
        quiet = index >= count - 3  # the last pushes stay clean: the story's "before" is stable
        pusher = rng.choice(DEVELOPERS)
        commit_count = 2 if rng.random() < 0.15 else 1
        commits = []
        lead = timedelta(seconds=rng.uniform(600, 36 * 3600))
        for c in range(commit_count):
            at = max(
                last_commit_at + timedelta(minutes=1), push_at - lead + timedelta(minutes=7 * c)
            )
            at = min(at, push_at - timedelta(seconds=30))
            commits.append(_commit(rng, name, at, rng.choice(DEVELOPERS), len(plans) + c))
            last_commit_at = at
        failing: str | None = None
        rollback: float | None = None
        roll = rng.random()
        if not quiet and has_production and roll < spec.failure_ratio:
            failing = PRODUCTION_DEPLOY
            if rng.random() < 0.5:
                rollback = rng.uniform(*ROLLBACK_DELAY)
        elif not quiet and roll > 0.95:
            failing = rng.choice(("unit_tests", "integration_tests", "lint"))
        play_after = rng.uniform(*PLAY_DELAY) if manual else None
        job_plans = draw_job_plans(rng, definitions, failing)
        plan = PushPlan(
            service=name,
            at=push_at,
            commits=tuple(commits),
            pusher=pusher,
            job_plans=job_plans,
            play_after=play_after,
            rollback_after=rollback,
        )
        if final and situation_final:
            plan = _final_push(spec, definitions, plan, rng, recent, now)
        plans.append(plan)
    if has_production:
        plans = _with_incidents(spec, plans, quiet_from=len(plans) - 3)
    return plans


def _with_incidents(spec: ServiceSpec, plans: list[PushPlan], *, quiet_from: int) -> list[PushPlan]:
    """Make the history hold ``spec.incidents`` failed production deploys, each rolled back.

    Only drawn when the history falls short, and from a stream of its own, so a
    history that already holds enough stays as it was.
    """

    def failed(plan: PushPlan) -> bool:
        job = plan.job_plans.get(PRODUCTION_DEPLOY)
        return job is not None and job.fails

    missing = spec.incidents - sum(failed(plan) for plan in plans)
    calm = [
        index
        for index, plan in enumerate(plans[:quiet_from])
        if plan.pipeline
        and PRODUCTION_DEPLOY in plan.job_plans
        and not any(job.fails for job in plan.job_plans.values())
    ]
    if missing <= 0 or not calm:
        return plans
    rng = random.Random(f"incidents:{spec.name}:{plans[0].at.isoformat()}")
    plans = list(plans)
    for index in sorted(rng.sample(calm, min(missing, len(calm)))):
        plan = plans[index]
        job_plans = dict(plan.job_plans)
        job_plans[PRODUCTION_DEPLOY] = replace(job_plans[PRODUCTION_DEPLOY], fails=True)
        plans[index] = replace(
            plan, job_plans=job_plans, rollback_after=rng.uniform(*ROLLBACK_DELAY)
        )
    return plans


def _final_push(
    spec: ServiceSpec,
    definitions: tuple[JobDefinition, ...],
    plan: PushPlan,
    rng: random.Random,
    recent: list[tuple[str, str]],
    now: datetime,
) -> PushPlan:
    """The last push as the service's situation wants it."""
    commits = plan.commits
    if recent:
        # Each recent migration in its own commit, all in this last push.
        base = commits[0].at
        commits = tuple(
            CommitPlan(
                base + timedelta(minutes=11 * i),
                migration_title(path),
                rng.choice(DEVELOPERS),
                "migration",
                (path, kind),
            )
            for i, (path, kind) in enumerate(recent)
        )
    failing: str | None = None
    play_after = plan.play_after
    #: How long before the world starts the pipeline reaches its stopping point.
    ends_before: timedelta | None = None
    if spec.pipeline == "failed":
        failing = spec.failing_job or "unit_tests"
        ends_before = timedelta(minutes=rng.uniform(35, 80))
    elif spec.pipeline == "manual":
        play_after = None
        ends_before = timedelta(minutes=rng.uniform(20, 75))
    elif spec.pipeline == "running":
        ends_before = -timedelta(minutes=rng.uniform(12, 18))
    candidate = spec.pipeline is None and any(e.candidate is not None for e in spec.environments)
    if candidate:
        # The candidate's pipeline finished a quarter of an hour before the start: its
        # deploy job handed the new image to the rollout, which has been stepping since.
        ends_before = timedelta(minutes=rng.uniform(12, 16))
        play_after = 60.0 if play_after is not None else None
    job_plans = draw_job_plans(rng, definitions, failing)
    at = plan.at
    if ends_before is not None:
        length = planned_length(definitions, job_plans, play_after=play_after)
        at = now - ends_before - timedelta(seconds=length)
        shift = at - plan.at
        commits = tuple(
            CommitPlan(c.at + shift, c.title, c.author, c.kind, c.migration, c.version)
            for c in commits
        )
    return PushPlan(
        service=plan.service,
        at=at,
        commits=commits,
        pusher=plan.pusher,
        job_plans=job_plans,
        play_after=play_after,
        rollback_after=None,
        candidate=candidate,
    )


def plan_live_push(
    spec: ServiceSpec,
    definitions: tuple[JobDefinition, ...],
    *,
    at: datetime,
    rng: random.Random,
    counter: int,
) -> PushPlan:
    """A new push in the running world: one commit, tests fail now and then, deploys succeed."""
    author = rng.choice(DEVELOPERS)
    commit = _commit(
        rng, spec.name, at - timedelta(seconds=rng.uniform(120, 4 * 3600)), author, counter
    )
    failing = rng.choice(("unit_tests", "integration_tests")) if rng.random() < 0.06 else None
    manual = any(d.when == "manual" and not d.allow_failure for d in definitions)
    return PushPlan(
        service=spec.name,
        at=at,
        commits=(commit,),
        pusher=author,
        job_plans=draw_job_plans(rng, definitions, failing),
        play_after=rng.uniform(*PLAY_DELAY) if manual else None,
    )
