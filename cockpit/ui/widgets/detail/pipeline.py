"""The pipeline panel: stages left to right, their jobs below, a cursor on one job.

Each stage's column is as wide as its names need (``pack_stages``), so names are shown
whole; when the stages do not fit in the panel's width, the flow continues in a second
band below, still left to right. ``h``/``l`` (or ←/→) move between stages, ``j``/``k``
within one; the selected job's status, duration and ``needs`` are spelled out under the
stages. ``enter`` asks for its log, ``t``/``m``/``c`` ask to retry, play or cancel it —
the screen decides (confirm dialog).
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.content import Content
from textual.message import Message
from textual.widget import Widget

from cockpit.model import Job, Pipeline, Stage
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
        elif pipeline is not None:
            self._stage, self._job = _where_to_look(pipeline)
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
        bands = pack_stages(p.stages, width)
        jobs = sum(1 + max(len(stage.jobs) for stage, _ in band) for band in bands)
        return jobs + (len(bands) - 1) + 1

    def render(self) -> Content:
        p = self._pipeline
        if p is None:
            return toned([("no pipeline for this environment's branch yet", "muted")])
        if not p.stages:
            return toned([("the pipeline has no jobs", "muted")])
        fragments: list[tuple[str, str]] = []
        position = {id(stage): s for s, stage in enumerate(p.stages)}
        for b, band in enumerate(pack_stages(p.stages, self.size.width)):
            if b:
                fragments.append(("\n\n", ""))
            for c, (stage, width) in enumerate(band):
                glyph, tone = status_glyph(stage.status)
                last = c == len(band) - 1
                heading = _cut(f"{glyph} {stage.name}", width)
                fragments.append((heading if last else heading.ljust(width), f"{tone}+bold"))
                if not last:
                    fragments.append((ARROW, "muted"))
            for j in range(max(len(stage.jobs) for stage, _ in band)):
                fragments.append(("\n", ""))
                for c, (stage, width) in enumerate(band):
                    if c:
                        fragments.append((" " * len(ARROW), ""))
                    if j >= len(stage.jobs):
                        fragments.append((" " * width, ""))
                        continue
                    at = (position[id(stage)], j)
                    cursor = at == (self._stage, self._job)
                    fragments.append(
                        _job_text(
                            stage.jobs[j], width, cursor=cursor, focused=cursor and self.has_focus
                        )
                    )
        job = self.selected_job
        if job is not None:
            fragments.extend(_selected_job_line(job))
        return _with_cursor(fragments)


def _where_to_look(pipeline: Pipeline) -> tuple[int, int]:
    """The cursor's first place: in a pipeline that has not simply passed, the current
    stage's first job that did not succeed (a failure, the manual gate, the running job);
    else the first job."""
    if pipeline.status == "success":
        return 0, 0
    current = pipeline.current_stage
    for s, stage in enumerate(pipeline.stages):
        if stage is current:
            for j, job in enumerate(stage.jobs):
                if job.status not in ("success", "skipped"):
                    return s, j
            return s, 0
    return 0, 0


#: Between two stages: the heading row shows the flow; job rows leave it blank.
ARROW = " → "
#: A stage's column is as wide as its widest job (name, status, duration), up to this.
MAX_COLUMN = 36


def _job_label(job: Job) -> str:
    """``✔ unit_tests 2m 05s``, ``▶ deploy_production manual``, ``! dependency_scan allowed``."""
    glyph, _ = status_glyph(job.status, allow_failure=job.allow_failure)
    # Glyph and word: a success reads as ✔ and its duration; anything else says its status.
    word = "" if job.status == "success" else f" {status_word(job.status)}"
    if job.status == "failed" and job.allow_failure:
        word = " allowed"
    took = f" {duration_words(job.duration)}" if job.duration is not None else ""
    return f"{glyph} {job.name}{word}{took}"


def stage_width(stage: Stage) -> int:
    """The cells a stage's column needs: its heading, or its widest job with the cursor mark."""
    widest = max((1 + len(_job_label(job)) for job in stage.jobs), default=0)
    return min(MAX_COLUMN, max(2 + len(stage.name), widest))


def pack_stages(stages: tuple[Stage, ...], width: int) -> list[list[tuple[Stage, int]]]:
    """Stages in order, left to right, as many per band as fit in ``width``; the next
    band continues below. Each stage comes with its column width (never more than
    ``width``), so every name is shown whole up to ``MAX_COLUMN``."""
    width = max(12, width)
    bands: list[list[tuple[Stage, int]]] = [[]]
    used = 0
    for stage in stages:
        column = min(width, stage_width(stage))
        needed = column if not bands[-1] else used + len(ARROW) + column
        if bands[-1] and needed > width:
            bands.append([])
            needed = column
        bands[-1].append((stage, column))
        used = needed
    return bands


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _job_text(job: Job, width: int, *, cursor: bool, focused: bool) -> tuple[str, str]:
    _, tone = status_glyph(job.status, allow_failure=job.allow_failure)
    mark = "›" if cursor else " "
    text = _cut(f"{mark}{_job_label(job)}", width)
    return (text.ljust(width), f"{tone}{'+cursor' if focused else ''}")


def _selected_job_line(job: Job) -> list[tuple[str, str]]:
    """Under the stages: the selected job in words, with its ``needs``."""
    glyph, tone = status_glyph(job.status, allow_failure=job.allow_failure)
    facts = [f"{glyph} {status_word(job.status, allow_failure=job.allow_failure)}"]
    if job.duration is not None:
        facts.append(duration_words(job.duration))
    if job.failure_reason and job.status == "failed":
        facts.append(job.failure_reason.replace("_", " "))
    if job.allow_failure and job.status != "failed":
        facts.append("allowed to fail")
    if job.coverage is not None:
        facts.append(f"coverage {job.coverage:g} %")
    needs = ", ".join(job.needs) if job.needs else "its stage order only"
    return [
        ("\n", ""),
        (f"› {job.name} ", "bold"),
        (" · ".join(facts), tone),
        (f" · needs: {needs}", "muted"),
    ]


def _with_cursor(fragments: list[tuple[str, str]]) -> Content:
    """``tone+cursor`` fragments get the cursor highlight on top of their tone;
    ``tone+bold`` ones are bold."""
    parts: list[str | tuple[str, str]] = []
    from cockpit.ui.widgets.tones import TONE_STYLES

    for text, tone in fragments:
        base, _, extra = tone.partition("+")
        style = TONE_STYLES.get(base, "")
        if extra == "cursor":
            style = f"{style} reverse".strip()
        elif extra == "bold" and "bold" not in style:
            style = f"{style} bold".strip()
        parts.append((text, style))
    return Content.assemble(*parts)
