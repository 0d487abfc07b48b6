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

#: Starts a task the engine owns (cancelled by ``Engine.stop``).
Spawn = Callable[[Coroutine[Any, Any, None], str], None]


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
    ) -> None:
        self.name = name
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

    def wake(self) -> None:
        if asyncio.get_running_loop().time() >= self._hold_until:
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
            except Exception as error:  # a bug must not stop the screen from updating
                self.failures += 1
                delay = self._policy.delay(self.failures, self._rng)
                self._on_error(unexpected(self.source, error, f"poller {self.name}"))
            # asyncio.timeout, not wait_for: wait_for (3.11) can swallow a cancellation that
            # arrives as the event is set, and stop() would then wait for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(0.0, delay)):
                    await self._wake.wait()


class PollerGroup:
    """One source's pollers, started as the engine's tasks, woken together."""

    def __init__(self, source: SourceName, *, rng: random.Random, spawn: Spawn) -> None:
        self.source = source
        self._rng = rng
        self._spawn = spawn
        #: Every poller by name.
        self.pollers: dict[str, Poller] = {}

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
        )
        self.pollers[name] = poller
        self._spawn(poller.run(), name)
        return poller

    def wake_all(self) -> None:
        for poller in self.pollers.values():
            poller.wake()

    def recovered(self, first: Poller) -> None:
        """One poller got an answer after failures: its source is back, so the others of
        that source still backing off try now rather than at the end of their backoff
        (a server that asked for patience with Retry-After still gets it)."""
        for poller in self.pollers.values():
            if poller is not first and poller.failures:
                poller.wake()
