"""The official ``kubernetes`` Python client against the simulated apiserver.

The client is synchronous, so its calls run in threads while the server runs in the
test's event loop.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from cockpit.sim.kube.store import DEPLOYMENT, ROLLOUT
from tests.contract.kube_world import RunningKube, serve_kube_world
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    async with serve_kube_world(tmp_path) as running:
        yield running


def api_client(kubeconfig: Path) -> client.ApiClient:
    """A client from the kubeconfig, without touching the library's global configuration."""
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), client_configuration=configuration)
    return client.ApiClient(configuration)


async def test_list_namespaced_deployment(kube: RunningKube) -> None:
    apps = client.AppsV1Api(api_client(kube.kubeconfig))
    listed = await asyncio.to_thread(apps.list_namespaced_deployment, "production")
    assert [d.metadata.name for d in listed.items] == ["checkout", "solo"]
    checkout = listed.items[0]
    assert checkout.spec.replicas == 2
    assert checkout.status.ready_replicas == 2
    assert checkout.spec.template.spec.containers[0].image == (
        "registry.example.com/shop/checkout:v2"
    )
    assert listed.metadata.resource_version == kube.store.resource_version


async def test_list_rollouts_in_every_namespace(kube: RunningKube) -> None:
    custom = client.CustomObjectsApi(api_client(kube.kubeconfig))
    listed = await asyncio.to_thread(
        custom.list_cluster_custom_object, "argoproj.io", "v1alpha1", "rollouts"
    )
    assert listed["kind"] == "RolloutList"
    assert [(r["metadata"]["namespace"], r["status"]["phase"]) for r in listed["items"]] == [
        ("production", "Paused"),
        ("staging", "Healthy"),
    ]


async def test_watch_sees_added_then_modified(kube: RunningKube) -> None:
    apps = client.AppsV1Api(api_client(kube.kubeconfig))
    events: list[tuple[str, str]] = []
    both_added = threading.Event()

    def watch_until_modified() -> None:
        stream = watch.Watch()
        for event in stream.stream(
            apps.list_namespaced_deployment, "production", timeout_seconds=10
        ):
            events.append((event["type"], event["object"].metadata.name))
            if sum(1 for kind, _ in events if kind == "ADDED") == 2:
                both_added.set()
            if event["type"] == "MODIFIED":
                stream.stop()

    watching = asyncio.create_task(asyncio.to_thread(watch_until_modified))
    await eventually(both_added.is_set, message="the two ADDED events")
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    await asyncio.wait_for(watching, 10)
    assert events == [("ADDED", "checkout"), ("ADDED", "solo"), ("MODIFIED", "solo")]


async def test_patch_rollout_status_with_a_merge_body(kube: RunningKube) -> None:
    custom = client.CustomObjectsApi(api_client(kube.kubeconfig))
    before = kube.store.get(ROLLOUT, "production", "web")
    patched: dict[str, Any] = await asyncio.to_thread(
        custom.patch_namespaced_custom_object_status,
        "argoproj.io",
        "v1alpha1",
        "production",
        "rollouts",
        "web",
        {"status": {"pauseConditions": None}},
    )
    assert "pauseConditions" not in patched["status"]
    stored = kube.store.get(ROLLOUT, "production", "web")
    assert "pauseConditions" not in stored["status"]
    assert stored["status"]["controllerPause"] is True
    assert stored["spec"] == before["spec"]


async def test_errors_arrive_as_api_exceptions(kube: RunningKube) -> None:
    apps = client.AppsV1Api(api_client(kube.kubeconfig))
    with pytest.raises(ApiException) as missing:
        await asyncio.to_thread(apps.read_namespaced_deployment, "nope", "production")
    assert missing.value.status == 404
    viewer = client.AppsV1Api(api_client(kube.read_only_kubeconfig))
    with pytest.raises(ApiException) as refused:
        await asyncio.to_thread(
            viewer.patch_namespaced_deployment, "solo", "production", {"spec": {"replicas": 5}}
        )
    assert refused.value.status == 403
    refusal = json.loads(refused.value.body)
    assert refusal["reason"] == "Forbidden"
    assert refusal["message"] == (
        'deployments.apps "solo" is forbidden: User "viewer" cannot patch resource '
        '"deployments" in API group "apps" in the namespace "production"'
    )
    assert kube.store.get(DEPLOYMENT, "production", "solo")["spec"]["replicas"] == 2
