"""The simulated GitLab answers in the shapes of real GitLab payloads, field for field.

Each object kind we serve is compared with a payload captured from GitLab (its docs
or client libraries' fixtures, in the shared fixtures folder): every key the real one
has, recursively, must be in ours with the same JSON type. Deliberate exceptions are
listed where they are made, with the reason.

Not compared: bridges (the simulated pipelines trigger no downstream pipelines, so
``/bridges`` is always an empty list), ``runner-jobs-running.json`` (the runners API,
which we do not serve) and the pipeline webhook payload (not REST).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.contract.gitlab_sim import ServedGitLab, serve_gitlab
from tests.fake_world import FakeWorld
from tests.fidelity import shape_differences
from tests.helpers import load_fixture


class Api:
    def __init__(self, sim: ServedGitLab, session: aiohttp.ClientSession) -> None:
        self.sim = sim
        self.session = session

    async def call(
        self, method: str, path: str, *, token: str | None = "rw", expect: int = 200, **kwargs: Any
    ) -> Any:
        headers = {}
        if token == "rw":
            headers["PRIVATE-TOKEN"] = self.sim.tokens.gitlab
        elif token == "ro":
            headers["Authorization"] = f"Bearer {self.sim.tokens.gitlab_read_only}"
        elif token:
            headers["PRIVATE-TOKEN"] = token
        async with self.session.request(
            method, f"{self.sim.url}/api/v4{path}", headers=headers, **kwargs
        ) as response:
            assert response.status == expect, (path, response.status, await response.text())
            return await response.json()

    async def get(self, path: str, **kwargs: Any) -> Any:
        return await self.call("GET", path, **kwargs)


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    async with serve_gitlab(FakeWorld("demo")) as sim, aiohttp.ClientSession() as session:
        yield Api(sim, session)


def same_shape(
    fixture: str, ours: Any, *, index: int | None = None, ignore: frozenset[str] = frozenset()
) -> None:
    reference = load_fixture(f"gitlab/{fixture}")
    if index is not None:
        reference = reference[index]
    assert shape_differences(reference, ours, ignore=ignore) == []


SEARCH = "/projects/shop%2Fsearch"
PAYMENTS = "/projects/shop%2Fpayments"
CHECKOUT = "/projects/shop%2Fcheckout"


async def test_pipelines(api: Api) -> None:
    items = await api.get(f"{SEARCH}/pipelines")
    same_shape("pipelines-list.json", items[0], index=0)
    success = next(p for p in items if p["status"] == "success")
    same_shape("pipeline-single-success.json", await api.get(f"{SEARCH}/pipelines/{success['id']}"))


async def test_jobs(api: Api) -> None:
    latest = await api.get(f"{SEARCH}/pipelines/latest")
    jobs = await api.get(f"{SEARCH}/pipelines/{latest['id']}/jobs")
    failed = next(j for j in jobs if j["status"] == "failed")
    same_shape("pipeline-jobs-list.json", failed, index=0)
    # The second captured job kept an artifacts archive (``artifacts_file``): ours is
    # the build job, which succeeded, so it has no ``failure_reason``.
    build = next(j for j in jobs if j["name"] == "build")
    same_shape("pipeline-jobs-list.json", build, index=1, ignore=frozenset({"$.failure_reason"}))


async def test_job_actions(api: Api) -> None:
    manual = await api.get(f"{PAYMENTS}/jobs", params={"scope[]": "manual"})
    played = await api.call("POST", f"{PAYMENTS}/jobs/{manual[0]['id']}/play")
    same_shape("job-play-response.json", played)
    api.sim.world.advance(60, step=1)  # the captured job was canceled while it ran
    canceled = await api.call("POST", f"{PAYMENTS}/jobs/{manual[0]['id']}/cancel", expect=201)
    assert canceled["status"] == "canceled"
    same_shape("job-cancel-response.json", canceled)
    retried = await api.call("POST", f"{PAYMENTS}/jobs/{manual[0]['id']}/retry", expect=201)
    assert retried["id"] != manual[0]["id"] and retried["status"] == "pending"
    same_shape("job-retry-response.json", retried)


async def test_environments(api: Api) -> None:
    envs = await api.get(f"{CHECKOUT}/environments")
    not_ours = frozenset({"$.auto_stop_at", "$.flux_resource_path"})
    same_shape("environments-list.json", envs[0], index=0, ignore=not_ours)
    assert "last_deployment" not in envs[0]
    production = next(e for e in envs if e["name"] == "production")
    single = await api.get(f"{CHECKOUT}/environments/{production['id']}")
    # The captured environment is a review app that stops by itself and is synced by
    # Flux; ours are long-lived and deployed from CI: both fields are null.
    not_ours = frozenset({"$.auto_stop_at", "$.flux_resource_path"})
    same_shape("environment-single-with-last-deployment.json", single, ignore=not_ours)


async def test_deployments(api: Api) -> None:
    items = await api.get(f"{CHECKOUT}/deployments", params={"order_by": "id", "sort": "desc"})
    same_shape("deployments-list.json", items[0], index=0)
    success = next(d for d in items if d["status"] == "success")
    same_shape("deployment-single.json", await api.get(f"{CHECKOUT}/deployments/{success['id']}"))


async def test_feature_flags(api: Api) -> None:
    flags = await api.get(f"{CHECKOUT}/feature_flags")
    # The third captured flag uses a GitLab user list (``user_list`` object); the
    # simulated flags have no user lists (``user_list: null``), so it is not compared.
    # A strategy's parameters depend on its name: the first captured one is
    # ``userWithId``, ours ``default``, so only the second compares parameters.
    same_shape(
        "feature-flags-list.json",
        flags[0],
        index=0,
        ignore=frozenset({"$.strategies[].parameters"}),
    )
    same_shape("feature-flags-list.json", flags[0], index=1)
    updated = await api.call("PUT", f"{CHECKOUT}/feature_flags/apple-pay", json={"active": True})
    same_shape("feature-flag-update-gradual-rollout.json", updated)


async def test_compare_and_files(api: Api) -> None:
    orders = "/projects/shop%2Forders"
    deployments = await api.get(
        f"{orders}/deployments",
        params={"environment": "production", "status": "success", "order_by": "id", "sort": "desc"},
    )
    comparison = await api.get(
        f"{orders}/repository/compare",
        params={"from": deployments[1]["sha"], "to": deployments[0]["sha"]},
    )
    same_shape("repository-compare.json", comparison)
    stored = await api.get(f"{orders}/repository/files/README.md", params={"ref": "main"})
    same_shape("repository-file-docs-example-content-dropped.json", stored)
    # The older client fixture serialised ``size`` as a string; current GitLab (the
    # docs example above) answers a number, as we do.
    same_shape("repository-file.json", stored, ignore=frozenset({"$.size"}))


async def test_lint(api: Api) -> None:
    valid = await api.get(f"{PAYMENTS}/ci/lint", params={"include_jobs": "true"})
    same_shape("ci-lint-project-valid.json", valid)
    # Our jobs use ``rules``, so ``only`` / ``except`` are null (the captured jobs used ``only``).
    reference_jobs = load_fixture("gitlab/ci-lint-merged-yaml-with-jobs.json")["jobs"]
    assert (
        shape_differences(reference_jobs[0], valid["jobs"][0], ignore=frozenset({"$.only"})) == []
    )
    invalid = await api.call(
        "POST", f"{PAYMENTS}/ci/lint", json={"content": "job:\n  stage: nowhere\n  script: [x]\n"}
    )
    assert invalid["valid"] is False
    same_shape("ci-lint-project-invalid.json", invalid)
    missing = await api.call("POST", f"{PAYMENTS}/ci/lint", json={}, expect=400)
    assert missing == load_fixture("gitlab/ci-lint-missing-content-error.json")


async def test_error_bodies(api: Api) -> None:
    assert await api.get("/user", token=None, expect=401) == load_fixture(
        "gitlab/error-401-unauthorized.json"
    )
    assert await api.get("/user", token="glpat-wrong", expect=401) == load_fixture(
        "gitlab/error-401-unauthorized.json"
    )
    not_found = await api.get("/projects/shop%2Fnope/pipelines", expect=404)
    assert not_found == load_fixture("gitlab/error-404-project-not-found.json")
    forbidden = await api.call("POST", f"{PAYMENTS}/pipelines/1/cancel", token="ro", expect=403)
    same_shape("error-403-forbidden-sudo.json", forbidden)
    assert forbidden == {"message": "403 Forbidden"}
    assert await api.get("/no/such/route", expect=404) == {"error": "404 Not Found"}


async def test_pagination_headers(api: Api) -> None:
    async with api.session.get(
        f"{api.sim.url}/api/v4/projects/shop%2Fapi/jobs",
        params={"per_page": "5", "page": "2", "scope[]": "success"},
        headers={"PRIVATE-TOKEN": api.sim.tokens.gitlab},
    ) as response:
        headers = response.headers
        assert len(await response.json()) == 5
    total = int(headers["X-Total"])
    assert headers["X-Page"] == "2" and headers["X-Per-Page"] == "5"
    assert headers["X-Prev-Page"] == "1" and headers["X-Next-Page"] == "3"
    assert int(headers["X-Total-Pages"]) == -(-total // 5)
    links = headers["Link"]
    for rel in ("prev", "next", "first", "last"):
        assert f'rel="{rel}"' in links
    assert "shop%2Fapi" in links and "scope%5B%5D=success" in links
