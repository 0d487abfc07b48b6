"""Server-side printing: ``meta.k8s.io/v1 Table`` answers for ``kubectl get``.

kubectl asks ``Accept: application/json;as=Table;v=v1;g=meta.k8s.io,...`` and prints
whatever columns the server defines, so these are the apiserver's own columns for the
built-in kinds (``NAME READY UP-TO-DATE AVAILABLE AGE`` for Deployments, with the
priority-1 ``-o wide`` extras) and the Argo Rollouts CRDs' ``additionalPrinterColumns``.
Ages are measured against the simulated clock.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cockpit.sim.kube.labels import labels_string, selector_string
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    ANALYSIS_TEMPLATE,
    DEPLOYMENT,
    NAMESPACE,
    POD,
    REPLICASET,
    ROLLOUT,
    SERVICE,
    Obj,
    ResourceType,
)

NONE = "<none>"

#: ``includeObject`` values: what each row carries besides its cells.
INCLUDE_OBJECT = ("None", "Metadata", "Object")


def human_duration(seconds: float) -> str:
    """Kubernetes' ``duration.HumanDuration``: ``45s``, ``3m20s``, ``5h10m``, ``12d``, ``2y30d``."""
    total = int(seconds)
    if total < -1:
        return "<invalid>"
    if total < 0:
        return "0s"
    if total < 120:
        return f"{total}s"
    minutes = total // 60
    if minutes < 10:
        rest = total % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = total // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        years = hours // 24 // 365
        return f"{years}y{days}d" if days else f"{years}y"
    return f"{hours // 24 // 365}y"


def age(timestamp: str | None, now: datetime) -> str:
    """Time since an RFC 3339 timestamp, or ``<unknown>``."""
    if not timestamp:
        return "<unknown>"
    try:
        moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        return "<unknown>"
    return human_duration((now - moment).total_seconds())


# --------------------------------------------------------------------------- columns

Cell = Callable[[Obj, datetime], Any]


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    cell: Cell
    priority: int = 0
    format: str = ""

    def definition(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "type": self.type,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        }


def _get(obj: Any, *path: str) -> Any:
    for key in path:
        obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


NAME = Column(
    "Name",
    "string",
    "Name must be unique within a namespace.",
    lambda obj, now: _get(obj, "metadata", "name"),
    format="name",
)
AGE = Column(
    "Age",
    "string",
    "CreationTimestamp is a timestamp representing the server time when this object was created.",
    lambda obj, now: age(_get(obj, "metadata", "creationTimestamp"), now),
)
CRD_AGE = Column(
    "Age",
    "date",
    "Time since resource was created",
    lambda obj, now: age(_get(obj, "metadata", "creationTimestamp"), now),
)


def _containers(obj: Obj) -> list[dict[str, Any]]:
    return _get(obj, "spec", "template", "spec", "containers") or []


def _workload_wide_columns(kind: str) -> tuple[Column, ...]:
    return (
        Column(
            "Containers",
            "string",
            "Names of each container in the template.",
            lambda obj, now: ",".join(c.get("name", "") for c in _containers(obj)),
            priority=1,
        ),
        Column(
            "Images",
            "string",
            "Images referenced by each container in the template.",
            lambda obj, now: ",".join(c.get("image", "") for c in _containers(obj)),
            priority=1,
        ),
        Column(
            "Selector",
            "string",
            f"Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this {kind}.",
            lambda obj, now: selector_string(_get(obj, "spec", "selector")) or NONE,
            priority=1,
        ),
    )


def _int(obj: Obj, *path: str) -> int:
    value = _get(obj, *path)
    return value if isinstance(value, int) else 0


DEPLOYMENT_COLUMNS = (
    NAME,
    Column(
        "Ready",
        "string",
        "Number of the pod with ready state",
        lambda obj, now: f"{_int(obj, 'status', 'readyReplicas')}/{_replicas(obj)}",
    ),
    Column(
        "Up-to-date",
        "integer",
        "Total number of non-terminated pods targeted by this deployment that have the desired template spec.",
        lambda obj, now: _int(obj, "status", "updatedReplicas"),
    ),
    Column(
        "Available",
        "integer",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.",
        lambda obj, now: _int(obj, "status", "availableReplicas"),
    ),
    AGE,
    *_workload_wide_columns("deployment"),
)

REPLICASET_COLUMNS = (
    NAME,
    Column(
        "Desired",
        "integer",
        "Replicas is the number of desired replicas.",
        lambda obj, now: _replicas(obj),
    ),
    Column(
        "Current",
        "integer",
        "Replicas is the most recently observed number of replicas.",
        lambda obj, now: _int(obj, "status", "replicas"),
    ),
    Column(
        "Ready",
        "integer",
        "The number of ready replicas for this replica set.",
        lambda obj, now: _int(obj, "status", "readyReplicas"),
    ),
    AGE,
    *_workload_wide_columns("replica set"),
)


def _replicas(obj: Obj) -> int:
    value = _get(obj, "spec", "replicas")
    return value if isinstance(value, int) else 1


# --------------------------------------------------------------------------- pods


def pod_status(pod: Obj) -> str:
    """The STATUS column: phase, overridden by the most telling container state."""
    status = pod.get("status") or {}
    reason = status.get("reason") or status.get("phase") or "Unknown"
    running = False
    for container in reversed(status.get("containerStatuses") or []):
        state = container.get("state") or {}
        waiting = state.get("waiting")
        terminated = state.get("terminated")
        if waiting and waiting.get("reason"):
            reason = waiting["reason"]
        elif terminated and terminated.get("reason"):
            reason = terminated["reason"]
        elif terminated:
            signal = terminated.get("signal")
            reason = f"Signal:{signal}" if signal else f"ExitCode:{terminated.get('exitCode', 0)}"
        elif container.get("ready") and "running" in state:
            running = True
    if reason == "Completed" and running:
        reason = "Running"
    if _get(pod, "metadata", "deletionTimestamp"):
        reason = "Unknown" if status.get("reason") == "NodeLost" else "Terminating"
    return reason


def _pod_ready(pod: Obj) -> str:
    statuses = _get(pod, "status", "containerStatuses") or []
    total = len(_get(pod, "spec", "containers") or []) or len(statuses)
    ready = sum(1 for container in statuses if container.get("ready"))
    return f"{ready}/{total}"


def _pod_restarts(pod: Obj, now: datetime) -> str:
    restarts = 0
    last: str | None = None
    for container in _get(pod, "status", "containerStatuses") or []:
        restarts += container.get("restartCount", 0)
        finished = _get(container, "lastState", "terminated", "finishedAt")
        if finished and (last is None or finished > last):
            last = finished
    if restarts and last:
        return f"{restarts} ({age(last, now)} ago)"
    return str(restarts)


def _readiness_gates(pod: Obj) -> str:
    gates = _get(pod, "spec", "readinessGates") or []
    if not gates:
        return NONE
    conditions = {c.get("type"): c.get("status") for c in _get(pod, "status", "conditions") or []}
    passing = sum(1 for gate in gates if conditions.get(gate.get("conditionType")) == "True")
    return f"{passing}/{len(gates)}"


POD_COLUMNS = (
    NAME,
    Column(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
        lambda obj, now: _pod_ready(obj),
    ),
    Column(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
        lambda obj, now: pod_status(obj),
    ),
    Column(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
        _pod_restarts,
    ),
    AGE,
    Column(
        "IP",
        "string",
        "IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
        lambda obj, now: _get(obj, "status", "podIP") or NONE,
        priority=1,
    ),
    Column(
        "Node",
        "string",
        "NodeName is a request to schedule this pod onto a specific node.",
        lambda obj, now: _get(obj, "spec", "nodeName") or NONE,
        priority=1,
    ),
    Column(
        "Nominated Node",
        "string",
        "nominatedNodeName is set only when this pod preempts other pods on the node.",
        lambda obj, now: _get(obj, "status", "nominatedNodeName") or NONE,
        priority=1,
    ),
    Column(
        "Readiness Gates",
        "string",
        "If specified, all readiness gates will be evaluated for pod readiness.",
        lambda obj, now: _readiness_gates(obj),
        priority=1,
    ),
)


# --------------------------------------------------------------------------- services


def _service_external_ip(service: Obj) -> str:
    spec = service.get("spec") or {}
    kind = spec.get("type", "ClusterIP")
    external = list(spec.get("externalIPs") or [])
    if kind == "ExternalName":
        return spec.get("externalName") or NONE
    if kind == "LoadBalancer":
        ingress = _get(service, "status", "loadBalancer", "ingress") or []
        addresses = external + [i.get("ip") or i.get("hostname", "") for i in ingress]
        return ",".join(addresses) if addresses else "<pending>"
    return ",".join(external) if external else NONE


def _service_ports(service: Obj) -> str:
    ports = _get(service, "spec", "ports") or []
    if not ports:
        return NONE
    rendered = []
    for port in ports:
        protocol = port.get("protocol", "TCP")
        node_port = port.get("nodePort")
        if node_port:
            rendered.append(f"{port.get('port')}:{node_port}/{protocol}")
        else:
            rendered.append(f"{port.get('port')}/{protocol}")
    return ",".join(rendered)


SERVICE_COLUMNS = (
    NAME,
    Column(
        "Type",
        "string",
        "type determines how the Service is exposed.",
        lambda obj, now: _get(obj, "spec", "type") or "ClusterIP",
    ),
    Column(
        "Cluster-IP",
        "string",
        "clusterIP is the IP address of the service and is usually assigned randomly.",
        lambda obj, now: _get(obj, "spec", "clusterIP") or NONE,
    ),
    Column(
        "External-IP",
        "string",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.",
        lambda obj, now: _service_external_ip(obj),
    ),
    Column(
        "Port(s)",
        "string",
        "The list of ports that are exposed by this service.",
        lambda obj, now: _service_ports(obj),
    ),
    AGE,
    Column(
        "Selector",
        "string",
        "Route service traffic to pods with label keys and values matching this selector.",
        lambda obj, now: labels_string(_get(obj, "spec", "selector")) or NONE,
        priority=1,
    ),
)

NAMESPACE_COLUMNS = (
    NAME,
    Column(
        "Status",
        "string",
        "The status of the namespace",
        lambda obj, now: _get(obj, "status", "phase") or "Active",
    ),
    AGE,
)


# --------------------------------------------------------------------------- custom resources


def _json_path(*path: str) -> Cell:
    """A CRD column's ``jsonPath``: the value found, or null when absent."""
    return lambda obj, now: _get(obj, *path)


ROLLOUT_COLUMNS = (
    NAME,
    Column("Desired", "integer", "Number of desired pods", _json_path("spec", "replicas")),
    Column(
        "Current",
        "integer",
        "Total number of non-terminated pods targeted by this rollout",
        _json_path("status", "replicas"),
    ),
    Column(
        "Up-to-date",
        "integer",
        "Total number of non-terminated pods targeted by this rollout that have the desired template spec",
        _json_path("status", "updatedReplicas"),
    ),
    Column(
        "Available",
        "integer",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this rollout",
        _json_path("status", "availableReplicas"),
    ),
    CRD_AGE,
)

ANALYSIS_RUN_COLUMNS = (
    NAME,
    Column("Status", "string", "AnalysisRun status", _json_path("status", "phase")),
    CRD_AGE,
)

COLUMNS: dict[ResourceType, tuple[Column, ...]] = {
    DEPLOYMENT: DEPLOYMENT_COLUMNS,
    REPLICASET: REPLICASET_COLUMNS,
    POD: POD_COLUMNS,
    SERVICE: SERVICE_COLUMNS,
    NAMESPACE: NAMESPACE_COLUMNS,
    ROLLOUT: ROLLOUT_COLUMNS,
    ANALYSIS_RUN: ANALYSIS_RUN_COLUMNS,
    ANALYSIS_TEMPLATE: (NAME, CRD_AGE),
}


def columns(rtype: ResourceType) -> tuple[Column, ...]:
    return COLUMNS.get(rtype, (NAME, AGE))


# --------------------------------------------------------------------------- tables


def partial_metadata(obj: Obj) -> dict[str, Any]:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": obj.get("metadata", {}),
    }


def row(rtype: ResourceType, obj: Obj, now: datetime, include_object: str) -> dict[str, Any]:
    """One table row; ``include_object`` is ``None``, ``Metadata`` (default) or ``Object``."""
    row_object: Any
    if include_object == "None":
        row_object = None
    elif include_object == "Object":
        row_object = obj
    else:
        row_object = partial_metadata(obj)
    return {"cells": [column.cell(obj, now) for column in columns(rtype)], "object": row_object}


def table(
    rtype: ResourceType,
    objects: Iterable[Obj],
    now: datetime,
    *,
    include_object: str = "Metadata",
    headers: bool = True,
    metadata: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``Table`` of ``objects``; without ``headers`` no column definitions (watch events)."""
    return {
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": metadata or {},
        "columnDefinitions": [c.definition() for c in columns(rtype)] if headers else [],
        "rows": [row(rtype, obj, now, include_object) for obj in objects],
    }


def wants_table(accept: str) -> bool:
    """Whether an ``Accept`` header asks for ``as=Table`` (v1 or v1beta1, group meta.k8s.io)."""
    for media_range in accept.split(","):
        params = {
            key.strip(): value.strip()
            for key, _, value in (part.partition("=") for part in media_range.split(";")[1:])
        }
        if params.get("as") == "Table" and params.get("g", "meta.k8s.io") == "meta.k8s.io":
            return True
    return False
