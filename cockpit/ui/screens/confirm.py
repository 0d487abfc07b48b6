"""The confirm dialog: the only way a write leaves cockpit.

It shows the plan as the action layer wrote it: title, a production banner, the
summary, the exact target, what else changes, the warnings (a strong plan looks
stronger), and the HTTP request(s); when it does not fit, ``j``/``k`` scroll it and the
choices line says so. ``y``/``enter`` confirms, ``n``/``esc`` cancels. Once confirmed,
the plan executes exactly once: further presses do nothing while the write is in flight,
and the dialog closes with the result.

It opens as soon as the cluster was read (an abort is offered without waiting for
GitLab); the rollback safety check (the migrations crossed, from GitLab) fills in when
it arrives, and a plan whose decision depends on it (an undo, a re-deploy) accepts ``y``
only then, and says so.

A confirmation typed before the dialog could be read is not one: ``y``/``enter`` are
accepted only once the dialog has been on screen for ``ARM_SECONDS`` with no key typed
meanwhile (each key typed early starts the wait again), so that ``a`` … ``enter`` typed
into the wrong screen, or an ``enter`` still in the keyboard buffer, cannot send a write
nobody saw. Just before it accepts ``y`` the dialog reads the cluster once more
(``recheck``): when another cockpit or person changed the workload meanwhile, the dialog
shows what changed and offers only cancelling. Cancelling works at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import is_dataclass, replace
from typing import Any, ClassVar

from textual import events, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.timer import Timer
from textual.widgets import Static

from cockpit.errors import words
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
#: A plan whose decision waits for the rollback safety check.
WAITING = toned(
    [
        ("n", "bold"),
        (" / esc cancel    ", ""),
        ("y / enter: waits for the migration check (GitLab)…", "warn"),
    ]
)
MORE = ("    ↓ j/k scroll: there is more", "muted")
#: While the rollback safety check runs, in the warnings.
CHECKING = "◌ checking the migrations this rollback crosses (GitLab)…"


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

    #: How long the dialog must have been on screen, with no key typed, before it accepts a
    #: confirmation. Short, since every early key starts the wait again: an abort must be
    #: ready within half a second of ``r``.
    ARM_SECONDS: ClassVar[float] = 0.3

    def __init__(
        self,
        plan: Any,
        execute: Callable[[Any], Awaitable[Any]],
        *,
        check_safety: Callable[[Any], Awaitable[Any]] | None = None,
        recheck: Callable[[Any], Awaitable[Any]] | None = None,
    ) -> None:
        super().__init__()
        self.plan = plan
        self._execute = execute
        self._check_safety = check_safety
        self._recheck = recheck
        #: Set on the first confirmation; from then on every key press is ignored.
        self.sent = False
        #: True once ``y`` is accepted: on screen and quiet for ``ARM_SECONDS``, the cluster
        #: re-read, and the safety check done where the decision depends on it.
        self.armed = False
        self._quiet = False
        self._rechecked = recheck is None
        self._arm_timer: Timer | None = None
        #: The rollback safety check's warnings and whether one makes the plan strong;
        #: None while it runs.
        self._safety_found: tuple[tuple[str, ...], bool] | None = (
            None if getattr(plan, "safety_pending", False) else ((), False)
        )

    def compose(self) -> ComposeResult:
        plan = self.plan
        found, strong_safety = self._safety_found or ((), False)
        strong = plan.severity == "strong" or strong_safety
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
                warnings = (*plan.warnings, *found)
                if self._safety_pending:
                    warnings = (*warnings, CHECKING)
                if warnings:
                    heading = "⚠ WARNING" if strong else "⚠ Warning"
                    yield Static(_section(heading, warnings, width - 2, tone=tone), id="warnings")
                requests = [part for line in plan.request for part in _request_parts(line)]
                yield Static(_section("Request", tuple(requests), width), classes="section request")
            yield Static(self._waiting_choices(), id="choices")

    @property
    def _safety_pending(self) -> bool:
        return self._safety_found is None

    @property
    def _stale(self) -> str | None:
        return getattr(self.plan, "stale", None)

    def _waiting_choices(self) -> Content:
        if self._stale:
            return toned(
                [
                    (f"⚠ {self._stale}: confirming would send nothing    ", "bad"),
                    ("n", "bold"),
                    (" / esc close", ""),
                ]
            )
        if self._safety_pending and getattr(self.plan, "safety_decides", False):
            return WAITING
        return NOT_YET

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < TALL, "-short")

    def on_mount(self) -> None:
        # The wait for quiet starts once the dialog is on screen, not when it is built.
        self.call_after_refresh(self._on_screen)
        if self._safety_pending and self._check_safety is not None:
            self._safety()

    def _on_screen(self) -> None:
        self._arm_timer = self.set_timer(self.ARM_SECONDS, self.arm)
        if self._recheck is not None:
            self._re_read()

    def on_key(self, event: events.Key) -> None:
        """A key typed before ``y`` is accepted starts the wait for quiet again."""
        if not self.armed and self._arm_timer is not None:
            self._quiet = False
            self._arm_timer.reset()

    def arm(self) -> None:
        """The wait for quiet is over (the timer calls this): let ``y``/``enter`` confirm
        once everything else it waits for is there too (see the module docstring)."""
        self._quiet = True
        self._reconsider()

    def _reconsider(self) -> None:
        """Once the dialog is laid out, offer ``y``/``enter`` if it is ready (the choices
        line then says when the plan does not fit), or say what it waits for."""
        self.call_after_refresh(self._offer_choices)

    def _offer_choices(self) -> None:
        if self.sent or self.armed or not is_shown(self):  # dismissed, or the app quit
            return
        ready = (
            self._quiet
            and self._rechecked
            and not self._stale
            and not (self._safety_pending and getattr(self.plan, "safety_decides", False))
        )
        found = self.query("#choices").results(Static)
        choices = next(found, None)
        if choices is None:
            return  # mid-recompose (see _show): offered again once the new body is mounted
        if not ready:
            choices.update(self._waiting_choices())
            return
        self.armed = True
        self._show_choices()

    def _show_choices(self) -> None:
        """``y``/``enter`` offered, and "there is more" while the body is not scrolled to
        its end."""
        body = self.query_one("#plan-body", VerticalScroll)
        more = body.scroll_y < body.max_scroll_y
        self.query_one("#choices", Static).update(
            toned([*CHOICE_FRAGMENTS, MORE]) if more else CHOICES
        )

    async def _show(self, changed: bool = True) -> None:
        """Draw what arrived (the safety check's warnings, or the cluster read again)."""
        if self.sent or not is_shown(self):
            return
        if changed:
            await self.recompose()
        self._reconsider()

    @work(group="plan-facts", exit_on_error=False)
    async def _safety(self) -> None:
        assert self._check_safety is not None
        asked = self.plan
        try:
            checked = await self._check_safety(asked)
        except Exception as error:  # the check failed: say so, never pass silently
            self._safety_found = ((f"rollback safety not checked: {_words(error)}",), False)
        else:
            found = tuple(w for w in checked.warnings if w not in asked.warnings)
            strong = checked.severity == "strong" and asked.severity != "strong"
            self._safety_found = (found, strong)
        await self._show()

    @work(group="plan-facts", exit_on_error=False)
    async def _re_read(self) -> None:
        assert self._recheck is not None
        shown = self.plan
        try:
            self.plan = await self._recheck(shown)
        except Exception as error:  # the cluster did not answer: execute re-checks anyway
            if is_dataclass(shown) and not isinstance(shown, type):
                warning = f"live check failed: {_words(error)}"
                self.plan = replace(shown, warnings=(*self.plan.warnings, warning))
        self._rechecked = True
        await self._show(changed=self.plan != shown)

    def action_scroll(self, lines: int) -> None:
        self.query_one("#plan-body", VerticalScroll).scroll_relative(y=lines, animate=False)
        if self.armed and not self.sent:
            self.call_after_refresh(self._show_choices)

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
            result = _Failure(_words(error))
        self.dismiss(result)


def _words(error: BaseException) -> str:
    return words(error)


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
