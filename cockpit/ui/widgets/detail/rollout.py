"""The rollout panel, as ``kubectl argo rollouts get rollout`` and its dashboard show it.

Status and message, strategy, ``Step i/n``, ``SetWeight`` and ``ActualWeight``, the pause
time left, the step list (done ✔, current ▶, pending ○), every analysis run with its
latest measurements as values a person reads (``✔ 99.95 %``), and the revisions that
matter (canary, stable, the undo target) with their images and roles.
"""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from cockpit.model import AnalysisMetric, Rollout, Strategy
from cockpit.ui.presenters import (
    Fragment,
    analysis_glyph,
    duration_words,
    image_tag,
    measurement_words,
    phase_glyph,
    weight_bar,
)
from cockpit.ui.widgets.tones import toned

#: Old revisions listed one by one (the newest is the undo target); the rest are counted.
OLD_REVISIONS_SHOWN = 1


def rollout_lines(rollout: Rollout | None, now: datetime, width: int = 60) -> list[Fragment]:
    """The panel's text for a panel ``width`` cells wide (measurements fill one line)."""
    if rollout is None:
        return [("no Rollout or Deployment is linked to this environment", "muted")]
    out: list[Fragment] = []
    glyph, tone = phase_glyph(rollout.phase)
    title = f"{rollout.kind} {rollout.namespace}/{rollout.name}  "
    out.append((title, "bold"))
    out.append((f"{glyph} {rollout.phase}", tone))
    if rollout.aborted:
        out.append(("  ✖ aborted", "bad"))
    if rollout.message:
        # A short message (the pause reason) fits on the title line.
        fits = len(title) + len(rollout.phase) + 5 + len(rollout.message) <= width
        out.append(((" · " if fits else "\n") + rollout.message, "muted"))
    strategy = {
        Strategy.CANARY: "Canary",
        Strategy.BLUEGREEN: "BlueGreen",
        Strategy.ROLLING: "Rolling",
    }
    # The plugin's Strategy / Step / SetWeight / ActualWeight, on one line.
    out.append((f"\n{strategy[rollout.strategy]}", ""))
    if rollout.strategy is Strategy.CANARY:
        step = (
            f"{rollout.step_index}/{rollout.step_count}" if rollout.step_index is not None else "—"
        )
        out.append(
            (
                f"  Step: {step}  SetWeight: {rollout.set_weight}  ActualWeight: {rollout.actual_weight}",
                "",
            )
        )
        if rollout.in_progress or rollout.aborted:  # a finished canary is just the stable
            out.append(("\n", ""))
            out.append((weight_bar(rollout.actual_weight, 20), "info"))
            out.append((f" {rollout.actual_weight} % of traffic on the canary", "muted"))
    if rollout.pause_ends_at is not None and rollout.paused:
        left = (rollout.pause_ends_at - now).total_seconds()
        out.append((f"\n‖ paused, {duration_words(max(0, left))} left", "warn"))
    elif rollout.paused:
        out.append(("\n‖ paused until promoted (p)", "warn"))
    replicas = (
        f"\nReplicas: {rollout.replicas} desired, {rollout.current_replicas} current, "
        f"{rollout.updated_replicas} updated, {rollout.ready_replicas} ready"
    )
    out.append((replicas, "muted"))
    if rollout.steps:
        out.append(("\nSteps", "bold"))
        current = rollout.step_index if rollout.step_index is not None else -1
        for each in rollout.steps:
            if each.index < current:
                out.append((f"\n  ✔ {each.index} {each.text}", "ok"))
            elif each.index == current:
                out.append(
                    (
                        f"\n  ▶ {each.index} {each.text}  ← current",
                        "warn" if rollout.paused else "info",
                    )
                )
            else:
                out.append((f"\n  ○ {each.index} {each.text}", "muted"))
    for run in rollout.analysis_runs:
        glyph, tone = analysis_glyph(run.phase)
        kind = f" ({run.rollout_type})" if run.rollout_type else ""
        out.append(("\nAnalysis ", "bold"))
        out.append((f"{glyph} {run.phase}", tone))
        out.append((f"  {run.name}{kind}", "muted"))
        if run.message:
            out.append((f"\n    {run.message}", "muted"))
        for metric in run.metrics:
            out.extend(_metric_lines(metric, width))
    out.extend(_revision_lines(rollout))
    return out


def _metric_lines(metric: AnalysisMetric, width: int) -> list[Fragment]:
    """``success-rate ◌ Running  3 passed, 0 failed`` and, below, the latest measurements
    (newest last), as many as fit on one line."""
    mglyph, mtone = analysis_glyph(metric.phase)
    counts = [f"{metric.successful} passed", f"{metric.failed} failed"]
    if metric.inconclusive:
        counts.append(f"{metric.inconclusive} inconclusive")
    if metric.error:
        counts.append(f"{metric.error} errors")
    out: list[Fragment] = [
        (f"\n  {metric.name} ", ""),
        (f"{mglyph} {metric.phase}", mtone),
        (f"  {', '.join(counts)}", "muted"),
    ]
    shown = _latest_measurements(metric, width - 4)
    if shown:
        hidden = len(metric.measurements) - len(shown)
        out.append(("\n    ", ""))
        if hidden:
            out.append((f"+{hidden} earlier  ", "muted"))
        out.extend(shown)
    return out


def _latest_measurements(metric: AnalysisMetric, room: int) -> list[Fragment]:
    """The newest measurements that fit in ``room`` cells, oldest first (with room kept
    for the "+N earlier" that then precedes them)."""
    texts = []
    for measurement in metric.measurements:
        glyph, tone = analysis_glyph(measurement.phase)
        texts.append((f"{glyph} {measurement_words(metric.name, measurement.value)}  ", tone))
    shown: list[Fragment] = []
    used = 0
    for text, tone in reversed(texts):
        earlier = len(texts) - len(shown) - 1
        label = len(f"+{earlier} earlier  ") if earlier else 0
        if used + len(text) + label > max(12, room):
            break
        used += len(text)
        shown.insert(0, (text, tone))
    return shown


def _revision_lines(rollout: Rollout) -> list[Fragment]:
    """The revisions that matter (canary/stable/active/preview and the newest old one, the
    undo target), then how many older ones there are."""
    if not rollout.revisions:
        if rollout.images:
            return [(f"\nImages: {', '.join(rollout.images)}", "")]
        return []
    out: list[Fragment] = [("\nRevisions", "bold")]
    old = [r for r in rollout.revisions if r.role == "old"]
    listed = [r for r in rollout.revisions if r.role != "old"] + old[:OLD_REVISIONS_SHOWN]
    for revision in sorted(listed, key=lambda r: -r.number):
        images = ", ".join(image_tag(i) for i in revision.images)
        role = "" if revision.role == "old" else f" {revision.role}"
        tone = {"canary": "info", "preview": "info", "stable": "ok", "active": "ok"}.get(
            revision.role, "muted"
        )
        out.append(
            (
                f"\n  # {revision.number}{role}  {revision.ready}/{revision.replicas} ready  {images}",
                tone,
            )
        )
    older = old[OLD_REVISIONS_SHOWN:]
    if older:
        numbers = ", ".join(f"#{r.number}" for r in older)
        out.append((f"\n  {len(older)} older: {numbers}", "muted"))
    return out


class RolloutPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = object()

    def show(self, rollout: Rollout | None, now: datetime, stale: str) -> None:
        # A timed pause counts down: the moment matters only while paused on a timer.
        moment = now if rollout is not None and rollout.pause_ends_at is not None else None
        key = (rollout, moment, stale, self.content_size.width)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = "Rollout" + (f" · {stale}" if stale else "")
        self.update(toned(rollout_lines(rollout, now, self.content_size.width or 60)))
