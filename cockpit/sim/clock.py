"""Simulated time: real time sped up by a scale factor, or a clock that tests move by hand.

Every part of the simulator asks the clock for ``now()`` and never calls ``time``
directly, so a test can drive a canary through a ten-minute pause in microseconds and
the demo can run a five-minute pause in ten seconds.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

#: The demo world's fixed starting instant (when no other start is given).
DEFAULT_START = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)


class SimClock:
    """Simulated wall-clock time.

    ``scale`` is simulated seconds per real second. A ``manual`` clock does not move
    by itself: only :meth:`advance` moves it (tests use this; no sleeping).
    """

    def __init__(
        self,
        start: datetime | None = None,
        *,
        scale: float = 1.0,
        manual: bool = False,
    ) -> None:
        if scale <= 0:
            raise ValueError(f"time scale must be positive, got {scale}")
        self.start = start or DEFAULT_START
        self.scale = scale
        self.manual = manual
        self._origin = time.monotonic()
        self._offset = 0.0  # simulated seconds added by advance()

    def now(self) -> datetime:
        return self.start + timedelta(seconds=self.elapsed())

    def elapsed(self) -> float:
        """Simulated seconds since the start."""
        if self.manual:
            return self._offset
        return (time.monotonic() - self._origin) * self.scale + self._offset

    def advance(self, seconds: float) -> None:
        """Move simulated time forward (any clock; the usual way for a manual one)."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._offset += seconds

    def real_seconds(self, simulated: float) -> float:
        """How long a simulated interval takes in real time."""
        return simulated / self.scale


def rfc3339(moment: datetime) -> str:
    """Kubernetes style: ``2026-11-26T03:00:00Z`` (seconds precision, UTC)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def gitlab_time(moment: datetime) -> str:
    """GitLab style: ``2026-11-26T03:00:00.000Z`` (milliseconds, UTC)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
