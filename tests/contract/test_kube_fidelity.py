"""What the simulated apiserver sends has the shape of what real apiservers sent.

Each test compares a payload captured from a real cluster (the shared fixtures) with
the simulator's answer to the same kind of request, field by field
(:func:`tests.fidelity.differences`), and checks the values clients branch on.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.sim.kube.store import DEPLOYMENT
from tests.contract.kube_world import RunningKube, serve_kube_world
from tests.fidelity import shape_differences
from tests.helpers import load_fixture

pytestmark = pytest.mark.asyncio

DEPLOYMENTS = "/apis/apps/v1/namespaces/production/deployments"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    async with serve_kube_world(tmp_path) as running:
        yield running


@pytest.fixture
async def http(kube: RunningKube) -> AsyncIterator[httpx.AsyncClient]:
    async with kube.http() as client:
        yield client


def stream_lines(name: str) -> list[dict[str, Any]]:
    text: str = load_fixture(f"kubernetes/{name}")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


async def watch_events(
    http: httpx.AsyncClient, path: str, params: dict[str, str], count: int
) -> list[dict[str, Any]]:
    """The first ``count`` events of a watch (or all of them if it ends sooner)."""
    events: list[dict[str, Any]] = []

    async def read() -> None:
        async with http.stream("GET", path, params={"watch": "true", **params}) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/json"
            async for line in response.aiter_lines():
                if line.strip():
                    events.append(json.loads(line))
                if len(events) == count:
                    return

    await asyncio.wait_for(read(), 10)
    return events


async def test_not_found_is_a_real_not_found(http: httpx.AsyncClient) -> None:
    response = await http.get("/api/v1/namespaces/production/pods/grafana")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    ours = response.json()
    assert shape_differences(load_fixture("kubernetes/status-404-notfound.json"), ours) == []
    assert ours["message"] == 'pods "grafana" not found'
    assert ours["details"] == {"name": "grafana", "kind": "pods"}


async def test_already_exists_is_a_real_already_exists(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    existing = kube.store.get(DEPLOYMENT, "production", "checkout")
    del existing["metadata"]["resourceVersion"]
    response = await http.post(DEPLOYMENTS, json=existing)
    assert response.status_code == 409
    ours = response.json()
    assert shape_differences(load_fixture("kubernetes/status-409-alreadyexists.json"), ours) == []
    assert ours["reason"] == "AlreadyExists"
    assert ours["message"] == 'deployments.apps "checkout" already exists'


async def test_stale_update_is_a_conflict_shaped_like_a_real_409(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    stale = (await http.get(f"{DEPLOYMENTS}/solo")).json()
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    stale["spec"]["replicas"] = 5
    response = await http.put(f"{DEPLOYMENTS}/solo", json=stale)
    assert response.status_code == 409
    ours = response.json()
    assert shape_differences(load_fixture("kubernetes/status-409-alreadyexists.json"), ours) == []
    assert ours["reason"] == "Conflict"
    assert ours["message"] == (
        'Operation cannot be fulfilled on deployments.apps "solo": the object has been '
        "modified; please apply your changes to the latest version and try again"
    )
    assert kube.store.get(DEPLOYMENT, "production", "solo")["spec"]["replicas"] == 3


async def test_too_old_exact_list_is_a_real_410(kube: RunningKube, http: httpx.AsyncClient) -> None:
    old = kube.store.resource_version
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    response = await http.get(
        DEPLOYMENTS, params={"resourceVersion": old, "resourceVersionMatch": "Exact"}
    )
    assert response.status_code == 410
    ours = response.json()
    assert shape_differences(load_fixture("kubernetes/status-410-expired-list.json"), ours) == []
    assert ours == load_fixture("kubernetes/status-410-expired-list.json")


async def test_bad_token_is_a_real_401(kube: RunningKube) -> None:
    async with kube.http(token="not-a-valid-token") as stranger:
        response = await stranger.get(DEPLOYMENTS)
    assert response.status_code == 401
    assert response.json() == load_fixture("kubernetes/status-401-unauthorized-gke-recorded.json")


async def test_expired_watch_sends_a_real_error_event(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    old = kube.store.resource_version
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    kube.store.compact()
    events = await watch_events(http, DEPLOYMENTS, {"resourceVersion": old}, count=2)
    assert len(events) == 1, "the stream ends after the ERROR event"
    recorded = load_fixture("kubernetes/watch-event-error-410-gone-recorded.json")
    documented = stream_lines("watch-stream-pods.ndjson")[3]
    assert shape_differences(recorded, events[0]) == []
    assert shape_differences(documented, events[0]) == []
    error = events[0]["object"]
    assert (error["code"], error["reason"]) == (410, "Expired")
    assert error["message"] == f"too old resource version: {old} ({kube.store.resource_version})"


async def test_watch_events_have_the_documented_shapes(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    added, modified, bookmark, _error = stream_lines("watch-stream-pods.ndjson")
    since = kube.store.resource_version
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    replayed = await watch_events(
        http,
        DEPLOYMENTS,
        {"resourceVersion": since, "allowWatchBookmarks": "true", "timeoutSeconds": "1"},
        count=3,
    )
    assert [event["type"] for event in replayed] == ["MODIFIED", "BOOKMARK"]
    assert shape_differences(modified, replayed[0]) == []
    assert shape_differences(bookmark, replayed[1]) == []
    assert replayed[1]["object"] == {
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "metadata": {"resourceVersion": kube.store.resource_version},
    }
    fresh = await watch_events(http, DEPLOYMENTS, {}, count=2)
    assert [event["type"] for event in fresh] == ["ADDED", "ADDED"]
    assert shape_differences(added, fresh[0]) == []


async def test_served_objects_carry_the_metadata_a_real_server_sets(
    http: httpx.AsyncClient,
) -> None:
    real = load_fixture("kubernetes/deployment-complete.json")
    ours = (await http.get(f"{DEPLOYMENTS}/checkout")).json()
    # selfLink is gone from apiservers since 1.20; annotations and labels are data.
    ignore = ("$.metadata.selfLink", "$.metadata.annotations.*", "$.metadata.labels.*")
    assert (
        shape_differences(real["metadata"], ours["metadata"], ignore=ignore, path="$.metadata")
        == []
    )
    assert ours["metadata"]["generation"] == 1
    assert ours["metadata"]["creationTimestamp"] == "2026-11-26T03:00:00Z"


async def test_list_items_of_built_in_kinds_carry_no_kind(http: httpx.AsyncClient) -> None:
    listed = (await http.get(DEPLOYMENTS)).json()
    assert (listed["kind"], listed["apiVersion"]) == ("DeploymentList", "apps/v1")
    assert set(listed["metadata"]) == {"resourceVersion"}
    assert all("kind" not in item and "apiVersion" not in item for item in listed["items"])
    rollouts = (await http.get("/apis/argoproj.io/v1alpha1/rollouts")).json()
    assert all(item["kind"] == "Rollout" for item in rollouts["items"])
