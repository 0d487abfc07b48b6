"""The health guard: how many bad samples in a row make the cockpit say "roll back"."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cockpit.insights.health_guard import evaluate, rate_percent, threshold_percent
from cockpit.model import Sample

START = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def samples(*values: float | None) -> list[Sample]:
    return [Sample(START + timedelta(minutes=i), value) for i, value in enumerate(values)]


def test_three_bad_samples_in_a_row_trigger_with_the_message_the_engineer_reads() -> None:
    verdict = evaluate(samples(0.995, 0.981, 0.979, 0.974), threshold=0.99, consecutive=3)
    assert verdict.triggered
    assert verdict.bad_streak == 3
    assert verdict.latest == 0.974
    assert verdict.message == (
        "success rate under 99.0 % for 3 samples in a row (98.1 %, 97.9 %, 97.4 %): "
        "press r to roll back"
    )


def test_a_good_sample_ends_the_streak() -> None:
    verdict = evaluate(samples(0.98, 0.98, 0.995, 0.98), threshold=0.99, consecutive=3)
    assert not verdict.triggered
    assert verdict.bad_streak == 1
    assert verdict.message == "success rate under 99.0 % for 1 of 3 samples (latest 98.0 %)"


def test_equal_to_the_threshold_is_good() -> None:
    verdict = evaluate(samples(0.98, 0.98, 0.99), threshold=0.99, consecutive=2)
    assert not verdict.triggered
    assert verdict.message == "success rate 99.0 %, at or above 99.0 %"


def test_no_traffic_neither_triggers_nor_resets() -> None:
    """An idle minute says nothing about the new version: skipped, in both directions."""
    bad_idle_bad = evaluate(samples(0.97, None, 0.96, 0.95), threshold=0.99, consecutive=3)
    assert bad_idle_bad.triggered, "the idle sample did not reset the streak"
    assert bad_idle_bad.bad_streak == 3
    idle_only = evaluate(samples(0.97, None, None, None), threshold=0.99, consecutive=2)
    assert not idle_only.triggered, "idle samples are not bad samples"
    assert idle_only.bad_streak == 1
    assert idle_only.latest is None, "the newest sample saw no traffic"


def test_nothing_to_judge() -> None:
    assert evaluate([], threshold=0.99, consecutive=3).message == "no health samples yet"
    idle = evaluate(samples(None, None), threshold=0.99, consecutive=3)
    assert (idle.triggered, idle.message) == (False, "no traffic: nothing to judge yet")


def test_samples_are_read_in_time_order_whatever_order_they_come_in() -> None:
    ordered = samples(0.995, 0.97, 0.96)
    verdict = evaluate(list(reversed(ordered)), threshold=0.99, consecutive=2)
    assert verdict.triggered and verdict.latest == 0.96


def test_a_longer_streak_shows_the_latest_samples() -> None:
    verdict = evaluate(samples(0.90, 0.91, 0.92, 0.93), threshold=0.99, consecutive=2)
    assert verdict.bad_streak == 4
    assert "for 4 samples in a row (92.0 %, 93.0 %)" in verdict.message


def test_consecutive_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        evaluate(samples(0.5), threshold=0.99, consecutive=0)


@pytest.mark.parametrize(
    ("threshold", "shown"), [(0.99, "99.0 %"), (0.9995, "99.95 %"), (0.99999, "99.999 %")]
)
def test_thresholds_show_the_decimals_they_have(threshold: float, shown: str) -> None:
    assert threshold_percent(threshold) == shown


def test_a_sample_never_rounds_onto_the_wrong_side_of_the_threshold() -> None:
    assert rate_percent(0.98996, 0.99) == "98.996 %"
    assert rate_percent(0.981, 0.99) == "98.1 %"
