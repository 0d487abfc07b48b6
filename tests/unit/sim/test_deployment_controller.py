"""The simulated Deployment controller rolls, undoes and restarts as Kubernetes does.

As kubernetes ``pkg/controller/deployment`` and kubectl ``pkg/polymorphichelpers`` do.
"""

from __future__ import annotations

import copy
from dataclasses import replace
from typing import Any

from cockpit.sim import scenario as scenarios
from cockpit.sim.kube.store import DEPLOYMENT, POD, REPLICASET
from cockpit.sim.scenario import VersionProfile
from tests.cluster_world import ClusterWorld, only, sha_for
from tests.helpers import load_fixture

NS = "production"
GOOD = VersionProfile(success_rate=0.9995, latency_ms=100.0)
REVISION = "deployment.kubernetes.io/revision"
HISTORY = "deployment.kubernetes.io/revision-history"


def auth_world(**changes: Any) -> ClusterWorld:
    base = only(scenarios.load("healthy"), ["auth"])
    spec = base.service("auth")
    production = replace(spec.env(NS), **changes)
    return ClusterWorld(
        replace(base, services=(replace(spec, environments=(spec.env("staging"), production)),))
    )


class Auth:
    def __init__(self, world: ClusterWorld) -> None:
        self.world = world
        self.store = world.kube.store

    @property
    def deployment(self) -> dict[str, Any]:
        return self.store.get(DEPLOYMENT, NS, "auth")

    def sets(self) -> dict[str, dict[str, Any]]:
        items, _ = self.store.list(REPLICASET, NS, label_selector="app=auth")
        return {rs["metadata"]["labels"]["pod-template-hash"]: rs for rs in items}

    def current(self) -> dict[str, Any]:
        revision = self.deployment["metadata"]["annotations"][REVISION]
        return next(
            rs for rs in self.sets().values() if rs["metadata"]["annotations"][REVISION] == revision
        )

    def condition(self, kind: str) -> dict[str, Any]:
        return next(c for c in self.deployment["status"]["conditions"] if c["type"] == kind)

    def rollout_status(self) -> str:
        """``kubectl rollout status deployment/auth``, in the decision order of kubectl's
        ``DeploymentStatusViewer`` (``pkg/polymorphichelpers/rollout_status.go``)."""
        deployment = self.deployment
        status = deployment.get("status") or {}
        if deployment["metadata"]["generation"] > status.get("observedGeneration", 0):
            return "Waiting for deployment spec update to be observed..."
        progressing = next(
            (c for c in status.get("conditions", []) if c["type"] == "Progressing"), None
        )
        if progressing and progressing["reason"] == "ProgressDeadlineExceeded":
            return 'error: deployment "auth" exceeded its progress deadline'
        replicas = deployment["spec"]["replicas"]
        updated = status.get("updatedReplicas", 0)
        if updated < replicas:
            return f"Waiting: {updated} out of {replicas} new replicas have been updated..."
        if status.get("replicas", 0) > updated:
            return (
                f"Waiting: {status['replicas'] - updated} old replicas are pending termination..."
            )
        if status.get("availableReplicas", 0) < updated:
            return f"Waiting: {status.get('availableReplicas', 0)} of {updated} updated replicas are available..."
        return 'deployment "auth" successfully rolled out'

    def set_image(self, image: str) -> None:
        """``kubectl set image deployment/auth auth=<image>`` (a strategic merge of the image)."""

        def change(obj: dict[str, Any]) -> None:
            obj["spec"]["template"]["spec"]["containers"][0]["image"] = image

        self.store.update(DEPLOYMENT, NS, "auth", change)
        self.world.step()


def new_version(world: ClusterWorld, label: str) -> str:
    sha = world.register("auth", sha_for("auth", label), GOOD)
    return world.versions.image("auth", sha)


def _ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"]["conditions"])


def test_rolling_update_stays_within_surge_and_unavailability_and_stamps_the_revision() -> None:
    world = auth_world(replicas=8)
    auth = Auth(world)
    old = auth.current()
    old_revision = int(old["metadata"]["annotations"][REVISION])
    assert auth.rollout_status() == 'deployment "auth" successfully rolled out'

    auth.set_image(new_version(world, "v2"))
    new = auth.current()
    assert new["metadata"]["name"] != old["metadata"]["name"]
    assert int(new["metadata"]["annotations"][REVISION]) == old_revision + 1
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] == "8"
    assert new["metadata"]["annotations"]["deployment.kubernetes.io/max-replicas"] == "10"
    assert new["metadata"]["ownerReferences"][0]["uid"] == auth.deployment["metadata"]["uid"]
    assert auth.rollout_status().startswith("Waiting")
    assert auth.condition("Progressing")["reason"] in ("NewReplicaSetCreated", "ReplicaSetUpdated")
    messages = set()
    for _ in range(120):
        sets = auth.sets().values()
        pods, _ = auth.store.list(POD, NS, label_selector="app=auth")
        assert sum(rs["spec"]["replicas"] for rs in sets) <= 8 + 2  # maxSurge 25 % of 8
        assert sum(1 for pod in pods if _ready(pod)) >= 8 - 2  # maxUnavailable 25 % of 8
        messages.add(auth.rollout_status())
        if auth.rollout_status().endswith("successfully rolled out"):
            break
        world.advance(1)
    assert auth.rollout_status() == 'deployment "auth" successfully rolled out'
    assert any(
        "new replicas have been updated" in m or "old replicas are pending" in m for m in messages
    )
    status = auth.deployment["status"]
    assert {
        k: status.get(k)
        for k in ("replicas", "updatedReplicas", "readyReplicas", "availableReplicas")
    } == {
        "replicas": 8,
        "updatedReplicas": 8,
        "readyReplicas": 8,
        "availableReplicas": 8,
    }
    assert "unavailableReplicas" not in status
    assert status["observedGeneration"] == auth.deployment["metadata"]["generation"]
    progressing = auth.condition("Progressing")
    assert progressing["reason"] == "NewReplicaSetAvailable"
    assert (
        progressing["message"]
        == f'ReplicaSet "{new["metadata"]["name"]}" has successfully progressed.'
    )
    assert auth.condition("Available")["reason"] == "MinimumReplicasAvailable"
    assert auth.sets()[old["metadata"]["labels"]["pod-template-hash"]]["spec"]["replicas"] == 0
    assert auth.deployment["metadata"]["annotations"][REVISION] == str(old_revision + 1)


def test_undo_reuses_the_previous_replicaset_with_the_next_revision_and_history() -> None:
    world = auth_world(replicas=4)
    auth = Auth(world)
    first = auth.current()
    first_revision = int(first["metadata"]["annotations"][REVISION])
    auth.set_image(new_version(world, "v2"))
    world.advance(60)
    names_before = set(auth.sets())

    # kubectl rollout undo: JSON patch of the template and (wholesale) the annotations.
    template = copy.deepcopy(first["spec"]["template"])
    del template["metadata"]["labels"]["pod-template-hash"]
    annotations = {REVISION: auth.deployment["metadata"]["annotations"][REVISION]}

    def undo(obj: dict[str, Any]) -> None:
        obj["spec"]["template"] = template
        obj["metadata"]["annotations"] = annotations

    auth.store.update(DEPLOYMENT, NS, "auth", undo)
    world.step()
    assert set(auth.sets()) == names_before  # no new ReplicaSet
    current = auth.current()
    assert current["metadata"]["name"] == first["metadata"]["name"]
    assert current["metadata"]["annotations"][REVISION] == str(first_revision + 2)
    assert str(first_revision) in current["metadata"]["annotations"][HISTORY].split(",")
    world.advance(60)
    assert auth.rollout_status() == 'deployment "auth" successfully rolled out'
    assert auth.deployment["metadata"]["annotations"][REVISION] == str(first_revision + 2)


def test_restart_makes_a_new_replicaset_and_revision() -> None:
    world = auth_world(replicas=4)
    auth = Auth(world)
    before = auth.current()
    revision = int(before["metadata"]["annotations"][REVISION])

    def restart(obj: dict[str, Any]) -> None:
        obj["spec"]["template"]["metadata"]["annotations"] = {
            "kubectl.kubernetes.io/restartedAt": "2026-11-26T03:00:00Z"
        }

    auth.store.update(DEPLOYMENT, NS, "auth", restart)
    world.step()
    after = auth.current()
    assert after["metadata"]["name"] != before["metadata"]["name"]
    assert after["metadata"]["annotations"][REVISION] == str(revision + 1)
    assert after["spec"]["template"]["metadata"]["annotations"]["kubectl.kubernetes.io/restartedAt"]
    world.advance(90)
    assert auth.rollout_status() == 'deployment "auth" successfully rolled out'
    pods, _ = auth.store.list(POD, NS, label_selector="app=auth")
    assert {pod["metadata"]["labels"]["pod-template-hash"] for pod in pods} == {
        after["metadata"]["labels"]["pod-template-hash"]
    }


def test_an_image_that_does_not_exist_exceeds_the_progress_deadline() -> None:
    world = auth_world(replicas=4)
    auth = Auth(world)
    old_sha = world.gitlab.deployed("auth", NS)[-1]
    auth.set_image("registry.example.com/shop/auth:doesnotexist")
    world.advance(30)
    pods, _ = auth.store.list(POD, NS, label_selector="app=auth")
    waiting = [
        pod["status"]["containerStatuses"][0]["state"].get("waiting", {}).get("reason")
        for pod in pods
        if not _ready(pod)
    ]
    assert waiting and set(waiting) == {"ImagePullBackOff"}
    assert world.kube.traffic_split("auth", NS) == [(old_sha, 1.0)]  # the old pods still serve
    world.advance(600, step=60)
    assert auth.condition("Progressing")["reason"] == "ProgressDeadlineExceeded"
    assert auth.rollout_status() == 'error: deployment "auth" exceeded its progress deadline'
    assert auth.condition("Available")["status"] == "True"


def test_a_paused_deployment_holds_a_template_change_until_resumed() -> None:
    world = auth_world(replicas=4)
    auth = Auth(world)
    before = set(auth.sets())
    auth.store.update(DEPLOYMENT, NS, "auth", lambda obj: obj["spec"].__setitem__("paused", True))
    auth.set_image(new_version(world, "v2"))
    world.advance(60)
    assert set(auth.sets()) == before
    assert auth.condition("Progressing")["reason"] == "DeploymentPaused"
    auth.store.update(DEPLOYMENT, NS, "auth", lambda obj: obj["spec"].pop("paused"))
    world.advance(60)
    assert set(auth.sets()) - before  # the new ReplicaSet (the oldest one went: history limit)
    assert len(auth.sets()) == len(before) == 6  # current + revisionHistoryLimit (5)
    assert auth.rollout_status() == 'deployment "auth" successfully rolled out'


def test_a_seeded_deployment_looks_like_a_real_one() -> None:
    """Every field of a captured complete Deployment is in ours, with the same JSON type."""
    fixture = load_fixture("kubernetes/deployment-complete.json")
    ours = Auth(auth_world()).deployment
    for section in ("status", "spec"):
        for key, value in fixture[section].items():
            assert key in ours[section], f"{section}.{key}"
            assert type(ours[section][key]) is type(value), f"{section}.{key}"
    for condition in ours["status"]["conditions"]:
        assert set(condition) == set(fixture["status"]["conditions"][0])
    revision = ours["metadata"]["annotations"][REVISION]
    assert revision.isdigit()
    sets = sorted(
        Auth(auth_world()).sets().values(),
        key=lambda rs: int(rs["metadata"]["annotations"][REVISION]),
    )
    assert sets[-1]["metadata"]["annotations"][REVISION] == revision
    assert [rs["spec"]["replicas"] for rs in sets[:-1]] == [0] * (len(sets) - 1)
