"""The confirm dialog: the only way a write leaves cockpit.

It shows the plan as the action layer wrote it: title, a production banner, the
summary, the exact target, what else changes, the warnings (a strong plan looks
stronger), and the HTTP request(s); when it does not fit, ``j``/``k`` scroll it and the
choices line says so. ``y``/``enter`` confirms, ``n``/``esc`` cancels. Once confirmed, the plan executes exactly once: further presses do nothing while the
write is in flight, and the dialog closes with the result.

A confirmation typed before the dialog could be read is not one: for the first
``ARM_SECONDS`` after it opens, ``y``/``enter`` are ignored (and the dialog says so), so
that ``a`` … ``enter`` typed into the wrong screen, or an ``enter`` still in the
keyboard buffer, cannot send a write nobody saw. Cancelling works at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.ui.presenters import item_lines
from cockpit.ui.screens.presence import is_shown
from cockpit.ui.widgets.tones import toned

#: The dialog's width (styles/dialogs.tcss) and what its border and padding take from it.
DIALOG_WIDTH = 100
DIALOG_CHROME = 6
#: Below this terminal height the plan's body scrolls in less room (class ``-short``).
TALL = 32

CHOICE_FRAGMENTS = (
    ("y", "bold"),
    (" / enter confirm    ", ""),
    ("n", "bold"),
    (" / esc cancel", ""),
)
CHOICES = toned(CHOICE_FRAGMENTS)
#: Until the dialog is armed, only cancelling is offered.
NOT_YET = toned([("n", "bold"), (" / esc cancel    ", ""), ("y / enter: read it first…", "muted")])
MORE = ("    ↓ j/k scroll: there is more", "muted")


class ConfirmScreen(ModalScreen[Any]):
    """Dismissed with the action's result, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "confirm", "Confirm", tooltip="Send exactly this request"),
        Binding("n,escape", "cancel", "Cancel", tooltip="Close without writing anything"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
        Binding("pagedown,space", "scroll(10)", "Page down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", show=False),
    ]

    #: How long after opening the dialog starts to accept a confirmation.
    ARM_SECONDS: ClassVar[float] = 0.4

    def __init__(self, plan: Any, execute: Callable[[Any], Awaitable[Any]]) -> None:
        super().__init__()
        self.plan = plan
        self._execute = execute
        #: Set on the first confirmation; from then on every key press is ignored.
        self.sent = False
        #: False until the dialog has been on screen for ``ARM_SECONDS``.
        self.armed = False

    def compose(self) -> ComposeResult:
        plan = self.plan
        strong = plan.severity == "strong"
        # The text is wrapped here, with continuation lines indented under their item,
        # at the width the dialog will have (it is at most DIALOG_WIDTH, and the screen's).
        width = min(DIALOG_WIDTH, self.app.size.width) - DIALOG_CHROME
        tone = "bad" if strong else "warn"
        with Vertical(id="dialog", classes="-strong" if strong else ""):
            if plan.production:
                yield Static("▲ PRODUCTION ▲  this changes what users get now", id="production")
            yield Static(toned([(plan.title, "bold")]), id="title")
            yield Static(Content(plan.summary), id="summary")
            with VerticalScroll(id="plan-body"):
                yield Static(_section("Target", plan.target, width), classes="section")
                if plan.changes:
                    yield Static(_section("Also changes", plan.changes, width), classes="section")
                if plan.warnings:
                    heading = "⚠ WARNING" if strong else "⚠ Warning"
                    yield Static(
                        _section(heading, plan.warnings, width - 2, tone=tone), id="warnings"
                    )
                requests = [part for line in plan.request for part in _request_parts(line)]
                yield Static(_section("Request", tuple(requests), width), classes="section request")
            yield Static(NOT_YET, id="choices")

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < TALL, "-short")

    def on_mount(self) -> None:
        self.set_timer(self.ARM_SECONDS, self.arm)

    def arm(self) -> None:
        """Let ``y``/``enter`` confirm (the timer calls this ``ARM_SECONDS`` after opening),
        once the dialog is laid out: then the choices line offers them, and says when the
        plan does not fit."""
        self.call_after_refresh(self._offer_choices)

    def _offer_choices(self) -> None:
        if self.sent or not is_shown(self):  # dismissed, or the app quit, meanwhile
            return
        more = self.query_one("#plan-body", VerticalScroll).max_scroll_y > 0
        self.query_one("#choices", Static).update(
            toned([*CHOICE_FRAGMENTS, MORE]) if more else CHOICES
        )
        self.armed = True

    def action_scroll(self, lines: int) -> None:
        self.query_one("#plan-body", VerticalScroll).scroll_relative(y=lines, animate=False)

    def action_confirm(self) -> None:
        if self.sent:
            return
        if not self.armed:
            self.query_one("#choices", Static).update(
                toned(
                    [
                        (
                            "⚠ a key pressed as this dialog opened was ignored: read it first  ",
                            "warn",
                        ),
                        ("n", "bold"),
                        (" / esc cancel", ""),
                    ]
                )
            )
            return
        self.sent = True
        self.query_one("#choices", Static).update(
            toned([("◌ sending… (keys are ignored until it answers)", "info")])
        )
        self._send()

    def action_cancel(self) -> None:
        if not self.sent:
            self.dismiss(None)

    @work(exclusive=True, group="write", exit_on_error=False)
    async def _send(self) -> None:
        try:
            result = await self._execute(self.plan)
        except Exception as error:  # the action layer failed before producing a result
            result = _Failure(getattr(error, "message", None) or str(error) or type(error).__name__)
        self.dismiss(result)


class _Failure:
    """A write that raised instead of returning a result: shown like a failed result."""

    ok = False

    def __init__(self, message: str) -> None:
        self.message = message


def _section(title: str, lines: tuple[str, ...], width: int, *, tone: str = "") -> Content:
    """A titled list, each item indented two cells and wrapped with its continuation
    lines indented four."""
    body: list[str] = []
    for line in lines or ("—",):
        body += item_lines(line, max(20, width))
    return toned([(title, tone or "bold"), ("\n" + "\n".join(body), tone)])


def _request_parts(line: str) -> list[str]:
    """``METHOD URL  content-type  body`` as the action layer prints it, one part a line."""
    return [part for part in line.split("  ") if part]
