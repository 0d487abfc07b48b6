"""A job's log tail, followed while the job runs; ``t``/``m``/``c`` retry, play or cancel it.

The log is fetched through the engine (``job_trace``) every two seconds while the job
is active, and only the new complete lines are appended; polling stops when the job
finishes or the screen closes. Colours are rendered; section markers and ``\\r``
rewrites are cleaned (``cockpit.ui.trace``).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import RichLog, Static

from cockpit.errors import words
from cockpit.intents import Intent
from cockpit.model import ACTIVE_STATUSES, EnvKey, Job, ServiceState
from cockpit.ui.presenters import status_glyph, status_word
from cockpit.ui.screens.presence import is_shown
from cockpit.ui.trace import clean_lines
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.tones import toned

POLL_SECONDS = 2.0
#: Lines kept on screen (the tail of a long log).
MAX_LINES = 2000


class JobLogScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("g", "top", "Top", show=False),
        Binding("G", "bottom", "Bottom", show=False),
        Binding("t", "job_action('job-retry')", "Retry job", tooltip="Retry this job"),
        Binding("m", "job_action('job-play')", "Play job", tooltip="Play this manual job"),
        Binding("c", "job_action('job-cancel')", "Cancel job", tooltip="Cancel this job"),
    ]

    def __init__(self, key: EnvKey, job: Job) -> None:
        super().__init__()
        self.key = key
        self.job = job
        self._raw = ""
        self._written = 0
        self._following = True

    def compose(self) -> ComposeResult:
        yield Static(id="log-title")
        yield RichLog(max_lines=MAX_LINES, wrap=False, auto_scroll=True, id="log")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._title()
        self.query_one(RichLog).focus()
        self.run_worker(self._poll(), group="trace", exclusive=True, exit_on_error=False)

    def _current_job(self) -> Job:
        state: ServiceState | None = self.app.states.get(self.key)  # type: ignore[attr-defined]
        if state is not None and state.pipeline is not None:
            for job in state.pipeline.jobs:
                if job.id == self.job.id:
                    return job
        return self.job

    def _title(self, note: tuple[str, str] | None = None) -> None:
        job = self.job
        glyph, tone = status_glyph(job.status, allow_failure=job.allow_failure)
        fragments = [
            (f"{self.key} › job {job.name} #{job.id} ", "bold"),
            (f"{glyph} {status_word(job.status, allow_failure=job.allow_failure)}", tone),
        ]
        if job.status in ACTIVE_STATUSES:
            fragments.append(("  following (every 2s)", "muted"))
        elif not self._raw:
            fragments.append(("  the job has not logged anything", "muted"))
        if note is not None:
            fragments.append(note)
        self.query_one("#log-title", Static).update(toned(fragments))

    async def _poll(self) -> None:
        while True:
            self.job = self._current_job()
            failure: str | None = None
            try:
                raw = await self.app.engine.job_trace(self.key, self.job.id)  # type: ignore[attr-defined]
            except Exception as error:
                failure = words(error)
            if not is_shown(self):  # closed (or the app quit) while GitLab answered
                return
            if failure is not None:
                self._title(("  ✖ " + failure, "bad"))
            else:
                self._append(raw, finished=self.job.status not in ACTIVE_STATUSES)
                self._title()
            self.refresh_bindings()  # the job's state decides which job keys apply
            if self.job.status not in ACTIVE_STATUSES:
                return
            await asyncio.sleep(POLL_SECONDS)

    def _append(self, raw: str, *, finished: bool) -> None:
        log = self.query_one(RichLog)
        if not raw.startswith(self._raw):  # the log was replaced (a retried job): start over
            log.clear()
            self._written = 0
        self._raw = raw
        # The unfinished last line is held back until it ends, or until the job does.
        complete = raw + "\n" if finished and raw and not raw.endswith("\n") else raw
        lines, _ = clean_lines(complete)
        for line in lines[self._written :]:
            log.write(Text.from_ansi(line))
        self._written = len(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The job keys are offered only when the job is in a state for them."""
        if action != "job_action":
            return True
        job = self._current_job()
        allowed = {
            "job-retry": job.retryable,
            "job-play": job.playable,
            "job-cancel": job.cancelable,
        }
        return allowed.get(str(parameters[0]), False)

    def action_job_action(self, intent: str) -> None:
        """Like the pipeline panel's keys: a plan for this job, through the confirm dialog."""
        app = self.app
        state = app.states.get(self.key)  # type: ignore[attr-defined]
        if state is None:
            self.notify(f"{self.key} is not in the configuration any more", severity="warning")
            return
        app.request_action(app.plan(state, Intent(intent), job=self._current_job()))  # type: ignore[attr-defined]

    def action_top(self) -> None:
        self.query_one(RichLog).scroll_home(animate=False)

    def action_bottom(self) -> None:
        self.query_one(RichLog).scroll_end(animate=False)
