"""The rollout panel, as ``kubectl argo rollouts get rollout`` and its dashboard show it.

Status and message, strategy, ``Step i/n``, ``SetWeight`` and ``ActualWeight``, the pause
time left, the step list (done ✔, current ▶, pending ○), every analysis run with each
measurement's value and phase, and the revisions with their images and roles.
"""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from cockpit.model import Rollout, Strategy
from cockpit.ui.presenters import (
    Fragment,
    analysis_glyph,
    duration_words,
    image_tag,
    phase_glyph,
    weight_bar,
)
from cockpit.ui.widgets.tones import toned


def rollout_lines(rollout: Rollout | None, now: datetime) -> list[Fragment]:
    if rollout is None:
        return [("no Rollout or Deployment is linked to this environment", "muted")]
    out: list[Fragment] = []
    glyph, tone = phase_glyph(rollout.phase)
    out.append((f"{rollout.kind} {rollout.namespace}/{rollout.name}  ", "bold"))
    out.append((f"{glyph} {rollout.phase}", tone))
    if rollout.aborted:
        out.append(("  ✖ aborted", "bad"))
    if rollout.message:
        out.append((f"\n{rollout.message}", "muted"))
    strategy = {
        Strategy.CANARY: "Canary",
        Strategy.BLUEGREEN: "BlueGreen",
        Strategy.ROLLING: "Rolling",
    }
    out.append((f"\nStrategy: {strategy[rollout.strategy]}", ""))
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
        out.append(("\n", ""))
        out.append((weight_bar(rollout.actual_weight, 20), "info"))
        out.append((f" {rollout.actual_weight}% of traffic on the canary", "muted"))
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
        for step in rollout.steps:
            if step.index < current:
                out.append((f"\n  ✔ {step.index} {step.text}", "ok"))
            elif step.index == current:
                out.append(
                    (
                        f"\n  ▶ {step.index} {step.text}  ← current",
                        "warn" if rollout.paused else "info",
                    )
                )
            else:
                out.append((f"\n  ○ {step.index} {step.text}", "muted"))
    for run in rollout.analysis_runs:
        glyph, tone = analysis_glyph(run.phase)
        kind = f" ({run.rollout_type})" if run.rollout_type else ""
        out.append((f"\nα {run.name}{kind} ", ""))
        out.append((f"{glyph} {run.phase}", tone))
        if run.message:
            out.append((f"  {run.message}", "muted"))
        for metric in run.metrics:
            mglyph, mtone = analysis_glyph(metric.phase)
            counts = (
                f"✔ {metric.successful},✖ {metric.failed},? {metric.inconclusive},⚠ {metric.error}"
            )
            out.append((f"\n  {metric.name} ", ""))
            out.append((f"{mglyph} {metric.phase}", mtone))
            out.append((f"  {counts}", "muted"))
            if metric.measurements:
                out.append(("\n   ", ""))
            for measurement in metric.measurements[-6:]:
                g, t = analysis_glyph(measurement.phase)
                value = measurement.value if measurement.value is not None else "—"
                out.append((f" {g} {value}", t))
    if rollout.revisions:
        out.append(("\nRevisions", "bold"))
        for revision in rollout.revisions:
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
    elif rollout.images:
        out.append((f"\nImages: {', '.join(rollout.images)}", ""))
    return out


class RolloutPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = object()

    def show(self, rollout: Rollout | None, now: datetime, stale: str) -> None:
        # A timed pause counts down: the moment matters only while paused on a timer.
        moment = now if rollout is not None and rollout.pause_ends_at is not None else None
        key = (rollout, moment, stale)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = "Rollout" + (f" · {stale}" if stale else "")
        self.update(toned(rollout_lines(rollout, now)))
