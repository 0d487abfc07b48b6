"""How states read on screen: words and glyphs (never colour alone), bars, columns that fit."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cockpit.model import (
    PIPELINE_STATUSES,
    Health,
    HealthStatus,
    LinkState,
    SourceName,
    SourceStatus,
)
from cockpit.ui import presenters as p
from tests.ui.fake_engine import (
    DEMO_NOW,
    cart_production,
    checkout_production,
    search_production,
)


def text(cell: p.Cell) -> str:
    return "".join(t for t, _ in cell)


@pytest.mark.parametrize("status", PIPELINE_STATUSES)
def test_every_gitlab_status_has_its_own_glyph_and_a_word(status: str) -> None:
    glyph, _ = p.status_glyph(status)
    assert glyph != "?"
    assert p.status_word(status)


def test_a_failure_allowed_to_fail_reads_differently_from_a_real_failure() -> None:
    assert p.status_glyph("failed", allow_failure=True)[0] != p.status_glyph("failed")[0]
    assert p.status_word("failed", allow_failure=True) == "failed (allowed)"


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (None, ""),
        (0, "0s"),
        (42.4, "42s"),
        (185, "3m 05s"),
        (7620, "2h 07m"),
        (3 * 86400 + 4 * 3600, "3d 4h"),
    ],
)
def test_durations_in_words(seconds: float | None, words: str) -> None:
    assert p.duration_words(seconds) == words


def test_ages_in_words() -> None:
    assert p.age_words(DEMO_NOW - timedelta(seconds=47), DEMO_NOW) == "47s"
    assert p.age_words(DEMO_NOW - timedelta(hours=26), DEMO_NOW) == "1d"
    assert p.age_words(None, DEMO_NOW) == "?"


def test_weight_bar_fills_in_eighths_and_marks_the_rest() -> None:
    assert p.weight_bar(0, 10) == "░" * 10
    assert p.weight_bar(100, 10) == "█" * 10
    assert p.weight_bar(20, 10) == "██" + "░" * 8
    assert p.weight_bar(25, 10) == "██▌" + "░" * 7
    assert all(len(p.weight_bar(w, 6)) == 6 for w in range(101))


def test_sparkline_shows_no_traffic_as_a_dot_and_clamps() -> None:
    assert p.sparkline([0.0, None, 1.0, 5.0], 4, low=0.0, high=1.0) == "▁·██"
    assert p.sparkline([0.5], 3, low=0.0, high=1.0) == "  ▅"


def test_health_says_no_traffic_and_unknown_as_such() -> None:
    assert (
        text(p.health_cell(Health(threshold=0.99, status=HealthStatus.NO_TRAFFIC)))
        == "· no traffic"
    )
    assert text(p.health_cell(Health(threshold=0.99, status=HealthStatus.UNKNOWN))) == "? unknown"
    assert text(p.health_cell(None)) == "? not measured"
    bad = checkout_production().health
    assert text(p.health_cell(bad)) == "✖  97.1% <99%"


@pytest.mark.parametrize(
    ("rate", "shown"),
    [
        (0.98957, "✖ 98.96% <99%"),  # never "99.0% <99%"
        (0.98996, "✖ 98.996% <99%"),
        (0.99, "✔  99.0% ≥99%"),
        (0.9995, "✔ 100.0% ≥99%"),
    ],
)
def test_a_rate_near_the_threshold_shows_which_side_it_is_on(rate: float, shown: str) -> None:
    status = HealthStatus.OK if rate >= 0.99 else HealthStatus.BAD
    assert text(p.health_cell(Health(threshold=0.99, success_rate=rate, status=status))) == shown


def test_thresholds_read_as_people_write_them() -> None:
    assert p.threshold_words(0.99) == "99 %"
    assert p.threshold_words(0.995) == "99.5 %"
    assert p.threshold_words(0.9995) == "99.95 %"
    assert p.rate_words(0.98957, 0.99, decimals=2) == "98.96 %"


@pytest.mark.parametrize(
    ("metric", "value", "shown"),
    [
        ("success-rate", "[0.9995076817433826]", "99.95 %"),
        ("success-rate", "0.974", "97.40 %"),
        ("error-ratio", "[0.01,0.02]", "1.00 %, 2.00 %"),
        ("latency-p99", "[0.2531234]", "0.2531"),
        ("requests", "[1234.5678]", "1235"),
        ("success-rate", "[1.7]", "1.7"),  # not a ratio after all: shown as a number
        ("check", "NaN-not-a-number-but-text-that-is-long", "NaN-not-a-number-but-te…"),
        ("success-rate", None, "—"),
        ("success-rate", "[]", "—"),
    ],
)
def test_analysis_measurements_read_as_values(metric: str, value: str | None, shown: str) -> None:
    assert p.measurement_words(metric, value) == shown


def test_rollout_cell_reads_like_the_plugin() -> None:
    cell = text(p.rollout_cell(checkout_production().rollout, bar_width=6))
    assert cell.startswith("canary 1/6 ")
    assert "20%" in cell and "‖ paused" in cell
    assert text(p.rollout_cell(search_production().rollout)) == "blue-green ‖ preview ready"


@pytest.mark.parametrize("room", [24, 28, 31, 34])
def test_the_weight_bar_shrinks_to_the_column_and_the_words_stay_whole(room: int) -> None:
    rollout = checkout_production().rollout
    assert rollout is not None
    aborted = replace(rollout, aborted=True, paused=False, phase="Degraded", actual_weight=0)
    for shown in (rollout, aborted):
        cell = text(p.rollout_cell(shown, room=room))
        assert len(cell) <= room, cell
        words = "‖ paused" if shown is rollout else "✖ aborted"
        assert words in cell and ("%" in cell)
        bar = cell.rsplit("%", 1)[1].strip()
        assert bar == "" or len(bar) >= p.MIN_BAR  # a bar, or none: never a stub


def test_a_finished_canary_does_not_repeat_its_100_percent() -> None:
    rollout = checkout_production().rollout
    assert rollout is not None
    done = replace(
        rollout,
        phase="Healthy",
        paused=False,
        step_index=rollout.step_count,
        stable_hash=rollout.current_hash,
        actual_weight=100,
    )
    assert text(p.rollout_cell(done)) == "canary 6/6 ✔ healthy"


def test_the_pipeline_cell_says_what_it_is_doing_before_where() -> None:
    assert text(p.pipeline_cell(search_production().pipeline)) == "✔✔✔ passed"
    failed = p.pipeline_cell(cart_production().pipeline)
    assert text(failed) == "✔✖○ failed test"
    # A narrow column cuts the stage's name, never the status word.
    assert text(p.fit(failed, 11)) == "✔✖○ failed…"


def test_deployed_is_the_last_deploy_that_happened_not_a_skipped_record() -> None:
    state = checkout_production()
    happened = state.deployments[0]
    skipped = replace(happened, id=happened.id + 1, status="skipped", user="nobody")
    state = replace(state, deployments=(skipped, *state.deployments))
    assert p.last_deployed(state) == happened
    cells = p.row_cells(state, DEMO_NOW, {"deployed": 20})
    assert "nobody" not in text(cells["deployed"])


def test_a_cell_whose_source_is_down_is_greyed_and_health_no_longer_judges() -> None:
    state = checkout_production()
    widths = {"pipeline": 20, "rollout": 31, "health": 21, "deployed": 20}
    fresh = p.row_cells(state, DEMO_NOW, widths)
    assert text(fresh["health"]).startswith("✖")
    down = SourceStatus(
        SourceName.PROMETHEUS,
        LinkState.DOWN,
        last_success=DEMO_NOW - timedelta(minutes=3),
        last_error="Prometheus answered 503",
    )
    others = tuple(s for s in state.sources if s.source is not SourceName.PROMETHEUS)
    stale = p.row_cells(replace(state, sources=(*others, down)), DEMO_NOW, widths)
    # The last known rate stays readable, but the verdict is a question now.
    assert text(stale["health"]) == "?" + text(fresh["health"])[1:]
    assert {tone for _, tone in stale["health"]} == {"muted"}
    # Columns from the sources that answer are untouched.
    for column in ("pipeline", "rollout", "deployed"):
        assert stale[column] == fresh[column], column
    # A source that has failed only briefly (degraded) changes nothing yet.
    brief = replace(down, state=LinkState.DEGRADED)
    assert p.row_cells(replace(state, sources=(*others, brief)), DEMO_NOW, widths) == fresh


def test_version_is_the_image_tag() -> None:
    assert p.version_text(checkout_production()) == "1.42.0"
    assert p.image_tag("reg/x@sha256:0123456789abcdef0123") == "0123456789ab"


def test_source_staleness_in_words() -> None:
    stale = SourceStatus(
        SourceName.PROMETHEUS,
        LinkState.DEGRADED,
        last_success=DEMO_NOW - timedelta(seconds=47),
        last_error="connection refused",
    )
    assert p.source_words(stale, DEMO_NOW) == (
        "⚠ Prometheus: no data for 47s (connection refused)",
        "warn",
    )
    rejected = SourceStatus(SourceName.GITLAB, LinkState.DOWN, last_error="401 token rejected")
    assert p.source_words(rejected, DEMO_NOW) == (
        "✖ GitLab: no data yet (401 token rejected)",
        "bad",
    )
    assert p.source_words(SourceStatus(SourceName.KUBE, LinkState.OK), DEMO_NOW) == (
        "Kubernetes ✔",
        "ok",
    )


def test_the_worst_source_status_across_rows_is_the_one_shown() -> None:
    fine = SourceStatus(SourceName.GITLAB, LinkState.OK, last_success=DEMO_NOW)
    down = SourceStatus(
        SourceName.GITLAB, LinkState.DOWN, last_success=DEMO_NOW - timedelta(minutes=3)
    )
    a = checkout_production()
    b = search_production()
    worst = p.worst_sources(
        [a.__class__(key=a.key, sources=(fine,)), b.__class__(key=b.key, sources=(down,))]
    )
    assert worst == (down,)


def test_at_80_columns_the_least_needed_columns_go_first() -> None:
    shown = [c.key for c, _ in p.layout_columns(80)]
    assert shown == ["service", "env", "pipeline", "rollout", "health"]
    assert sum(w for _, w in p.layout_columns(80)) + p.GUTTER + p.GAP * (len(shown) - 1) <= 80


def test_wide_terminals_show_every_column_in_display_order() -> None:
    assert [c.key for c, _ in p.layout_columns(200)] == [c.key for c in p.COLUMNS]


def test_columns_drop_in_priority_order_as_the_terminal_narrows() -> None:
    previous = {c.key for c in p.COLUMNS}
    for width in range(200, 20, -1):
        layout = p.layout_columns(width)
        shown = {c.key for c, _ in layout}
        assert shown <= previous
        dropped = {c.key for c in p.COLUMNS} - shown
        kept_priorities = [c.priority for c, _ in layout]
        assert all(c.priority > max(kept_priorities) for c in p.COLUMNS if c.key in dropped)
        assert sum(w for _, w in layout) + p.GUTTER + p.GAP * (len(layout) - 1) <= max(width, 13)
        previous = shown


def test_fit_cuts_with_an_ellipsis_and_pads() -> None:
    assert text(p.fit((("checkout", ""), ("/production", "")), 12)) == "checkout/pr…"
    assert text(p.fit((("api", ""),), 6)) == "api   "


def test_a_long_url_wraps_between_its_segments_never_inside_one() -> None:
    url = (
        "PATCH https://127.0.0.1:34847/apis/argoproj.io/v1alpha1/namespaces/production"
        "/rollouts/checkout/status"
    )
    lines = p.item_lines(url, 72)
    assert len(lines) == 2
    assert lines[0] == "  PATCH https://127.0.0.1:34847/apis/argoproj.io/v1alpha1/namespaces/"
    assert lines[1] == "    production/rollouts/checkout/status"
    # Words still wrap at spaces, and a short item stays on its line.
    assert p.item_lines("deployed by praman 14 min ago", 72) == ["  deployed by praman 14 min ago"]
    assert p.item_lines("", 72) == ["  "]
