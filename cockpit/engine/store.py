"""The rows: every service × environment's working record, and its publication.

Feeds write into a :class:`Row` (mutable) and call :meth:`RowStore.mark`; the store
rebuilds a row's immutable :class:`~cockpit.model.ServiceState` only when something in
it changed, and listeners receive one :class:`StateUpdate` per burst of changes (all
marks made in one turn of the event loop). :meth:`RowStore.ok` and
:meth:`RowStore.failed` keep, per row and source, whether its data is ok, degraded or
down, when it last succeeded and the last error in words, so nothing is ever shown old
as if it were new; :meth:`RowStore.housekeeping` ages silent sources without any event.

The store also knows when the first picture is complete (every row has heard from each
of its sources once: :attr:`RowStore.ready`) and when the follow-up reads are in too
(:attr:`RowStore.settled`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.engine.polling import ERROR_LIMIT, degraded_after, down_after
from cockpit.model import (
    Deployment,
    EnvKey,
    FeatureFlag,
    Health,
    Job,
    LinkState,
    Pipeline,
    Rollout,
    ServiceState,
    SourceName,
    SourceStatus,
)
from cockpit.redact import shown
from cockpit.sources.errors import SourceError

log = logging.getLogger("cockpit.engine")


@dataclass(frozen=True)
class StateUpdate:
    """A new snapshot of every row, and which rows differ from the previous one."""

    states: Mapping[EnvKey, ServiceState]
    changed: frozenset[EnvKey]
    at: datetime


Listener = Callable[[StateUpdate], None]


@dataclass
class Row:
    """The engine's working copy of one row (mutable; published as a frozen ServiceState)."""

    key: EnvKey
    service: ServiceConfig
    env: EnvironmentConfig
    pipeline: Pipeline | None = None
    manual_gate: Job | None = None
    rollout: Rollout | None = None
    health: Health | None = None
    deployments: tuple[Deployment, ...] = ()
    flags: tuple[FeatureFlag, ...] = ()
    sources: dict[SourceName, SourceStatus] = field(default_factory=dict)
    #: True last success per source (published lazily: see RowStore.ok()).
    fresh: dict[SourceName, datetime] = field(default_factory=dict)
    #: When the latency was last asked for (wall clock).
    latency_at: datetime | None = None
    #: The success-rate chart has its 30 minutes of history.
    chart_loaded: bool = False


def _slowness(seconds: float | None) -> float | None:
    """Slowness as shown (tenths of a second): smaller changes are not worth a repaint."""
    return round(seconds, 1) if seconds is not None else None


class RowStore:
    """Every row, what was last published of it, and who listens."""

    def __init__(
        self,
        rows: Iterable[Row],
        *,
        read_only: bool,
        clock: Callable[[], datetime],
        wall_clock: Callable[[], datetime],
    ) -> None:
        self.rows: dict[EnvKey, Row] = {row.key: row for row in rows}
        self._read_only = read_only
        self._clock = clock
        self._wall_clock = wall_clock
        self._published: dict[EnvKey, ServiceState] = {}
        self.publish_all()
        self._listeners: list[Listener] = []
        self._dirty: set[EnvKey] = set()
        self._flush_scheduled = False
        #: Seconds between two reads of a calm row, per source (None: a watch, which is
        #: quiet when nothing changes).
        self.intervals: dict[SourceName, float | None] = {}
        self.ready = asyncio.Event()
        self.settled = asyncio.Event()
        #: (row, source) pairs not heard from yet, and follow-up reads not yet in.
        self._unheard: set[tuple[EnvKey, SourceName]] = set()
        self._unsettled: set[tuple[str, object]] = set()

    # ------------------------------------------------------------------ reading

    def now(self) -> datetime:
        """World time (see ``Engine.now``)."""
        return self._clock()

    def wall_now(self) -> datetime:
        """Wall-clock time (see ``Engine.wall_now``)."""
        return self._wall_clock()

    @property
    def states(self) -> Mapping[EnvKey, ServiceState]:
        return MappingProxyType(self._published)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)

        def unsubscribe() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return unsubscribe

    # ------------------------------------------------------------------ first picture

    def expect(self) -> None:
        """From now on, ready waits for every (row, source) pair to be heard from once."""
        self._unheard = {(row.key, source) for row in self.rows.values() for source in row.sources}

    def expect_follow_ups(self, follow_ups: set[tuple[str, object]]) -> None:
        self._unsettled = set(follow_ups)
        if not self._unheard:
            self.ready.set()
        self._check_settled()

    def heard(self, key: EnvKey, source: SourceName) -> None:
        """A source answered for a row (success or error): one step towards ready."""
        if self._unheard:
            self._unheard.discard((key, source))
            if not self._unheard:
                self.ready.set()
                self._check_settled()

    def followed_up(self, what: tuple[str, object]) -> None:
        """A follow-up read (a project's details and flags, a row's chart) is in."""
        if self._unsettled:
            self._unsettled.discard(what)
            self._check_settled()

    def _check_settled(self) -> None:
        if self.ready.is_set() and not self._unsettled:
            self.settled.set()

    # ------------------------------------------------------------------ source health

    def ok(self, row: Row, source: SourceName, changed: bool, *, slow: float | None = None) -> None:
        """A read of ``source`` for ``row`` succeeded; ``changed``: its data differs;
        ``slow``: the seconds its answer took, when slower than it should be."""
        now = self._wall_clock()
        row.fresh[source] = now
        current = row.sources.get(source)
        if current is None:
            return
        if current.state is not LinkState.OK or current.last_error is not None:
            row.sources[source] = SourceStatus(
                source=source, state=LinkState.OK, last_success=now, slow=slow
            )
            changed = True
        elif changed or _slowness(current.slow) != _slowness(slow):
            row.sources[source] = replace(current, last_success=now, slow=slow)
            changed = True
        if changed:
            self.mark(row.key)
        self.heard(row.key, source)

    def failed(self, keys: Iterable[EnvKey], source: SourceName, error: SourceError) -> None:
        """A read of ``source`` failed for the rows ``keys``: degraded, or down when old."""
        now = self._wall_clock()
        for key in keys:
            row = self.rows[key]
            current = row.sources.get(source)
            if current is None:
                continue
            last = row.fresh.get(source)
            down = down_after(self.intervals.get(source) or 20.0)
            state = (
                LinkState.DEGRADED
                if last is not None and (now - last).total_seconds() < down
                else LinkState.DOWN
            )
            new = SourceStatus(
                source=source,
                state=state,
                last_success=last,
                last_error=shown(error.message, ERROR_LIMIT),
                last_error_at=now,
            )
            if (new.state, new.last_error) != (current.state, current.last_error):
                row.sources[source] = new
                self.mark(key)
            self.heard(key, source)

    async def housekeeping(self) -> None:
        """Once a second: mark sources whose data has grown old, without any event."""
        while True:
            await asyncio.sleep(1.0)
            self.age()

    def age(self) -> None:
        now = self._wall_clock()
        for row in self.rows.values():
            for source, status in list(row.sources.items()):
                interval = self.intervals.get(source)
                last = row.fresh.get(source)
                if interval is None or last is None:
                    continue
                age = (now - last).total_seconds()
                if status.state is LinkState.OK and age > degraded_after(interval):
                    row.sources[source] = replace(
                        status, state=LinkState.DEGRADED, last_success=last
                    )
                    self.mark(row.key)
                elif status.state is LinkState.DEGRADED and age > down_after(interval):
                    row.sources[source] = replace(status, state=LinkState.DOWN, last_success=last)
                    self.mark(row.key)

    # ------------------------------------------------------------------ publishing

    def _build(self, row: Row) -> ServiceState:
        return ServiceState(
            key=row.key,
            pipeline=row.pipeline,
            manual_gate=row.manual_gate,
            rollout=row.rollout,
            health=row.health,
            deployments=row.deployments,
            flags=row.flags,
            sources=tuple(row.sources[s] for s in SourceName if s in row.sources),
            read_only=self._read_only or row.env.read_only,
        )

    def publish_all(self) -> None:
        """Publish every row as it stands, without telling anyone (before the start)."""
        self._published = {key: self._build(row) for key, row in self.rows.items()}

    def mark(self, key: EnvKey) -> None:
        """The row changed: publish it (with every other change of this turn) soon."""
        self._dirty.add(key)
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        dirty, self._dirty = self._dirty, set()
        changed = set()
        for key in dirty:
            state = self._build(self.rows[key])
            if state != self._published.get(key):
                self._published[key] = state
                changed.add(key)
        if not changed:
            return
        update = StateUpdate(
            states=MappingProxyType(dict(self._published)),
            changed=frozenset(changed),
            at=self._clock(),
        )
        for listener in list(self._listeners):
            try:
                listener(update)
            except Exception:  # a broken listener must not stop the others
                log.exception("state listener failed")
