"""The pipeline panel: stages left to right, their jobs below, a cursor on one job.

``h``/``l`` (or ←/→) move between stages, ``j``/``k`` within one; the selected job's
``needs`` are listed under the stages. ``enter`` asks for its log, ``t``/``m``/``c`` ask
to retry, play or cancel it — the screen decides (confirm dialog).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from cockpit.model import Job, Pipeline
from cockpit.ui.presenters import duration_words, short_sha, status_glyph, status_word
from cockpit.ui.widgets.tones import toned


class PipelinePanel(Widget, can_focus=True):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h,left", "stage(-1)", "Prev stage", show=False),
        Binding("l,right", "stage(1)", "Next stage", show=False),
        Binding("j,down", "job(1)", "Next job", show=False),
        Binding("k,up", "job(-1)", "Prev job", show=False),
        Binding("enter", "open_log", "Log", tooltip="Open the selected job's log"),
        Binding("t", "job_action('job-retry')", "Retry job", tooltip="Retry the selected job"),
        Binding("m", "job_action('job-play')", "Play job", tooltip="Play the selected manual job"),
        Binding("c", "job_action('job-cancel')", "Cancel job", tooltip="Cancel the selected job"),
        # Pressed when the job is not in a state for it (the key is then not offered): say why.
        Binding("t", "explain('retry', 'it has not finished')", "Retry job", show=False),
        Binding(
            "m",
            "explain('play', 'it is not a manual job waiting to be played')",
            "Play job",
            show=False,
        ),
        Binding("c", "explain('cancel', 'it is not running or pending')", "Cancel job", show=False),
    ]

    class LogRequested(Message):
        def __init__(self, job: Job) -> None:
            self.job = job
            super().__init__()

    class JobActionRequested(Message):
        def __init__(self, intent: str, job: Job) -> None:
            self.intent = intent
            self.job = job
            super().__init__()

    class JobSelected(Message):
        """The cursor moved to another job (the footer's job keys change)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._pipeline: Pipeline | None = None
        self._stage = 0
        self._job = 0

    def show(self, pipeline: Pipeline | None, now: datetime) -> None:
        if pipeline == self._pipeline:
            return
        selected = self.selected_job
        self._pipeline = pipeline
        if selected is not None and pipeline is not None:
            for s, stage in enumerate(pipeline.stages):
                for j, job in enumerate(stage.jobs):
                    if job.name == selected.name:
                        self._stage, self._job = s, j
        self._clamp()
        self.border_title = self._title()
        self.refresh(layout=True)

    def _title(self) -> str:
        p = self._pipeline
        if p is None:
            return "Pipeline"
        glyph, _ = status_glyph(p.status)
        return f"Pipeline #{p.id} {glyph} {status_word(p.status)} · {p.ref} {short_sha(p.sha)}"

    @property
    def selected_job(self) -> Job | None:
        p = self._pipeline
        if p is None or not p.stages:
            return None
        jobs = p.stages[self._stage].jobs
        return jobs[self._job] if jobs else None

    def _clamp(self) -> None:
        p = self._pipeline
        if p is None or not p.stages:
            self._stage = self._job = 0
            return
        self._stage = max(0, min(self._stage, len(p.stages) - 1))
        self._job = max(0, min(self._job, len(p.stages[self._stage].jobs) - 1))

    def action_stage(self, delta: int) -> None:
        self._stage += delta
        self._clamp()
        self._moved()

    def action_job(self, delta: int) -> None:
        self._job += delta
        self._clamp()
        self._moved()

    def _moved(self) -> None:
        self.refresh(layout=True)
        self.post_message(self.JobSelected())

    def action_open_log(self) -> None:
        if (job := self.selected_job) is not None:
            self.post_message(self.LogRequested(job))

    def action_job_action(self, intent: str) -> None:
        if (job := self.selected_job) is not None:
            self.post_message(self.JobActionRequested(intent, job))

    def action_explain(self, verb: str, why: str) -> None:
        job = self.selected_job
        if job is not None:
            self.notify(
                f"cannot {verb} {job.name}: {why} (it is {status_word(job.status)})",
                severity="warning",
            )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action != "job_action":
            return True
        job = self.selected_job
        if job is None:
            return False
        allowed = {
            "job-retry": job.retryable,
            "job-play": job.playable,
            "job-cancel": job.cancelable,
        }
        return allowed.get(str(parameters[0]), False)

    def get_content_height(self, container, viewport, width: int) -> int:  # type: ignore[no-untyped-def]
        p = self._pipeline
        if p is None or not p.stages:
            return 1
        return 1 + max(len(s.jobs) for s in p.stages) + 1

    def render(self) -> Content:
        p = self._pipeline
        if p is None:
            return toned([("no pipeline for this environment's branch yet", "muted")])
        if not p.stages:
            return toned([("the pipeline has no jobs", "muted")])
        width = max(20, self.size.width)
        column = max(14, min(30, width // len(p.stages)))
        rows: list[list[tuple[str, str]]] = []
        heading: list[tuple[str, str]] = []
        for stage in p.stages:
            glyph, tone = status_glyph(stage.status)
            heading.append((f"{glyph} {stage.name}"[: column - 1].ljust(column), f"{tone}"))
        rows.append(heading)
        depth = max(len(s.jobs) for s in p.stages)
        for j in range(depth):
            row: list[tuple[str, str]] = []
            for s, stage in enumerate(p.stages):
                if j >= len(stage.jobs):
                    row.append((" " * column, ""))
                    continue
                job = stage.jobs[j]
                selected = self.has_focus and (s, j) == (self._stage, self._job)
                cursor = (s, j) == (self._stage, self._job)
                row.append(_job_text(job, column, cursor=cursor, focused=selected))
            rows.append(row)
        fragments: list[tuple[str, str]] = []
        for index, row in enumerate(rows):
            if index:
                fragments.append(("\n", ""))
            fragments.extend(row)
        job = self.selected_job
        if job is not None:
            needs = ", ".join(job.needs) if job.needs else "its stage order only"
            fragments.append((f"\n{job.name}", "bold"))
            fragments.append((f" needs: {needs}", "muted"))
        return _with_cursor(fragments)


def _job_text(job: Job, width: int, *, cursor: bool, focused: bool) -> tuple[str, str]:
    glyph, tone = status_glyph(job.status, allow_failure=job.allow_failure)
    # Glyph and word: a success reads as ✔ and its duration; anything else says its status.
    word = "" if job.status == "success" else f" {status_word(job.status)}"
    if job.status == "failed" and job.allow_failure:
        word = " allowed"
    took = f" {duration_words(job.duration)}" if job.duration is not None else ""
    extra = f"{word}{took}"
    mark = "›" if cursor else " "
    text = f"{mark}{glyph} {job.name}{extra}"
    if len(text) > width - 1:
        text = text[: width - 2] + "…"
    return (text.ljust(width), f"{tone}{'+cursor' if focused else ''}")


def _with_cursor(fragments: list[tuple[str, str]]) -> Content:
    """``tone+cursor`` fragments get the cursor highlight on top of their tone."""
    parts: list[str | tuple[str, str]] = []
    from cockpit.ui.widgets.tones import TONE_STYLES

    for text, tone in fragments:
        base, _, cursor = tone.partition("+")
        style = TONE_STYLES.get(base, "")
        if cursor:
            style = f"{style} reverse".strip()
        parts.append((text, style))
    return Content.assemble(*parts)
