"""The one error every source raises: what failed, in words a person can act on.

A :class:`SourceError` says which system failed (``source``), what to do about it
(``message``), the HTTP status when there was one, how long to wait before asking again
(``retry_after``, from ``Retry-After`` or ``RateLimit-Reset``) and whether the failure is
worth retrying (``transient``: timeouts, 5xx, 429, dropped connections). Messages never
contain a token: :func:`scrub` removes known secrets from any text before it is kept.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from cockpit.model import SourceName

#: Statuses that mean "try again later", whatever the system.
TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, *range(520, 531)})


class SourceError(Exception):
    """A read or write against GitLab, Kubernetes or Prometheus failed."""

    def __init__(
        self,
        source: SourceName,
        message: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        transient: bool | None = None,
    ) -> None:
        super().__init__(message)
        self.source = source
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.transient = (
            transient if transient is not None else status is None or status in TRANSIENT_STATUSES
        )

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return (
            f"SourceError(source={self.source.value!r}, status={self.status!r}, "
            f"transient={self.transient!r}, retry_after={self.retry_after!r}, "
            f"message={self.message!r})"
        )


def retry_after_seconds(headers: Mapping[str, str], *, now: float | None = None) -> float | None:
    """Seconds to wait, from ``Retry-After`` (seconds or HTTP date) or ``RateLimit-Reset``.

    ``headers`` must look names up case-insensitively (httpx and requests headers do).
    """
    now = time.time() if now is None else now
    value = headers.get("Retry-After")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - now)
            except (TypeError, ValueError, IndexError):
                pass
    reset = headers.get("RateLimit-Reset")
    if reset:
        try:
            return max(0.0, float(reset.strip()) - now)
        except ValueError:
            return None
    return None


@dataclass(frozen=True)
class RateLimit:
    """A server's rate-limit quota as its ``RateLimit-*`` headers last described it."""

    limit: int
    remaining: int
    #: Unix time at which the quota is full again.
    reset_at: float


def rate_limit_from(headers: Mapping[str, str]) -> RateLimit | None:
    """``RateLimit-Limit``, ``-Remaining`` and ``-Reset`` (GitLab sends all three), or None."""
    try:
        return RateLimit(
            limit=int(headers["RateLimit-Limit"]),
            remaining=int(headers["RateLimit-Remaining"]),
            reset_at=float(headers["RateLimit-Reset"]),
        )
    except (KeyError, ValueError, TypeError):
        return None


def scrub(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret (and any ``private_token=`` query value) masked."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"((?:private|access|job)_token=)[^&\s'\"]+", r"\1***", text)


def connection_refused(error: BaseException) -> bool:
    """True when the connection was actively refused (nothing listens at that address).

    httpx reports a refused loopback connection as "All connection attempts failed", so
    the causes are searched for the underlying ``ConnectionRefusedError``.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ConnectionRefusedError) or "refused" in str(current).lower():
            return True
        nested = getattr(current, "exceptions", None)  # ExceptionGroup from happy eyeballs
        if nested and any(connection_refused(e) for e in nested):
            return True
        current = current.__cause__ or current.__context__
    return False


def seconds(value: float) -> str:
    """A duration for a message: ``12 s``, ``2.5 s``."""
    return f"{value:.0f} s" if value >= 10 or value == int(value) else f"{value:.1f} s"
