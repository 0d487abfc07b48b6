"""The four DORA metrics from deployment history, and the 2019 report's classes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.insights.dora import (
    Metric,
    classify_change_failure_rate,
    classify_deployment_frequency,
    classify_lead_time,
    classify_time_to_restore,
    compute,
)
from cockpit.model import Deployment

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
EPSILON = 1e-6


def deployment(
    number: int,
    hours_ago: float,
    status: str = "success",
    *,
    sha: str | None = None,
    lead_hours: float | None = 1.0,
    rollback: bool = False,
    environment: str = "production",
) -> Deployment:
    finished = NOW - timedelta(hours=hours_ago)
    return Deployment(
        id=number,
        iid=number,
        status=status,
        ref="main",
        sha=sha or f"{number:040x}",
        created_at=finished - timedelta(minutes=5),
        environment=environment,
        finished_at=finished,
        commit_created_at=finished - timedelta(hours=lead_hours)
        if lead_hours is not None
        else None,
        is_rollback=rollback,
    )


# --------------------------------------------------------------------------- classes and edges


@pytest.mark.parametrize(
    ("per_day", "cls"),
    [
        (1 + EPSILON, "elite"),  # multiple deploys per day
        (1.0, "high"),  # exactly once a day is not "multiple"
        (1 / 7, "high"),  # once a week: both bands, the better one
        (1 / 7 - EPSILON, "medium"),
        (1 / 30, "medium"),  # once a month: both bands, the better one
        (1 / 30 - EPSILON, "low"),
        (0.0, "low"),  # fewer than once in six months is still low
    ],
)
def test_deployment_frequency_bands(per_day: float, cls: str) -> None:
    assert classify_deployment_frequency(per_day) == cls


@pytest.mark.parametrize(
    ("hours", "cls"),
    [
        (24 - EPSILON, "elite"),  # less than one day
        (24.0, "high"),  # exactly a day: "less than" is strict
        (7 * 24.0, "high"),  # exactly a week: the better of high and medium
        (7 * 24 + EPSILON, "medium"),
        (30 * 24.0, "medium"),
        (30 * 24 + EPSILON, "low"),
        (365 * 24.0, "low"),  # beyond the last band (six months)
    ],
)
def test_lead_time_bands(hours: float, cls: str) -> None:
    assert classify_lead_time(hours) == cls


@pytest.mark.parametrize(
    ("hours", "cls"),
    [
        (1 - EPSILON, "elite"),
        (1.0, "high"),  # high and medium share "less than one day": the better one
        (24 - EPSILON, "high"),
        (24.0, "low"),  # the gap from one day to one week: the worse neighbour
        (3 * 24.0, "low"),
        (7 * 24.0, "low"),  # the published low band
        (60 * 24.0, "low"),  # beyond it
    ],
)
def test_time_to_restore_bands(hours: float, cls: str) -> None:
    assert classify_time_to_restore(hours) == cls


@pytest.mark.parametrize(
    ("percent", "cls"),
    [
        (0.0, "elite"),
        (15.0, "elite"),  # elite, high and medium all report 0-15 %: the best
        (15 + EPSILON, "low"),  # the gap up to 46 %: the worse neighbour
        (46.0, "low"),
        (100.0, "low"),
    ],
)
def test_change_failure_rate_bands(percent: float, cls: str) -> None:
    assert classify_change_failure_rate(percent) == cls


# --------------------------------------------------------------------------- histories


def test_empty_history() -> None:
    report = compute((), now=NOW)
    assert report.deployment_frequency == Metric(
        0.0,
        "per week",
        "low",
        "no successful deployment in the last 30 days",
        (("deployments", 0), ("days", 30)),
    )
    assert report.lead_time.value is None and report.lead_time.cls is None
    assert report.change_failure_rate.value is None
    assert report.change_failure_rate.detail == "no finished deployment in the window"
    assert report.time_to_restore.value is None
    assert report.time_to_restore.detail == "n/a, nothing to restore"


def test_a_single_deployment() -> None:
    report = compute((deployment(1, 10, lead_hours=3),), now=NOW)
    frequency = report.deployment_frequency
    assert frequency.unit == "per week"
    assert frequency.value == pytest.approx(7 / 30)
    assert frequency.cls == "medium", "once in 30 days is once a month"
    assert (report.lead_time.value, report.lead_time.cls) == (pytest.approx(3.0), "elite")
    assert (report.change_failure_rate.value, report.change_failure_rate.cls) == (0.0, "elite")
    assert report.time_to_restore.detail == "n/a, nothing to restore"


def test_all_failed() -> None:
    history = [deployment(n, 100 - n * 10, "failed") for n in range(1, 4)]
    report = compute(history, now=NOW)
    assert report.deployment_frequency.value == 0.0
    assert report.deployment_frequency.cls == "low"
    assert report.change_failure_rate.value == 100.0
    assert report.change_failure_rate.detail == (
        "3 of 3 changes failed (3 failed deployments, 0 rolled back)"
    )
    assert report.time_to_restore.value is None
    assert report.time_to_restore.detail == "1 failure not restored yet"


def test_no_failures_means_nothing_to_restore() -> None:
    history = [deployment(n, n * 20) for n in range(1, 8)]
    report = compute(history, now=NOW)
    assert report.change_failure_rate.value == 0.0
    assert report.time_to_restore.to_json() == {
        "value": None,
        "unit": "hours",
        "class": None,
        "detail": "n/a, nothing to restore",
        "restores": 0,
        "unrestored": 0,
    }


def test_the_window_holds_the_last_n_days_up_to_now() -> None:
    on_the_edge = deployment(1, 30 * 24)  # exactly 30 days ago: outside (now-30d, now]
    just_inside = deployment(2, 30 * 24 - 1 / 3600)
    in_the_future = deployment(3, -1)
    report = compute((on_the_edge, just_inside, in_the_future), now=NOW)
    assert dict(report.deployment_frequency.extra)["deployments"] == 1
    assert (
        dict(compute((on_the_edge,), now=NOW, days=31).deployment_frequency.extra)["deployments"]
        == 1
    )


def test_deployment_frequency_switches_unit_at_one_a_day() -> None:
    daily = [deployment(n, n * 15) for n in range(1, 46)]  # 45 in 30 days
    report = compute(daily, now=NOW)
    assert report.deployment_frequency.unit == "per day"
    assert report.deployment_frequency.value == pytest.approx(1.5)
    assert report.deployment_frequency.cls == "elite"
    weekly = [deployment(n, n * 70) for n in range(1, 11)]  # 10 in 30 days
    report = compute(weekly, now=NOW)
    assert report.deployment_frequency.unit == "per week"
    assert report.deployment_frequency.display() == "2.3 per week"
    assert report.deployment_frequency.cls == "high"


def test_lead_time_median_and_p90() -> None:
    history = [deployment(n, n, lead_hours=float(n)) for n in range(1, 11)]  # 1..10 h
    lead_time = compute(history, now=NOW).lead_time
    assert lead_time.value == pytest.approx(5.5)
    assert dict(lead_time.extra) == {"p90": pytest.approx(9.0), "samples": 10}
    assert lead_time.detail == "median of 10 deployments; p90 9.0 h"
    assert lead_time.cls == "elite"


def test_lead_time_ignores_deployments_without_a_commit_time() -> None:
    report = compute((deployment(1, 5, lead_hours=None),), now=NOW)
    assert report.lead_time.value is None
    assert report.lead_time.detail == (
        "no successful deployment with a known commit time in the window"
    )


def test_a_failed_deployment_is_restored_by_the_next_success() -> None:
    history = [
        deployment(1, 50),
        deployment(2, 20, "failed"),
        deployment(3, 19, "failed"),  # still the same outage
        deployment(4, 17),  # three hours after the first failure
    ]
    report = compute(history, now=NOW)
    assert report.time_to_restore.value == pytest.approx(3.0)
    assert report.time_to_restore.cls == "high"
    assert report.time_to_restore.detail == "median of 1 restore"
    assert report.change_failure_rate.value == pytest.approx(50.0)


def test_a_rollback_counts_the_change_it_undid_and_restores_from_when_it_went_live() -> None:
    history = [
        deployment(1, 48, sha="a" * 40),
        deployment(2, 10, sha="b" * 40),  # the bad change
        deployment(3, 9.5, sha="a" * 40, rollback=True),  # back to a, 30 minutes later
    ]
    report = compute(history, now=NOW)
    assert dict(report.deployment_frequency.extra)["deployments"] == 2, "a rollback ships nothing"
    assert report.change_failure_rate.value == pytest.approx(50.0)
    assert report.change_failure_rate.detail == (
        "1 of 2 changes failed (0 failed deployments, 1 rolled back)"
    )
    assert report.time_to_restore.value == pytest.approx(0.5)
    assert report.time_to_restore.cls == "elite"
    assert report.time_to_restore.display() == "30 min"


def test_a_rollback_after_a_failed_deployment_is_one_failure_not_two() -> None:
    history = [
        deployment(1, 48, sha="a" * 40),
        deployment(2, 10, "failed", sha="b" * 40),
        deployment(3, 8, sha="a" * 40, rollback=True),
    ]
    report = compute(history, now=NOW)
    assert dict(report.change_failure_rate.extra) == {"failures": 1, "changes": 2}
    assert report.time_to_restore.value == pytest.approx(2.0)


def test_failures_before_the_window_do_not_count_but_give_context() -> None:
    history = [
        deployment(1, 40 * 24, sha="a" * 40),  # before the window
        deployment(2, 31 * 24, sha="b" * 40),  # before the window, undone inside it
        deployment(3, 29 * 24, sha="a" * 40, rollback=True),
    ]
    report = compute(history, now=NOW)
    assert report.change_failure_rate.value is None, "no change inside the window"
    assert report.time_to_restore.value is None, "that failure began before the window"


def test_only_the_requested_environment_counts() -> None:
    history = [deployment(1, 5), deployment(2, 6, environment="staging")]
    report = compute(history, now=NOW, environment="production")
    assert dict(report.deployment_frequency.extra)["deployments"] == 1


def test_json_has_exactly_the_four_metrics() -> None:
    document = compute([deployment(1, 5)], now=NOW).to_json()
    assert list(document) == [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    ]
    for metric in document.values():
        assert {"value", "unit", "class"} <= set(metric)


def test_durations_read_like_a_person_would_say_them() -> None:
    assert Metric(0.7, "hours", "elite", "").display() == "42 min"
    assert Metric(5.25, "hours", "high", "").display() == "5.2 h"
    assert Metric(74.4, "hours", "low", "").display() == "3.1 days"
    assert Metric(11.1, "percent", "elite", "").display() == "11 %"
    assert Metric(None, "hours", None, "").display() == "n/a"


def test_a_window_must_hold_at_least_a_day() -> None:
    with pytest.raises(ValueError, match="at least one day"):
        compute((), now=NOW, days=0)
