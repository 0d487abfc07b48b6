"""List filters and validation: DeploymentsFinder's 400 rules, job scopes, pagination."""

from __future__ import annotations

import pytest
from multidict import MultiDict

from cockpit.sim.gitlab import finders
from cockpit.sim.gitlab.finders import BadRequest
from tests.fake_world import FakeWorld


@pytest.fixture(scope="module")
def world() -> FakeWorld:
    return FakeWorld("demo")


def deployments(world: FakeWorld, **query: str) -> list[finders.Deployment]:
    return finders.deployments(
        list(world.gitlab.project_by_name("api").deployments.values()), query
    )


PAIRED = "`finished_at` filter and `finished_at` sorting must be paired"
SUCCESS_ONLY = "`finished_at` filter must be combined with `success` status filter."


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            {
                "updated_after": "2026-11-01T00:00:00Z",
                "finished_after": "2026-11-01T00:00:00Z",
                "order_by": "finished_at",
                "status": "success",
            },
            "Both `updated_at` filter and `finished_at` filter can not be specified",
        ),
        ({"finished_after": "2026-11-01T00:00:00Z", "status": "success"}, PAIRED),
        ({"order_by": "finished_at", "status": "success"}, PAIRED),
        ({"order_by": "finished_at"}, PAIRED),
        (
            {
                "finished_after": "2026-11-01T00:00:00Z",
                "order_by": "finished_at",
                "status": "failed",
            },
            SUCCESS_ONLY,
        ),
        ({"finished_before": "2026-11-01T00:00:00Z", "order_by": "finished_at"}, SUCCESS_ONLY),
    ],
)
def test_deployments_finder_refuses_inefficient_queries(
    world: FakeWorld, query: dict[str, str], message: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        deployments(world, **query)
    assert caught.value.body == {"message": f"400 Bad request - {message}"}


@pytest.mark.parametrize(
    ("key", "value"), [("order_by", "ref"), ("sort", "up"), ("status", "done")]
)
def test_deployments_reject_unknown_values_like_grape(
    world: FakeWorld, key: str, value: str
) -> None:
    with pytest.raises(BadRequest) as caught:
        deployments(world, **{key: value})
    assert caught.value.body == {"error": f"{key} does not have a valid value"}


def test_deployments_sort_ascending_by_id_unless_told(world: FakeWorld) -> None:
    ids = [d.id for d in deployments(world)]
    assert ids == sorted(ids)
    last = deployments(
        world, environment="production", status="success", order_by="id", sort="desc"
    )
    assert last[0].environment.name == "production" and last[0].status == "success"
    assert last[0].sha == world.gitlab.deployed("api", "production")[-1]
    # created_at and iid sort like id.
    assert [d.id for d in deployments(world, order_by="created_at", sort="desc")] == sorted(
        ids, reverse=True
    )


def test_finished_at_window_with_success_status(world: FakeWorld) -> None:
    early = "2000-01-01T00:00:00Z"
    everything = deployments(world, status="success", order_by="finished_at", finished_after=early)
    finished = [d.finished_at for d in everything if d.finished_at is not None]
    assert len(finished) == len(everything) and finished == sorted(finished)
    middle = everything[len(everything) // 2].finished_at
    assert middle is not None
    after = deployments(
        world, status="success", order_by="finished_at", finished_after=middle.isoformat()
    )
    assert after and all(d.finished_at is not None and d.finished_at >= middle for d in after)
    assert len(after) < len(everything)


def test_job_scopes_accept_one_or_many_and_reject_unknown() -> None:
    assert finders.job_scopes(MultiDict([("scope[]", "manual"), ("scope[]", "failed")])) == {
        "manual",
        "failed",
    }
    assert finders.job_scopes(MultiDict([("scope", "running")])) == {"running"}
    assert finders.job_scopes(MultiDict()) is None
    with pytest.raises(BadRequest) as caught:
        finders.job_scopes(MultiDict([("scope[]", "bogus")]))
    assert caught.value.body == {"message": "Scope contains invalid value(s)"}


def test_pagination_clamps_per_page_and_counts_pages() -> None:
    page = finders.paginate(list(range(250)), {"per_page": "500", "page": "3"})
    assert page.per_page == 100 and page.total_pages == 3
    assert page.items == list(range(200, 250))
    assert page.next_page is None and page.prev_page == 2
    first = finders.paginate(list(range(5)), {})
    assert first.per_page == 20 and first.next_page is None and first.total == 5


def test_pipelines_filter_and_order(world: FakeWorld) -> None:
    project = world.gitlab.project_by_name("search")
    failed = finders.pipelines(project.pipelines, {"status": "failed"}, lambda p: p.user.username)
    assert failed and all(p.status == "failed" for p in failed)
    ids = [p.id for p in finders.pipelines(project.pipelines, {}, lambda p: p.user.username)]
    assert ids == sorted(ids, reverse=True)
    with pytest.raises(BadRequest):
        finders.pipelines(project.pipelines, {"order_by": "sha"}, lambda p: p.user.username)
