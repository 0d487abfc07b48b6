"""The simulated apiserver over HTTPS, request by request: what a client gets back.

Behaviour the real clients rarely show on their own (pagination, expiry, dry runs,
bookmarks, dropped watches, faults, apply, preconditions) checked at the HTTP level.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit.sim.faults import Fault
from cockpit.sim.kube.store import DEPLOYMENT, NAMESPACE, POD, REPLICASET, ROLLOUT
from tests.contract.kube_world import RunningKube, serve_kube_world
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio

DEPLOYMENTS = "/apis/apps/v1/namespaces/production/deployments"
ROLLOUTS = "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts"
TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    async with serve_kube_world(tmp_path, bookmark_interval=0.2) as running:
        yield running


@pytest.fixture
async def http(kube: RunningKube) -> AsyncIterator[httpx.AsyncClient]:
    async with kube.http() as client:
        yield client


async def collect_stream(
    http: httpx.AsyncClient,
    path: str,
    params: dict[str, str],
    *,
    until: int | None = None,
    headers: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Watch events until ``until`` of them arrived or the server ended the stream."""
    events: list[dict[str, Any]] = []

    async def read() -> None:
        async with http.stream(
            "GET", path, params={"watch": "true", **params}, headers=headers
        ) as response:
            assert response.status_code == 200
            async for line in response.aiter_lines():
                if line.strip():
                    events.append(json.loads(line))
                if until is not None and len(events) >= until:
                    return

    await asyncio.wait_for(read(), 10)
    return events


# --------------------------------------------------------------------------- discovery


async def test_discovery_describes_every_served_type(http: httpx.AsyncClient) -> None:
    assert (await http.get("/version")).json()["major"] == "1"
    assert (await http.get("/api")).json()["versions"] == ["v1"]
    groups = (await http.get("/apis")).json()
    assert [g["name"] for g in groups["groups"]] == ["apps", "argoproj.io"]
    argo = (await http.get("/apis/argoproj.io/v1alpha1")).json()
    resources = {r["name"]: r for r in argo["resources"]}
    assert resources["rollouts"]["shortNames"] == ["ro"]
    assert resources["rollouts"]["singularName"] == "rollout"
    assert resources["rollouts"]["categories"] == ["all"]
    assert resources["rollouts"]["namespaced"] is True
    assert "patch" in resources["rollouts"]["verbs"]
    assert resources["rollouts/status"]["verbs"] == ["get", "patch", "update"]
    assert (resources["rollouts/scale"]["group"], resources["rollouts/scale"]["kind"]) == (
        "autoscaling",
        "Scale",
    )
    core = {r["name"]: r for r in (await http.get("/api/v1")).json()["resources"]}
    assert core["namespaces"]["namespaced"] is False
    missing = await http.get("/apis/example.com/v1")
    assert missing.status_code == 404
    assert missing.json()["message"] == "the server could not find the requested resource"


# --------------------------------------------------------------------------- lists


async def test_paginated_list_returns_every_item_once(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    names: list[str] = []
    versions: set[str] = set()
    params = {"limit": "2"}
    pages = 0
    while True:
        page = (await http.get("/apis/apps/v1/replicasets", params=params)).json()
        pages += 1
        names += [item["metadata"]["name"] for item in page["items"]]
        versions.add(page["metadata"]["resourceVersion"])
        token = page["metadata"].get("continue")
        if not token:
            break
        assert page["metadata"]["remainingItemCount"] > 0
        params = {"limit": "2", "continue": token}
    stored, _ = kube.store.list(REPLICASET)
    assert names == [rs["metadata"]["name"] for rs in stored]
    assert (len(names), pages) == (6, 3)
    assert len(versions) == 1, "every page answers for the first page's resourceVersion"


async def test_continue_token_expires_once_history_is_compacted(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    first = (await http.get("/apis/apps/v1/replicasets", params={"limit": "2"})).json()
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    kube.store.compact()
    response = await http.get(
        "/apis/apps/v1/replicasets",
        params={"limit": "2", "continue": first["metadata"]["continue"]},
    )
    assert response.status_code == 410
    assert response.json()["reason"] == "Expired"
    garbled = await http.get("/apis/apps/v1/replicasets", params={"continue": "not-a-token"})
    assert garbled.status_code == 400


async def test_label_and_field_selectors(http: httpx.AsyncClient) -> None:
    pods = (await http.get("/api/v1/pods", params={"labelSelector": "app=web"})).json()
    assert [p["metadata"]["name"] for p in pods["items"]] == [
        "web-5f8b7d9c6-d3e4f",
        "web-7c9d5b8f4d-a1b2c",
    ]
    named = (await http.get(DEPLOYMENTS, params={"fieldSelector": "metadata.name=solo"})).json()
    assert [d["metadata"]["name"] for d in named["items"]] == ["solo"]
    bad = await http.get(DEPLOYMENTS, params={"labelSelector": "app in in (x"})
    assert bad.status_code == 400
    assert bad.json()["reason"] == "BadRequest"


async def test_resource_version_from_the_future_is_a_timeout(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    ahead = str(int(kube.store.resource_version) + 100)
    response = await http.get(DEPLOYMENTS, params={"resourceVersion": ahead})
    assert response.status_code == 504
    assert response.json()["details"]["causes"][0]["reason"] == "ResourceVersionTooLarge"
    assert (await http.get(DEPLOYMENTS, params={"resourceVersion": "0"})).status_code == 200


async def test_list_as_table_has_columns_and_partial_objects(http: httpx.AsyncClient) -> None:
    listed = (await http.get(ROLLOUTS, headers={"Accept": TABLE})).json()
    assert (listed["kind"], listed["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [c["name"] for c in listed["columnDefinitions"]] == [
        "Name",
        "Desired",
        "Current",
        "Up-to-date",
        "Available",
        "Age",
    ]
    assert listed["rows"][0]["cells"] == ["web", 5, 6, 1, 6, "120m"]
    assert listed["rows"][0]["object"]["kind"] == "PartialObjectMetadata"
    assert listed["rows"][0]["object"]["metadata"]["namespace"] == "production"


# --------------------------------------------------------------------------- writes


async def test_custom_resource_update_needs_a_resource_version(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    web = (await http.get(f"{ROLLOUTS}/web")).json()
    web["spec"]["replicas"] = 7
    current_rv = web["metadata"].pop("resourceVersion")
    refused = await http.put(f"{ROLLOUTS}/web", json=web)
    assert refused.status_code == 422
    assert refused.json()["details"]["causes"][0]["field"] == "metadata.resourceVersion"
    web["metadata"]["resourceVersion"] = current_rv
    accepted = await http.put(f"{ROLLOUTS}/web", json=web)
    assert accepted.status_code == 200
    assert kube.store.get(ROLLOUT, "production", "web")["spec"]["replicas"] == 7
    assert accepted.json()["status"]["phase"] == "Paused", "the main resource keeps its status"


async def test_dry_run_create_and_delete_change_nothing(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    before = kube.store.resource_version
    draft = kube.store.get(DEPLOYMENT, "production", "solo")
    draft["metadata"] = {"name": "draft"}
    created = await http.post(DEPLOYMENTS, json=draft, params={"dryRun": "All"})
    assert created.status_code == 201
    assert created.json()["metadata"]["name"] == "draft"
    deleted = await http.delete(f"{DEPLOYMENTS}/solo", params={"dryRun": "All"})
    assert deleted.status_code == 200
    assert kube.store.find(DEPLOYMENT, "production", "draft") is None
    assert kube.store.find(DEPLOYMENT, "production", "solo") is not None
    assert kube.store.resource_version == before
    wrong = await http.delete(f"{DEPLOYMENTS}/solo", params={"dryRun": "Maybe"})
    assert wrong.status_code == 400


async def test_create_generates_names_and_leaves_status_to_controllers(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    body = kube.store.get(DEPLOYMENT, "production", "solo")
    body["metadata"] = {"generateName": "batch-", "resourceVersion": "5"}
    created = (await http.post(DEPLOYMENTS, json=body)).json()
    name = created["metadata"]["name"]
    assert name.startswith("batch-") and len(name) == len("batch-") + 5
    stored = kube.store.get(DEPLOYMENT, "production", name)
    assert "status" not in stored
    assert stored["metadata"]["resourceVersion"] == kube.store.resource_version
    elsewhere = await http.post(
        "/apis/apps/v1/namespaces/nowhere/deployments", json={**body, "metadata": {"name": "x"}}
    )
    assert elsewhere.status_code == 404
    assert elsewhere.json()["message"] == 'namespaces "nowhere" not found'


async def test_patch_errors_are_the_apiservers(http: httpx.AsyncClient) -> None:
    failing = await http.patch(
        f"{DEPLOYMENTS}/solo",
        content=json.dumps([{"op": "test", "path": "/spec/replicas", "value": 9}]),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert failing.status_code == 422
    assert failing.json()["message"] == (
        "the server rejected our request due to an error in our request"
    )
    malformed = await http.patch(
        f"{DEPLOYMENTS}/solo",
        content=json.dumps({"op": "test"}),
        headers={"Content-Type": "application/json-patch+json"},
    )
    assert malformed.status_code == 400
    unknown = await http.patch(
        f"{DEPLOYMENTS}/solo", content="{}", headers={"Content-Type": "text/plain"}
    )
    assert unknown.status_code == 415
    assert unknown.json()["message"].endswith(
        "application/json-patch+json, application/merge-patch+json, "
        "application/strategic-merge-patch+json, application/apply-patch+yaml"
    )
    renamed = await http.patch(
        f"{DEPLOYMENTS}/solo",
        content=json.dumps({"metadata": {"name": "other"}}),
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert renamed.status_code == 422
    assert renamed.json()["details"]["causes"][0]["field"] == "metadata.name"


async def test_server_side_apply_creates_then_merges(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    manifest = (
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: cart\n"
        "spec:\n  replicas: 1\n  selector:\n    matchLabels: {app: cart}\n"
        "  template:\n    metadata:\n      labels: {app: cart}\n"
        "    spec:\n      containers:\n      - name: cart\n        image: cart:v1\n"
    )
    apply = {"Content-Type": "application/apply-patch+yaml"}
    unnamed = await http.patch(f"{DEPLOYMENTS}/cart", content=manifest, headers=apply)
    assert unnamed.status_code == 422
    assert "fieldManager" in unnamed.json()["message"]
    params = {"fieldManager": "tests"}
    created = await http.patch(
        f"{DEPLOYMENTS}/cart", content=manifest, headers=apply, params=params
    )
    assert created.status_code == 201
    updated = await http.patch(
        f"{DEPLOYMENTS}/cart",
        content=manifest.replace("cart:v1", "cart:v2"),
        headers=apply,
        params=params,
    )
    assert updated.status_code == 200
    cart = kube.store.get(DEPLOYMENT, "production", "cart")
    assert cart["spec"]["template"]["spec"]["containers"] == [{"name": "cart", "image": "cart:v2"}]
    assert cart["metadata"]["generation"] == 2


async def test_scale_subresource(kube: RunningKube, http: httpx.AsyncClient) -> None:
    scale = (await http.get(f"{ROLLOUTS}/web/scale")).json()
    assert (scale["kind"], scale["apiVersion"]) == ("Scale", "autoscaling/v1")
    assert scale["spec"] == {"replicas": 5}
    assert scale["status"] == {"replicas": 6, "selector": "app=web"}
    deployment_scale = (await http.get(f"{DEPLOYMENTS}/checkout/scale")).json()
    assert deployment_scale["status"] == {"replicas": 2, "selector": "app=checkout"}
    scale["spec"]["replicas"] = -1
    refused = await http.put(f"{ROLLOUTS}/web/scale", json=scale)
    assert refused.status_code == 422
    scale["spec"]["replicas"] = 2
    assert (await http.put(f"{ROLLOUTS}/web/scale", json=scale)).json()["spec"]["replicas"] == 2
    assert kube.store.get(ROLLOUT, "production", "web")["spec"]["replicas"] == 2


async def test_delete_honours_preconditions(kube: RunningKube, http: httpx.AsyncClient) -> None:
    solo = kube.store.get(DEPLOYMENT, "production", "solo")
    stale = await http.request(
        "DELETE",
        f"{DEPLOYMENTS}/solo",
        json={"preconditions": {"resourceVersion": "1"}},
    )
    assert stale.status_code == 409
    assert "Precondition failed" in stale.json()["message"]
    deleted = await http.request(
        "DELETE",
        f"{DEPLOYMENTS}/solo",
        json={"preconditions": {"uid": solo["metadata"]["uid"]}},
    )
    assert deleted.status_code == 200
    assert deleted.json()["status"] == "Success"
    assert deleted.json()["details"]["uid"] == solo["metadata"]["uid"]
    assert kube.store.find(DEPLOYMENT, "production", "solo") is None


async def test_deleting_a_namespace_deletes_what_it_holds(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    assert (await http.delete("/api/v1/namespaces/staging")).status_code == 200
    assert kube.store.find(NAMESPACE, "", "staging") is None
    assert kube.store.list(ROLLOUT, "staging")[0] == []
    assert kube.store.list(REPLICASET, "staging")[0] == []
    assert kube.store.list(ROLLOUT, "production")[0] != []


async def test_unknown_paths_and_methods(http: httpx.AsyncClient) -> None:
    assert (await http.get("/apis/apps/v1/namespaces/production/statefulsets")).status_code == 404
    assert (await http.get("/openapi/v2")).status_code == 404
    assert (await http.post(f"{DEPLOYMENTS}/solo", json={})).status_code == 405
    assert (await http.delete(f"{DEPLOYMENTS}/solo/status")).status_code == 405
    assert (await http.get(f"{DEPLOYMENTS}/solo/exec")).status_code == 404


# --------------------------------------------------------------------------- auth and faults


async def test_read_only_user_reads_but_cannot_delete(kube: RunningKube) -> None:
    async with kube.http(token=kube.tokens.kube_read_only) as viewer:
        assert (await viewer.get(DEPLOYMENTS)).status_code == 200
        refused = await viewer.delete("/api/v1/namespaces/staging")
        namespaced = await viewer.post(DEPLOYMENTS, json={"metadata": {"name": "x"}})
    assert refused.status_code == 403
    assert refused.json()["message"] == (
        'namespaces "staging" is forbidden: User "viewer" cannot delete resource "namespaces" '
        'in API group "" at the cluster scope'
    )
    assert namespaced.json()["message"] == (
        'deployments.apps is forbidden: User "viewer" cannot create resource "deployments" '
        'in API group "apps" in the namespace "production"'
    )
    assert kube.store.find(NAMESPACE, "", "staging") is not None


async def test_missing_token_is_unauthorized(kube: RunningKube) -> None:
    async with kube.http() as client:
        response = await client.get(DEPLOYMENTS, headers={"Authorization": ""})
    assert response.status_code == 401
    assert response.json()["reason"] == "Unauthorized"


async def test_faults_answer_in_status_form(kube: RunningKube, http: httpx.AsyncClient) -> None:
    kube.faults.set("kube", Fault("rate_limit", retry_after=7))
    throttled = await http.get(DEPLOYMENTS)
    assert throttled.status_code == 429
    assert throttled.headers["Retry-After"] == "7"
    assert throttled.json()["reason"] == "TooManyRequests"
    assert throttled.json()["details"]["retryAfterSeconds"] == 7
    kube.faults.set("kube", Fault("error", status=503))
    unavailable = await http.get(DEPLOYMENTS)
    assert (unavailable.status_code, unavailable.json()["reason"]) == (503, "ServiceUnavailable")
    kube.faults.set("kube", None)
    assert (await http.get(DEPLOYMENTS)).status_code == 200
    assert kube.faults.requests["kube"] == 3


# --------------------------------------------------------------------------- watches


async def test_bookmarks_arrive_periodically_when_allowed(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    events = await collect_stream(
        http,
        DEPLOYMENTS,
        {"resourceVersion": kube.store.resource_version, "allowWatchBookmarks": "true"},
        until=2,
    )
    assert [event["type"] for event in events] == ["BOOKMARK", "BOOKMARK"]
    assert events[0]["object"]["metadata"]["resourceVersion"] == kube.store.resource_version


async def test_timeout_closes_the_stream_cleanly(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    events = await collect_stream(
        http, DEPLOYMENTS, {"resourceVersion": kube.store.resource_version, "timeoutSeconds": "1"}
    )
    assert events == []
    await eventually(lambda: kube.store.open_watches == 0, message="the watch to be released")


async def test_dropped_watches_end_their_streams(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    watching = asyncio.create_task(
        collect_stream(http, DEPLOYMENTS, {"resourceVersion": kube.store.resource_version})
    )
    await eventually(lambda: kube.store.open_watches == 1, message="the watch to open")
    assert kube.store.drop_watches() == 1
    assert await asyncio.wait_for(watching, 10) == []


async def test_a_client_that_goes_away_releases_its_watch(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    events = await collect_stream(http, DEPLOYMENTS, {}, until=1)
    assert events[0]["type"] == "ADDED"
    await eventually(lambda: kube.store.open_watches == 0, message="the watch to be released")


async def test_watch_as_table_sends_column_definitions_once(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    watching = asyncio.create_task(
        collect_stream(http, DEPLOYMENTS, {}, until=3, headers={"Accept": TABLE})
    )
    await eventually(lambda: kube.store.open_watches == 1, message="the watch to open")
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    first, second, modified = await asyncio.wait_for(watching, 10)
    assert first["object"]["kind"] == "Table"
    assert [c["name"] for c in first["object"]["columnDefinitions"]][:2] == ["Name", "Ready"]
    assert second["object"]["columnDefinitions"] == []
    assert modified["type"] == "MODIFIED"
    assert modified["object"]["rows"][0]["cells"][:2] == ["solo", "2/3"]


async def test_streaming_list_marks_the_end_of_initial_events(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    events = await collect_stream(
        http,
        DEPLOYMENTS,
        {
            "sendInitialEvents": "true",
            "allowWatchBookmarks": "true",
            "resourceVersionMatch": "NotOlderThan",
        },
        until=3,
    )
    assert [event["type"] for event in events] == ["ADDED", "ADDED", "BOOKMARK"]
    annotations = events[2]["object"]["metadata"]["annotations"]
    assert annotations == {"k8s.io/initial-events-end": "true"}


async def test_legacy_watch_paths_and_single_object_watches(
    kube: RunningKube, http: httpx.AsyncClient
) -> None:
    pods = await collect_stream(http, "/api/v1/watch/namespaces/production/pods", {}, until=4)
    assert {event["object"]["metadata"]["name"] for event in pods} == {
        pod["metadata"]["name"] for pod in kube.store.list(POD, "production")[0]
    }
    one = await collect_stream(http, f"{DEPLOYMENTS}/solo", {}, until=1)
    assert [event["object"]["metadata"]["name"] for event in one] == ["solo"]


async def test_a_simulator_bug_answers_an_internal_error_status(
    kube: RunningKube, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("index out of order")

    monkeypatch.setattr(kube.store, "list", broken)
    response = await http.get(DEPLOYMENTS)
    assert response.status_code == 500
    assert response.json()["reason"] == "InternalError"
    assert response.json()["message"] == "Internal error occurred: index out of order"


async def test_delete_collection_by_label(kube: RunningKube, http: httpx.AsyncClient) -> None:
    response = await http.delete(
        "/api/v1/namespaces/production/pods", params={"labelSelector": "app=web"}
    )
    assert response.status_code == 200
    assert response.json()["kind"] == "PodList"
    assert len(response.json()["items"]) == 2
    remaining = [p["metadata"]["name"] for p in kube.store.list(POD, "production")[0]]
    assert remaining == ["checkout-7f9c8d6b5-m4n8q", "checkout-7f9c8d6b5-x7k2p"]
    refused = await http.request("DELETE", f"{DEPLOYMENTS}/solo", json=["not", "options"])
    assert refused.status_code == 400
