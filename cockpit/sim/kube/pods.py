"""The ReplicaSet controller and the kubelet: pods that come and go and become ready.

``ReplicaSets.sync`` keeps one ReplicaSet's pods at ``spec.replicas`` (scaling down
the not-ready, then the newest, first, as Kubernetes does), starts each new pod's
container ``POD_READY_SECONDS`` after it was created, and writes the ReplicaSet's
status counters. A pod whose image the registry does not have (an image no build
produced) never starts: it shows ``ImagePullBackOff``, as the captured canary pod does.

``restart_pods`` is the in-place restart Argo Rollouts does for ``spec.restartAt``:
delete pods older than the restart time, a few at a time, and let the ReplicaSet
replace them.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from cockpit.sim.kube import objects
from cockpit.sim.kube.hashing import random_suffix
from cockpit.sim.kube.index import OwnerIndex
from cockpit.sim.kube.objects import Obj, parse_time
from cockpit.sim.kube.store import POD, REPLICASET, ObjectStore

#: Simulated seconds from a pod's creation to its readiness.
POD_READY_SECONDS = 6
#: Simulated seconds before a pod with an unknown image reports ImagePullBackOff.
IMAGE_PULL_SECONDS = 4

#: Whether the registry has this image for this service.
ImageCheck = Callable[[str, str], bool]


class ReplicaSets:
    """Pods for ReplicaSets, one ReplicaSet per :meth:`sync`."""

    def __init__(
        self, store: ObjectStore, index: OwnerIndex, image_exists: ImageCheck, rng: random.Random
    ) -> None:
        self.store = store
        self.index = index
        self.image_exists = image_exists
        self.rng = rng
        self._next_ip = 0

    def pods(self, namespace: str, rs_name: str) -> list[Obj]:
        names = self.index.children(namespace, "ReplicaSet", rs_name, "Pod")
        found = (self.store.find(POD, namespace, name) for name in names)
        return [pod for pod in found if pod is not None]

    def sync(self, namespace: str, rs_name: str, now: datetime) -> datetime | None:
        """Bring one ReplicaSet's pods and status up to ``now``; returns when to look again."""
        rs = self.store.find(REPLICASET, namespace, rs_name)
        if rs is None:
            return None
        pods = self.pods(namespace, rs_name)
        desired = int(rs["spec"].get("replicas", 1))
        if len(pods) > desired:
            # Kubernetes deletes unready pods first, then the most recently created.
            pods.sort(key=lambda p: p["metadata"]["creationTimestamp"], reverse=True)
            pods.sort(key=objects.pod_is_ready)
            doomed = pods[: len(pods) - desired]
            for pod in doomed:
                self.store.delete(POD, namespace, pod["metadata"]["name"])
            pods = [p for p in pods if p not in doomed]
        for _ in range(desired - len(pods)):
            pods.append(self._create_pod(rs, now))
        wake = self._start_containers(rs, pods, now)
        self._write_status(rs, pods)
        return wake

    def seed_pods(self, rs: Obj, count: int, created: datetime) -> None:
        """Pods that were created at ``created`` and have been running since."""
        for _ in range(count):
            pod = self._pod(rs, created)
            objects.pod_running(pod, created + timedelta(seconds=POD_READY_SECONDS))
            self.store.create(POD, pod)

    # ------------------------------------------------------------------ internals

    def _pod(self, rs: Obj, created: datetime) -> Obj:
        self._next_ip += 1
        ip = f"10.244.{self._next_ip // 250 % 256}.{self._next_ip % 250 + 2}"
        return objects.pod(rs, random_suffix(self.rng), self.rng.choice(objects.NODES), ip, created)

    def _create_pod(self, rs: Obj, now: datetime) -> Obj:
        return self.store.create(POD, self._pod(rs, now))

    def _start_containers(self, rs: Obj, pods: list[Obj], now: datetime) -> datetime | None:
        app = rs["spec"]["template"]["metadata"]["labels"].get(objects.APP_LABEL, "")
        image = objects.container_image(rs["spec"]["template"])
        known = self.image_exists(app, image)
        wake: datetime | None = None
        for index, pod in enumerate(pods):
            if objects.pod_is_ready(pod):
                continue
            created = parse_time(pod["metadata"]["creationTimestamp"])
            assert created is not None
            if known:
                ready_at = created + timedelta(seconds=POD_READY_SECONDS)
                if now >= ready_at:
                    pods[index] = self.store.update(
                        POD,
                        pod["metadata"]["namespace"],
                        pod["metadata"]["name"],
                        lambda p, at=ready_at: objects.pod_running(p, at),
                        subresource="status",
                    )
                else:
                    wake = ready_at if wake is None else min(wake, ready_at)
            else:
                failing_at = created + timedelta(seconds=IMAGE_PULL_SECONDS)
                if now >= failing_at:
                    pods[index] = self.store.update(
                        POD,
                        pod["metadata"]["namespace"],
                        pod["metadata"]["name"],
                        objects.pod_image_pull_failing,
                        subresource="status",
                    )
                else:
                    wake = failing_at if wake is None else min(wake, failing_at)
        return wake

    def _write_status(self, rs: Obj, pods: list[Obj]) -> None:
        ready = sum(1 for pod in pods if objects.pod_is_ready(pod))
        status: Obj = {"observedGeneration": rs["metadata"].get("generation", 1)}
        status["replicas"] = len(pods)
        if pods:
            status["fullyLabeledReplicas"] = len(pods)
        if ready:
            status["readyReplicas"] = ready
            status["availableReplicas"] = ready  # minReadySeconds is 0
        if rs.get("status") != status:
            rs["status"] = status
            self.store.replace(REPLICASET, rs, subresource="status")


def restart_pods(
    sets: ReplicaSets,
    namespace: str,
    rs_names: Iterable[str],
    restart_at: datetime,
    max_unavailable: int,
) -> bool:
    """Delete pods created before ``restart_at``, keeping at most ``max_unavailable`` down.

    Returns True once every pod is younger than the restart and ready (the restart is done).
    """
    pods = [pod for name in rs_names for pod in sets.pods(namespace, name)]
    old = [
        pod
        for pod in pods
        if (parse_time(pod["metadata"]["creationTimestamp"]) or restart_at) < restart_at
    ]
    unavailable = sum(1 for pod in pods if not objects.pod_is_ready(pod))
    if not old:
        return unavailable == 0
    budget = max(max_unavailable, 1) - unavailable
    old.sort(key=lambda p: p["metadata"]["creationTimestamp"])
    for pod in old[: max(budget, 0)]:
        sets.store.delete(POD, namespace, pod["metadata"]["name"])
    return False
