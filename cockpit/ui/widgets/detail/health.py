"""The health panel: success rate and p99 latency over the last 30 minutes, as block charts.

Each chart is a few rows tall, its scale written on the left (the highest and lowest
value shown), the gaps with no traffic shown as ``·``; the success-rate columns under the
threshold are red, and the line above says in words which side of the threshold the
rate is on, so it reads the same without colour.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from textual.widgets import Static

from cockpit.model import Health, Sample
from cockpit.ui.presenters import (
    Fragment,
    block_chart,
    health_glyph,
    rate_words,
    success_rate_range,
    threshold_words,
    tight,
)
from cockpit.ui.widgets.tones import toned

WINDOW_MINUTES = 30


def _recent(samples: tuple[Sample, ...], now: datetime) -> list[float | None]:
    return [s.value for s in samples if (now - s.at).total_seconds() <= WINDOW_MINUTES * 60]


#: Rows of each chart.
CHART_ROWS = 3
#: The label column left of a chart ("  99.0 % ┤").
LABEL = 9


def _chart(
    values: list[float | None],
    width: int,
    *,
    top: str,
    bottom: str,
    low: float,
    high: float,
    tone_of: Callable[[float | None], str],
) -> list[Fragment]:
    """A block chart with its scale written on the left, each column toned by its value;
    as wide as the samples (one a minute), up to ``width``."""
    width = min(width, len(values))
    rows = block_chart(values, width, CHART_ROWS, low=low, high=high)
    tail = values[-width:]
    tones = [""] * (width - len(tail)) + [tone_of(v) for v in tail]
    out: list[Fragment] = []
    for index, row in enumerate(rows):
        label = top if index == 0 else bottom if index == len(rows) - 1 else ""
        out.append((f"\n{label:>{LABEL}} ┤" if label else f"\n{'':>{LABEL}} │", "muted"))
        run, run_tone = "", tones[0] if tones else ""
        for cell, tone in zip(row, tones, strict=True):
            if tone != run_tone and run:
                out.append((run, run_tone))
                run = ""
            run_tone = tone
            run += cell
        if run:
            out.append((run, run_tone))
    return out


def health_lines(health: Health | None, now: datetime, width: int) -> list[Fragment]:
    if health is None:
        return [("? no health query is configured for this environment", "muted")]
    chart = max(10, min(60, width - LABEL - 2))
    out: list[Fragment] = []
    glyph, tone = health_glyph(health.status)
    threshold = health.threshold
    if health.success_rate is not None:
        relation = "≥" if health.success_rate >= threshold else "<"
        rate = rate_words(health.success_rate, threshold, decimals=2)
        out.append(
            (f"{glyph} success rate {rate} {relation} threshold {threshold_words(threshold)}", tone)
        )
    else:
        words = {"no-traffic": "no traffic: nothing to measure", "unknown": "unknown: not measured"}
        out.append(
            (f"{glyph} success rate {words.get(health.status.value, health.status.value)}", tone)
        )
    rates = _recent(health.history, now)
    if rates:
        low, high = success_rate_range(health)
        out += _chart(
            rates,
            chart,
            top=tight(threshold_words(high)),
            bottom=tight(rate_words(low, threshold)),
            low=low,
            high=high,
            tone_of=lambda v: "muted" if v is None else "ok" if v >= threshold else "bad",
        )
        out.append((f"\n{'':>{LABEL}} last {WINDOW_MINUTES} min · = no traffic", "muted"))
    if health.latency_p99 is not None:
        out.append((f"\n◷ latency p99 {health.latency_p99 * 1000:.0f} ms", ""))
    latencies = _recent(health.latency_history, now)
    seen = [v for v in latencies if v is not None]
    if seen:
        out += _chart(
            latencies,
            chart,
            top=f"{max(seen) * 1000:.0f} ms",
            bottom="0 ms",
            low=0.0,
            high=max(seen),
            tone_of=lambda v: "muted" if v is None else "info",
        )
    return out


class HealthPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = object()

    def show(self, health: Health | None, now: datetime, stale: str) -> None:
        key = (health, stale, self.size.width)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = "Health" + (f" · {stale}" if stale else "")
        self.update(toned(health_lines(health, now, self.size.width or 40)))
