"""python-gitlab, unchanged, does everything cockpit asks of GitLab against the simulator.

Each GitLab call cockpit uses (pipelines, jobs, environments, deployments, compare,
files, CI lint, feature flags) goes over HTTP with the real library
(in a thread: it is synchronous), and each test checks the state that results.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import gitlab
import pytest
from gitlab.exceptions import GitlabAuthenticationError, GitlabCiLintError, GitlabError

from cockpit.sim.faults import Fault
from tests.contract.gitlab_sim import ServedGitLab, serve_gitlab
from tests.fake_world import FakeWorld

T = TypeVar("T")


@pytest.fixture
async def sim() -> AsyncIterator[ServedGitLab]:
    async with serve_gitlab(FakeWorld("demo")) as served:
        yield served


def client(sim: ServedGitLab, token: str | None = None) -> gitlab.Gitlab:
    return gitlab.Gitlab(
        sim.url, private_token=token or sim.tokens.gitlab, timeout=10, retry_transient_errors=False
    )


async def run(call: Callable[[], T]) -> T:
    return await asyncio.to_thread(call)


def project(sim: ServedGitLab, name: str, token: str | None = None) -> Any:
    return client(sim, token).projects.get(f"shop/{name}", lazy=True)


async def test_user_and_version(sim: ServedGitLab) -> None:
    gl = client(sim)
    await run(gl.auth)
    assert gl.user is not None and gl.user.username == "oncall"
    version, _ = await run(gl.version)
    assert version.startswith("17.")


async def test_projects_by_path_and_by_id(sim: ServedGitLab) -> None:
    gl = client(sim)
    by_path = await run(lambda: gl.projects.get("shop/checkout"))
    by_id = await run(lambda: gl.projects.get(by_path.id))
    assert by_id.path_with_namespace == "shop/checkout"
    assert by_id.default_branch == "main"


async def test_list_and_search_projects(sim: ServedGitLab) -> None:
    gl = client(sim)
    every = await run(lambda: gl.projects.list(get_all=True, per_page=5))
    assert len(every) == 12  # over three pages, followed by the library
    assert [p.id for p in every] == sorted((p.id for p in every), reverse=True)
    found = await run(lambda: gl.projects.list(search="checkout", get_all=True))
    assert [p.path_with_namespace for p in found] == ["shop/checkout"]
    by_name = await run(lambda: gl.projects.list(order_by="name", sort="asc", get_all=True))
    assert by_name[0].name == "api" and by_name[-1].name == "web"
    with pytest.raises(GitlabError) as refused:
        await run(lambda: gl.projects.list(order_by="colour", get_all=True))
    assert refused.value.response_code == 400


async def test_list_get_and_latest_pipelines(sim: ServedGitLab) -> None:
    search = project(sim, "search")
    items = await run(
        lambda: search.pipelines.list(
            ref="main", order_by="id", sort="desc", per_page=20, get_all=False
        )
    )
    assert len(items) == 20
    assert [p.id for p in items] == sorted((p.id for p in items), reverse=True)
    assert "duration" not in items[0].attributes  # list items are thin
    failed = await run(lambda: search.pipelines.list(status="failed", get_all=True))
    assert failed and {p.status for p in failed} == {"failed"}
    latest = await run(lambda: search.pipelines.latest(ref="main"))
    assert latest.id == items[0].id and latest.status == "failed"
    full = await run(lambda: search.pipelines.get(latest.id))
    assert full.detailed_status["group"] == "failed"
    assert full.user["username"] and isinstance(full.duration, int)


async def test_pipeline_jobs_and_bridges(sim: ServedGitLab) -> None:
    search = project(sim, "search")
    latest = await run(lambda: search.pipelines.latest(ref="main"))
    jobs = await run(lambda: latest.jobs.list(include_retried=False, get_all=True))
    by_name = {j.name: j for j in jobs}
    assert by_name["integration_tests"].status == "failed"
    assert by_name["integration_tests"].failure_reason == "script_failure"
    assert by_name["deploy_production"].status == "skipped"
    assert [j.id for j in jobs] == sorted((j.id for j in jobs), reverse=True)
    assert await run(lambda: latest.bridges.list(get_all=True)) == []


async def test_retrying_a_failed_pipeline_runs_the_failed_job_again_and_then_deploys(
    sim: ServedGitLab,
) -> None:
    search = project(sim, "search")
    latest = await run(lambda: search.pipelines.latest(ref="main"))
    failed_job = next(
        j for j in await run(lambda: latest.jobs.list(get_all=True)) if j.status == "failed"
    )
    await run(latest.retry)
    jobs = await run(lambda: latest.jobs.list(get_all=True))
    rerun = next(j for j in jobs if j.name == "integration_tests")
    assert rerun.id != failed_job.id and rerun.status == "pending"
    assert {j.name: j.status for j in jobs}["deploy_staging"] == "created"
    with_retried = await run(lambda: latest.jobs.list(include_retried=True, get_all=True))
    assert failed_job.id in {j.id for j in with_retried}
    sim.world.advance(3600)
    done = await run(lambda: search.pipelines.get(latest.id))
    assert done.status == "success"
    assert ("search", "production", latest.sha) in [d[:3] for d in sim.world.kube.deploys]


async def test_cancel_a_running_pipeline(sim: ServedGitLab) -> None:
    search = project(sim, "search")
    latest = await run(lambda: search.pipelines.latest(ref="main"))
    await run(latest.retry)
    assert (await run(lambda: search.pipelines.get(latest.id))).status == "running"
    sim.world.advance(30, step=1)
    await run(latest.cancel)
    after = await run(lambda: search.pipelines.get(latest.id))
    assert after.status == "canceled"
    jobs = {j.name: j.status for j in await run(lambda: after.jobs.list(get_all=True))}
    assert jobs["integration_tests"] == "canceled" and jobs["deploy_production"] == "canceled"
    sim.world.advance(3600)
    assert not [d for d in sim.world.kube.deploys if d[0] == "search"]


async def test_play_the_manual_production_job_then_the_deployment_runs_and_succeeds(
    sim: ServedGitLab,
) -> None:
    payments = project(sim, "payments")
    manual = await run(lambda: list(payments.jobs.list(scope=["manual"], iterator=True)))
    assert [j.name for j in manual] == ["deploy_production"]
    job = payments.jobs.get(manual[0].id, lazy=True)
    await run(job.play)
    fresh = await run(lambda: payments.jobs.get(manual[0].id))
    assert fresh.status == "pending" and fresh.id == manual[0].id
    assert fresh.user["username"] == "oncall"
    sim.world.advance(30, step=1)
    running = await run(
        lambda: payments.deployments.list(
            environment="production", order_by="id", sort="desc", per_page=1, get_all=False
        )
    )
    assert running[0].status == "running" and running[0].deployable["id"] == fresh.id
    sim.world.advance(600)
    done = await run(lambda: payments.deployments.get(running[0].id))
    assert done.status == "success"
    assert sim.world.kube.deploys[-1][:3] == ("payments", "production", fresh.pipeline["sha"])


async def test_playing_a_job_that_is_not_manual_is_refused(sim: ServedGitLab) -> None:
    checkout = project(sim, "checkout")
    jobs = await run(lambda: checkout.jobs.list(scope=["success"], per_page=1, get_all=False))
    with pytest.raises(gitlab.exceptions.GitlabJobPlayError) as caught:
        await run(checkout.jobs.get(jobs[0].id, lazy=True).play)
    assert caught.value.response_code == 400
    assert "Unplayable Job" in caught.value.error_message


async def test_rollback_by_retrying_the_previous_deploy_job(sim: ServedGitLab) -> None:
    checkout = project(sim, "checkout")
    good = await run(
        lambda: checkout.deployments.list(
            environment="production",
            status="success",
            order_by="id",
            sort="desc",
            per_page=5,
            get_all=False,
        )
    )
    previous = good[1]
    response = await run(checkout.jobs.get(previous.deployable["id"], lazy=True).retry)
    assert response["id"] != previous.deployable["id"] and response["status"] == "pending"
    sim.world.advance(600)
    latest = await run(
        lambda: checkout.deployments.list(
            environment="production", order_by="id", sort="desc", per_page=1, get_all=False
        )
    )
    assert latest[0].id > good[0].id
    assert latest[0].sha == previous.sha and latest[0].status == "success"
    assert latest[0].deployable["id"] == response["id"]
    envs = await run(lambda: checkout.environments.list(name="production"))
    env = await run(lambda: checkout.environments.get(envs[0].id))
    assert env.last_deployment["id"] == latest[0].id


async def test_cancel_a_running_job(sim: ServedGitLab) -> None:
    payments = project(sim, "payments")
    manual = await run(lambda: payments.jobs.list(scope=["manual"], get_all=True))
    job = payments.jobs.get(manual[0].id, lazy=True)
    await run(job.play)
    sim.world.advance(30, step=1)
    response = await run(job.cancel)
    assert response["status"] == "canceled"
    assert (await run(lambda: payments.jobs.get(manual[0].id))).status == "canceled"
    assert (await run(job.trace)).rstrip().endswith(b"ERROR: Job failed: canceled\x1b[0;m")


async def test_job_log_is_empty_before_start_and_grows_while_running(sim: ServedGitLab) -> None:
    payments = project(sim, "payments")
    manual = await run(lambda: payments.jobs.list(scope=["manual"], get_all=True))
    job = payments.jobs.get(manual[0].id, lazy=True)
    assert await run(job.trace) == b""
    await run(job.play)
    sim.world.advance(40, step=1)
    early = await run(job.trace)
    sim.world.advance(60, step=1)
    later = await run(job.trace)
    assert early and later.startswith(early) and len(later) > len(early)
    assert b"section_start:" in early and b"\x1b[" in early
    sim.world.advance(600)
    final = (await run(job.trace)).decode()
    assert "section_end:" in final and final.rstrip().endswith("Job succeeded\x1b[0;m")


async def test_environments_list_and_get(sim: ServedGitLab) -> None:
    checkout = project(sim, "checkout")
    envs = await run(lambda: checkout.environments.list(states="available", get_all=True))
    assert {e.name for e in envs} == {"staging", "production"}
    assert all("last_deployment" not in e.attributes for e in envs)
    production = next(e for e in envs if e.name == "production")
    full = await run(lambda: checkout.environments.get(production.id))
    assert full.last_deployment["status"] == "success"
    assert full.last_deployment["deployable"]["name"] == "deploy_production"
    assert full.tier == "production"


async def test_repository_compare_lists_the_migrations_shipped_since_the_previous_deploy(
    sim: ServedGitLab,
) -> None:
    orders = project(sim, "orders")
    good = await run(
        lambda: orders.deployments.list(
            environment="production",
            status="success",
            order_by="id",
            sort="desc",
            per_page=2,
            get_all=False,
        )
    )
    current, previous = good[0].sha, good[1].sha
    comparison = await run(lambda: orders.repository_compare(previous, current))
    paths = [d["new_path"] for d in comparison["diffs"]]
    assert [p for p in paths if p.startswith("db/migrate/")] == [
        "db/migrate/20261120101500_add_shipping_provider_to_orders.rb",
        "db/migrate/20261124164500_drop_legacy_state_from_orders.rb",
    ]
    assert len(comparison["commits"]) == 2 and comparison["commit"]["id"] == current
    backwards = await run(lambda: orders.repository_compare(current, previous))
    assert backwards["diffs"] == [] and backwards["commits"] == []
    straight = await run(lambda: orders.repository_compare(current, previous, straight=True))
    assert all(d["deleted_file"] for d in straight["diffs"])


async def test_repository_files(sim: ServedGitLab) -> None:
    orders = project(sim, "orders")
    ci_file = await run(lambda: orders.files.get(file_path=".gitlab-ci.yml", ref="main"))
    text = ci_file.decode().decode()
    assert "deploy_production:" in text
    raw = await run(lambda: orders.files.raw(file_path=".gitlab-ci.yml", ref="main"))
    assert raw.decode() == text
    migration = await run(
        lambda: orders.files.raw(
            file_path="db/migrate/20261124164500_drop_legacy_state_from_orders.rb", ref="main"
        )
    )
    assert b"remove_column :orders, :legacy_state" in migration
    with pytest.raises(gitlab.exceptions.GitlabGetError) as caught:
        await run(lambda: orders.files.get(file_path="no/such/file.rb", ref="main"))
    assert caught.value.response_code == 404


async def test_ci_lint_of_the_project_and_of_content(sim: ServedGitLab) -> None:
    payments = project(sim, "payments")
    result = await run(lambda: payments.ci_lint.get(include_jobs=True))
    assert result.valid is True
    assert ":deploy_production:" in result.merged_yaml
    production = next(j for j in result.jobs if j["name"] == "deploy_production")
    assert production["when"] == "manual" and production["allow_failure"] is False
    created = await run(lambda: payments.ci_lint.create({"content": "job:\n  script: [echo hi]\n"}))
    assert created.valid is True
    with pytest.raises(GitlabCiLintError):
        await run(
            lambda: payments.ci_lint.validate(
                {"content": "job:\n  stage: nowhere\n  script: [x]\n"}
            )
        )


async def test_feature_flags_list_get_toggle_create_delete(sim: ServedGitLab) -> None:
    checkout = project(sim, "checkout")
    flags = await run(lambda: checkout.feature_flags.list(get_all=True))
    assert {f.name: f.active for f in flags} == {"one-click-checkout": False, "apple-pay": True}
    flag = await run(lambda: checkout.feature_flags.get("apple-pay"))
    flag.active = False
    await run(flag.save)
    again = await run(lambda: checkout.feature_flags.get("apple-pay"))
    assert again.active is False and again.strategies == flag.strategies
    # Listed by name, as GitLab does, however recently a flag changed.
    listed = await run(lambda: checkout.feature_flags.list(get_all=True))
    assert [f.name for f in listed] == ["apple-pay", "one-click-checkout"]
    created = await run(
        lambda: checkout.feature_flags.create(
            {
                "name": "gift-cards",
                "version": "new_version_flag",
                "strategies": [{"name": "default", "parameters": {}}],
            }
        )
    )
    assert created.active is True and created.strategies[0]["scopes"][0]["environment_scope"] == "*"
    await run(lambda: checkout.feature_flags.delete("gift-cards"))
    names = {f.name for f in await run(lambda: checkout.feature_flags.list(get_all=True))}
    assert "gift-cards" not in names


async def test_feature_flag_update_merges_strategies(sim: ServedGitLab) -> None:
    checkout = project(sim, "checkout")
    before = await run(lambda: checkout.feature_flags.get("apple-pay"))
    kept = [s["id"] for s in before.strategies]
    await run(
        lambda: checkout.feature_flags.update(
            "apple-pay", {"strategies": [{"name": "userWithId", "parameters": {"userIds": "qa1"}}]}
        )
    )
    after = await run(lambda: checkout.feature_flags.get("apple-pay"))
    assert [s["id"] for s in after.strategies][: len(kept)] == kept
    assert after.strategies[-1]["name"] == "userWithId"


async def test_read_only_token_reads_but_cannot_write(sim: ServedGitLab) -> None:
    payments = project(sim, "payments", sim.tokens.gitlab_read_only)
    manual = await run(lambda: payments.jobs.list(scope=["manual"], get_all=True))
    assert manual
    with pytest.raises(GitlabError) as caught:
        await run(payments.jobs.get(manual[0].id, lazy=True).play)
    assert caught.value.response_code == 403
    assert caught.value.error_message == "403 Forbidden"
    flag = await run(lambda: payments.feature_flags.get("3ds2-challenge"))
    flag.active = False
    with pytest.raises(GitlabError) as caught:
        await run(flag.save)
    assert caught.value.response_code == 403
    assert (await run(lambda: payments.jobs.get(manual[0].id))).status == "manual"


async def test_a_bad_token_is_401(sim: ServedGitLab) -> None:
    with pytest.raises(GitlabAuthenticationError) as caught:
        await run(client(sim, "glpat-not-a-real-token").auth)
    assert caught.value.response_code == 401
    with pytest.raises(GitlabAuthenticationError):
        await run(lambda: project(sim, "checkout", "glpat-nope").pipelines.list(get_all=False))


async def test_an_unknown_project_is_404(sim: ServedGitLab) -> None:
    with pytest.raises(gitlab.exceptions.GitlabListError) as caught:
        await run(lambda: project(sim, "no-such-service").pipelines.list(get_all=False))
    assert caught.value.response_code == 404
    assert caught.value.error_message == "404 Project Not Found"


async def test_pagination_with_iterator_follows_link_headers(sim: ServedGitLab) -> None:
    api = project(sim, "api")
    pages = await run(lambda: api.jobs.list(iterator=True, per_page=50))
    assert (
        pages.total is not None and pages.total > 100 and pages.total_pages == -(-pages.total // 50)
    )
    ids = await run(lambda: [j.id for j in pages])
    assert len(ids) == len(set(ids)) == pages.total
    assert ids == sorted(ids, reverse=True)


async def test_rate_limited_requests_fail_after_the_allowed_retries(sim: ServedGitLab) -> None:
    sim.faults.set("gitlab", Fault(kind="rate_limit", retry_after=0))
    gl = gitlab.Gitlab(sim.url, private_token=sim.tokens.gitlab, timeout=10)
    with pytest.raises(GitlabError) as caught:
        await run(
            lambda: gl.projects.get("shop/api", lazy=True).pipelines.list(
                get_all=False, max_retries=1
            )
        )
    assert caught.value.response_code == 429
    sim.faults.set("gitlab", None)
    assert await run(lambda: gl.projects.get("shop/api", lazy=True).pipelines.list(get_all=False))
