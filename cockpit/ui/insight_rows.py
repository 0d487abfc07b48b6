"""Maturity and DORA as the screen shows them: the ``d`` dashboard and the service detail.

An ``InsightsProvider`` gathers them on demand (they come from GitLab: the CI
configuration and the deployment history, not from the live engine): called with no
argument it gives every service × environment, called with a service name only that
service's environments. ``cockpit.ui.run.insights_provider`` is the one built from
``cockpit.insights``; the screens know nothing about how the figures were measured, and
show what could not be measured with the reason in words.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class DoraFigure:
    """One DORA metric as shown: ``value`` in words (``"2.4 per day"``) and its class."""

    title: str
    value: str
    cls: str | None  # elite | high | medium | low | None (not enough data)
    #: How it was measured ("median of 12 changes, p90 1.2 days").
    detail: str = ""


@dataclass(frozen=True)
class Maturity:
    """A service's level on the continuous deployment maturity model, and why."""

    #: The article's level 1–4, or None when it could not be assessed.
    level: int | None
    #: "continuous delivery"
    name: str = ""
    present: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    unknown: tuple[str, ...] = ()
    #: The most valuable missing item, and what to do about it.
    next_step: str | None = None
    next_step_reason: str | None = None
    #: False when included CI files were not read: the level is then a lower bound.
    complete: bool = True
    #: Why it could not be assessed (GitLab's refusal in words).
    error: str | None = None


@dataclass(frozen=True)
class InsightRow:
    service: str
    environment: str
    maturity: Maturity
    #: Deployment frequency, lead time, change failure rate, time to restore (in that
    #: order); empty when the deployment history could not be read.
    dora: tuple[DoraFigure, ...] = ()
    dora_error: str | None = None
    window_days: int = 30


class InsightsProvider(Protocol):
    def __call__(self, service: str | None = None) -> Awaitable[tuple[InsightRow, ...]]:
        """Every row (no ``service``), or the rows of one service."""
        ...
