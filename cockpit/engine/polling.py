"""Pollers: call a source over and over, one call at a time, backing off on failure.

A :class:`Poller` runs one read (a GitLab project, a row's health queries) in a loop:
the read returns how long to wait; a :class:`~cockpit.sources.errors.SourceError` is
reported and answered with exponential backoff with jitter, never sooner than
``Retry-After`` says; any other exception is reported as an internal error so that no
poller ever dies. :meth:`Poller.wake` starts the next read at once.

A :class:`PollerGroup` holds one source's pollers: when one of them gets an answer
after failures, the others of that source still backing off try at once.

Also here: how long a silent source stays fresh (:func:`degraded_after`,
:func:`down_after`) and :func:`unexpected`, which turns any other exception into the
source's error in one short line.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from cockpit.backoff import BackoffPolicy
from cockpit.model import SourceName
from cockpit.redact import shown
from cockpit.sources.errors import SourceError

log = logging.getLogger("cockpit.engine")

#: Characters of a source's error kept on its row (a server's error page can be
#: megabytes; the row, the table under ``cockpit status`` and the screen show one line).
ERROR_LIMIT = 400

#: Seconds an answer may take before its source shows as slow (with the time it took).
SLOW_ANSWER = 2.0

#: Starts a task the engine owns (cancelled by ``Engine.stop``).
Spawn = Callable[[Coroutine[Any, Any, None], str], asyncio.Task[None]]


def degraded_after(interval: float) -> float:
    """Seconds without fresh data before a silent source is degraded: two missed polls."""
    return 2 * interval + 10


def down_after(interval: float) -> float:
    """Seconds without fresh data before a source is down (its cells then show stale)."""
    return max(60.0, 3 * interval + 10)


def unexpected(source: SourceName, error: Exception, where: str) -> SourceError:
    """Any other exception from a source, as that source's error: one short line.

    The traceback goes to the debug log only, once per kind of failure and place, never
    to the terminal (``logging``'s last-resort handler prints warnings and above on
    stderr, under the table of ``cockpit status``).
    """
    signature = (where, type(error).__name__)
    if signature not in _LOGGED:
        _LOGGED.add(signature)
        log.debug("%s failed", where, exc_info=error)
    return SourceError(
        source, f"internal error while reading {source}: {type(error).__name__}: {shown(error)}"
    )


_LOGGED: set[tuple[str, str]] = set()


def slow_latency(source: object) -> float | None:
    """The source's last answer time when it was slower than :data:`SLOW_ANSWER`."""
    from cockpit.engine.protocols import Timed

    if isinstance(source, Timed) and source.latency is not None and source.latency > SLOW_ANSWER:
        return source.latency
    return None


def probe_cap(interval: float | None) -> float:
    """How long a failing source may go unprobed: a recovery must show within
    max(2 s, one poll interval), and one cheap request a second is no burden."""
    return max(1.0, min((interval or 2.0) / 2, 15.0))


class Poller:
    """Call ``poll`` over and over, one call at a time.

    ``poll`` returns how many seconds to wait before the next call. A
    :class:`SourceError` is reported through ``on_error`` and answered with backoff; any
    other exception is reported too (as an internal error) so that no poller ever dies.
    :meth:`wake` starts the next call at once, unless the source asked us to wait.
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], Awaitable[float]],
        *,
        policy: BackoffPolicy,
        rng: random.Random,
        on_error: Callable[[SourceError], None],
        source: SourceName,
        on_recovered: Callable[[Poller], None] | None = None,
        on_failed: Callable[[Poller, SourceError], float | None] | None = None,
    ) -> None:
        self.name = name
        self._on_failed = on_failed
        self._poll = poll
        self._policy = policy
        self._rng = rng
        self._on_error = on_error
        self._on_recovered = on_recovered
        self.source = source
        self._wake = asyncio.Event()
        self._hold_until = 0.0  # loop time before which wake() is ignored (Retry-After)
        self.failures = 0
        self.polls = 0

    def wake(self, *, force: bool = False) -> None:
        """Poll now; ``force``: even within a ``Retry-After`` (the source answered since)."""
        if force or asyncio.get_running_loop().time() >= self._hold_until:
            self._wake.set()

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            self.polls += 1
            # Cleared before the call, not after: a wake() while it runs (a write just
            # landed) may come too late for this read, so it buys the next one at once.
            self._wake.clear()
            try:
                delay = await self._poll()
                recovered = self.failures > 0
                self.failures = 0
                self._hold_until = 0.0
                if recovered and self._on_recovered is not None:
                    self._on_recovered(self)
            except asyncio.CancelledError:
                raise
            except SourceError as error:
                self.failures += 1
                delay = self._policy.delay(self.failures, self._rng, retry_after=error.retry_after)
                if error.retry_after:
                    self._hold_until = loop.time() + delay
                self._on_error(error)
                if self._on_failed is not None:
                    # While the whole source fails, its probe decides when to try again.
                    delay = max(delay, self._on_failed(self, error) or 0.0)
            except Exception as error:  # a bug must not stop the screen from updating
                self.failures += 1
                delay = self._policy.delay(self.failures, self._rng)
                self._on_error(unexpected(self.source, error, f"poller {self.name}"))
            # asyncio.timeout, not wait_for: wait_for (3.11) can swallow a cancellation that
            # arrives as the event is set, and stop() would then wait for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, delay)):
                    await self._wake.wait()


def is_outage(error: SourceError) -> bool:
    """A failure of the whole source (no answer, 5xx, 429, 401), not of one read (a 404)."""
    return error.transient or error.status == 401


class PollerGroup:
    """One source's pollers, started as the engine's tasks, failing and recovering together.

    When a poller in good standing fails in a way that concerns the whole source (no
    answer, 5xx, 429, 401: :func:`is_outage`), the group starts probing the source with
    one cheap request (``probe``) at the backoff interval, capped at ``probe_cap`` so that
    a recovery is seen within that, and never sooner than ``Retry-After``. On the first
    answer — from the probe or any poller — every failing poller of the source polls at
    once, so every row is fresh again within a poll, not at the end of its own backoff.
    Without a probe, a poller's own recovery still wakes the others.
    """

    def __init__(
        self,
        source: SourceName,
        *,
        rng: random.Random,
        spawn: Spawn,
        probe: Callable[[], Awaitable[None]] | None = None,
        policy: BackoffPolicy | None = None,
        probe_cap: float = 2.0,
        on_probe_error: Callable[[SourceError], None] | None = None,
    ) -> None:
        self.source = source
        self._rng = rng
        self._spawn = spawn
        self._probe = probe
        self._policy = policy or BackoffPolicy()
        self._probe_cap = probe_cap
        self._on_probe_error = on_probe_error
        #: Every poller by name.
        self.pollers: dict[str, Poller] = {}
        #: The source is failing as a whole: the probe runs until it answers.
        self.failing = False
        self._retry_after: float | None = None
        self.probes = 0

    def add(
        self,
        name: str,
        poll: Callable[[], Awaitable[float]],
        *,
        policy: BackoffPolicy,
        on_error: Callable[[SourceError], None],
    ) -> Poller:
        poller = Poller(
            name,
            poll,
            policy=policy,
            rng=self._rng,
            on_error=on_error,
            source=self.source,
            on_recovered=self.recovered,
            on_failed=self.failed,
        )
        self.pollers[name] = poller
        self._spawn(poller.run(), name)
        return poller

    def wake_all(self) -> None:
        for poller in self.pollers.values():
            poller.wake()

    def failed(self, poller: Poller, error: SourceError) -> float | None:
        """A poller failed. The first failure of a poller in good standing that concerns
        the whole source starts the probe (a poller that fails again right after a
        release has a problem of its own, and keeps its own backoff). While the probe
        runs, the failing pollers wait for its release, retrying on their own only at
        their backoff's cap: one cheap request at a time asks, not every poller."""
        if self._probe is None or not is_outage(error):
            return None
        if error.retry_after:
            self._retry_after = max(self._retry_after or 0.0, error.retry_after)
        if poller.failures == 1 and not self.failing:
            self.failing = True
            self._spawn(self._probing(), f"probe:{self.source}")
        return self._policy.cap if self.failing else None

    def recovered(self, first: Poller) -> None:
        """One poller got an answer after failures: the source is back."""
        self._release(first)

    def _release(self, first: Poller | None) -> None:
        was_failing, self.failing = self.failing, False
        self._retry_after = None
        for poller in self.pollers.values():
            if poller is not first and poller.failures:
                # The source answered after its Retry-After: no need to wait any longer.
                poller.wake(force=was_failing)

    async def _probing(self) -> None:
        """Ask the source one cheap question at the backoff interval until it answers."""
        assert self._probe is not None
        failures = 0
        while self.failing:
            failures += 1
            delay = min(self._probe_cap, self._policy.delay(failures, self._rng))
            delay = max(delay, self._retry_after or 0.0)
            self._retry_after = None
            await asyncio.sleep(delay)
            if not self.failing:
                return  # a poller got an answer first
            self.probes += 1
            try:
                await self._probe()
            except asyncio.CancelledError:
                raise
            except SourceError as error:
                if is_outage(error):
                    if error.retry_after:
                        self._retry_after = error.retry_after
                    if self._on_probe_error is not None:
                        self._on_probe_error(error)
                    continue
            except Exception as error:
                unexpected(self.source, error, f"probe of {self.source}")
                continue
            self._release(None)
            return
