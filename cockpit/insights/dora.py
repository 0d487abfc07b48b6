"""The four DORA metrics of one service in one environment, from GitLab deployments.

Over a window (30 days by default) ending at ``now``:

- **deployment frequency**: successful deployments per day (shown per week below one a
  day). Rollbacks re-deploy old code and are not counted as releases.
- **lead time for changes**: from the deployed commit's ``commit_created_at`` to the
  deployment finishing; median (classified) and p90 (nearest rank). GitLab records the
  head commit of each deployment only, so this is the lead time of the newest commit in
  each batch: a lower bound for the older commits that shipped with it.
- **change failure rate**: changes that failed over all changes, in percent. A change is a
  finished (successful or failed) deployment that is not a rollback; it failed when the
  deployment failed, or when a later rollback undid it.
- **time to restore**: median time from a failure to the deployment that restored service.
  A failed deployment is restored by the next successful deployment (a fix or a
  rollback); a rollback of a successful change restores service from the moment that
  change finished. A failure not restored by ``now`` is reported, not averaged. With no
  failure the value is None: "n/a, nothing to restore". Failures count when they began
  inside the window.

A deployment's time is when its job finished (``finished_at``), else when it was created.
The window holds the times in ``(now - days, now]``; older deployments still serve as
context (which change a rollback undid).

**Classes** follow the *Accelerate State of DevOps 2019* report (DORA, Google Cloud),
section "How do we compare?", the table of software delivery performance for elite, high,
medium and low performers:

====================  ===================  ======================  ======================  =============================
metric                elite                high                    medium                  low
====================  ===================  ======================  ======================  =============================
deployment frequency  on demand (multiple  between once per day    between once per week   between once per month and
                      deploys per day)     and once per week       and once per month      once every six months
lead time             less than one day    between one day and     between one week and    between one month and
                                           one week                one month               six months
time to restore       less than one hour   less than one day       less than one day       between one week and one month
change failure rate   0-15 %               0-15 %                  0-15 %                  46-60 %
====================  ===================  ======================  ======================  =============================

2019 is used because its throughput bands are contiguous; the 2021 report leaves gaps
(lead times between one hour and one day, deploys between daily and weekly) and the 2023
report gives medium and low the same throughput bands and only point values for change
failure rate. Where the 2019 table is ambiguous, cockpit decides:

- a month is 30 days, a week 7 days;
- "less than" is strict, "between" includes both ends, and a value on the edge of two
  bands (exactly once a week, exactly one week) gets the better class; "multiple deploys
  per day" means more than one a day, so exactly one a day is high;
- where several classes share a band (time to restore under a day: high and medium;
  change failure rate up to 15 %: elite, high and medium) the value gets the best of them,
  so medium never appears for those two metrics;
- a value in a gap between published bands (restores from one day to one week; failure
  rates above 15 % and under 46 %) gets the worse neighbouring class: the report shows
  no better performers there. Beyond the last band (lead time over six months, restores
  over a month, failure rates over 60 %, fewer deploys than once in six months) is low.

Pure functions; no I/O.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from cockpit.model import Deployment

DEFAULT_WINDOW_DAYS = 30
SOURCE = "Accelerate State of DevOps 2019"

_DAY = 24.0  # hours
_WEEK = 7 * _DAY
_MONTH = 30 * _DAY


@dataclass(frozen=True)
class Metric:
    value: float | None
    unit: str  # "per day" | "per week" | "hours" | "percent"
    cls: str | None  # elite | high | medium | low, None when there is nothing to classify
    detail: str
    #: Extra numbers for scripts (``p90``, ``samples`` …), in the JSON beside value/unit/class.
    extra: tuple[tuple[str, float | int | None], ...] = ()

    def display(self) -> str:
        """The value for a person: "2.3 per week", "42 min", "5.2 h", "3.1 days", "11 %"."""
        if self.value is None:
            return "n/a"
        if self.unit == "hours":
            return _duration(self.value)
        if self.unit == "percent":
            return f"{self.value:.0f} %"
        return f"{self.value:.1f} {self.unit}"

    def to_json(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "unit": self.unit,
            "class": self.cls,
            "detail": self.detail,
            **dict(self.extra),
        }


@dataclass(frozen=True)
class DoraReport:
    deployment_frequency: Metric
    lead_time: Metric
    change_failure_rate: Metric
    time_to_restore: Metric
    window_days: int = DEFAULT_WINDOW_DAYS

    @property
    def metrics(self) -> tuple[tuple[str, str, Metric], ...]:
        """(JSON key, title, metric) in the order people read them."""
        return (
            ("deployment_frequency", "deployment frequency", self.deployment_frequency),
            ("lead_time", "lead time for changes", self.lead_time),
            ("change_failure_rate", "change failure rate", self.change_failure_rate),
            ("time_to_restore", "time to restore", self.time_to_restore),
        )

    def to_json(self) -> dict[str, Any]:
        return {key: metric.to_json() for key, _, metric in self.metrics}


# --------------------------------------------------------------------------- classes


def classify_deployment_frequency(per_day: float) -> str:
    if per_day > 1:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def classify_lead_time(hours: float) -> str:
    if hours < _DAY:
        return "elite"
    if hours <= _WEEK:
        return "high"
    if hours <= _MONTH:
        return "medium"
    return "low"


def classify_time_to_restore(hours: float) -> str:
    if hours < 1:
        return "elite"
    if hours < _DAY:
        return "high"
    return "low"


def classify_change_failure_rate(percent: float) -> str:
    if percent <= 15:
        return "elite"
    return "low"


# --------------------------------------------------------------------------- computing


def compute(
    deployments: Iterable[Deployment],
    *,
    now: datetime,
    days: int = DEFAULT_WINDOW_DAYS,
    environment: str | None = None,
) -> DoraReport:
    """The four metrics for ``deployments`` (of one environment, or filtered to ``environment``)."""
    if days <= 0:
        raise ValueError(f"the window must be at least one day, not {days}")
    start = now - timedelta(days=days)
    history = sorted(
        (
            d
            for d in deployments
            if (environment is None or d.environment == environment) and _time(d) <= now
        ),
        key=lambda d: (_time(d), d.id),
    )
    in_window = [d for d in history if _time(d) > start]
    undone = _undone_changes(history)
    return DoraReport(
        deployment_frequency=_deployment_frequency(in_window, days),
        lead_time=_lead_time(in_window),
        change_failure_rate=_change_failure_rate(in_window, undone),
        time_to_restore=_time_to_restore(history, start, now),
        window_days=days,
    )


def _time(deployment: Deployment) -> datetime:
    return deployment.finished_at or deployment.created_at


def _is_change(deployment: Deployment) -> bool:
    return deployment.status in ("success", "failed") and not deployment.is_rollback


def _deployment_frequency(in_window: list[Deployment], days: int) -> Metric:
    releases = [d for d in in_window if d.status == "success" and not d.is_rollback]
    per_day = len(releases) / days
    extra = (("deployments", len(releases)), ("days", days))
    if not releases:
        detail = f"no successful deployment in the last {days} days"
        return Metric(0.0, "per week", "low", detail, extra)
    detail = f"{len(releases)} successful deployments in the last {days} days"
    if per_day >= 1:
        return Metric(per_day, "per day", classify_deployment_frequency(per_day), detail, extra)
    cls = classify_deployment_frequency(per_day)
    return Metric(per_day * 7, "per week", cls, detail, extra)


def _lead_time(in_window: list[Deployment]) -> Metric:
    hours = sorted(
        max(0.0, (_time(d) - d.commit_created_at).total_seconds() / 3600)
        for d in in_window
        if d.status == "success" and not d.is_rollback and d.commit_created_at is not None
    )
    if not hours:
        detail = "no successful deployment with a known commit time in the window"
        return Metric(None, "hours", None, detail, (("p90", None), ("samples", 0)))
    median = statistics.median(hours)
    p90 = _nearest_rank(hours, 0.9)
    detail = f"median of {len(hours)} deployments; p90 {_duration(p90)}"
    return Metric(
        median, "hours", classify_lead_time(median), detail, (("p90", p90), ("samples", len(hours)))
    )


def _undone_changes(history: list[Deployment]) -> set[int]:
    """Ids of successful changes a later rollback undid (the one live before the rollback)."""
    undone: set[int] = set()
    live: Deployment | None = None
    for deployment in history:
        if deployment.status != "success":
            continue
        if live is not None and _undoes(deployment, live):
            undone.add(live.id)
        live = deployment
    return undone


def _undoes(deployment: Deployment, live: Deployment) -> bool:
    """``deployment`` is a rollback away from ``live``, a change (not another rollback)."""
    return deployment.is_rollback and not live.is_rollback and live.sha != deployment.sha


def _change_failure_rate(in_window: list[Deployment], undone: set[int]) -> Metric:
    changes = [d for d in in_window if _is_change(d)]
    failed = [d for d in changes if d.status == "failed"]
    rolled_back = [d for d in changes if d.id in undone]
    extra = (("failures", len(failed) + len(rolled_back)), ("changes", len(changes)))
    if not changes:
        return Metric(None, "percent", None, "no finished deployment in the window", extra)
    percent = 100 * (len(failed) + len(rolled_back)) / len(changes)
    detail = (
        f"{len(failed) + len(rolled_back)} of {len(changes)} changes failed "
        f"({len(failed)} failed deployments, {len(rolled_back)} rolled back)"
    )
    return Metric(percent, "percent", classify_change_failure_rate(percent), detail, extra)


def _time_to_restore(history: list[Deployment], start: datetime, now: datetime) -> Metric:
    restores: list[float] = []
    open_since: datetime | None = None
    live: Deployment | None = None
    for deployment in history:
        at = _time(deployment)
        if deployment.status == "failed":
            if open_since is None:
                open_since = at
            continue
        if deployment.status != "success":
            continue
        if open_since is None and live is not None and _undoes(deployment, live):
            open_since = _time(live)  # the undone change was live until this rollback
        if open_since is not None:
            if open_since > start:
                restores.append((at - open_since).total_seconds() / 3600)
            open_since = None
        live = deployment
    unrestored = int(open_since is not None and open_since > start)
    extra = (("restores", len(restores)), ("unrestored", unrestored))
    note = f"{unrestored} failure not restored yet" if unrestored else ""
    if not restores:
        return Metric(None, "hours", None, note or "n/a, nothing to restore", extra)
    median = statistics.median(restores)
    noun = "restore" if len(restores) == 1 else "restores"
    detail = f"median of {len(restores)} {noun}" + (f"; {note}" if note else "")
    return Metric(median, "hours", classify_time_to_restore(median), detail, extra)


def _nearest_rank(ordered: Sequence[float], quantile: float) -> float:
    return ordered[max(0, math.ceil(quantile * len(ordered)) - 1)]


def _duration(hours: float) -> str:
    if hours < 1:
        return f"{hours * 60:.0f} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
