"""How long to wait before asking a system again: adaptive intervals and backoff.

Pure functions. The engine polls fast while something moves and slowly when all is
calm; after a failure it waits exponentially longer, with jitter so that many pollers
that failed together do not retry together, and never sooner than the server asked
(``Retry-After``, or the reset time of an exhausted rate limit).

A well-kept retry library (tenacity, backoff) wraps a call in a retry loop; here the
caller is a long-lived poller that must also surface each failure to the screen between
attempts and be woken early by a refresh, so the policy is a function of the attempt
count, not a decorator.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class BackoffPolicy:
    """Exponential backoff with "equal jitter": half fixed, half random."""

    base: float = 1.0
    cap: float = 60.0
    factor: float = 2.0

    def delay(
        self, failures: int, rng: random.Random, *, retry_after: float | None = None
    ) -> float:
        """Seconds to wait after ``failures`` consecutive failures (1 = the first)."""
        if failures <= 0:
            return 0.0
        ceiling = min(self.cap, self.base * self.factor ** (failures - 1))
        wait = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after is not None and retry_after > wait:
            # The server said when; a little jitter after it spreads the herd.
            wait = retry_after + rng.uniform(0, min(1.0, retry_after * 0.1))
        return wait


def rate_limited_wait(remaining: int | None, limit: int | None, reset_in: float | None) -> float:
    """Extra wait when a rate-limit quota is nearly used up (``RateLimit-*`` headers).

    With less than 5 % of the quota left, spread the remaining requests over the time
    until the quota resets; with none left, wait for the reset.
    """
    if remaining is None or limit is None or reset_in is None or limit <= 0:
        return 0.0
    reset_in = max(0.0, reset_in)
    if remaining <= 0:
        return reset_in
    if remaining < 0.05 * limit:
        return reset_in / remaining
    return 0.0


def adaptive_interval(*, moving: bool, active: float, idle: float) -> float:
    """The polling interval: ``active`` while a pipeline or rollout moves, else ``idle``."""
    return active if moving else idle
