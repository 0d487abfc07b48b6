"""Who owns what in the simulated cluster, kept up to date from the store's write events.

Controllers ask "which ReplicaSets does this Rollout control", "which pods does this
ReplicaSet control" many times a second; scanning every object of a kind would make
a step cost grow with the size of the cluster. The index answers from the
``ownerReferences`` it saw in ADDED/MODIFIED/DELETED events instead.
"""

from __future__ import annotations

from collections import defaultdict

from cockpit.sim.kube.objects import Obj
from cockpit.sim.kube.store import WatchEvent

#: (namespace, owner kind, owner name, child kind)
OwnerKey = tuple[str, str, str, str]
#: (namespace, child kind, child name)
ChildKey = tuple[str, str, str]


def _controller(obj: Obj) -> tuple[str, str] | None:
    for reference in obj.get("metadata", {}).get("ownerReferences") or []:
        if reference.get("controller"):
            return str(reference.get("kind")), str(reference.get("name"))
    return None


class OwnerIndex:
    """Children by controlling owner, for every namespaced kind that has an owner."""

    def __init__(self) -> None:
        self._children: dict[OwnerKey, set[str]] = defaultdict(set)
        self._owner_of: dict[ChildKey, OwnerKey] = {}

    def observe(self, event: WatchEvent) -> OwnerKey | None:
        """Record one write; returns the (possibly former) owner of the object written."""
        obj = event.object
        kind = event.rtype.kind
        name = obj["metadata"]["name"]
        child: ChildKey = (event.namespace, kind, name)
        previous = self._owner_of.pop(child, None)
        if previous is not None:
            self._children[previous].discard(name)
        if event.type == "DELETED":
            return previous
        owner = _controller(obj)
        if owner is None:
            return previous
        key: OwnerKey = (event.namespace, owner[0], owner[1], kind)
        self._children[key].add(name)
        self._owner_of[child] = key
        return key

    def children(self, namespace: str, owner_kind: str, owner_name: str, kind: str) -> list[str]:
        return sorted(self._children.get((namespace, owner_kind, owner_name, kind), ()))

    def owner(self, namespace: str, kind: str, name: str) -> OwnerKey | None:
        return self._owner_of.get((namespace, kind, name))
