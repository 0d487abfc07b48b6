"""The simulated cluster: its object store, what is in it, and the controllers that move it.

``Cluster(world)`` seeds the store from the scenario and GitLab's deployment history
(:mod:`cockpit.sim.kube.seed`), then runs the controllers as a discrete-event
simulation: every workload (a Rollout or a Deployment, with its ReplicaSets, pods and
AnalysisRuns) has a next wake-up instant, and :meth:`step` runs the due ones in time
order, each at its own instant. An API write marks its workload due at once (the store
tells us through ``store.listeners``), so a promote or abort is answered on the next
step. Idle workloads cost nothing: at steady state a step pops nothing.

The cluster also decides which version serves which share of a service's requests
(:meth:`traffic_split`) and tells the traffic model when that changes.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from cockpit.sim.kube import objects
from cockpit.sim.kube.analysis import AnalysisRuns, MeasurementError
from cockpit.sim.kube.deployments import Deployments
from cockpit.sim.kube.index import OwnerIndex
from cockpit.sim.kube.objects import Obj
from cockpit.sim.kube.pods import ReplicaSets
from cockpit.sim.kube.rollouts import Rollouts
from cockpit.sim.kube.seed import Seeder, Split
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    DEPLOYMENT,
    POD,
    REPLICASET,
    ROLLOUT,
    ObjectStore,
    WatchEvent,
)
from cockpit.sim.metrics import promql

log = logging.getLogger(__name__)

#: A reconcile that failed is tried again this much later.
RETRY_AFTER_ERROR = timedelta(seconds=10)
#: Split changes kept per workload (the traffic model reads them at start).
HISTORY_SECONDS = 3 * 3600
#: A workload never wakes sooner than this after its last sync (guards a busy loop).
MIN_WAKE = timedelta(milliseconds=1)

#: Told (service, environment, instant, split) whenever a split changes.
SplitListener = Callable[[str, str, datetime, Split], None]


@dataclass
class Workload:
    """One Rollout or Deployment the controllers look after."""

    service: str
    environment: str
    namespace: str
    name: str
    kind: str  # "Rollout" | "Deployment"
    wake: datetime | None = None
    split: Split = ()
    history: list[tuple[datetime, Split]] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


class Cluster:
    """The simulated Kubernetes cluster with Argo Rollouts: see the module docstring."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.store = ObjectStore(world.clock)
        self.index = OwnerIndex()
        self.replicasets = ReplicaSets(
            self.store, self.index, self._image_exists, world.rng("kube", "pods")
        )
        self.analysis = AnalysisRuns(self.store, self._measure)
        self.rollouts = Rollouts(self.store, self.index, self.replicasets, self.analysis)
        self.deployments = Deployments(self.store, self.index, self.replicasets)
        self._seeder = Seeder(self.store, self.replicasets, world.versions)
        self.split_listeners: list[SplitListener] = []
        self._workloads: dict[tuple[str, str], Workload] = {}
        self._by_env: dict[tuple[str, str], Workload] = {}
        self._queue: list[tuple[datetime, int, tuple[str, str]]] = []
        self._order = itertools.count()
        self._busy = False
        now = world.clock.now()
        self._last_now = now
        self.store.listeners.append(self._on_event)
        self._seed(now)

    # ------------------------------------------------------------------ contract

    def deploy(self, service: str, environment: str, sha: str) -> None:
        """Set the workload's image to the build of ``sha`` (``kubectl argo rollouts set
        image`` / ``kubectl set image``); the controllers take it from there."""
        moment = max(self.world.clock.now(), self._last_now)
        workload = self._by_env.get((service, environment))
        if workload is None:
            self._first_deploy(service, environment, sha, moment)
            return
        rtype = ROLLOUT if workload.kind == "Rollout" else DEPLOYMENT
        obj = self.store.get(rtype, workload.namespace, workload.name)
        image = self.world.versions.image(service, sha)
        template = obj["spec"]["template"]
        if objects.container_image(template) == image:
            return
        obj["spec"]["template"] = objects.with_image(template, image)
        self._busy = True
        try:
            self.store.replace(rtype, obj)
        finally:
            self._busy = False
        self._schedule(workload, moment)

    def _first_deploy(self, service: str, environment: str, sha: str, moment: datetime) -> None:
        spec = self.world.scenario.service(service)
        env = spec.env(environment)
        self._busy = True
        try:
            seeded = self._seeder.first_deploy(env, spec.group, sha, moment)
        finally:
            self._busy = False
        workload = Workload(
            seeded.service, seeded.environment, seeded.namespace, seeded.name, seeded.kind
        )
        self._workloads[workload.key] = workload
        self._by_env[(service, environment)] = workload
        self._schedule(workload, moment)

    def step(self, now: datetime) -> None:
        """Run every controller that is due, each at its own instant, up to ``now``."""
        self._busy = True
        try:
            while self._queue and self._queue[0][0] <= now:
                moment, _, key = heapq.heappop(self._queue)
                workload = self._workloads[key]
                if workload.wake != moment:
                    continue  # superseded by an earlier or later wake-up
                workload.wake = None
                self._sync(workload, moment)
        finally:
            self._busy = False
        self._last_now = max(self._last_now, now)

    def traffic_split(self, service: str, environment: str) -> list[tuple[str, float]]:
        """Which commit sha serves which fraction of the requests now (fractions sum to 1)."""
        workload = self._by_env.get((service, environment))
        return list(workload.split) if workload else []

    def traffic_history(self, service: str, environment: str) -> list[tuple[datetime, Split]]:
        """The split's changes over the last hours, oldest first (the last is current)."""
        workload = self._by_env.get((service, environment))
        return list(workload.history) if workload else []

    # ------------------------------------------------------------------ seeding

    def _seed(self, now: datetime) -> None:
        seeder = self._seeder
        self._busy = True
        try:
            for service in self.world.scenario.services:
                for env in service.environments:
                    seeded = seeder.environment(
                        env,
                        service.group,
                        list(self.world.gitlab.deployed(service.name, env.environment)),
                        service.deploys_per_week,
                        now,
                    )
                    if seeded is None:
                        continue
                    workload = Workload(
                        seeded.service,
                        seeded.environment,
                        seeded.namespace,
                        seeded.name,
                        seeded.kind,
                        split=_normalised(dict(seeded.history[-1][1])),
                        history=[(t, _normalised(dict(s))) for t, s in seeded.history],
                    )
                    self._workloads[workload.key] = workload
                    self._by_env[(workload.service, workload.environment)] = workload
                    if env.candidate is not None:
                        # Calm workloads are seeded complete: nothing to do until a write.
                        self._schedule(workload, now)
        finally:
            self._busy = False
        for service in self.world.scenario.services:
            for env in service.environments:
                workload = self._by_env.get((service.name, env.environment))
                if workload is not None and env.candidate is not None and env.kind == "Deployment":
                    obj = self.store.get(DEPLOYMENT, workload.namespace, workload.name)
                    shas = self.world.gitlab.deployed(service.name, env.environment)
                    if shas and self.world.versions.image(service.name, shas[-1]) != (
                        objects.container_image(obj["spec"]["template"])
                    ):
                        self.deploy(service.name, env.environment, shas[-1])

    # ------------------------------------------------------------------ scheduling

    def _schedule(self, workload: Workload, moment: datetime) -> None:
        if workload.wake is not None and workload.wake <= moment:
            return
        workload.wake = moment
        heapq.heappush(self._queue, (moment, next(self._order), workload.key))

    def _on_event(self, event: WatchEvent) -> None:
        """Every write: keep the ownership index, and wake the workload an API write touched."""
        owner = self.index.observe(event)
        if self._busy:
            return
        namespace = event.namespace
        key: tuple[str, str] | None = None
        kind = event.rtype
        if kind in (ROLLOUT, DEPLOYMENT):
            key = (namespace, event.object["metadata"]["name"])
            if key not in self._workloads and event.type == "ADDED":
                self._adopt(event.object, kind.kind)
        elif kind in (REPLICASET, ANALYSIS_RUN) and owner is not None:
            key = (namespace, owner[2])
        elif kind == POD and owner is not None:
            rs_owner = self.index.owner(namespace, "ReplicaSet", owner[2])
            if rs_owner is not None:
                key = (namespace, rs_owner[2])
        workload = self._workloads.get(key) if key else None
        if workload is not None:
            self._schedule(workload, self._last_now)

    def _adopt(self, obj: Obj, kind: str) -> None:
        """A workload created through the API gets reconciled too."""
        metadata = obj["metadata"]
        service = (metadata.get("labels") or {}).get(objects.APP_LABEL, metadata["name"])
        workload = Workload(
            service, metadata["namespace"], metadata["namespace"], metadata["name"], kind
        )
        self._workloads[workload.key] = workload
        self._by_env.setdefault((workload.service, workload.environment), workload)

    def _sync(self, workload: Workload, moment: datetime) -> None:
        controller = self.rollouts if workload.kind == "Rollout" else self.deployments
        try:
            wake = controller.sync(workload.namespace, workload.name, moment)
        except Exception:
            # A real controller logs a failed reconcile and re-queues it with a delay;
            # one broken workload must not stop the others (or the simulator's ticker).
            log.exception("reconciling %s %s/%s failed", workload.kind, *workload.key)
            wake = moment + RETRY_AFTER_ERROR
        self._update_split(workload, moment)
        if wake is not None:
            self._schedule(workload, max(wake, moment + MIN_WAKE))

    # ------------------------------------------------------------------ traffic

    def _update_split(self, workload: Workload, moment: datetime) -> None:
        split = self._compute_split(workload)
        if not split or split == workload.split:
            return
        workload.split = split
        workload.history.append((moment, split))
        horizon = moment - timedelta(seconds=HISTORY_SECONDS)
        while len(workload.history) > 1 and workload.history[1][0] < horizon:
            workload.history.pop(0)
        for listener in self.split_listeners:
            listener(workload.service, workload.environment, moment, split)

    def _compute_split(self, workload: Workload) -> Split:
        rtype = ROLLOUT if workload.kind == "Rollout" else DEPLOYMENT
        obj = self.store.find(rtype, workload.namespace, workload.name)
        if obj is None:
            return ()
        sets = {
            name: rs
            for name in self.index.children(
                workload.namespace, workload.kind, workload.name, "ReplicaSet"
            )
            if (rs := self.store.find(REPLICASET, workload.namespace, name)) is not None
        }
        by_hash = {
            rs["metadata"]["labels"].get(objects.ROLLOUT_HASH_LABEL): rs for rs in sets.values()
        }
        status = obj.get("status") or {}
        strategy = obj["spec"].get("strategy") or {}
        if workload.kind == "Rollout" and "blueGreen" in strategy:
            active = by_hash.get((status.get("blueGreen") or {}).get("activeSelector"))
            return ((self._sha(workload, active), 1.0),) if active else ()
        weights = (status.get("canary") or {}).get("weights")
        if workload.kind == "Rollout" and weights:
            canary = by_hash.get(weights["canary"].get("podTemplateHash"))
            stable = by_hash.get(weights["stable"].get("podTemplateHash"))
            share = weights["canary"].get("weight", 0) / 100
            parts: dict[str, float] = {}
            if canary is not None and share > 0:
                parts[self._sha(workload, canary)] = share
            if stable is not None and share < 1:
                sha = self._sha(workload, stable)
                parts[sha] = parts.get(sha, 0) + 1 - share
            return _normalised(parts)
        # No traffic routing (Deployments): each ready pod takes an equal share.
        parts = {}
        for rs in sets.values():
            available = int((rs.get("status") or {}).get("availableReplicas", 0))
            if available:
                sha = self._sha(workload, rs)
                parts[sha] = parts.get(sha, 0) + available
        return _normalised(parts)

    def _sha(self, workload: Workload, rs: Obj) -> str:
        image = objects.container_image(rs["spec"]["template"])
        version = self.world.versions.from_image(workload.service, image)
        return version.sha if version is not None else image.rpartition(":")[2]

    # ------------------------------------------------------------------ providers

    def _image_exists(self, service: str, image: str) -> bool:
        return self.world.versions.from_image(service, image) is not None

    def _measure(self, query: str, at: datetime) -> tuple[str, Any]:
        """The Prometheus provider of an AnalysisRun, against the simulated metrics."""
        try:
            value = promql.evaluate(query, self.world.traffic, at.timestamp())
        except promql.PromQLError as error:
            raise MeasurementError(f"bad_data: {error}") from None
        if isinstance(value, float):
            return promql.format_value(value), value
        values = [sample.value for sample in value]
        return "[" + ",".join(promql.format_value(v) for v in values) + "]", values


def _normalised(parts: dict[str, float]) -> Split:
    total = sum(parts.values())
    if total <= 0 or math.isnan(total):
        return ()
    return tuple(
        sorted(((sha, share / total) for sha, share in parts.items()), key=lambda p: (-p[1], p[0]))
    )
