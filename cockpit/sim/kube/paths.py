"""What an apiserver URL path names: resource type, namespace, object and subresource.

``/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/web/status`` →
``ResourcePath(ROLLOUT, "production", "web", "status")``. Also the all-namespaces
collections (``/apis/apps/v1/deployments``), the cluster-scoped Namespaces themselves
and the legacy ``/watch/`` prefix (``/api/v1/watch/namespaces/x/pods``).
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.sim.kube.store import RESOURCE_TYPES, ResourceType


@dataclass(frozen=True)
class ResourcePath:
    rtype: ResourceType
    #: None: all namespaces (or a cluster-scoped type).
    namespace: str | None
    name: str | None = None
    subresource: str | None = None
    #: The path used the legacy ``/watch/`` prefix.
    watch: bool = False

    @property
    def is_collection(self) -> bool:
        return self.name is None


class UnknownPath(Exception):
    """Not a resource this apiserver serves (404 "the server could not find...")."""


def _find_type(group: str, version: str, plural: str) -> ResourceType:
    for rtype in RESOURCE_TYPES:
        if (rtype.group, rtype.version, rtype.plural) == (group, version, plural):
            return rtype
    raise UnknownPath(plural)


def group_version_of(segments: list[str]) -> tuple[str, str, list[str]] | None:
    """Split ``["api", "v1", ...]`` / ``["apis", g, v, ...]`` into (group, version, rest)."""
    if len(segments) >= 2 and segments[0] == "api":
        return "", segments[1], segments[2:]
    if len(segments) >= 3 and segments[0] == "apis":
        return segments[1], segments[2], segments[3:]
    return None


def parse(path: str) -> ResourcePath:
    """The resource an apiserver path names; :class:`UnknownPath` if none."""
    segments = [segment for segment in path.split("/") if segment]
    split = group_version_of(segments)
    if split is None:
        raise UnknownPath(path)
    group, version, rest = split
    watch = bool(rest) and rest[0] == "watch"
    if watch:
        rest = rest[1:]
    if not rest:
        raise UnknownPath(path)
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3 and rest[2] not in ("status", "finalize"):
        namespace, rest = rest[1], rest[2:]
    rtype = _find_type(group, version, rest[0])
    if len(rest) > 3:
        raise UnknownPath(path)
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and subresource not in rtype.subresources:
        raise UnknownPath(path)
    if rtype.namespaced == (namespace is None) and name is not None:
        raise UnknownPath(path)  # a namespaced object needs a namespace; a cluster one has none
    if not rtype.namespaced and namespace is not None:
        raise UnknownPath(path)
    if watch and subresource is not None:
        raise UnknownPath(path)
    return ResourcePath(rtype, namespace, name, subresource, watch)
