"""The health panel: success rate and p99 latency over the last 30 minutes, as block charts.

Each chart is a sparkline of the samples with its scale written out (low and high),
the threshold named, and the gaps with no traffic shown as ``·``, so it reads the same
without colour.
"""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from cockpit.model import Health, Sample
from cockpit.ui.presenters import (
    Fragment,
    health_glyph,
    percent,
    rate_words,
    sparkline,
    success_rate_range,
    threshold_words,
)
from cockpit.ui.widgets.tones import toned

WINDOW_MINUTES = 30


def _recent(samples: tuple[Sample, ...], now: datetime) -> list[float | None]:
    return [s.value for s in samples if (now - s.at).total_seconds() <= WINDOW_MINUTES * 60]


def health_lines(health: Health | None, now: datetime, width: int) -> list[Fragment]:
    if health is None:
        return [("? no health query is configured for this environment", "muted")]
    chart = max(10, min(60, width - 12))
    out: list[Fragment] = []
    glyph, tone = health_glyph(health.status)
    if health.success_rate is not None:
        relation = "≥" if health.success_rate >= health.threshold else "<"
        rate = rate_words(health.success_rate, health.threshold, decimals=2)
        out.append(
            (
                f"{glyph} success rate {rate} {relation} threshold {threshold_words(health.threshold)}",
                tone,
            )
        )
    else:
        words = {"no-traffic": "no traffic: nothing to measure", "unknown": "unknown: not measured"}
        out.append(
            (f"{glyph} success rate {words.get(health.status.value, health.status.value)}", tone)
        )
    rates = _recent(health.history, now)
    if rates:
        low, high = success_rate_range(health)
        out.append((f"\n{percent(high, 0):>7} ", "muted"))
        out.append((sparkline(rates, chart, low=low, high=high), tone))
        out.append((f"\n{percent(low, 1):>7} ", "muted"))
        out.append((f"last {WINDOW_MINUTES} min; · = no traffic", "muted"))
    if health.latency_p99 is not None:
        out.append((f"\n◷ latency p99 {health.latency_p99 * 1000:.0f} ms", ""))
    latencies = _recent(health.latency_history, now)
    seen = [v for v in latencies if v is not None]
    if seen:
        low, high = 0.0, max(seen)
        out.append((f"\n{high * 1000:>5.0f}ms ", "muted"))
        out.append((sparkline(latencies, chart, low=low, high=high), "info"))
        out.append(("\n    0ms ", "muted"))
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
