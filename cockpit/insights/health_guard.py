"""When a falling success rate should make the on-call engineer roll back.

One bad sample is noise; ``consecutive`` bad samples in a row are a verdict. A sample is
bad when its success rate is under ``threshold`` (the same rule as the health panel:
equal to the threshold is good).

Samples with no traffic (value None: 0/0 requests) neither trigger nor reset the streak:
an idle minute is no evidence that the new version works, nor that it fails. They are
skipped, so bad, idle, bad, bad counts as three bad samples in a row, and a good sample
is the only thing that ends a streak. The newest sample's value is reported as
``latest`` (None when it saw no traffic).

Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cockpit.model import Sample


@dataclass(frozen=True)
class GuardVerdict:
    triggered: bool
    #: Bad samples in a row, counted back from the newest (no-traffic samples skipped).
    bad_streak: int
    #: The newest sample's success rate; None when it had no traffic (or there is none).
    latest: float | None
    message: str


def evaluate(samples: Sequence[Sample], *, threshold: float, consecutive: int) -> GuardVerdict:
    """Decide from ``samples`` (any order; sorted by time here) whether to roll back."""
    if consecutive < 1:
        raise ValueError(f"consecutive must be at least 1, not {consecutive}")
    ordered = sorted(samples, key=lambda sample: sample.at)
    latest = ordered[-1].value if ordered else None
    streak: list[float] = []
    for sample in reversed(ordered):
        if sample.value is None:
            continue
        if sample.value >= threshold:
            break
        streak.append(sample.value)
    streak.reverse()
    limit = threshold_percent(threshold)
    if len(streak) >= consecutive:
        shown = ", ".join(rate_percent(value, threshold) for value in streak[-consecutive:])
        message = (
            f"success rate under {limit} for {len(streak)} samples in a row ({shown}): "
            "press r to roll back"
        )
        return GuardVerdict(True, len(streak), latest, message)
    if not ordered:
        message = "no health samples yet"
    elif all(sample.value is None for sample in ordered):
        message = "no traffic: nothing to judge yet"
    elif streak:
        message = (
            f"success rate under {limit} for {len(streak)} of {consecutive} samples "
            f"(latest {rate_percent(streak[-1], threshold)})"
        )
    else:
        newest = next(sample.value for sample in reversed(ordered) if sample.value is not None)
        message = f"success rate {rate_percent(newest, threshold)}, at or above {limit}"
    return GuardVerdict(False, len(streak), latest, message)


def threshold_percent(threshold: float) -> str:
    """0.99 → "99.0 %", 0.9995 → "99.95 %": one decimal, more when the threshold has them."""
    value = threshold * 100
    for decimals in (1, 2):
        if abs(round(value, decimals) - value) < 1e-9:
            return f"{value:.{decimals}f} %"
    return f"{value:.3f} %"


def rate_percent(rate: float, threshold: float, *, decimals: int = 1) -> str:
    """A sample as a percentage with ``decimals`` decimals, more if rounding would hide which
    side of ``threshold`` it is on (0.98996 under 0.99 is "98.996 %", not "99.0 %")."""
    for shown_decimals in range(decimals, 3):
        shown = round(rate * 100, shown_decimals)
        if (shown < round(threshold * 100, shown_decimals)) == (rate < threshold):
            return f"{shown:.{shown_decimals}f} %"
    return f"{rate * 100:.3f} %"
