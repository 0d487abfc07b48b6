"""The ``scale`` subresource: an ``autoscaling/v1 Scale`` view of a workload's replicas.

Deployments and ReplicaSets expose ``spec.replicas``, ``status.replicas`` and their
pod selector; the Rollout CRD declares ``specReplicasPath: .spec.replicas``,
``statusReplicasPath: .status.HPAReplicas`` and ``labelSelectorPath: .status.selector``.
"""

from __future__ import annotations

import copy
from typing import Any

from cockpit.sim.kube.labels import selector_string
from cockpit.sim.kube.store import ROLLOUT, Obj, ResourceType


def to_scale(rtype: ResourceType, obj: Obj) -> dict[str, Any]:
    """``GET .../<name>/scale``."""
    metadata = obj.get("metadata", {})
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    if rtype == ROLLOUT:
        current = status.get("HPAReplicas", 0)
        selector = status.get("selector", "")
    else:
        current = status.get("replicas", 0)
        selector = selector_string(spec.get("selector"))
    scale_status: dict[str, Any] = {"replicas": current}
    if selector:
        scale_status["selector"] = selector
    return {
        "kind": "Scale",
        "apiVersion": "autoscaling/v1",
        "metadata": {
            key: metadata[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in metadata
        },
        "spec": {"replicas": spec.get("replicas", 1)},
        "status": scale_status,
    }


def with_scale(obj: Obj, scale: dict[str, Any]) -> Obj:
    """The object with the replicas a written ``Scale`` asks for (nothing else changes)."""
    updated = copy.deepcopy(obj)
    replicas = (scale.get("spec") or {}).get("replicas")
    if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
        raise ValueError("spec.replicas: Invalid value: must be a non-negative integer")
    updated.setdefault("spec", {})["replicas"] = replicas
    expected = (scale.get("metadata") or {}).get("resourceVersion")
    if expected:
        updated["metadata"]["resourceVersion"] = expected
    return updated
