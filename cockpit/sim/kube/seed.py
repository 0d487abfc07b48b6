"""The cluster as a scenario starts it: namespaces, workloads, revisions, pods, analysis.

For each service × environment, the ReplicaSets are GitLab's successful deployments
(``world.gitlab.deployed``): one revision per change of version, a version deployed
again (a rollback) re-stamped with a new revision, the newest few kept. Their ages
follow the service's deployment cadence.

A calm environment is fully promoted. An environment with a ``candidate`` starts
mid-rollout, in the state the controller itself would have reached: the timeline of
the steps before ``candidate_step`` is worked out backwards from now (a setWeight
step takes as long as its pods need to become ready, a timed pause its duration, an
indefinite pause a few minutes of human hesitation), and the canary's weights, pods,
pause condition and background AnalysisRun are laid down at those instants. The
AnalysisRun's past measurements are taken by the analysis controller on the first
step, against the traffic those instants saw (the timeline is also the traffic
history, :attr:`SeededWorkload.history`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from cockpit.sim.clock import rfc3339
from cockpit.sim.kube import objects
from cockpit.sim.kube.analysis import new_run
from cockpit.sim.kube.objects import Obj
from cockpit.sim.kube.pods import POD_READY_SECONDS, ReplicaSets
from cockpit.sim.kube.rollouts import (
    PAUSE_BLUEGREEN,
    PAUSE_CANARY,
    canary_replicas,
    set_weight_before,
    step_hash,
)
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    ANALYSIS_TEMPLATE,
    DEPLOYMENT,
    NAMESPACE,
    REPLICASET,
    ROLLOUT,
    SERVICE,
    ObjectStore,
)
from cockpit.sim.scenario import EnvSpec

#: (when, [(sha, fraction)]): which versions served the requests from that instant on.
Split = tuple[tuple[str, float], ...]

#: How long an indefinite pause before the current step was held before a human promoted.
HUMAN_PROMOTE_SECONDS = 180
#: How long the rollout has been sitting at an indefinite pause when the world starts:
#: longer than the 5-minute rate window, so the success rate already shows the step.
INDEFINITE_DWELL_SECONDS = 480
#: How long ago the preview of a blue-green candidate became ready.
PREVIEW_DWELL_SECONDS = 150
#: Old ReplicaSets kept besides the live ones.
SEEDED_HISTORY = objects.REVISION_HISTORY_LIMIT


class Versions(Protocol):
    def image(self, service: str, sha: str) -> str: ...


@dataclass
class SeededWorkload:
    service: str
    environment: str
    namespace: str
    name: str
    kind: str
    #: The traffic split over the seeded past, oldest first (the last is current).
    history: list[tuple[datetime, Split]] = field(default_factory=list)


@dataclass(frozen=True)
class _Revision:
    sha: str
    number: int
    history: tuple[int, ...]
    first_deployed: datetime
    last_deployed: datetime


#: Services whose workloads carry no app.gitlab.com annotations (as in a cluster where
#: not every deploy job writes them): cockpit init matches them by namespace and name.
UNANNOTATED = frozenset({"reviews"})


def revisions(shas: list[str], times: list[datetime]) -> list[_Revision]:
    """One revision per change of version; a version deployed again is re-stamped."""
    numbers: dict[str, list[int]] = {}
    first: dict[str, datetime] = {}
    last: dict[str, datetime] = {}
    current, number = None, 0
    for sha, moment in zip(shas, times, strict=True):
        if sha == current:
            continue
        number += 1
        numbers.setdefault(sha, []).append(number)
        first.setdefault(sha, moment)
        last[sha] = moment
        current = sha
    result = [
        _Revision(sha, nums[-1], tuple(nums[:-1]), first[sha], last[sha])
        for sha, nums in numbers.items()
    ]
    return sorted(result, key=lambda r: r.number)


def step_seconds(step: Obj, previous_weight: int, replicas: int) -> float:
    """How long the controller spends on a step it completes on its own."""
    if "setWeight" in step:
        grows = canary_replicas(replicas, int(step["setWeight"])) > canary_replicas(
            replicas, previous_weight
        )
        return POD_READY_SECONDS if grows else 0
    if "pause" in step:
        duration = objects.duration_seconds((step["pause"] or {}).get("duration"))
        return HUMAN_PROMOTE_SECONDS if duration is None else duration
    if "analysis" in step:
        return 4 * 60  # five measurements a minute apart
    return 0


def dwell_seconds(step: Obj | None) -> float:
    """How long the rollout has already been at its current step when the world starts."""
    if step is None or "pause" not in step:
        return 0
    duration = objects.duration_seconds((step["pause"] or {}).get("duration"))
    if duration is None:
        return INDEFINITE_DWELL_SECONDS
    return min(max(duration * 0.3, 10), 90)


def canary_timeline(steps: list[Obj], index: int, replicas: int, now: datetime) -> list[datetime]:
    """When the rollout arrived at each step 0..index, working back from now."""
    current = steps[index] if index < len(steps) else None
    arrivals = [objects.whole_seconds(now - timedelta(seconds=dwell_seconds(current)))]
    for position in range(index - 1, -1, -1):
        seconds = step_seconds(steps[position], set_weight_before(steps, position), replicas)
        arrivals.insert(0, arrivals[0] - timedelta(seconds=seconds))
    return arrivals


class Seeder:
    """Creates the objects of one scenario in an empty store."""

    def __init__(self, store: ObjectStore, replicasets: ReplicaSets, versions: Versions) -> None:
        self.store = store
        self.replicasets = replicasets
        self.versions = versions
        self._service_ips = 0

    def namespace(self, name: str, created: datetime) -> None:
        if self.store.find(NAMESPACE, "", name) is None:
            self.store.create(NAMESPACE, objects.namespace(name, created))
            self.store.create(ANALYSIS_TEMPLATE, objects.success_rate_template(name, created))
            self.store.create(ANALYSIS_TEMPLATE, objects.step_analysis_template(name, created))

    def _service(
        self,
        name: str,
        namespace: str,
        selector: dict[str, str],
        created: datetime,
        managed_by: str | None,
    ) -> None:
        self._service_ips += 1
        ip = f"10.96.{self._service_ips // 250 % 256}.{self._service_ips % 250 + 2}"
        self.store.create(
            SERVICE, objects.service(name, namespace, selector, ip, created, managed_by=managed_by)
        )

    # ------------------------------------------------------------------ one environment

    def environment(
        self,
        env: EnvSpec,
        group: str,
        shas: list[str],
        deploys_per_week: float,
        now: datetime,
    ) -> SeededWorkload | None:
        if not shas:
            return None
        spacing = timedelta(days=7) / max(deploys_per_week, 0.1)
        steps = [step.to_kube() for step in env.steps]
        candidate = env.candidate is not None and len(shas) >= 1
        if candidate and env.strategy == "canary" and env.kind == "Rollout":
            index = self._candidate_index(env, steps)
            arrivals = canary_timeline(steps, index, env.replicas, now)
            last_time = arrivals[0]
        elif candidate:
            last_time = objects.whole_seconds(now - timedelta(seconds=PREVIEW_DWELL_SECONDS + 30))
        else:
            last_time = objects.whole_seconds(now - min(spacing / 2, timedelta(hours=6)))
        times = [last_time - spacing * (len(shas) - 1 - i) for i in range(len(shas))]
        history = revisions(shas, times)
        if candidate and len(history) < 2:
            candidate = False  # nothing to roll from: the only version is simply running
        self.namespace(env.namespace, times[0] - timedelta(days=1))
        labels = objects.workload_labels(env.service, group)
        workload = SeededWorkload(
            env.service,
            env.environment,
            env.namespace,
            env.service,
            env.kind if env.kind == "Deployment" else "Rollout",
        )
        if workload.kind == "Deployment":
            self._deployment(env, labels, history, times[0], candidate)
        elif env.strategy == "bluegreen":
            self._bluegreen(env, labels, history, times[0], candidate, now)
        else:
            arrivals = canary_timeline(steps, self._candidate_index(env, steps), env.replicas, now)
            self._canary(env, labels, steps, history, times[0], candidate, arrivals)
        workload.history = self._traffic_history(env, steps, history, candidate, times[0], now)
        self._annotate(env, group, workload.kind)
        return workload

    def _annotate(self, env: EnvSpec, group: str, kind: str) -> None:
        """GitLab's deploy-board annotations on the workload, as a pipeline's deploy job
        writes them; the services in UNANNOTATED have none (found by name instead)."""
        if env.service in UNANNOTATED:
            return
        rtype = DEPLOYMENT if kind == "Deployment" else ROLLOUT
        obj = self.store.get(rtype, env.namespace, env.service)
        obj["metadata"].setdefault("annotations", {}).update(
            objects.gitlab_annotations(f"{group}/{env.service}", env.environment)
        )
        self.store.replace(rtype, obj)

    def first_deploy(self, env: EnvSpec, group: str, sha: str, now: datetime) -> SeededWorkload:
        """An environment's very first deployment: the workload and its services, no status.

        The controller takes it from there (an initial deploy is promoted at once).
        """
        self.namespace(env.namespace, now)
        labels = objects.workload_labels(env.service, group)
        image = self.versions.image(env.service, sha)
        selector = {objects.APP_LABEL: env.service}
        if env.kind == "Deployment":
            template = objects.pod_template(env.service, image, defaults=True)
            self.store.create(
                DEPLOYMENT,
                objects.deployment(env.service, env.namespace, labels, env.replicas, template, now),
            )
            self._service(env.service, env.namespace, selector, now, None)
            kind = "Deployment"
        else:
            template = objects.pod_template(env.service, image, defaults=False)
            if env.strategy == "bluegreen":
                strategy = objects.bluegreen_strategy(env.service)
                names = (f"{env.service}-active", f"{env.service}-preview")
            else:
                steps = [step.to_kube() for step in env.steps]
                strategy = objects.canary_strategy(
                    env.service, env.environment, steps, env.analysis_from_step
                )
                names = (f"{env.service}-stable", f"{env.service}-canary")
            self.store.create(
                ROLLOUT,
                objects.rollout(
                    env.service, env.namespace, labels, env.replicas, template, strategy, now
                ),
            )
            for name in names:
                self._service(name, env.namespace, selector, now, env.service)
            kind = "Rollout"
        self._annotate(env, group, kind)
        return SeededWorkload(
            env.service, env.environment, env.namespace, env.service, kind, history=[]
        )

    @staticmethod
    def _candidate_index(env: EnvSpec, steps: list[Obj]) -> int:
        step = env.candidate_step
        if not isinstance(step, int):
            return 0
        return max(0, min(step, len(steps)))

    def _traffic_history(
        self,
        env: EnvSpec,
        steps: list[Obj],
        history: list[_Revision],
        candidate: bool,
        since: datetime,
        now: datetime,
    ) -> list[tuple[datetime, Split]]:
        stable = history[-2] if candidate else history[-1]
        splits: list[tuple[datetime, Split]] = [(since, ((stable.sha, 1.0),))]
        if not candidate or env.kind == "Deployment" or env.strategy != "canary":
            return splits
        index = self._candidate_index(env, steps)
        arrivals = canary_timeline(steps, index, env.replicas, now)
        new = history[-1]
        for position in range(index):
            step = steps[position]
            if "setWeight" not in step:
                continue
            weight = int(step["setWeight"]) / 100
            split = (
                ((new.sha, 1.0),) if weight >= 1 else ((new.sha, weight), (stable.sha, 1 - weight))
            )
            if weight > 0:
                splits.append((arrivals[position + 1], split))
        return splits

    # ------------------------------------------------------------------ replica sets

    def _replicasets(
        self,
        owner: Obj,
        template: Obj,
        hash_label: str,
        revision_key: str,
        history_key: str,
        history: list[_Revision],
        live: dict[str, tuple[int, datetime]],
        extra: dict[str, str],
    ) -> dict[str, Obj]:
        """ReplicaSets for the newest revisions; ``live`` = sha → (replicas, pods created)."""
        created: dict[str, Obj] = {}
        kept = history[-(SEEDED_HISTORY + len(live)) :]
        for revision in kept:
            image = self.versions.image(
                owner["metadata"]["labels"][objects.APP_LABEL], revision.sha
            )
            rs_template = objects.with_image(template, image)
            template_hash = objects.pod_template_hash(rs_template)
            replicas, pods_created = live.get(revision.sha, (0, revision.first_deployed))
            notes = dict(extra)
            if revision.history:
                notes[history_key] = ",".join(map(str, revision.history))
            rs = objects.replicaset(
                owner,
                rs_template,
                hash_label,
                template_hash,
                revision_key,
                revision.number,
                replicas,
                notes,
                revision.first_deployed,
            )
            rs["status"] = {"observedGeneration": 1, "replicas": replicas}
            if replicas:
                rs["status"].update(
                    fullyLabeledReplicas=replicas,
                    readyReplicas=replicas,
                    availableReplicas=replicas,
                )
            rs = self.store.create(REPLICASET, rs)
            self.replicasets.seed_pods(rs, replicas, pods_created)
            created[revision.sha] = rs
        return created

    # ------------------------------------------------------------------ deployments

    def _deployment(
        self,
        env: EnvSpec,
        labels: dict[str, str],
        history: list[_Revision],
        since: datetime,
        candidate: bool,
    ) -> None:
        current = history[-2] if candidate else history[-1]
        image = self.versions.image(env.service, current.sha)
        template = objects.pod_template(env.service, image, defaults=True)
        deployment = objects.deployment(
            env.service, env.namespace, labels, env.replicas, template, since
        )
        deployment = self.store.create(DEPLOYMENT, deployment)
        surge = math.ceil(env.replicas * 0.25)
        sets = self._replicasets(
            deployment,
            template,
            objects.DEPLOYMENT_HASH_LABEL,
            objects.DEPLOYMENT_REVISION,
            objects.DEPLOYMENT_REVISION_HISTORY,
            [r for r in history if r.number <= current.number],
            {current.sha: (env.replicas, current.last_deployed)},
            {
                objects.DEPLOYMENT_DESIRED_REPLICAS: str(env.replicas),
                objects.DEPLOYMENT_MAX_REPLICAS: str(env.replicas + surge),
            },
        )
        rs = sets[current.sha]
        done = current.last_deployed + timedelta(seconds=POD_READY_SECONDS * 2)
        deployment["metadata"]["annotations"][objects.DEPLOYMENT_REVISION] = str(current.number)
        deployment["status"] = {
            "availableReplicas": env.replicas,
            "conditions": [
                _condition(
                    "Available",
                    "True",
                    "MinimumReplicasAvailable",
                    "Deployment has minimum availability.",
                    done,
                    done,
                ),
                _condition(
                    "Progressing",
                    "True",
                    "NewReplicaSetAvailable",
                    f'ReplicaSet "{rs["metadata"]["name"]}" has successfully progressed.',
                    current.last_deployed,
                    done,
                ),
            ],
            "observedGeneration": 1,
            "readyReplicas": env.replicas,
            "replicas": env.replicas,
            "updatedReplicas": env.replicas,
        }
        self.store.replace(DEPLOYMENT, deployment)
        self.store.replace(DEPLOYMENT, deployment, subresource="status")
        self._service(env.service, env.namespace, {objects.APP_LABEL: env.service}, since, None)

    # ------------------------------------------------------------------ rollouts

    def _rollout(
        self,
        env: EnvSpec,
        labels: dict[str, str],
        strategy: Obj,
        history: list[_Revision],
        since: datetime,
        live: dict[str, tuple[int, datetime]],
    ) -> tuple[Obj, dict[str, Obj]]:
        current = history[-1]
        image = self.versions.image(env.service, current.sha)
        template = objects.pod_template(env.service, image, defaults=False)
        rollout = objects.rollout(
            env.service, env.namespace, labels, env.replicas, template, strategy, since
        )
        rollout["metadata"]["annotations"][objects.ROLLOUT_REVISION] = str(current.number)
        rollout = self.store.create(ROLLOUT, rollout)
        sets = self._replicasets(
            rollout,
            template,
            objects.ROLLOUT_HASH_LABEL,
            objects.ROLLOUT_REVISION,
            objects.ROLLOUT_REVISION_HISTORY,
            history,
            live,
            {objects.ROLLOUT_DESIRED_REPLICAS: str(env.replicas)},
        )
        return rollout, sets

    def _write_status(self, rollout: Obj, status: Obj) -> None:
        rollout["status"] = status
        self.store.replace(ROLLOUT, rollout, subresource="status")

    def _canary(
        self,
        env: EnvSpec,
        labels: dict[str, str],
        steps: list[Obj],
        history: list[_Revision],
        since: datetime,
        candidate: bool,
        arrivals: list[datetime],
    ) -> None:
        strategy = objects.canary_strategy(
            env.service, env.environment, steps, env.analysis_from_step
        )
        new = history[-1]
        stable = history[-2] if candidate else new
        index = self._candidate_index(env, steps) if candidate else len(steps)
        weight = set_weight_before(steps, index) if candidate else 0
        canary_count = canary_replicas(env.replicas, weight)
        live = {stable.sha: (env.replicas, stable.last_deployed + timedelta(seconds=2))}
        if candidate and canary_count:
            last_weight_step = max(
                i for i in range(index) if "setWeight" in steps[i] and int(steps[i]["setWeight"])
            )
            live[new.sha] = (canary_count, arrivals[last_weight_step])
        elif candidate:
            live[new.sha] = (0, arrivals[0])
        rollout, sets = self._rollout(env, labels, strategy, history, since, live)
        stable_hash = sets[stable.sha]["metadata"]["labels"][objects.ROLLOUT_HASH_LABEL]
        new_hash = sets[new.sha]["metadata"]["labels"][objects.ROLLOUT_HASH_LABEL]
        self._service(
            f"{env.service}-stable",
            env.namespace,
            {objects.APP_LABEL: env.service, objects.ROLLOUT_HASH_LABEL: stable_hash},
            since,
            env.service,
        )
        self._service(
            f"{env.service}-canary",
            env.namespace,
            {objects.APP_LABEL: env.service, objects.ROLLOUT_HASH_LABEL: new_hash},
            since,
            env.service,
        )
        total = env.replicas + (canary_count if candidate else 0)
        status: Obj = {
            "HPAReplicas": total,
            "availableReplicas": total,
            "blueGreen": {},
            "canary": {
                "weights": {
                    "canary": {
                        "podTemplateHash": new_hash,
                        "serviceName": f"{env.service}-canary",
                        "weight": weight,
                    },
                    "stable": {
                        "podTemplateHash": stable_hash,
                        "serviceName": f"{env.service}-stable",
                        "weight": 100 - weight,
                    },
                }
            },
            "currentPodHash": new_hash,
            "currentStepHash": step_hash(steps),
            "observedGeneration": str(rollout["metadata"]["generation"]),
            "readyReplicas": total,
            "replicas": total,
            "selector": f"{objects.APP_LABEL}={env.service}",
            "stableRS": stable_hash,
        }
        if steps:
            status["currentStepIndex"] = index
        if canary_count or not candidate:
            status["updatedReplicas"] = canary_count if candidate else env.replicas
        pauses = [i for i in range(index) if "pause" in steps[i]]
        if not candidate:
            done = stable.last_deployed + timedelta(minutes=20)
            status["conditions"] = _completed_conditions(
                sets[new.sha]["metadata"]["name"], stable.last_deployed, done
            )
            if any("pause" in step for step in steps):
                status["conditions"].insert(
                    1,
                    _condition("Paused", "False", "RolloutPaused", "Rollout is paused", done, done),
                )
            status["phase"] = "Healthy"
            self._write_status(rollout, status)
            return
        started = arrivals[0]
        conditions = [
            _condition(
                "Available",
                "True",
                "AvailableReason",
                "Rollout has minimum availability",
                stable.last_deployed,
                stable.last_deployed,
            ),
            _condition(
                "Completed", "False", "RolloutCompleted", "RolloutCompleted", started, started
            ),
            _condition(
                "Healthy", "False", "RolloutHealthy", "Rollout is not healthy", started, started
            ),
        ]
        current_step = steps[index] if index < len(steps) else {}
        now_arrival = arrivals[index]
        if "pause" in current_step:
            status["pauseConditions"] = [
                {"reason": PAUSE_CANARY, "startTime": rfc3339(now_arrival)}
            ]
            status["controllerPause"] = True
            conditions += [
                _condition(
                    "Paused", "True", "RolloutPaused", "Rollout is paused", now_arrival, now_arrival
                ),
                _condition(
                    "Progressing",
                    "Unknown",
                    "RolloutPaused",
                    "Rollout is paused",
                    now_arrival,
                    now_arrival,
                ),
            ]
            status["phase"], status["message"] = "Paused", PAUSE_CANARY
        else:
            if pauses:
                resumed = arrivals[pauses[-1] + 1]
                conditions.append(
                    _condition(
                        "Paused", "False", "RolloutPaused", "Rollout is paused", resumed, resumed
                    )
                )
            conditions.append(
                _condition(
                    "Progressing",
                    "True",
                    "ReplicaSetUpdated",
                    f'ReplicaSet "{sets[new.sha]["metadata"]["name"]}" is progressing.',
                    started,
                    now_arrival,
                )
            )
            status["phase"], status["message"] = "Progressing", "more replicas need to be updated"
        status["conditions"] = conditions
        analysis = strategy["canary"].get("analysis")
        if analysis and index >= int(analysis.get("startingStep", 0)):
            began = arrivals[int(analysis.get("startingStep", 0))]
            name = f"{env.service}-{new_hash}-{new.number}"
            template = self.store.get(ANALYSIS_TEMPLATE, env.namespace, objects.ANALYSIS_TEMPLATE)
            labels_ = {
                "rollout-type": "Background",
                objects.ROLLOUT_HASH_LABEL: new_hash,
                objects.APP_LABEL: env.service,
            }
            run = new_run(
                name, rollout, template, analysis["args"], labels_, str(new.number), began
            )
            run["status"] = {"phase": "Running", "startedAt": rfc3339(began)}
            self.store.create(ANALYSIS_RUN, run)
            status["canary"]["currentBackgroundAnalysisRunStatus"] = {
                "name": name,
                "status": "Running",
            }
        self._write_status(rollout, status)

    def _bluegreen(
        self,
        env: EnvSpec,
        labels: dict[str, str],
        history: list[_Revision],
        since: datetime,
        candidate: bool,
        now: datetime,
    ) -> None:
        strategy = objects.bluegreen_strategy(env.service)
        new = history[-1]
        stable = history[-2] if candidate else new
        paused_at = objects.whole_seconds(now - timedelta(seconds=PREVIEW_DWELL_SECONDS))
        live = {stable.sha: (env.replicas, stable.last_deployed + timedelta(seconds=2))}
        if candidate:
            live[new.sha] = (
                env.replicas,
                paused_at - timedelta(seconds=POD_READY_SECONDS),
            )
        rollout, sets = self._rollout(env, labels, strategy, history, since, live)
        stable_hash = sets[stable.sha]["metadata"]["labels"][objects.ROLLOUT_HASH_LABEL]
        new_hash = sets[new.sha]["metadata"]["labels"][objects.ROLLOUT_HASH_LABEL]
        for name, hash_ in (
            (f"{env.service}-active", stable_hash),
            (f"{env.service}-preview", new_hash),
        ):
            selector = {objects.APP_LABEL: env.service, objects.ROLLOUT_HASH_LABEL: hash_}
            self._service(name, env.namespace, selector, since, env.service)
        total = env.replicas * (2 if candidate else 1)
        status: Obj = {
            "HPAReplicas": env.replicas,
            "availableReplicas": env.replicas,
            "blueGreen": {"activeSelector": stable_hash, "previewSelector": new_hash},
            "canary": {},
            "currentPodHash": new_hash,
            "observedGeneration": str(rollout["metadata"]["generation"]),
            "readyReplicas": env.replicas,
            "replicas": total,
            "selector": f"{objects.APP_LABEL}={env.service},"
            f"{objects.ROLLOUT_HASH_LABEL}={stable_hash}",
            "stableRS": stable_hash,
            "updatedReplicas": env.replicas,
        }
        done = stable.last_deployed + timedelta(minutes=5)
        if candidate:
            started = paused_at - timedelta(seconds=POD_READY_SECONDS)
            status["pauseConditions"] = [
                {"reason": PAUSE_BLUEGREEN, "startTime": rfc3339(paused_at)}
            ]
            status["controllerPause"] = True
            status["conditions"] = [
                _condition(
                    "Available",
                    "True",
                    "AvailableReason",
                    "Rollout has minimum availability",
                    done,
                    done,
                ),
                _condition(
                    "Completed", "False", "RolloutCompleted", "RolloutCompleted", started, started
                ),
                _condition(
                    "Healthy", "False", "RolloutHealthy", "Rollout is not healthy", started, started
                ),
                _condition(
                    "Paused", "True", "RolloutPaused", "Rollout is paused", paused_at, paused_at
                ),
                _condition(
                    "Progressing",
                    "Unknown",
                    "RolloutPaused",
                    "Rollout is paused",
                    paused_at,
                    paused_at,
                ),
            ]
            status["phase"], status["message"] = "Paused", PAUSE_BLUEGREEN
        else:
            status["conditions"] = _completed_conditions(
                sets[new.sha]["metadata"]["name"], stable.last_deployed, done
            )
            status["conditions"].insert(
                3, _condition("Paused", "False", "RolloutPaused", "Rollout is paused", done, done)
            )
            status["phase"] = "Healthy"
        self._write_status(rollout, status)


def _completed_conditions(
    replicaset: str, progressing_since: datetime, done: datetime
) -> list[Obj]:
    """The conditions of a rollout whose last update completed at ``done``."""
    return [
        _condition(
            "Available", "True", "AvailableReason", "Rollout has minimum availability", done, done
        ),
        _condition("Completed", "True", "RolloutCompleted", "RolloutCompleted", done, done),
        _condition("Healthy", "True", "RolloutHealthy", "Rollout is healthy", done, done),
        _condition(
            "Progressing",
            "True",
            "NewReplicaSetAvailable",
            f'ReplicaSet "{replicaset}" has successfully progressed.',
            progressing_since,
            done,
        ),
    ]


def _condition(
    kind: str, status: str, reason: str, message: str, transition: datetime, update: datetime
) -> Obj:
    return {
        "type": kind,
        "status": status,
        "lastUpdateTime": rfc3339(update),
        "lastTransitionTime": rfc3339(transition),
        "reason": reason,
        "message": message,
    }
