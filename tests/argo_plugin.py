"""What ``kubectl argo rollouts`` sends, applied straight to a simulated store.

The bodies are those of argo-rollouts ``pkg/kubectl-argo-rollouts/cmd/*/*.go`` (v1.9).

Each command builds exactly the plugin's patch body from the Rollout as it is now and
applies it with the plugin's semantics (JSON merge patch on the main resource or the
``status`` subresource; a JSON-patch ``replace`` of ``/spec/template`` for undo), so the
controller under test sees the same writes it would see through the apiserver. Also
here: ``SetWeight`` and ``ActualWeight`` as ``get rollout`` computes them
(``pkg/kubectl-argo-rollouts/info``).
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from cockpit.sim.clock import rfc3339
from cockpit.sim.kube.store import REPLICASET, ROLLOUT, ObjectStore

Obj = dict[str, Any]
HASH_LABEL = "rollouts-pod-template-hash"
REVISION = "rollout.argoproj.io/revision"


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def _apply(store: ObjectStore, namespace: str, name: str, body: Obj, status: bool) -> Obj:
    def change(obj: Obj) -> None:
        patched = merge_patch(obj, body)
        obj.clear()
        obj.update(patched)

    return store.update(ROLLOUT, namespace, name, change, subresource="status" if status else None)


class Plugin:
    """``kubectl argo rollouts <command> <name> -n <namespace>`` against one store."""

    def __init__(self, store: ObjectStore, namespace: str, name: str) -> None:
        self.store = store
        self.namespace = namespace
        self.name = name
        #: Every patch sent: (subresource or "", body), for assertions on what was sent.
        self.sent: list[tuple[str, Any]] = []

    def rollout(self) -> Obj:
        return self.store.get(ROLLOUT, self.namespace, self.name)

    def _status(self, body: Obj) -> None:
        self.sent.append(("status", body))
        _apply(self.store, self.namespace, self.name, body, status=True)

    def _spec(self, body: Obj) -> None:
        self.sent.append(("", body))
        _apply(self.store, self.namespace, self.name, body, status=False)

    def promote(self, *, full: bool = False) -> None:
        rollout = self.rollout()
        spec, status = rollout["spec"], rollout.get("status") or {}
        spec_patch = {"spec": {"paused": False}} if spec.get("paused") else None
        canary = spec["strategy"].get("canary")
        steps = (canary or {}).get("steps") or []
        index = int(status.get("currentStepIndex", 0))
        following = min(index + 1, len(steps))
        status_patch: Obj | None
        if full:
            status_patch = (
                {"status": {"promoteFull": True}}
                if status.get("currentPodHash") != status.get("stableRS")
                else None
            )
        else:
            pauses = status.get("pauseConditions") or []
            step_run = (status.get("canary") or {}).get("currentStepAnalysisRunStatus") or {}
            if (
                canary
                and step_run.get("status") == "Inconclusive"
                and pauses
                and status.get("controllerPause")
            ):
                status_patch = {
                    "status": {
                        "pauseConditions": None,
                        "controllerPause": False,
                        "currentStepIndex": following,
                    }
                }
            elif pauses:
                status_patch = {"status": {"pauseConditions": None}}
            elif canary and steps:
                status_patch = {"status": {"pauseConditions": None, "currentStepIndex": following}}
            else:
                status_patch = None
        if status_patch:
            self._status(status_patch)
        if spec_patch:
            self._spec(spec_patch)

    def abort(self) -> None:
        self._status({"status": {"abort": True}})

    def retry(self) -> None:
        self._status({"status": {"abort": False}})

    def pause(self) -> None:
        self._spec({"spec": {"paused": True}})

    def restart(self, now: datetime) -> None:
        self._spec({"spec": {"restartAt": rfc3339(now)}})

    def replicasets(self) -> list[Obj]:
        uid = self.rollout()["metadata"]["uid"]
        items, _ = self.store.list(REPLICASET, self.namespace)
        return [
            rs
            for rs in items
            if any(
                ref.get("controller") and ref.get("uid") == uid
                for ref in rs["metadata"].get("ownerReferences") or []
            )
        ]

    def undo(self, to_revision: int = 0) -> str:
        """Roll the template back; returns what the plugin prints."""
        sets = sorted(
            self.replicasets(), key=lambda rs: int(rs["metadata"]["annotations"][REVISION])
        )
        if to_revision:
            matches = [
                rs for rs in sets if int(rs["metadata"]["annotations"][REVISION]) == to_revision
            ]
            if not matches:
                return f"unable to find specified revision {to_revision} in history"
            target = matches[0]
        else:
            if len(sets) < 2:
                return "no rollout history found"
            target = sets[-2]
        template = copy.deepcopy(target["spec"]["template"])
        template["metadata"]["labels"].pop(HASH_LABEL, None)
        current = copy.deepcopy(self.rollout()["spec"]["template"])
        current["metadata"]["labels"].pop(HASH_LABEL, None)
        if template == current:
            revision = target["metadata"]["annotations"][REVISION]
            return f"skipped rollback (current template already matches revision {revision})"
        self.sent.append(("", [{"op": "replace", "path": "/spec/template", "value": template}]))
        self.store.update(
            ROLLOUT,
            self.namespace,
            self.name,
            lambda obj: obj["spec"].__setitem__("template", template),
        )
        return f"rollout '{self.name}' undo"

    # ------------------------------------------------------------------ get rollout

    def set_weight(self) -> int:
        rollout = self.rollout()
        status = rollout.get("status") or {}
        steps = rollout["spec"]["strategy"]["canary"].get("steps") or []
        index = int(status.get("currentStepIndex", 0))
        if status.get("abort"):
            return 0
        if index >= len(steps):
            return 100
        for step in reversed(steps[: index + 1]):
            if "setWeight" in step:
                return int(step["setWeight"])
        return 0

    def actual_weight(self) -> int:
        rollout = self.rollout()
        status = rollout.get("status") or {}
        canary = rollout["spec"]["strategy"]["canary"]
        steps = canary.get("steps") or []
        if int(status.get("currentStepIndex", 0)) == len(steps):
            return 100
        if not status.get("availableReplicas"):
            return 0
        weights = (status.get("canary") or {}).get("weights")
        if "trafficRouting" in canary:
            return int(weights["canary"]["weight"]) if weights else self.set_weight()
        current = next(
            rs
            for rs in self.replicasets()
            if rs["metadata"]["labels"][HASH_LABEL] == status["currentPodHash"]
        )
        available = int((current.get("status") or {}).get("availableReplicas", 0))
        return available * 100 // int(status["availableReplicas"])
