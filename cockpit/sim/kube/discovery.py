"""Discovery documents: ``/version``, ``/api``, ``/api/v1``, ``/apis``, ``/apis/<g>/<v>``.

The legacy (non-aggregated) JSON forms: kubectl asks for aggregated discovery first and
accepts these when the answer is plain ``application/json``. Everything is derived from
:data:`cockpit.sim.kube.store.RESOURCE_TYPES`, so a type added there is discoverable.
"""

from __future__ import annotations

from typing import Any

from cockpit.sim.kube.store import RESOURCE_TYPES, ResourceType

#: What ``kubectl version`` shows for the simulated server.
VERSION: dict[str, str] = {
    "major": "1",
    "minor": "32",
    "gitVersion": "v1.32.0",
    "gitCommit": "0000000000000000000000000000000000000000",
    "gitTreeState": "clean",
    "buildDate": "2026-11-26T00:00:00Z",
    "goVersion": "go1.23.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}

#: Verbs of a subresource, as the apiserver lists them.
SUBRESOURCE_VERBS = ["get", "patch", "update"]


def group_versions() -> list[tuple[str, str]]:
    """Every (group, version) served under ``/apis``, in first-seen order."""
    seen: list[tuple[str, str]] = []
    for rtype in RESOURCE_TYPES:
        key = (rtype.group, rtype.version)
        if rtype.group and key not in seen:
            seen.append(key)
    return seen


def core_versions(server_address: str) -> dict[str, Any]:
    """``GET /api``."""
    return {
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [
            {"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}
        ],
    }


def _group(name: str, version: str) -> dict[str, Any]:
    group_version = {"groupVersion": f"{name}/{version}", "version": version}
    return {"name": name, "versions": [group_version], "preferredVersion": group_version}


def group_list() -> dict[str, Any]:
    """``GET /apis``."""
    return {
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [_group(name, version) for name, version in group_versions()],
    }


def group(name: str) -> dict[str, Any] | None:
    """``GET /apis/<group>``, or None for a group we do not serve."""
    for group_name, version in group_versions():
        if group_name == name:
            return {"kind": "APIGroup", "apiVersion": "v1", **_group(name, version)}
    return None


def _resource_entries(rtype: ResourceType) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": rtype.plural,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(rtype.verbs),
    }
    if rtype.short_names:
        main["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        main["categories"] = list(rtype.categories)
    entries = [main]
    for subresource in rtype.subresources:
        entry: dict[str, Any] = {
            "name": f"{rtype.plural}/{subresource}",
            "singularName": "",
            "namespaced": rtype.namespaced,
            "kind": rtype.kind,
            "verbs": list(SUBRESOURCE_VERBS),
        }
        if subresource == "scale":
            entry.update(group="autoscaling", version="v1", kind="Scale")
        entries.append(entry)
    return entries


def resource_list(group_name: str, version: str) -> dict[str, Any] | None:
    """``GET /api/v1`` (group ``""``) or ``GET /apis/<group>/<version>``; None if not served."""
    types = [t for t in RESOURCE_TYPES if t.group == group_name and t.version == version]
    if not types:
        return None
    return {
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": f"{group_name}/{version}" if group_name else version,
        "resources": [entry for rtype in types for entry in _resource_entries(rtype)],
    }
