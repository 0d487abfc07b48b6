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

import asyncio
import contextlib
import functools
import random
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from cockpit.backoff import BackoffPolicy
from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.engine.polling import Spawn, is_outage, slow_latency, unexpected
from cockpit.engine.protocols import ContextProbing, Heard, KubeReads, Reconnecting, Watch
from cockpit.engine.store import Row, RowStore
from cockpit.model import EnvKey, LinkState, Rollout, SourceName
from cockpit.redact import shown
from cockpit.sources.errors import SourceError
from cockpit.sources.kube import WatchChange

#: Backoff of a failing watch: from 0.25–0.5 s up to half a minute.
KUBE_BACKOFF = BackoffPolicy(base=0.5, cap=30.0)
#: Seconds of silence from a context's apiserver (no list, event or BOOKMARK on any of
#: its watches) before the feed asks it directly whether it still answers. Bookmarks
#: cannot be relied on for this: the apiserver sends them "at its discretion" (about
#: once a minute from the watch cache; Kubernetes API concepts, "Watch bookmarks").
LIVENESS_WINDOW = 8.0
#: While a context's apiserver fails, it is asked at least this often (seconds).
KUBE_PROBE_CAP = 1.0

#: (context, namespace, kind) of one watch; context "" is the kubeconfig's current one.
WatchKey = tuple[str, str, str]


def parse_workload(
    kind: str, name: str, obj: Mapping[str, Any], replicasets: list[dict], runs: list[dict]
) -> Rollout:
    """A Rollout or Deployment from the watches' objects; SourceError when they do not
    parse (a status that is not an object, steps that are not a list)."""
    from cockpit.sources.rollouts_parse import parse_deployment_workload, parse_rollout

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
        self._following: dict[WatchKey, asyncio.Task[None]] = {}
        #: Contexts whose apiserver fails as a whole (probed until it answers).
        self._failing: set[str] = set()
        self._retry_after: dict[str, float] = {}
        #: ``time.monotonic()`` of each context's last answer to a probe.
        self._answered: dict[str, float] = {}
        self.probes = 0
        self._wakeups: dict[str, asyncio.Event] = {}
        #: The slowness last shown per context (tenths of a second; None: fast).
        self._slow: dict[str, float | None] = {}

    def covers(self, service: ServiceConfig, env: EnvironmentConfig) -> bool:
        return bool(env.workload_name)

    def interval(self) -> float | None:
        # A watch is quiet when nothing changes; with a liveness check, "ok" means the
        # apiserver answered within the window.
        return LIVENESS_WINDOW if isinstance(self.kube, ContextProbing) else None

    def follow_ups(self) -> set[tuple[str, object]]:
        return set()

    def refresh(self, key: EnvKey | None) -> None:
        """Nothing to do: the watches are live."""

    async def close(self) -> None:
        await self.kube.close()

    def _backoff(self, context: str, failures: int, error: SourceError) -> float:
        """A failing watch's wait. While its whole apiserver fails, the liveness check
        probes it and restarts every watch on its first answer: the watch itself then
        only retries at the cap (a safety net), instead of one request each per second."""
        if context in self._failing:
            return KUBE_BACKOFF.cap
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
                    watch = self.kube.watch(
                        context or None,
                        namespace,
                        kind,
                        backoff=functools.partial(self._backoff, context),
                    )
                except Exception as error:  # the kubeconfig or its context cannot be used
                    failure = (
                        error
                        if isinstance(error, SourceError)
                        else unexpected(SourceName.KUBE, error, "kube watch")
                    )
                    store.failed(self._namespace_keys(context, namespace), SourceName.KUBE, failure)
                    break
                self.watches[(context, namespace, kind)] = watch
                self._start_following((context, namespace, kind))
        if isinstance(self.kube, ContextProbing):
            for context in sorted({context for context, _, _ in self.watches}):
                self._answered[context] = time.monotonic()  # the lists are on their way
                self._spawn(self._liveness(context), f"kube-liveness:{context}")

    def _start_following(self, key: WatchKey) -> None:
        context, namespace, kind = key
        self._following[key] = self._spawn(
            self._follow(key, self.watches[key]), f"kube:{context}/{namespace}/{kind}"
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
        async with contextlib.aclosing(watch.changes()) as changes:
            async for change in changes:
                self._apply(key, change)

    def _apply(self, key: WatchKey, change: WatchChange) -> None:
        """One change of a watch: recompute the rows it affects, or mark them failing."""
        context, namespace, _ = key
        if change.error is not None:
            self._errors[key] = change.error
            self._store.failed(
                self._namespace_keys(context, namespace), SourceName.KUBE, change.error
            )
            if is_outage(change.error) and isinstance(self.kube, ContextProbing):
                self._failing.add(context)  # the liveness check probes it from now on
                if change.error.retry_after:
                    self._retry_after[context] = change.error.retry_after
                self._probe_now(context)
            return
        self._update_slow(context)
        self._owned.pop(key, None)
        recovered = self._errors.pop(key, None) is not None
        first = key not in self._ready
        self._ready.add(key)
        names = None if first or change.relisted or recovered else change.names
        self._changed(key, names)

    # ------------------------------------------------------------------ liveness

    def _quiet_since(self, context: str) -> float:
        """``time.monotonic()`` when the context's apiserver last said anything."""
        heard = [self._answered.get(context, 0.0)]
        for (watch_context, _, _), watch in self.watches.items():
            if watch_context == context:
                heard.append((watch.heard_at if isinstance(watch, Heard) else None) or 0.0)
        return max(heard)

    async def _liveness(self, context: str) -> None:
        """Notice a hung apiserver, and the first moment a failing one answers again.

        While the context's watches are silent for :data:`LIVENESS_WINDOW`, or while its
        apiserver fails, ask it one cheap question (``GET /version``, with a short
        timeout). No answer: every row of the context is degraded now, not when a watch's
        read times out minutes later. The first answer after a failure restarts every
        watch of the context at once, from its last resourceVersion (or a re-list when
        that has expired), instead of each waiting out its own backoff.
        """
        assert isinstance(self.kube, ContextProbing)
        failures = 0
        while True:
            if context in self._failing:
                failures += 1
                delay = min(KUBE_PROBE_CAP, KUBE_BACKOFF.delay(failures, self._rng))
                delay = max(delay, self._retry_after.pop(context, 0.0))
                await asyncio.sleep(delay)
            else:
                failures = 0
                # While the apiserver is shown slow, ask again anyway: only a new answer
                # can say it is fast again.
                window = LIVENESS_WINDOW / 2 if self._slow.get(context) else LIVENESS_WINDOW
                wait = self._quiet_since(context) + window - time.monotonic()
                if wait > 0:
                    wake = self._wakeups.setdefault(context, asyncio.Event())
                    wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(min(wait, window)):
                            await wake.wait()
                    continue
            self.probes += 1
            try:
                await self.kube.probe(context or None)
            except asyncio.CancelledError:
                raise
            except SourceError as error:
                if is_outage(error):
                    self._hung(context, error)
                    continue
            except Exception as error:
                self._hung(context, unexpected(SourceName.KUBE, error, "kube liveness"))
                continue
            self._answered[context] = time.monotonic()
            if context in self._failing:
                self._release(context)
            else:
                self._update_slow(context, answered=True)

    def _update_slow(self, context: str, *, answered: bool = False) -> None:
        """Show how slowly the context's apiserver answers (its last request's time) on
        every row it serves that is otherwise ok; ``answered``: it just answered a probe,
        so those rows are fresh too."""
        slow = slow_latency(self.kube)
        shown = round(slow, 1) if slow is not None else None
        if not answered and self._slow.get(context) == shown:
            return
        self._slow[context] = shown
        for row_key in self._context_keys(context):
            row = self._store.rows[row_key]
            status = row.sources.get(SourceName.KUBE)
            if status is not None and status.state is LinkState.OK:
                self._store.ok(row, SourceName.KUBE, False, slow=slow)

    def _probe_now(self, context: str) -> None:
        """Wake the context's liveness check (a watch failed: the apiserver may be down)."""
        wake = self._wakeups.get(context)
        if wake is not None:
            wake.set()

    def _context_keys(self, context: str) -> list[EnvKey]:
        return [
            key for (ctx, _, _, _), keys in self._index.items() if ctx == context for key in keys
        ]

    def _hung(self, context: str, error: SourceError) -> None:
        """The context's apiserver did not answer: its rows are degraded until it does."""
        if error.retry_after:
            self._retry_after[context] = error.retry_after
        if context in self._failing:
            return
        self._failing.add(context)
        for key in self.watches:
            if key[0] == context:
                self._errors[key] = error
        self._store.failed(self._context_keys(context), SourceName.KUBE, error)

    def _release(self, context: str) -> None:
        """The context's apiserver answers again: every one of its watches reconnects now."""
        self._failing.discard(context)
        self._retry_after.pop(context, None)
        for key, watch in self.watches.items():
            if key[0] != context:
                continue
            task = self._following.get(key)
            if task is not None:
                task.cancel()
            if isinstance(watch, Reconnecting):
                watch.interrupted()
            self._start_following(key)

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
        store.ok(row, SourceName.KUBE, changed, slow=slow_latency(self.kube))
        if changed and rollout.in_progress:
            # A rollout started moving: health deserves a fresh look now.
            self._on_moving(row.key)
