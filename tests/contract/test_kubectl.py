"""The real kubectl against the simulated apiserver: what it prints and what it changes.

Every test runs ``/usr/bin/kubectl`` with a kubeconfig for the simulated cluster of
:mod:`tests.contract.kube_world` and checks the state of the object store afterwards,
not only kubectl's exit status.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest

from cockpit.sim.kube.store import DEPLOYMENT, REPLICASET, ROLLOUT
from tests.contract.kube_world import KUBECTL, RunningKube, kubectl_env, serve_kube_world
from tests.helpers import require

pytestmark = pytest.mark.asyncio
KUBECTL_INSTALLED = Path(KUBECTL).is_file()


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    require(KUBECTL_INSTALLED, f"kubectl not found at {KUBECTL}")
    async with serve_kube_world(tmp_path) as running:
        yield running


def table(output: str) -> list[list[str]]:
    return [line.split() for line in output.strip().splitlines()]


async def test_get_rollouts_in_all_namespaces_as_json(kube: RunningKube) -> None:
    result = await kube.kubectl("get", "rollouts.argoproj.io", "-A", "-o", "json")
    assert result.returncode == 0, result.stderr
    listed = json.loads(result.stdout)
    assert listed["kind"] == "List"
    found = {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in listed["items"]}
    stored, _ = kube.store.list(ROLLOUT)
    assert found == {(r["metadata"]["namespace"], r["metadata"]["name"]) for r in stored}
    assert found == {("production", "web"), ("staging", "web")}
    paused = next(r for r in listed["items"] if r["metadata"]["namespace"] == "production")
    assert paused["status"]["pauseConditions"][0]["reason"] == "CanaryPauseStep"


async def test_get_rollouts_prints_the_crd_printer_columns(kube: RunningKube) -> None:
    result = await kube.kubectl("get", "rollouts", "-A")
    assert result.returncode == 0, result.stderr
    rows = table(result.stdout)
    assert rows[0] == [
        "NAMESPACE",
        "NAME",
        "DESIRED",
        "CURRENT",
        "UP-TO-DATE",
        "AVAILABLE",
        "AGE",
    ]
    assert rows[1:] == [
        ["production", "web", "5", "6", "1", "6", "120m"],
        ["staging", "web", "5", "5", "5", "5", "120m"],
    ]


async def test_get_deployments_prints_the_apiserver_columns(kube: RunningKube) -> None:
    result = await kube.kubectl("get", "deploy", "-n", "production")
    assert result.returncode == 0, result.stderr
    assert table(result.stdout) == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        ["checkout", "2/2", "2", "2", "120m"],
        ["solo", "2/2", "2", "2", "120m"],
    ]
    wide = await kube.kubectl("get", "deploy", "checkout", "-o", "wide")
    assert table(wide.stdout)[0][-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert table(wide.stdout)[1][-3:] == [
        "checkout",
        "registry.example.com/shop/checkout:v2",
        "app=checkout",
    ]


async def test_get_pods_shows_status_from_container_states(kube: RunningKube) -> None:
    result = await kube.kubectl("get", "pods", "-l", "app=web")
    assert result.returncode == 0, result.stderr
    assert table(result.stdout) == [
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        ["web-5f8b7d9c6-d3e4f", "0/1", "ImagePullBackOff", "0", "120m"],
        ["web-7c9d5b8f4d-a1b2c", "1/1", "Running", "0", "120m"],
    ]


async def read_line_until(
    stream: asyncio.StreamReader, wanted: str, *, timeout: float = 10.0
) -> list[str]:
    """Lines read until one contains ``wanted``; fails at the deadline."""
    lines: list[str] = []

    async def read() -> None:
        while True:
            line = (await stream.readline()).decode()
            if not line:
                raise AssertionError(f"stream ended before {wanted!r}; got {lines}")
            lines.append(line)
            if wanted in line:
                return

    await asyncio.wait_for(read(), timeout)
    return lines


async def test_watch_deployments_prints_a_modified_event(kube: RunningKube) -> None:
    process = await asyncio.create_subprocess_exec(
        *kube.kubectl_command("get", "deploy", "-w", "--output-watch-events", "-n", "production"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=kubectl_env(kube.cache_dir),
    )
    try:
        assert process.stdout is not None
        first = await read_line_until(process.stdout, "solo")
        assert first[0].split() == ["EVENT", "NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
        kube.store.update(
            DEPLOYMENT,
            "production",
            "checkout",
            lambda d: d["status"].update(readyReplicas=1, availableReplicas=1),
            subresource="status",
        )
        later = await read_line_until(process.stdout, "MODIFIED")
        assert later[-1].split() == ["MODIFIED", "checkout", "1/2", "2", "1", "120m"]
    finally:
        process.kill()
        await process.wait()


async def test_rollout_restart_stamps_the_pod_template(kube: RunningKube) -> None:
    result = await kube.kubectl("rollout", "restart", "deployment/checkout")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deployment.apps/checkout restarted"
    checkout = kube.store.get(DEPLOYMENT, "production", "checkout")
    stamp = checkout["spec"]["template"]["metadata"]["annotations"][
        "kubectl.kubernetes.io/restartedAt"
    ]
    assert datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    assert checkout["metadata"]["generation"] == 2
    assert checkout["status"]["readyReplicas"] == 2, "a spec write keeps the status"


async def test_rollout_undo_restores_the_previous_template(kube: RunningKube) -> None:
    previous = kube.store.get(REPLICASET, "production", "checkout-6d4b9c7f8")
    result = await kube.kubectl("rollout", "undo", "deployment/checkout")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "deployment.apps/checkout rolled back"
    checkout = kube.store.get(DEPLOYMENT, "production", "checkout")
    expected_template = previous["spec"]["template"]
    del expected_template["metadata"]["labels"]["pod-template-hash"]
    assert checkout["spec"]["template"] == expected_template
    # Annotations are replaced wholesale: the Deployment's own revision, plus every
    # annotation of the old ReplicaSet that is not on kubectl's skip list.
    assert checkout["metadata"]["annotations"] == {
        "deployment.kubernetes.io/revision": "2",
        "kubernetes.io/change-cause": "deploy v1",
    }


async def test_rollout_undo_without_history_is_kubectls_error(kube: RunningKube) -> None:
    before = kube.store.resource_version
    result = await kube.kubectl("rollout", "undo", "deployment/solo")
    assert result.returncode != 0
    assert 'no rollout history found for deployment "solo"' in result.stderr
    assert kube.store.resource_version == before


async def test_merge_patch_pauses_a_rollout(kube: RunningKube) -> None:
    result = await kube.kubectl(
        "patch", "rollout", "web", "--type", "merge", "-p", '{"spec":{"paused":true}}'
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "rollout.argoproj.io/web patched"
    web = kube.store.get(ROLLOUT, "production", "web")
    assert web["spec"]["paused"] is True
    assert web["metadata"]["generation"] == 2


async def test_status_subresource_patch_aborts_a_rollout(kube: RunningKube) -> None:
    before = kube.store.get(ROLLOUT, "production", "web")
    result = await kube.kubectl(
        "patch",
        "rollout",
        "web",
        "--subresource=status",
        "--type",
        "merge",
        "-p",
        '{"status":{"abort":true}}',
    )
    assert result.returncode == 0, result.stderr
    web = kube.store.get(ROLLOUT, "production", "web")
    assert web["status"]["abort"] is True
    assert web["spec"] == before["spec"]
    assert web["metadata"]["generation"] == before["metadata"]["generation"]


async def test_strategic_patch_on_a_rollout_shows_the_415(kube: RunningKube) -> None:
    before = kube.store.resource_version
    result = await kube.kubectl(
        "patch", "rollout", "web", "--type", "strategic", "-p", '{"spec":{"paused":true}}'
    )
    assert result.returncode != 0
    assert (
        "the body of the request was in an unknown format - accepted media types include: "
        "application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml"
    ) in result.stderr
    assert kube.store.resource_version == before


async def test_read_only_token_is_forbidden_to_write(kube: RunningKube) -> None:
    before = kube.store.resource_version
    read = await kube.kubectl("get", "rollouts", kubeconfig=kube.read_only_kubeconfig)
    assert read.returncode == 0, read.stderr
    result = await kube.kubectl(
        "patch",
        "rollout",
        "web",
        "--type",
        "merge",
        "-p",
        '{"spec":{"paused":true}}',
        kubeconfig=kube.read_only_kubeconfig,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == (
        'Error from server (Forbidden): rollouts.argoproj.io "web" is forbidden: User "viewer" '
        'cannot patch resource "rollouts" in API group "argoproj.io" in the namespace '
        '"production"'
    )
    assert kube.store.resource_version == before


async def test_bad_token_is_unauthorized(kube: RunningKube) -> None:
    result = await kube.kubectl("get", "rollouts", kubeconfig=kube.bad_kubeconfig)
    assert result.returncode != 0
    # What kubectl says when discovery itself is refused, as against a real apiserver.
    assert (
        "error: You must be logged in to the server "
        "(the server has asked for the client to provide credentials)"
    ) in result.stderr
    assert "not-a-valid-token" not in result.stderr + result.stdout


async def test_scale_goes_through_the_scale_subresource(kube: RunningKube) -> None:
    deployment = await kube.kubectl("scale", "deployment/checkout", "--replicas=4")
    assert deployment.returncode == 0, deployment.stderr
    rollout = await kube.kubectl("scale", "rollout/web", "--replicas=3")
    assert rollout.returncode == 0, rollout.stderr
    assert kube.store.get(DEPLOYMENT, "production", "checkout")["spec"]["replicas"] == 4
    assert kube.store.get(ROLLOUT, "production", "web")["spec"]["replicas"] == 3


async def test_server_dry_run_changes_nothing(kube: RunningKube) -> None:
    before = kube.store.resource_version
    result = await kube.kubectl(
        "patch",
        "rollout",
        "web",
        "--type",
        "merge",
        "-p",
        '{"spec":{"paused":true}}',
        "--dry-run=server",
        "-o",
        "json",
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["spec"]["paused"] is True
    assert kube.store.resource_version == before
    assert "paused" not in kube.store.get(ROLLOUT, "production", "web")["spec"]


async def test_missing_object_and_delete(kube: RunningKube) -> None:
    missing = await kube.kubectl("get", "deployment", "nope")
    assert missing.returncode != 0
    assert (
        missing.stderr.strip() == 'Error from server (NotFound): deployments.apps "nope" not found'
    )
    deleted = await kube.kubectl("delete", "deployment", "solo")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.strip() == 'deployment.apps "solo" deleted'
    assert kube.store.find(DEPLOYMENT, "production", "solo") is None
