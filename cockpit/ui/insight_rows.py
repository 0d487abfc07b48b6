"""The dashboard's data: each service's maturity level and DORA classes, ready to show.

The ``d`` dashboard is read-only and shows whatever an ``InsightsProvider`` returns.
Whoever wires it builds these rows from ``cockpit.insights.maturity.assess`` and
``cockpit.insights.dora``; the screen knows nothing about how they were measured.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class DoraFigure:
    """One DORA metric as shown: ``value`` in words (``"2.4/day"``) and its class."""

    value: str
    cls: str | None  # elite | high | medium | low | None (not enough data)


@dataclass(frozen=True)
class InsightRow:
    service: str
    environment: str
    #: The article's level 1–4, or None when it could not be assessed.
    level: int | None
    next_step: str | None
    missing: tuple[str, ...]
    deployment_frequency: DoraFigure
    lead_time: DoraFigure
    change_failure_rate: DoraFigure
    time_to_restore: DoraFigure


InsightsProvider = Callable[[], Awaitable[tuple[InsightRow, ...]]]
