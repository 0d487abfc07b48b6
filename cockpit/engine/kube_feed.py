"""The Kubernetes feed: shared watches, an owner index, and each row's rollout.

One list+watch per (context, namespace, kind) serves every row in that namespace — not
one per service. Each row needs its workload (an Argo Rollout or a Deployment), the
ReplicaSets it owns and, for a Rollout, its AnalysisRuns; the feed keeps an index from
controlling owner to owned objects per watch (rebuilt once after each change) and one
from workload to the rows that show it, so that an event recomputes only the rows it
can affect. A row's rollout is computed only once every list it needs has arrived (a
partial picture would mislead); a failing watch marks the rows of its namespace
degraded while their last rollout stays on screen.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from cockpit.backoff import BackoffPolicy
from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.engine.polling import Spawn, unexpected
from cockpit.engine.protocols import KubeReads, Watch
from cockpit.engine.store import Row, RowStore
from cockpit.model import EnvKey, Rollout, SourceName
from cockpit.redact import shown
from cockpit.sources.errors import SourceError

#: Backoff of a failing watch: from 0.25–0.5 s up to half a minute.
KUBE_BACKOFF = BackoffPolicy(base=0.5, cap=30.0)

#: (context, namespace, kind) of one watch; context "" is the kubeconfig's current one.
WatchKey = tuple[str, str, str]


def parse_workload(
    kind: str, name: str, obj: Mapping[str, Any], replicasets: list[dict], runs: list[dict]
) -> Rollout:
    """A Rollout or Deployment from the watches' objects; SourceError when they do not
    parse (a status that is not an object, steps that are not a list)."""
    from cockpit.sources.rollouts import parse_deployment_workload, parse_rollout

    try:
        if kind == "Rollout":
            return parse_rollout(obj, replicasets, runs)
        return parse_deployment_workload(obj, replicasets)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
        raise SourceError(
            SourceName.KUBE,
            f"unexpected answer from Kubernetes for {kind} {shown(name, 60)}: "
            f"{type(error).__name__}: {shown(error)}",
        ) from None


def owner_of(obj: Mapping[str, Any] | None) -> tuple[str, str] | None:
    """The controlling owner (kind, name) of a Kubernetes object."""
    if not obj:
        return None
    metadata = obj.get("metadata") or {}
    for reference in metadata.get("ownerReferences") or ():
        if reference.get("controller", True):
            return reference.get("kind"), reference.get("name")
    return None


class KubeFeed:
    """Rollouts and Deployments of every row with a workload, from shared watches."""

    source = SourceName.KUBE

    def __init__(
        self,
        kube: KubeReads,
        store: RowStore,
        *,
        rng: random.Random,
        spawn: Spawn,
        on_moving: Callable[[EnvKey], None] = lambda key: None,
    ) -> None:
        self.kube = kube
        self._store = store
        self._rng = rng
        self._spawn = spawn
        self._on_moving = on_moving
        self.watches: dict[WatchKey, Watch] = {}
        self._ready: set[WatchKey] = set()
        self._errors: dict[WatchKey, SourceError] = {}
        #: Per watch: its objects by controlling owner (None: rebuild at next use).
        self._owned: dict[WatchKey, dict[tuple[str, str], list[dict]]] = {}
        #: (context, namespace, kind, name) of a workload -> the rows that show it.
        self._index: dict[tuple[str, str, str, str], list[EnvKey]] = {}
        self._namespace: dict[EnvKey, str] = {}

    def covers(self, service: ServiceConfig, env: EnvironmentConfig) -> bool:
        return bool(env.workload_name)

    def interval(self) -> float | None:
        return None  # a watch is quiet when nothing changes: only errors make it stale

    def follow_ups(self) -> set[tuple[str, object]]:
        return set()

    def refresh(self, key: EnvKey | None) -> None:
        """Nothing to do: the watches are live."""

    async def close(self) -> None:
        await self.kube.close()

    def _backoff(self, failures: int, error: SourceError) -> float:
        return KUBE_BACKOFF.delay(failures, self._rng, retry_after=error.retry_after)

    def start(self) -> None:
        store = self._store
        kinds_per_namespace: dict[tuple[str, str], set[str]] = {}
        for row in store.rows.values():
            env = row.env
            if SourceName.KUBE not in row.sources or not env.workload_name:
                continue
            context = env.kube_context or ""
            kind: str = env.workload_kind or "Rollout"
            try:
                namespace = self.kube.namespace(env.kube_context, env.namespace)
            except SourceError as error:
                store.failed([row.key], SourceName.KUBE, error)
                continue
            except Exception as error:
                store.failed([row.key], SourceName.KUBE, unexpected(SourceName.KUBE, error, "kube"))
                continue
            kinds = kinds_per_namespace.setdefault((context, namespace), set())
            kinds.update({kind, "ReplicaSet"})
            if kind == "Rollout":
                kinds.add("AnalysisRun")
            self._index.setdefault((context, namespace, kind, env.workload_name), []).append(
                row.key
            )
            self._namespace[row.key] = namespace
        for (context, namespace), kinds in sorted(kinds_per_namespace.items()):
            for kind in sorted(kinds):
                try:
                    watch = self.kube.watch(context or None, namespace, kind, backoff=self._backoff)
                except Exception as error:  # the kubeconfig or its context cannot be used
                    failure = (
                        error
                        if isinstance(error, SourceError)
                        else unexpected(SourceName.KUBE, error, "kube watch")
                    )
                    store.failed(self._namespace_keys(context, namespace), SourceName.KUBE, failure)
                    break
                self.watches[(context, namespace, kind)] = watch
                self._spawn(
                    self._follow((context, namespace, kind), watch),
                    f"kube:{context}/{namespace}/{kind}",
                )

    def _namespace_keys(self, context: str, namespace: str) -> list[EnvKey]:
        return [
            key
            for (ctx, ns, _kind, _name), keys in self._index.items()
            if ctx == context and ns == namespace
            for key in keys
        ]

    async def _follow(self, key: WatchKey, watch: Watch) -> None:
        """Apply one watch's changes to the rows it feeds; its failures mark them degraded.

        The watch itself re-lists on 410, reconnects and backs off (with this feed's
        policy); it reports each failure as a change carrying the error.
        """
        context, namespace, _ = key
        async for change in watch.changes():
            if change.error is not None:
                self._errors[key] = change.error
                self._store.failed(
                    self._namespace_keys(context, namespace), SourceName.KUBE, change.error
                )
                continue
            self._owned.pop(key, None)
            recovered = self._errors.pop(key, None) is not None
            first = key not in self._ready
            self._ready.add(key)
            names = None if first or change.relisted or recovered else change.names
            self._changed(key, names)

    def _changed(self, key: WatchKey, names: Iterable[str] | None) -> None:
        """Recompute the rows that a change to ``names`` of the watch's kind can affect."""
        context, namespace, kind = key
        if names is None:
            keys = set(self._namespace_keys(context, namespace))
        else:
            owners = set()
            if kind in ("Rollout", "Deployment"):
                owners = {(kind, name) for name in names}
            else:
                cache = self._cache(key)
                for name in names:
                    owner = owner_of(cache.get(name))
                    if owner is not None:
                        owners.add(owner)
                    else:  # deleted (gone from the cache) or unowned: any row may care
                        owners |= {
                            (k, n)
                            for (c, ns, k, n) in self._index
                            if (c, ns) == (context, namespace)
                        }
            keys = set()
            for owner_kind, owner_name in owners:
                keys.update(self._index.get((context, namespace, owner_kind, owner_name), ()))
        now = self._store.now()
        for row_key in keys:
            self._recompute(self._store.rows[row_key], now)

    def _owned_by(self, key: WatchKey) -> Mapping[tuple[str, str], list[dict]]:
        """A watch's objects by their controlling owner, rebuilt once after each change."""
        index = self._owned.get(key)
        if index is None:
            index = {}
            for obj in self._cache(key).values():
                owner = owner_of(obj)
                if owner is not None:
                    index.setdefault(owner, []).append(obj)
            self._owned[key] = index
        return index

    def _cache(self, key: WatchKey) -> Mapping[str, dict]:
        watch = self.watches.get(key)
        return watch.objects if watch is not None else {}

    def _recompute(self, row: Row, now: datetime) -> None:
        store = self._store
        env = row.env
        context = env.kube_context or ""
        namespace = self._namespace[row.key]
        kind = env.workload_kind or "Rollout"
        needed = {(context, namespace, kind), (context, namespace, "ReplicaSet")}
        if kind == "Rollout":
            needed.add((context, namespace, "AnalysisRun"))
        if not needed <= self._ready:
            return  # not every list has arrived yet: a partial picture would mislead
        obj = self._cache((context, namespace, kind)).get(env.workload_name or "")
        if obj is None:
            store.failed(
                [row.key],
                SourceName.KUBE,
                SourceError(
                    SourceName.KUBE,
                    f"{kind} {env.workload_name!r} not found in namespace {namespace}",
                ),
            )
            if row.rollout is not None:
                row.rollout = None
                store.mark(row.key)
            return
        owner = (kind, env.workload_name or "")
        replicasets = self._owned_by((context, namespace, "ReplicaSet")).get(owner, [])
        runs = (
            self._owned_by((context, namespace, "AnalysisRun")).get(owner, [])
            if kind == "Rollout"
            else []
        )
        try:
            rollout = parse_workload(kind, env.workload_name or "", obj, replicasets, runs)
        except SourceError as error:
            store.failed([row.key], SourceName.KUBE, error)
            return
        changed = rollout != row.rollout
        row.rollout = rollout
        if any(watch in self._errors for watch in needed):
            if changed:
                store.mark(row.key)  # new content, but a watch it needs is still failing
            return
        store.ok(row, SourceName.KUBE, changed)
        if changed and rollout.in_progress:
            # A rollout started moving: health deserves a fresh look now.
            self._on_moving(row.key)
