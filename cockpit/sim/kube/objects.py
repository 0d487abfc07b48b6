"""What the simulated cluster's objects look like: builders, label/annotation keys, conditions.

Every builder returns a plain JSON-like dict shaped like the real object (compare with
the captured Rollouts, ReplicaSets, Pods and Deployments in the shared fixtures):
labels, annotations, ``ownerReferences`` with ``controller: true`` and the owner's uid,
apiserver defaults on built-in pod templates, conditions with ``lastUpdateTime`` and
``lastTransitionTime``. Controllers use the small helpers at the bottom to read times,
owners and conditions the same way everywhere.
"""

from __future__ import annotations

import copy
import hashlib
import math
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from cockpit.sim.clock import rfc3339
from cockpit.sim.kube.hashing import short_hash

Obj = dict[str, Any]

# --------------------------------------------------------------------------- keys

APP_LABEL = "app"
#: The label Argo Rollouts adds to its ReplicaSets, pods and services' selectors.
ROLLOUT_HASH_LABEL = "rollouts-pod-template-hash"
#: The label the Deployment controller adds.
DEPLOYMENT_HASH_LABEL = "pod-template-hash"

ROLLOUT_REVISION = "rollout.argoproj.io/revision"
ROLLOUT_REVISION_HISTORY = "rollout.argoproj.io/revision-history"
ROLLOUT_DESIRED_REPLICAS = "rollout.argoproj.io/desired-replicas"
SCALE_DOWN_DEADLINE = "argo-rollouts.argoproj.io/scale-down-deadline"
MANAGED_BY_ROLLOUTS = "argo-rollouts.argoproj.io/managed-by-rollouts"

DEPLOYMENT_REVISION = "deployment.kubernetes.io/revision"
DEPLOYMENT_REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DEPLOYMENT_DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
DEPLOYMENT_MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"

#: The AnalysisTemplates every namespace gets (background, analysis steps), and the
#: article's threshold.
ANALYSIS_TEMPLATE = "success-rate"
STEP_ANALYSIS_TEMPLATE = "success-rate-step"
SUCCESS_THRESHOLD = 0.99
PROMETHEUS_ADDRESS = "http://prometheus.monitoring:9090"

CONTAINER_PORT = 8080
NODES = ("sim-node-a", "sim-node-b", "sim-node-c")


# --------------------------------------------------------------------------- time


def parse_time(value: str | None) -> datetime | None:
    """An RFC 3339 timestamp from an object (``2026-11-26T03:00:00Z``), or None."""
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def whole_seconds(moment: datetime) -> datetime:
    """The instant as objects record it (RFC 3339 with seconds precision)."""
    return moment.replace(microsecond=0)


# --------------------------------------------------------------------------- pod templates

_CONTAINER_DEFAULTS = {
    "imagePullPolicy": "IfNotPresent",
    "terminationMessagePath": "/dev/termination-log",
    "terminationMessagePolicy": "File",
}
_POD_SPEC_DEFAULTS = {
    "dnsPolicy": "ClusterFirst",
    "restartPolicy": "Always",
    "schedulerName": "default-scheduler",
    "securityContext": {},
    "terminationGracePeriodSeconds": 30,
}


def pod_template(app: str, image: str, *, defaults: bool) -> Obj:
    """The pod template of a service's workload.

    ``defaults`` adds what the apiserver fills in for built-in kinds (Deployments,
    ReplicaSets); a Rollout is a custom resource and keeps the template as written.
    """
    container: Obj = {
        "name": app,
        "image": image,
        "ports": [{"containerPort": CONTAINER_PORT, "name": "http", "protocol": "TCP"}],
        "readinessProbe": {
            "httpGet": {"path": "/healthz", "port": "http", "scheme": "HTTP"},
            "periodSeconds": 5,
        },
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}},
    }
    template: Obj = {
        "metadata": {"creationTimestamp": None, "labels": {APP_LABEL: app}},
        "spec": {"containers": [container]},
    }
    return with_pod_defaults(template) if defaults else template


def with_pod_defaults(template: Obj) -> Obj:
    """A copy of the template with the apiserver's defaults filled in."""
    result = copy.deepcopy(template)
    spec = result.setdefault("spec", {})
    for container in spec.get("containers") or []:
        for key, value in _CONTAINER_DEFAULTS.items():
            container.setdefault(key, value)
    for key, value in _POD_SPEC_DEFAULTS.items():
        spec.setdefault(key, copy.deepcopy(value))
    return result


def without_hash_labels(template: Obj) -> Obj:
    result = copy.deepcopy(template)
    labels = (result.get("metadata") or {}).get("labels") or {}
    labels.pop(ROLLOUT_HASH_LABEL, None)
    labels.pop(DEPLOYMENT_HASH_LABEL, None)
    return result


def pod_template_hash(template: Obj) -> str:
    """The pod-template-hash of a template: equal for equal templates, defaults or not.

    Hashing the defaulted template without hash labels makes ``undo`` (which copies an
    old ReplicaSet's defaulted template back into the workload) find that ReplicaSet
    again, as the real controllers do.
    """
    return short_hash(with_pod_defaults(without_hash_labels(template)))


def container_image(template: Obj) -> str:
    containers = (template.get("spec") or {}).get("containers") or [{}]
    return str(containers[0].get("image", ""))


def with_image(template: Obj, image: str) -> Obj:
    result = copy.deepcopy(template)
    result["spec"]["containers"][0]["image"] = image
    return result


# --------------------------------------------------------------------------- metadata


def owner_reference(owner: Obj) -> Obj:
    return {
        "apiVersion": owner["apiVersion"],
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": owner["kind"],
        "name": owner["metadata"]["name"],
        "uid": owner["metadata"]["uid"],
    }


def controller_name(obj: Obj, kind: str) -> str | None:
    """The name of the object's controlling owner of ``kind`` (None when it has none)."""
    for reference in obj.get("metadata", {}).get("ownerReferences") or []:
        if reference.get("controller") and reference.get("kind") == kind:
            return str(reference.get("name"))
    return None


def annotations(obj: Obj) -> dict[str, str]:
    return obj.setdefault("metadata", {}).setdefault("annotations", {})


def revision_of(obj: Obj, key: str) -> int:
    try:
        return int((obj.get("metadata", {}).get("annotations") or {}).get(key, "0"))
    except ValueError:
        return 0


#: The annotations GitLab's deploy boards read to match a workload to a project and an
#: environment (docs.gitlab.com/user/project/deploy_boards/#enabling-deploy-boards):
#: ``app.gitlab.com/app: $CI_PROJECT_PATH_SLUG``, ``app.gitlab.com/env: $CI_ENVIRONMENT_SLUG``.
GITLAB_APP_ANNOTATION = "app.gitlab.com/app"
GITLAB_ENV_ANNOTATION = "app.gitlab.com/env"


def slug(text: str) -> str:
    """GitLab's path/environment slug: lower case, anything but a-z0-9 becomes '-', at most
    63 characters, no leading or trailing '-' (``CI_PROJECT_PATH_SLUG``, docs.gitlab.com/ci/
    variables/predefined_variables/)."""
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return out[:63].strip("-")


def gitlab_annotations(project_path: str, environment: str) -> dict[str, str]:
    return {GITLAB_APP_ANNOTATION: slug(project_path), GITLAB_ENV_ANNOTATION: slug(environment)}


def workload_labels(service: str, group: str) -> dict[str, str]:
    return {
        APP_LABEL: service,
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/part-of": group,
    }


# --------------------------------------------------------------------------- objects


def namespace(name: str, created: datetime) -> Obj:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {"kubernetes.io/metadata.name": name},
            "creationTimestamp": rfc3339(created),
        },
        "spec": {"finalizers": ["kubernetes"]},
        "status": {"phase": "Active"},
    }


def service(
    name: str,
    ns: str,
    selector: dict[str, str],
    cluster_ip: str,
    created: datetime,
    *,
    managed_by: str | None = None,
) -> Obj:
    metadata: Obj = {
        "name": name,
        "namespace": ns,
        "labels": {APP_LABEL: selector[APP_LABEL]},
        "creationTimestamp": rfc3339(created),
    }
    if managed_by:
        metadata["annotations"] = {MANAGED_BY_ROLLOUTS: managed_by}
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": metadata,
        "spec": {
            "clusterIP": cluster_ip,
            "clusterIPs": [cluster_ip],
            "internalTrafficPolicy": "Cluster",
            "ipFamilies": ["IPv4"],
            "ipFamilyPolicy": "SingleStack",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}],
            "selector": dict(selector),
            "sessionAffinity": "None",
            "type": "ClusterIP",
        },
        "status": {"loadBalancer": {}},
    }


def success_rate_template(ns: str, created: datetime) -> Obj:
    """The background AnalysisTemplate: the success-rate query of Argo Rollouts'
    ``docs/analysis/prometheus.md``, over ``http_requests_total``, at the article's 0.99.

    It measures every minute until the rollout ends it (no ``count``), so a canary that
    degrades at a later step is still caught. It also takes the environment, because
    staging and production report under the same service name and must not be mixed.
    """
    return _success_rate_template(ANALYSIS_TEMPLATE, ns, created, count=None)


def step_analysis_template(ns: str, created: datetime) -> Obj:
    """The same check as a gate for ``analysis`` steps: five measurements, then a verdict."""
    return _success_rate_template(STEP_ANALYSIS_TEMPLATE, ns, created, count=5)


def _success_rate_template(name: str, ns: str, created: datetime, count: int | None) -> Obj:
    selector = 'service="{{args.service-name}}",environment="{{args.environment}}"'
    query = (
        f'(sum(rate(http_requests_total{{{selector},status=~"2.."}}[5m])) or vector(0))\n'
        "/\n"
        f"sum(rate(http_requests_total{{{selector}}}[5m]))\n"
    )
    metric: Obj = {"name": "success-rate", "interval": "1m"}
    if count is not None:
        metric["count"] = count
    metric.update(
        {
            "successCondition": (
                f"len(result) == 0 || isNaN(result[0]) || result[0] >= {SUCCESS_THRESHOLD}"
            ),
            "failureLimit": 1,
            "provider": {"prometheus": {"address": PROMETHEUS_ADDRESS, "query": query}},
        }
    )
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": name, "namespace": ns, "creationTimestamp": rfc3339(created)},
        "spec": {
            "args": [{"name": "service-name"}, {"name": "environment"}],
            "metrics": [metric],
        },
    }


def analysis_args(service_name: str, environment: str) -> list[Obj]:
    return [
        {"name": "service-name", "value": service_name},
        {"name": "environment", "value": environment},
    ]


def canary_strategy(
    service_name: str,
    environment: str,
    steps: Iterable[Obj],
    analysis_from_step: int,
) -> Obj:
    args = analysis_args(service_name, environment)
    kube_steps = []
    for step in steps:
        step = copy.deepcopy(step)
        if "analysis" in step:
            step["analysis"] = {
                "templates": [{"templateName": STEP_ANALYSIS_TEMPLATE}],
                "args": copy.deepcopy(args),
            }
        kube_steps.append(step)
    strategy: Obj = {
        "canaryService": f"{service_name}-canary",
        "stableService": f"{service_name}-stable",
        "trafficRouting": {"smi": {"trafficSplitName": service_name}},
        "steps": kube_steps,
    }
    if analysis_from_step >= 0:
        strategy["analysis"] = {
            "templates": [{"templateName": ANALYSIS_TEMPLATE}],
            "args": args,
            "startingStep": analysis_from_step,
        }
    return {"canary": strategy}


def bluegreen_strategy(service_name: str) -> Obj:
    return {
        "blueGreen": {
            "activeService": f"{service_name}-active",
            "previewService": f"{service_name}-preview",
            "autoPromotionEnabled": False,
        }
    }


REVISION_HISTORY_LIMIT = 5


def rollout(
    name: str,
    ns: str,
    labels: dict[str, str],
    replicas: int,
    template: Obj,
    strategy: Obj,
    created: datetime,
) -> Obj:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(labels),
            "annotations": {},
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "replicas": replicas,
            "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
            "selector": {"matchLabels": {APP_LABEL: labels[APP_LABEL]}},
            "strategy": strategy,
            "template": template,
        },
    }


def deployment(
    name: str,
    ns: str,
    labels: dict[str, str],
    replicas: int,
    template: Obj,
    created: datetime,
) -> Obj:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": ns,
            "labels": dict(labels),
            "annotations": {},
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": replicas,
            "revisionHistoryLimit": REVISION_HISTORY_LIMIT,
            "selector": {"matchLabels": {APP_LABEL: labels[APP_LABEL]}},
            "strategy": {
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
                "type": "RollingUpdate",
            },
            "template": template,
        },
    }


def replicaset(
    owner: Obj,
    template: Obj,
    hash_label: str,
    template_hash: str,
    revision_key: str,
    revision: int,
    replicas: int,
    extra_annotations: dict[str, str],
    created: datetime,
) -> Obj:
    """A ReplicaSet owned by a Rollout or a Deployment, as its controller creates it."""
    rs_template = with_pod_defaults(without_hash_labels(template))
    rs_template["metadata"]["labels"][hash_label] = template_hash
    selector = dict(owner["spec"]["selector"]["matchLabels"])
    selector[hash_label] = template_hash
    name = f"{owner['metadata']['name']}-{template_hash}"
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": dict(rs_template["metadata"]["labels"]),
            "annotations": {revision_key: str(revision), **extra_annotations},
            "ownerReferences": [owner_reference(owner)],
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": selector},
            "template": rs_template,
        },
        "status": {"observedGeneration": 1, "replicas": 0},
    }


def pod(
    rs: Obj,
    suffix: str,
    node: str,
    ip: str,
    created: datetime,
) -> Obj:
    """A new pod of a ReplicaSet: scheduled, its container still being created."""
    template = rs["spec"]["template"]
    name = f"{rs['metadata']['name']}-{suffix}"
    spec = copy.deepcopy(template["spec"])
    token = f"kube-api-access-{suffix}"
    for container in spec.get("containers") or []:
        container["volumeMounts"] = [
            {
                "mountPath": "/var/run/secrets/kubernetes.io/serviceaccount",
                "name": token,
                "readOnly": True,
            }
        ]
    spec.update(
        {
            "enableServiceLinks": True,
            "nodeName": node,
            "preemptionPolicy": "PreemptLowerPriority",
            "priority": 0,
            "serviceAccount": "default",
            "serviceAccountName": "default",
            # What admission adds to every pod.
            "tolerations": [
                {
                    "effect": "NoExecute",
                    "key": f"node.kubernetes.io/{reason}",
                    "operator": "Exists",
                    "tolerationSeconds": 300,
                }
                for reason in ("not-ready", "unreachable")
            ],
            "volumes": [
                {
                    "name": token,
                    "projected": {
                        "defaultMode": 420,
                        "sources": [
                            {"serviceAccountToken": {"expirationSeconds": 3607, "path": "token"}},
                            {
                                "configMap": {
                                    "items": [{"key": "ca.crt", "path": "ca.crt"}],
                                    "name": "kube-root-ca.crt",
                                }
                            },
                        ],
                    },
                }
            ],
        }
    )
    started = rfc3339(created)
    containers = spec.get("containers") or []
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{rs['metadata']['name']}-",
            "namespace": rs["metadata"]["namespace"],
            "labels": dict(template["metadata"].get("labels") or {}),
            "ownerReferences": [owner_reference(rs)],
            "creationTimestamp": started,
        },
        "spec": spec,
        "status": {
            "conditions": [
                _pod_condition("Initialized", "True", started),
                _pod_condition("Ready", "False", started, "ContainersNotReady"),
                _pod_condition("ContainersReady", "False", started, "ContainersNotReady"),
                _pod_condition("PodScheduled", "True", started),
            ],
            "containerStatuses": [
                {
                    "image": container.get("image", ""),
                    "imageID": "",
                    "lastState": {},
                    "name": container.get("name", ""),
                    "ready": False,
                    "restartCount": 0,
                    "started": False,
                    "state": {"waiting": {"reason": "ContainerCreating"}},
                }
                for container in containers
            ],
            "hostIP": _node_ip(node),
            "phase": "Pending",
            "podIP": ip,
            "podIPs": [{"ip": ip}],
            "qosClass": "Burstable",
            "startTime": started,
        },
    }


def _pod_condition(kind: str, status: str, when: str, reason: str | None = None) -> Obj:
    condition: Obj = {
        "lastProbeTime": None,
        "lastTransitionTime": when,
        "status": status,
        "type": kind,
    }
    if reason:
        condition["reason"] = reason
    return condition


def _node_ip(node: str) -> str:
    return f"10.0.0.{NODES.index(node) + 11 if node in NODES else 10}"


def image_digest(image: str) -> str:
    repository = image.rpartition(":")[0] or image
    return f"{repository}@sha256:{hashlib.sha256(image.encode()).hexdigest()}"


def pod_running(pod_obj: Obj, when: datetime) -> None:
    """Mark a pod's containers started and ready (in place)."""
    stamp = rfc3339(when)
    status = pod_obj["status"]
    status["phase"] = "Running"
    for condition in status["conditions"]:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition["status"] = "True"
            condition["lastTransitionTime"] = stamp
            condition.pop("reason", None)
    for container in status["containerStatuses"]:
        container["ready"] = True
        container["started"] = True
        container["imageID"] = image_digest(container["image"])
        name = pod_obj["metadata"]["name"].encode()
        container["containerID"] = f"containerd://{hashlib.sha256(name).hexdigest()}"
        container["state"] = {"running": {"startedAt": stamp}}


def pod_image_pull_failing(pod_obj: Obj) -> None:
    """Mark a pod whose image does not exist in the registry (in place)."""
    image = pod_obj["spec"]["containers"][0]["image"]
    for container in pod_obj["status"]["containerStatuses"]:
        container["state"] = {
            "waiting": {
                "message": f'Back-off pulling image "{image}"',
                "reason": "ImagePullBackOff",
            }
        }


def pod_is_ready(pod_obj: Obj) -> bool:
    for condition in (pod_obj.get("status") or {}).get("conditions") or []:
        if condition.get("type") == "Ready":
            return condition.get("status") == "True"
    return False


# --------------------------------------------------------------------------- conditions


def condition(conditions: list[Obj], kind: str) -> Obj | None:
    for item in conditions:
        if item.get("type") == kind:
            return item
    return None


def set_condition(
    conditions: list[Obj],
    kind: str,
    status: str,
    reason: str,
    message: str,
    now: datetime,
) -> bool:
    """Argo's / Kubernetes' ``SetCondition``: nothing changes when status and reason match.

    A changed condition moves to the end of the list; ``lastTransitionTime`` is kept
    when only the reason changed. Returns whether anything changed.
    """
    current = condition(conditions, kind)
    if current is not None and current["status"] == status and current["reason"] == reason:
        return False
    stamp = rfc3339(now)
    transition = current["lastTransitionTime"] if current and current["status"] == status else stamp
    if current is not None:
        conditions.remove(current)
    conditions.append(
        {
            "type": kind,
            "status": status,
            "lastUpdateTime": stamp,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }
    )
    return True


def record_progress(conditions: list[Obj], reason: str, message: str, now: datetime) -> None:
    """A ``Progressing=True`` condition whose ``lastUpdateTime`` moves on every progress."""
    current = condition(conditions, "Progressing")
    stamp = rfc3339(now)
    transition = stamp
    if current is not None:
        if current["status"] == "True":
            transition = current["lastTransitionTime"]
        conditions.remove(current)
    conditions.append(
        {
            "type": "Progressing",
            "status": "True",
            "lastUpdateTime": stamp,
            "lastTransitionTime": transition,
            "reason": reason,
            "message": message,
        }
    )


def remove_condition(conditions: list[Obj], kind: str) -> None:
    current = condition(conditions, kind)
    if current is not None:
        conditions.remove(current)


# --------------------------------------------------------------------------- arithmetic


def scaled_value(value: int | str | None, total: int, *, round_up: bool, default: str) -> int:
    """An int-or-percent field (``maxSurge: 25%``) as a count of ``total``."""
    raw = default if value is None else value
    if isinstance(raw, int):
        return raw
    text = str(raw).strip()
    if text.endswith("%"):
        fraction = float(text[:-1]) / 100 * total
        return math.ceil(fraction) if round_up else math.floor(fraction)
    return int(text)


_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


def duration_seconds(value: int | float | str | None) -> float | None:
    """A duration as Argo accepts it: int or unit-less string = seconds, else Go syntax.

    ``30``, ``"30"``, ``"30s"``, ``"5m"``, ``"1h30m"``; None for None. Raises
    ValueError for anything else.
    """
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+", text):
        return float(text)
    position, total = 0, 0.0
    for match in _DURATION_PART.finditer(text):
        if match.start() != position:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"invalid duration {value!r}")
    return total
