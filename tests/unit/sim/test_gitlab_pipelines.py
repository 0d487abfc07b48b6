"""Pipelines progress in simulated time the way GitLab runs them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.sim.gitlab import ci
from cockpit.sim.gitlab.pipeline import (
    Deployment,
    Environment,
    Job,
    JobPlan,
    Pipeline,
    composite_status,
)
from cockpit.sim.gitlab.repository import Commit, Person

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
DEV = Person(11, "dev", "Dev Eloper")
HUMAN = Person(1, "oncall", "On-call Engineer")


class Recorder:
    def __init__(self) -> None:
        self.started: list[tuple[str, datetime]] = []
        self.finished: list[tuple[str, datetime]] = []

    def job_started(self, job: Job, at: datetime) -> None:
        self.started.append((job.name, at))

    def job_finished(self, job: Job, at: datetime) -> None:
        self.finished.append((job.name, at))


def build(
    template: str = "level4",
    *,
    durations: dict[str, float] | None = None,
    fails: str | None = None,
) -> tuple[Pipeline, dict[str, Environment]]:
    """A pipeline of a CI template where every job queues 1 s and runs 60 s unless told."""
    commit = Commit("a" * 40, 1, "b" * 40, "Fix totals", "Fix totals\n", DEV, T0, ())
    definitions = ci.job_graph(ci.template(template))
    pipeline = Pipeline(1, 1, 1001, commit, "b" * 40, DEV, T0, definitions)
    environments = {
        name: Environment(index, 1001, name, f"https://{name}.example", name, T0)
        for index, name in enumerate(("staging", "production"))
    }
    for index, definition in enumerate(definitions):
        duration = (durations or {}).get(definition.name, 60.0)
        plan = JobPlan(queue=1.0, duration=duration, fails=definition.name == fails)
        job = Job(100 + index, pipeline, definition, plan, DEV, T0)
        pipeline.add_job(job)
        if definition.environment:
            job.deployment = Deployment(
                500 + index, index + 1, environments[definition.environment], job, T0
            )
    return pipeline, environments


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def statuses(pipeline: Pipeline) -> dict[str, str]:
    return {job.name: job.status for job in pipeline.current_jobs()}


def test_quick_checks_run_first_and_later_stages_wait() -> None:
    pipeline, _ = build()
    pipeline.advance(at(30), Recorder())
    state = statuses(pipeline)
    assert state["lint"] == state["typecheck"] == "running"
    assert state["build"] == state["unit_tests"] == "created"
    assert pipeline.status == "running"


def test_jobs_with_needs_start_as_soon_as_their_needs_finish() -> None:
    # The dependency scan (same stage as build) is slow; the tests need only the build.
    pipeline, _ = build(durations={"dependency_scan": 600.0})
    recorder = Recorder()
    pipeline.advance(at(300), recorder)
    state = statuses(pipeline)
    assert state["dependency_scan"] == "running"
    assert state["unit_tests"] in ("running", "success")
    # ...but the staging deploy needs the scan too, so it waits.
    assert state["deploy_staging"] == "created"
    started = dict(recorder.started)
    assert started["unit_tests"] < started["dependency_scan"] + timedelta(seconds=600)


def test_level4_deploys_staging_then_production_and_deployments_follow_their_jobs() -> None:
    pipeline, envs = build()
    recorder = Recorder()
    pipeline.advance(at(3600), recorder)
    assert pipeline.status == "success"
    assert set(statuses(pipeline).values()) == {"success"}
    started = [name for name, _ in recorder.started]
    assert (
        started.index("deploy_staging")
        < started.index("staging_smoke_tests")
        < started.index("deploy_production")
    )
    for env in envs.values():
        (deployment,) = env.deployments
        assert deployment.status == "success"
        assert deployment.finished_at == deployment.job.finished_at
    assert pipeline.finished_at is not None and pipeline.duration(at(3600)) is not None


def test_a_deployment_is_running_while_its_job_runs() -> None:
    pipeline, envs = build()
    recorder = Recorder()
    # Find when the staging deploy starts, then look just after.
    pipeline.advance(at(3600), Recorder())
    start = next(j.started_at for j in pipeline.current_jobs() if j.name == "deploy_staging")
    assert start is not None
    fresh, envs = build()
    fresh.advance(start + timedelta(seconds=1), recorder)
    (deployment,) = envs["staging"].deployments
    assert deployment.status == "running"
    assert ("deploy_staging", start) in recorder.started
    assert envs["production"].deployments[0].status == "created"


def test_manual_production_deploy_waits_and_blocks_the_pipeline() -> None:
    pipeline, envs = build("level3")
    pipeline.advance(at(7200), Recorder())
    state = statuses(pipeline)
    assert state["deploy_production"] == "manual"
    assert state["production_smoke_tests"] == "created"
    assert pipeline.status == "manual"
    assert envs["production"].deployments[0].status == "created"
    assert pipeline.advance(at(9000), Recorder()) is None  # nothing moves by itself

    job = pipeline.job("deploy_production")
    assert job is not None and job.playable
    pipeline.play(job, HUMAN, at(9000))
    pipeline.advance(at(9000), Recorder())
    assert job.status == "pending" and job.user == HUMAN
    pipeline.advance(at(12000), Recorder())
    assert pipeline.status == "success"
    assert envs["production"].deployments[0].status == "success"


def test_a_failing_job_fails_the_pipeline_and_skips_what_waits_for_it() -> None:
    pipeline, envs = build(fails="integration_tests")
    pipeline.advance(at(7200), Recorder())
    state = statuses(pipeline)
    assert state["integration_tests"] == "failed"
    assert state["unit_tests"] == "success"  # siblings that do not wait for it finish
    for later in (
        "deploy_staging",
        "staging_smoke_tests",
        "deploy_production",
        "production_smoke_tests",
    ):
        assert state[later] == "skipped"
    assert pipeline.status == "failed"
    assert [d.status for d in envs["staging"].deployments] == ["skipped"]
    failed = pipeline.job("integration_tests")
    assert failed is not None and failed.failure_reason == "script_failure"


def test_a_failed_deploy_job_fails_its_deployment() -> None:
    pipeline, envs = build(fails="deploy_production")
    pipeline.advance(at(7200), Recorder())
    assert envs["production"].deployments[0].status == "failed"
    assert envs["staging"].deployments[0].status == "success"
    assert statuses(pipeline)["production_smoke_tests"] == "skipped"


def test_canceling_a_running_job_cancels_the_pipeline_and_skips_the_rest() -> None:
    pipeline, _ = build()
    pipeline.advance(at(30), Recorder())
    lint = pipeline.job("lint")
    assert lint is not None
    assert pipeline.cancel_job(lint, at(30))
    pipeline.advance(at(7200), Recorder())
    assert lint.status == "canceled"
    assert statuses(pipeline)["build"] == "skipped"
    assert pipeline.status == "canceled"


def test_composite_status_follows_gitlab() -> None:
    assert composite_status([("success", False), ("skipped", False)]) == "success"
    assert composite_status([("failed", True), ("success", False)]) == "success"
    assert composite_status([("success", False), ("manual", False), ("created", False)]) == "manual"
    assert composite_status([("success", False), ("manual", True)]) == "success"
    assert composite_status([("running", False), ("failed", False)]) == "running"
    assert composite_status([("pending", False), ("created", False)]) == "pending"
    assert composite_status([("failed", False), ("skipped", False)]) == "failed"
    assert composite_status([("canceled", False), ("success", False)]) == "canceled"
