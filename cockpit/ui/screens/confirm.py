"""The confirm dialog: the only way a write leaves cockpit.

It shows the plan as the action layer wrote it: title, a production banner, the
summary, the exact target, what else changes, the warnings (a strong plan looks
stronger), and the HTTP request(s). ``y``/``enter`` confirms, ``n``/``esc`` cancels.
Once confirmed, the plan executes exactly once: further presses do nothing while the
write is in flight, and the dialog closes with the result.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from cockpit.ui.widgets.tones import toned


class ConfirmScreen(ModalScreen[Any]):
    """Dismissed with the action's result, or ``None`` when cancelled."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "confirm", "Confirm", tooltip="Send exactly this request"),
        Binding("n,escape", "cancel", "Cancel", tooltip="Close without writing anything"),
    ]

    def __init__(self, plan: Any, execute: Callable[[Any], Awaitable[Any]]) -> None:
        super().__init__()
        self.plan = plan
        self._execute = execute
        #: Set on the first confirmation; from then on every key press is ignored.
        self.sent = False

    def compose(self) -> ComposeResult:
        plan = self.plan
        strong = plan.severity == "strong"
        with Vertical(id="dialog", classes="-strong" if strong else ""):
            if plan.production:
                yield Static("▲ PRODUCTION ▲  this changes what users get now", id="production")
            yield Static(toned([(plan.title, "bold")]), id="title")
            yield Static(Content(plan.summary), id="summary")
            with VerticalScroll(id="plan-body"):
                yield Static(_section("Target", plan.target), classes="section")
                if plan.changes:
                    yield Static(_section("Also changes", plan.changes), classes="section")
                if plan.warnings:
                    yield Static(
                        toned(
                            [("⚠ WARNING" if strong else "⚠ Warning", "bad" if strong else "warn")]
                            + [(f"\n  {w}", "bad" if strong else "warn") for w in plan.warnings]
                        ),
                        id="warnings",
                    )
                yield Static(_section("Request", plan.request), classes="section request")
            yield Static(
                toned(
                    [
                        ("y", "bold"),
                        (" / enter confirm    ", ""),
                        ("n", "bold"),
                        (" / esc cancel", ""),
                    ]
                ),
                id="choices",
            )

    def action_confirm(self) -> None:
        if self.sent:
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


def _section(title: str, lines: tuple[str, ...]) -> Content:
    body = "\n".join(f"  {line}" for line in lines) if lines else "  —"
    return toned([(title, "bold"), ("\n" + body, "")])
