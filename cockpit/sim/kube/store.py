"""The simulated cluster's object store: what etcd and the apiserver's storage layer do.

Objects are plain JSON-like dicts, stored per resource type and ``(namespace, name)``.
Every write bumps one cluster-wide ``resourceVersion`` and records a watch event; a
bounded history of events lets a watch resume from a recent ``resourceVersion`` and
answers :class:`Expired` (410) for one that has been compacted away, as etcd does.

Callers get deep copies, never the stored dicts, so nobody mutates state behind the
store's back (which would skip the resourceVersion bump and the watch event).
"""

from __future__ import annotations

import asyncio
import copy
import re
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from cockpit.sim.clock import SimClock, rfc3339

Obj = dict[str, Any]


# --------------------------------------------------------------------------- types


@dataclass(frozen=True)
class ResourceType:
    """One kind of object the simulated apiserver serves."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    #: Custom resources answer 415 to strategic-merge patches.
    custom: bool = False
    verbs: tuple[str, ...] = (
        "create",
        "delete",
        "deletecollection",
        "get",
        "list",
        "patch",
        "update",
        "watch",
    )

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def list_kind(self) -> str:
        return f"{self.kind}List"


NAMESPACE = ResourceType("", "v1", "Namespace", "namespaces", namespaced=False, short_names=("ns",))
POD = ResourceType(
    "", "v1", "Pod", "pods", short_names=("po",), subresources=("status",), categories=("all",)
)
SERVICE = ResourceType(
    "",
    "v1",
    "Service",
    "services",
    short_names=("svc",),
    subresources=("status",),
    categories=("all",),
)
DEPLOYMENT = ResourceType(
    "apps",
    "v1",
    "Deployment",
    "deployments",
    short_names=("deploy",),
    subresources=("status", "scale"),
    categories=("all",),
)
REPLICASET = ResourceType(
    "apps",
    "v1",
    "ReplicaSet",
    "replicasets",
    short_names=("rs",),
    subresources=("status", "scale"),
    categories=("all",),
)
ROLLOUT = ResourceType(
    "argoproj.io",
    "v1alpha1",
    "Rollout",
    "rollouts",
    short_names=("ro",),
    subresources=("status", "scale"),
    categories=("all",),
    custom=True,
)
ANALYSIS_RUN = ResourceType(
    "argoproj.io",
    "v1alpha1",
    "AnalysisRun",
    "analysisruns",
    short_names=("ar",),
    subresources=("status",),
    custom=True,
)
ANALYSIS_TEMPLATE = ResourceType(
    "argoproj.io",
    "v1alpha1",
    "AnalysisTemplate",
    "analysistemplates",
    short_names=("at",),
    custom=True,
)

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    NAMESPACE,
    POD,
    SERVICE,
    DEPLOYMENT,
    REPLICASET,
    ROLLOUT,
    ANALYSIS_RUN,
    ANALYSIS_TEMPLATE,
)


def resource_type(group: str, plural: str) -> ResourceType | None:
    for rtype in RESOURCE_TYPES:
        if rtype.group == group and rtype.plural == plural:
            return rtype
    return None


# --------------------------------------------------------------------------- errors


class StoreError(Exception):
    """An apiserver error; the HTTP layer turns it into a ``Status`` object."""

    code = 500
    reason = "InternalError"

    def __init__(self, message: str, *, rtype: ResourceType | None = None, name: str | None = None):
        super().__init__(message)
        self.message = message
        self.rtype = rtype
        self.name = name


class NotFound(StoreError):
    code = 404
    reason = "NotFound"


class AlreadyExists(StoreError):
    code = 409
    reason = "AlreadyExists"


class Conflict(StoreError):
    code = 409
    reason = "Conflict"


class Invalid(StoreError):
    code = 422
    reason = "Invalid"


class Expired(StoreError):
    code = 410
    reason = "Expired"


def _qualified(rtype: ResourceType) -> str:
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


def not_found(rtype: ResourceType, name: str) -> NotFound:
    return NotFound(f'{_qualified(rtype)} "{name}" not found', rtype=rtype, name=name)


# --------------------------------------------------------------------------- selectors

_REQUIREMENT = re.compile(
    r"^\s*(?P<key>[A-Za-z0-9_./-]+)\s*"
    r"(?:(?P<op>==|!=|=)\s*(?P<value>[A-Za-z0-9_.-]*)"
    r"|\s+(?P<setop>in|notin)\s+\((?P<values>[^)]*)\))?\s*$"
)


def _split_selector(selector: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, current = [], 0, []
    for char in selector:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return [part for part in parts if part.strip()]


def label_matcher(selector: str | None) -> Callable[[dict[str, str]], bool]:
    """A predicate for a Kubernetes label selector string (``app=web,tier in (a,b),!x``)."""
    if not selector:
        return lambda labels: True
    tests: list[Callable[[dict[str, str]], bool]] = []
    for part in _split_selector(selector):
        part = part.strip()
        if part.startswith("!"):
            key = part[1:].strip()
            tests.append(lambda labels, key=key: key not in labels)
            continue
        match = _REQUIREMENT.match(part)
        if not match:
            raise Invalid(f"unable to parse requirement: {part!r}")
        key = match["key"]
        if match["op"]:
            value = match["value"]
            if match["op"] == "!=":
                tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
            else:
                tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif match["setop"]:
            values = {v.strip() for v in match["values"].split(",") if v.strip()}
            if match["setop"] == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        else:
            tests.append(lambda labels, k=key: k in labels)
    return lambda labels: all(test(labels) for test in tests)


def field_matcher(selector: str | None) -> Callable[[Obj], bool]:
    """A predicate for a field selector (``metadata.name=web``, ``metadata.namespace!=x``)."""
    if not selector:
        return lambda obj: True
    tests: list[Callable[[Obj], bool]] = []
    for part in _split_selector(selector):
        match = re.match(r"^\s*([A-Za-z0-9_.]+)\s*(==|!=|=)\s*(.*?)\s*$", part)
        if not match:
            raise Invalid(f"invalid field selector: {part!r}")
        path, op, value = match.groups()

        def lookup(obj: Obj, path: str = path) -> str:
            current: Any = obj
            for segment in path.split("."):
                current = current.get(segment) if isinstance(current, dict) else None
            return "" if current is None else str(current)

        if op == "!=":
            tests.append(lambda obj, lookup=lookup, v=value: lookup(obj) != v)
        else:
            tests.append(lambda obj, lookup=lookup, v=value: lookup(obj) == v)
    return lambda obj: all(test(obj) for test in tests)


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class WatchEvent:
    type: str  # ADDED | MODIFIED | DELETED
    rtype: ResourceType
    namespace: str
    resource_version: int
    object: Obj


@dataclass
class Watcher:
    """One open watch: receives the store's events that match its filters."""

    rtype: ResourceType
    namespace: str | None
    labels: Callable[[dict[str, str]], bool]
    fields: Callable[[Obj], bool]
    queue: asyncio.Queue[WatchEvent | None] = field(default_factory=asyncio.Queue)

    def matches(self, event: WatchEvent) -> bool:
        if event.rtype != self.rtype:
            return False
        if self.namespace is not None and event.namespace != self.namespace:
            return False
        metadata = event.object.get("metadata", {})
        return self.labels(metadata.get("labels") or {}) and self.fields(event.object)

    def close(self) -> None:
        """End the stream (the server drops the connection)."""
        self.queue.put_nowait(None)


# --------------------------------------------------------------------------- the store

#: Watch events kept for resuming watches (each holds a copy of its object, a few KB).
#: kube-apiserver keeps about 100 per resource type (``--default-watch-cache-size``,
#: default 100; older events answer 410 Gone and the client lists again); the world has
#: a handful of types. Ten thousand held some 60 MB once full, reached after a
#: simulated day of the demo.
WATCH_HISTORY = 1_000


def _spec_part(obj: Obj) -> Any:
    """What counts as "spec" for ``metadata.generation`` (everything but metadata and status)."""
    return {k: v for k, v in obj.items() if k not in ("metadata", "status")}


class ObjectStore:
    """All objects of the simulated cluster, with resourceVersions and watch fan-out."""

    def __init__(self, clock: SimClock, *, history: int = WATCH_HISTORY) -> None:
        self.clock = clock
        self._objects: dict[ResourceType, dict[tuple[str, str], Obj]] = {
            rtype: {} for rtype in RESOURCE_TYPES
        }
        self._rv = 1000
        self._history: deque[WatchEvent] = deque(maxlen=history)
        self._compacted_rv = self._rv  # events after this rv are all in _history
        self._watchers: list[Watcher] = []
        #: Called after every write with the event (controllers use it to react at once).
        self.listeners: list[Callable[[WatchEvent], None]] = []

    # ------------------------------------------------------------------ reads

    @property
    def resource_version(self) -> str:
        return str(self._rv)

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        try:
            return copy.deepcopy(self._objects[rtype][(self._ns(rtype, namespace), name)])
        except KeyError:
            raise not_found(rtype, name) from None

    def find(self, rtype: ResourceType, namespace: str, name: str) -> Obj | None:
        """Like :meth:`get` but None when absent."""
        stored = self._objects[rtype].get((self._ns(rtype, namespace), name))
        return copy.deepcopy(stored) if stored is not None else None

    def list(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        *,
        label_selector: str | None = None,
        field_selector: str | None = None,
        copies: bool = True,
    ) -> tuple[list[Obj], str]:
        """Matching objects sorted by namespace and name, and the list's resourceVersion.

        ``copies=False`` hands out the stored objects themselves, for a caller that only
        reads them (serialising a list response): never mutate what you get then.
        """
        labels = label_matcher(label_selector)
        fields_ok = field_matcher(field_selector)
        items = []
        for (ns, _name), obj in sorted(self._objects[rtype].items()):
            if namespace is not None and rtype.namespaced and ns != namespace:
                continue
            if not labels(obj["metadata"].get("labels") or {}) or not fields_ok(obj):
                continue
            items.append(copy.deepcopy(obj) if copies else obj)
        return items, self.resource_version

    def objects(self, rtype: ResourceType, namespace: str | None = None) -> Iterable[Obj]:
        """Read-only iteration for controllers (no copies: do not mutate what you get)."""
        for (ns, _name), obj in sorted(self._objects[rtype].items()):
            if namespace is None or ns == namespace:
                yield obj

    # ------------------------------------------------------------------ writes

    def create(self, rtype: ResourceType, obj: Obj, *, dry_run: bool = False) -> Obj:
        """Store a new object; with ``dry_run`` only check it and return what would be stored."""
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        name = metadata.get("name")
        if not name:
            raise Invalid(f"{rtype.kind}.{rtype.version} is invalid: metadata.name: Required value")
        namespace = self._ns(rtype, metadata.get("namespace", "default"))
        key = (namespace, name)
        if key in self._objects[rtype]:
            raise AlreadyExists(
                f'{_qualified(rtype)} "{name}" already exists', rtype=rtype, name=name
            )
        if rtype.namespaced:
            metadata["namespace"] = namespace
            if ("", namespace) not in self._objects[NAMESPACE]:
                raise NotFound(
                    f'namespaces "{namespace}" not found', rtype=NAMESPACE, name=namespace
                )
        obj["apiVersion"] = rtype.api_version
        obj["kind"] = rtype.kind
        metadata.setdefault("uid", str(uuid.UUID(int=self._rv * 7919 + len(self._history))))
        metadata.setdefault("creationTimestamp", rfc3339(self.clock.now()))
        metadata["generation"] = 1
        if dry_run:
            return obj
        self._bump(metadata)
        self._objects[rtype][key] = obj
        self._emit("ADDED", rtype, namespace, obj)
        return copy.deepcopy(obj)

    def replace(
        self,
        rtype: ResourceType,
        obj: Obj,
        *,
        subresource: str | None = None,
        expected_rv: str | None = None,
        dry_run: bool = False,
    ) -> Obj:
        """Store a new version of an existing object (what PUT and PATCH end in).

        Writes to the main resource keep the stored status when the type has a status
        subresource; writes to ``/status`` change only the status. ``generation``
        moves only when the spec changes. ``expected_rv`` gives optimistic concurrency.
        With ``dry_run`` nothing is stored: the result is what would have been.
        """
        obj = copy.deepcopy(obj)
        metadata = obj.setdefault("metadata", {})
        name = metadata.get("name", "")
        namespace = self._ns(rtype, metadata.get("namespace", "default"))
        key = (namespace, name)
        current = self._objects[rtype].get(key)
        if current is None:
            raise not_found(rtype, name)
        if expected_rv and expected_rv != current["metadata"]["resourceVersion"]:
            raise Conflict(
                f'Operation cannot be fulfilled on {_qualified(rtype)} "{name}": the object has '
                "been modified; please apply your changes to the latest version and try again",
                rtype=rtype,
                name=name,
            )
        if subresource == "status":
            new = copy.deepcopy(current)
            new["status"] = obj.get("status")
            if new["status"] is None:
                del new["status"]
        else:
            new = obj
            if "status" in rtype.subresources:
                if "status" in current:
                    new["status"] = copy.deepcopy(current["status"])
                else:
                    new.pop("status", None)
            kept = current["metadata"]
            for immutable in ("uid", "creationTimestamp", "namespace", "name"):
                new["metadata"][immutable] = kept[immutable]
            new["metadata"]["generation"] = kept.get("generation", 1) + (
                1 if _spec_part(new) != _spec_part(current) else 0
            )
        new["apiVersion"] = rtype.api_version
        new["kind"] = rtype.kind
        if _without_rv(new) == _without_rv(current):
            return copy.deepcopy(current)  # a no-op write changes nothing, as the apiserver does
        if dry_run:
            return new
        self._bump(new["metadata"])
        self._objects[rtype][key] = new
        self._emit("MODIFIED", rtype, namespace, new)
        return copy.deepcopy(new)

    def update(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        change: Callable[[Obj], None],
        *,
        subresource: str | None = None,
    ) -> Obj:
        """Read-modify-write helper for controllers: ``change`` edits a copy in place."""
        obj = self.get(rtype, namespace, name)
        change(obj)
        return self.replace(rtype, obj, subresource=subresource)

    def delete(
        self, rtype: ResourceType, namespace: str, name: str, *, dry_run: bool = False
    ) -> Obj:
        key = (self._ns(rtype, namespace), name)
        current = self._objects[rtype].get(key)
        if current is None:
            raise not_found(rtype, name)
        if dry_run:
            return copy.deepcopy(current)
        del self._objects[rtype][key]
        self._bump(current["metadata"])
        self._emit("DELETED", rtype, key[0], current)
        return copy.deepcopy(current)

    # ------------------------------------------------------------------ watches

    def watch(
        self,
        rtype: ResourceType,
        namespace: str | None = None,
        *,
        since: str | None = None,
        label_selector: str | None = None,
        field_selector: str | None = None,
    ) -> tuple[Watcher, list[WatchEvent]]:
        """Open a watch and return it with the events to replay first.

        ``since`` unset or "0": synthetic ADDED events for every current object.
        A specific resourceVersion: the recorded events after it, or :class:`Expired`
        when history no longer reaches back that far.
        """
        watcher = Watcher(
            rtype, namespace, label_matcher(label_selector), field_matcher(field_selector)
        )
        if not since or since == "0":
            items, _ = self.list(
                rtype, namespace, label_selector=label_selector, field_selector=field_selector
            )
            replay = [
                WatchEvent(
                    "ADDED",
                    rtype,
                    obj["metadata"].get("namespace", ""),
                    int(obj["metadata"]["resourceVersion"]),
                    obj,
                )
                for obj in items
            ]
        else:
            try:
                rv = int(since)
            except ValueError:
                raise Invalid(f"invalid resourceVersion {since!r}") from None
            if rv < self._compacted_rv:
                raise Expired(f"too old resource version: {rv} ({self._rv})")
            replay = [e for e in self._history if e.resource_version > rv and watcher.matches(e)]
        self._watchers.append(watcher)
        return watcher, [
            WatchEvent(e.type, e.rtype, e.namespace, e.resource_version, copy.deepcopy(e.object))
            for e in replay
        ]

    def unwatch(self, watcher: Watcher) -> None:
        if watcher in self._watchers:
            self._watchers.remove(watcher)

    def drop_watches(self) -> int:
        """Close every open watch stream (a fault: the connection drops). Returns how many."""
        watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.close()
        return len(watchers)

    def compact(self) -> None:
        """Forget the event history: any watch resuming from an older rv gets 410 Expired."""
        self._history.clear()
        self._compacted_rv = self._rv

    @property
    def oldest_resource_version(self) -> int:
        """The oldest resourceVersion a watch (or a list continuation) can still resume from."""
        return self._compacted_rv

    @property
    def open_watches(self) -> int:
        return len(self._watchers)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _ns(rtype: ResourceType, namespace: str | None) -> str:
        return (namespace or "default") if rtype.namespaced else ""

    def _bump(self, metadata: Obj) -> None:
        self._rv += 1
        metadata["resourceVersion"] = str(self._rv)

    def _emit(self, kind: str, rtype: ResourceType, namespace: str, obj: Obj) -> None:
        if len(self._history) == self._history.maxlen:
            self._compacted_rv = self._history[0].resource_version
        event = WatchEvent(kind, rtype, namespace, self._rv, copy.deepcopy(obj))
        self._history.append(event)
        for watcher in self._watchers:
            if watcher.matches(event):
                watcher.queue.put_nowait(
                    WatchEvent(kind, rtype, namespace, self._rv, copy.deepcopy(obj))
                )
        for listener in self.listeners:
            listener(event)


def _without_rv(obj: Obj) -> Obj:
    trimmed = copy.deepcopy(obj)
    trimmed.get("metadata", {}).pop("resourceVersion", None)
    return trimmed
