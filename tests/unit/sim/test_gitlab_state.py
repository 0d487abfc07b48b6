"""The world's GitLab: a deterministic history, the scenario's situations, and life after start."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from cockpit.sim import scenario as scenarios
from cockpit.sim.clock import SimClock
from cockpit.sim.gitlab import entities
from cockpit.sim.gitlab.repository import Person
from cockpit.sim.gitlab.state import GitLabState
from tests.fake_world import FakeWorld

ONCALL = Person(1, "oncall", "On-call Engineer")


@pytest.fixture(scope="module")
def demo() -> FakeWorld:
    """The demo world, read-only (tests that change it build their own)."""
    return FakeWorld("demo")


def fingerprint(gitlab: GitLabState) -> list[tuple[object, ...]]:
    rows: list[tuple[object, ...]] = []
    for project in gitlab.projects:
        rows.append((project.id, project.path, tuple(c.sha for c in project.repo.commits)))
        for pipeline in project.pipelines:
            rows.append(
                (
                    pipeline.id,
                    pipeline.status,
                    pipeline.created_at,
                    tuple(j.id for j in pipeline.jobs),
                )
            )
        for deployment in project.deployments.values():
            rows.append((deployment.id, deployment.iid, deployment.status, deployment.sha))
    return rows


def test_same_seed_same_history_different_seed_different_history(demo: FakeWorld) -> None:
    again = FakeWorld("demo", seed=7)
    other = FakeWorld("demo", seed=8)
    assert fingerprint(again.gitlab) == fingerprint(demo.gitlab)
    assert fingerprint(other.gitlab) != fingerprint(demo.gitlab)
    assert again.gitlab.deployed("checkout", "production") == demo.gitlab.deployed(
        "checkout", "production"
    )
    assert other.gitlab.deployed("checkout", "production") != demo.gitlab.deployed(
        "checkout", "production"
    )


def test_every_commit_is_registered_as_a_version(demo: FakeWorld) -> None:
    for project in demo.gitlab.projects:
        for commit in project.repo.commits:
            assert demo.versions.get(project.name, commit.sha) is not None, (
                project.name,
                commit.sha,
            )


def test_history_spans_the_configured_days_at_about_the_configured_rate(demo: FakeWorld) -> None:
    start = demo.clock.now()
    for project in demo.gitlab.projects:
        spec = project.spec
        created = [p.created_at for p in project.pipelines]
        assert min(created) >= start - timedelta(days=spec.history_days)
        assert max(created) < start
        expected = spec.history_days * spec.deploys_per_week / 7
        assert len(project.pipelines) >= min(4, expected) * 0.9
        assert len(project.pipelines) <= max(4, expected) * 1.1 + 1
        deployed = demo.gitlab.deployed(project.name, "production")
        assert len(deployed) >= len(project.pipelines) * 0.6, project.name


def test_commits_precede_their_pipelines_and_deploys_happen_in_working_hours(
    demo: FakeWorld,
) -> None:
    weekday_hours = 0
    total = 0
    for project in demo.gitlab.projects:
        for pipeline in project.pipelines:
            assert pipeline.commit.created_at < pipeline.created_at
            total += 1
            weekday_hours += (
                pipeline.created_at.weekday() < 5 and 8 <= pipeline.created_at.hour < 19
            )
    assert weekday_hours / total > 0.9


def test_some_deploys_fail_and_some_are_rolled_back_by_retrying_an_old_deploy_job(
    demo: FakeWorld,
) -> None:
    failed = rollbacks = 0
    for project in demo.gitlab.projects:
        env = project.environments["production"]
        for deployment in env.deployments:
            failed += deployment.status == "failed"
            # A rollback re-runs an old pipeline's deploy job: the job is newer than its pipeline.
            retried = deployment.job.created_at > deployment.job.pipeline.created_at
            if deployment.status == "success" and retried:
                rollbacks += 1
                earlier = [
                    d for d in env.deployments if d.id < deployment.id and d.sha == deployment.sha
                ]
                assert earlier and earlier[0].status == "success"
    assert failed >= 3
    assert rollbacks >= 1


@pytest.mark.parametrize("days_later", range(0, 14, 3))
def test_payments_always_has_an_incident_to_restore_from(days_later: int) -> None:
    """``incidents = 1``: whatever day the world starts on, DORA has a failure and a
    restore to measure for payments production (``cockpit dora payments``)."""
    start = SimClock(manual=True).start + timedelta(days=days_later, hours=5 * days_later)
    world = FakeWorld("healthy", clock=SimClock(manual=True, start=start))
    project = world.gitlab.project_by_name("payments")
    statuses = [d.status for d in project.environments["production"].deployments]
    assert "failed" in statuses
    assert "success" in statuses[statuses.index("failed") :]


def test_failed_pipeline_situation(demo: FakeWorld) -> None:
    search = demo.gitlab.project_by_name("search")
    latest = search.pipelines[-1]
    assert latest.status == "failed"
    failed = [j.name for j in latest.current_jobs() if j.status == "failed"]
    assert failed == ["integration_tests"]
    assert latest.sha not in demo.gitlab.deployed("search", "staging")
    assert latest.sha not in demo.gitlab.deployed("search", "production")
    assert latest.finished_at is not None and latest.finished_at < demo.clock.now()


def test_manual_gate_situation(demo: FakeWorld) -> None:
    payments = demo.gitlab.project_by_name("payments")
    latest = payments.pipelines[-1]
    assert latest.status == "manual"
    job = latest.job("deploy_production")
    assert job is not None and job.status == "manual"
    assert demo.gitlab.deployed("payments", "staging")[-1] == latest.sha
    assert demo.gitlab.deployed("payments", "production")[-1] != latest.sha
    pending = payments.environments["production"].deployments[-1]
    assert pending.status == "created" and pending.job is job


def test_candidate_situation(demo: FakeWorld) -> None:
    env = demo.scenario.service("checkout").env("production")
    checkout = demo.gitlab.project_by_name("checkout")
    latest = checkout.pipelines[-1]
    deployed = demo.gitlab.deployed("checkout", "production")
    assert deployed[-1] == latest.sha
    assert deployed[-2] != latest.sha
    assert latest.status == "success"
    assert latest.finished_at is not None
    assert timedelta(minutes=10) < demo.clock.now() - latest.finished_at < timedelta(minutes=20)
    # The build misbehaves under production's traffic only; in staging it looked fine.
    version = demo.versions.get("checkout", latest.sha, "production")
    assert version is not None and version.profile == env.candidate
    staging = demo.versions.get("checkout", latest.sha, "staging")
    assert staging is not None
    assert staging.profile == env.stable != env.candidate
    previous = demo.versions.get("checkout", deployed[-2])
    assert previous is not None and previous.profile == env.stable


def test_recent_migrations_land_after_the_previous_production_deployment(demo: FakeWorld) -> None:
    orders = demo.gitlab.project_by_name("orders")
    spec = demo.scenario.service("orders")
    deployed = demo.gitlab.deployed("orders", "production")
    previous, current = orders.repo.get(deployed[-2]), orders.repo.get(deployed[-1])
    assert previous is not None and current is not None
    commits, diffs = orders.repo.compare(previous, current, straight=False)
    recent = [path for path, _ in spec.migrations[-spec.recent_migrations :]]
    assert [d.new_path for d in diffs if d.new_path.startswith("db/migrate/")] == recent
    assert len(commits) == len(recent)  # each migration in its own commit
    contract = next(d for d in diffs if "drop_legacy_state" in d.new_path)
    assert contract.new_file and "+    remove_column :orders, :legacy_state" in contract.diff
    older = spec.migrations[0][0]
    assert orders.repo.file_at(older, previous) is not None  # older ones shipped before


def test_every_project_has_a_small_realistic_tree(demo: FakeWorld) -> None:
    for project in demo.gitlab.projects:
        tree = project.repo.tree(project.repo.head)
        for path in (".gitlab-ci.yml", "README.md", "Dockerfile", "deploy.sh", "Gemfile"):
            assert path in tree, (project.name, path)
        ci_file = project.repo.file_at(".gitlab-ci.yml", project.repo.head)
        assert ci_file is not None and ci_file.content == project.ci_yaml


def test_services_in_a_situation_hold_still_while_the_others_live(demo: FakeWorld) -> None:
    world = FakeWorld("demo")
    held = {s.service for s in world.scenario.situations}
    before = {p.name: len(p.pipelines) for p in world.gitlab.projects}
    world.advance(12 * 3600, step=30)
    after = {p.name: len(p.pipelines) for p in world.gitlab.projects}
    assert all(after[name] == before[name] for name in held)
    grew = [name for name in after if after[name] > before[name]]
    assert len(grew) >= 3
    deployed_services = {service for service, _, _, _ in world.kube.deploys}
    assert deployed_services and not deployed_services & held
    for service, environment, sha, _ in world.kube.deploys:
        assert world.versions.get(service, sha) is not None
        project = world.gitlab.project_by_name(service)
        assert any(d.sha == sha for d in project.environments[environment].deployments)


def test_a_running_pipeline_deploys_through_the_cluster_after_start() -> None:
    base = scenarios.load("healthy")
    cart = replace(base.service("cart"), pipeline="running")
    scenario = replace(
        base,
        services=tuple(cart if s.name == "cart" else s for s in base.services),
        situations=(scenarios.Situation("cart", "production", ()),),
    )
    world = FakeWorld(scenario)
    latest = world.gitlab.project_by_name("cart").pipelines[-1]
    assert latest.status == "running"
    assert not [d for d in world.kube.deploys if d[0] == "cart"]
    world.advance(3600, step=5)
    assert latest.status == "success"
    cart_deploys = [(env, sha) for service, env, sha, _ in world.kube.deploys if service == "cart"]
    assert cart_deploys == [("staging", latest.sha), ("production", latest.sha)]
    assert world.gitlab.deployed("cart", "production")[-1] == latest.sha


def test_pressing_play_deploys_production_and_moves_the_deployment(demo: FakeWorld) -> None:
    world = FakeWorld("demo")
    gitlab = world.gitlab
    payments = gitlab.project_by_name("payments")
    job = payments.pipelines[-1].job("deploy_production")
    assert job is not None
    deployment = job.deployment
    assert deployment is not None
    gitlab.play(job, ONCALL, world.clock.now())
    assert job.status == "pending" and deployment.status == "created"
    world.advance(30, step=1)
    assert job.status == "running" and deployment.status == "running"
    assert world.kube.deploys[-1][:3] == ("payments", "production", job.pipeline.sha)
    world.advance(600, step=5)
    assert deployment.status == "success"
    assert payments.environments["production"].last_deployment is deployment
    assert gitlab.deployed("payments", "production")[-1] == job.pipeline.sha


def test_retrying_an_old_deploy_job_rolls_back_with_a_new_job_and_deployment() -> None:
    world = FakeWorld("demo")
    gitlab = world.gitlab
    checkout = gitlab.project_by_name("checkout")
    env = checkout.environments["production"]
    good = [d for d in env.deployments if d.status == "success"]
    previous = good[-2]
    new_job = gitlab.retry(checkout, previous.job, ONCALL, world.clock.now())
    assert new_job.id != previous.job.id and new_job.id > max(checkout.jobs_by_id) - 1
    assert previous.job.retried
    rollback = new_job.deployment
    assert rollback is not None and rollback.id > previous.id and rollback.sha == previous.sha
    world.advance(600, step=5)
    assert rollback.status == "success"
    assert gitlab.deployed("checkout", "production")[-1] == previous.sha
    assert ("checkout", "production", previous.sha) in [d[:3] for d in world.kube.deploys]


def test_a_step_with_nothing_due_does_no_work(demo: FakeWorld) -> None:
    world = FakeWorld("demo")
    gitlab = world.gitlab
    wake = gitlab._wake_at
    assert wake > world.clock.now()
    # Between now and the next planned happening, stepping changes nothing.
    before = fingerprint(gitlab)
    gitlab.step(world.clock.now() + (wake - world.clock.now()) / 2)
    assert fingerprint(gitlab) == before


def test_same_seed_gives_byte_identical_answers_after_living_for_a_while() -> None:
    def answers(world: FakeWorld) -> str:
        world.advance(4 * 3600, step=10)
        now = world.clock.now()
        out = []
        for project in world.gitlab.projects:
            out += [
                entities.pipeline(p, "http://x", project.path, now) for p in project.pipelines[-5:]
            ]
            out += [
                entities.deployment(d, "http://x", project.path, now)
                for d in list(project.deployments.values())[-5:]
            ]
        return json.dumps(out)

    assert answers(FakeWorld("healthy")) == answers(FakeWorld("healthy"))
