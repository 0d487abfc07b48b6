"""lightkube's AsyncClient (what cockpit itself uses) against the simulated apiserver."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.types import PatchType

from cockpit.sim.kube.store import DEPLOYMENT, ROLLOUT
from tests.contract.kube_world import RunningKube, serve_kube_world

pytestmark = pytest.mark.asyncio

Rollout = create_namespaced_resource("argoproj.io", "v1alpha1", "Rollout", "rollouts")


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    async with serve_kube_world(tmp_path) as running:
        yield running


@pytest.fixture
async def lightkube(kube: RunningKube) -> AsyncIterator[AsyncClient]:
    client = AsyncClient(config=KubeConfig.from_file(kube.kubeconfig), namespace="production")
    yield client
    await client.close()


async def test_list_deployments_and_replicasets(lightkube: AsyncClient) -> None:
    deployments = [d async for d in lightkube.list(Deployment)]
    assert [d.metadata.name for d in deployments] == ["checkout", "solo"]
    assert deployments[0].status.readyReplicas == 2
    owned = [
        rs.metadata.name
        async for rs in lightkube.list(ReplicaSet, labels={"app": "checkout"}, chunk_size=1)
    ]
    assert owned == ["checkout-6d4b9c7f8", "checkout-7f9c8d6b5"]


async def test_generic_rollout_get_and_list(lightkube: AsyncClient) -> None:
    web = await lightkube.get(Rollout, "web")
    assert web.metadata.name == "web"
    assert web["status"]["phase"] == "Paused"
    everywhere = [r.metadata.namespace async for r in lightkube.list(Rollout, namespace="*")]
    assert everywhere == ["production", "staging"]


async def test_list_then_watch_sees_modified(kube: RunningKube, lightkube: AsyncClient) -> None:
    listing = lightkube.list(Deployment)
    names = [d.metadata.name async for d in listing]
    assert names == ["checkout", "solo"]

    async def first_modified() -> tuple[str, str]:
        async for kind, deployment in lightkube.watch(
            Deployment, resource_version=listing.resourceVersion
        ):
            if kind == "MODIFIED":
                return kind, deployment.spec.template.spec.containers[0].image
        raise AssertionError("the watch ended")

    watching = asyncio.create_task(first_modified())
    kube.store.update(
        DEPLOYMENT,
        "production",
        "checkout",
        lambda d: d["spec"]["template"]["spec"]["containers"][0].update(image="checkout:v3"),
    )
    assert await asyncio.wait_for(watching, 10) == ("MODIFIED", "checkout:v3")


async def test_watch_from_a_compacted_version_raises_410(
    kube: RunningKube, lightkube: AsyncClient
) -> None:
    listing = lightkube.list(Deployment)
    _ = [d async for d in listing]
    kube.store.update(DEPLOYMENT, "production", "solo", lambda d: d["spec"].update(replicas=3))
    kube.store.compact()

    async def watch_stale() -> None:
        async for _event in lightkube.watch(Deployment, resource_version=listing.resourceVersion):
            pass

    with pytest.raises(ApiError) as expired:
        await asyncio.wait_for(watch_stale(), 10)
    assert expired.value.status.code == 410
    assert expired.value.status.reason == "Expired"


async def test_status_merge_patch_changes_only_status(
    kube: RunningKube, lightkube: AsyncClient
) -> None:
    before = kube.store.get(ROLLOUT, "production", "web")
    await lightkube.patch(
        Rollout.Status,
        "web",
        {"spec": {"paused": True}, "status": {"pauseConditions": None, "controllerPause": False}},
        patch_type=PatchType.MERGE,
    )
    after = kube.store.get(ROLLOUT, "production", "web")
    assert "pauseConditions" not in after["status"]
    assert after["status"]["controllerPause"] is False
    assert after["spec"] == before["spec"], "a status write must not change the spec"
    assert after["metadata"]["generation"] == before["metadata"]["generation"]


async def test_default_strategic_patch_on_a_rollout_is_415(
    kube: RunningKube, lightkube: AsyncClient
) -> None:
    before = kube.store.resource_version
    with pytest.raises(ApiError) as refused:
        await lightkube.patch(Rollout, "web", {"spec": {"paused": True}})
    assert refused.value.status.code == 415
    assert refused.value.status.reason == "UnsupportedMediaType"
    assert kube.store.resource_version == before


async def test_read_only_token_gets_a_forbidden_api_error(kube: RunningKube) -> None:
    viewer = AsyncClient(
        config=KubeConfig.from_file(kube.read_only_kubeconfig), namespace="production"
    )
    try:
        assert (await viewer.get(Rollout, "web")).metadata.name == "web"
        with pytest.raises(ApiError) as refused:
            await viewer.patch(
                Rollout, "web", {"spec": {"paused": True}}, patch_type=PatchType.MERGE
            )
    finally:
        await viewer.close()
    assert refused.value.status.code == 403
    assert refused.value.status.details.kind == "rollouts"
    assert "paused" not in kube.store.get(ROLLOUT, "production", "web")["spec"]
