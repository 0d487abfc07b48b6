"""``?``: every key that works on the screen underneath, with what it does right now.

The list is read from that screen's live bindings (the focused widget's first, then
the screen's, then the app's), so it cannot drift from what the keys really do. A key
whose action does not apply at the moment is listed as such.
"""

from __future__ import annotations

import textwrap
from typing import Any, ClassVar

from textual import events
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import Static

from cockpit.ui.widgets.tones import toned

ACTION_WORDS = {
    "cursor(1)": "move down",
    "cursor(-1)": "move up",
    "first": "go to the top",
    "last": "go to the bottom",
    "page(1)": "page down",
    "page(-1)": "page up",
    "command_palette": "command palette: actions for the selection, go to service …",
}


#: The help box's width (styles/dialogs.tcss), what its border, padding and scrollbar
#: take from it, and the column of keys.
HELP_WIDTH = 100
HELP_CHROME = 6
KEYS = 11
#: Below this terminal height the list scrolls in less room (class ``-short``).
TALL = 32


def _declared_actions(node: object) -> set[str]:
    """The actions bound by cockpit's own classes in ``node``'s class hierarchy."""
    actions: set[str] = set()
    for cls in type(node).__mro__:
        if not cls.__module__.startswith("cockpit."):
            continue
        for binding in cls.__dict__.get("BINDINGS", ()):
            actions.add(binding.action if isinstance(binding, Binding) else binding[1])
    return actions


def _listed(node: object, binding: Binding) -> bool:
    """Whether help lists a binding: on the app and on screens only cockpit's own keys
    (Textual's "Focus Next" or "Copy selected text" are not what a person came for);
    widgets' keys (moving in a list, scrolling a log) are listed as they are."""
    if not isinstance(node, App | Screen):
        return True
    return binding.action in _declared_actions(node)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark", "dismiss", "Close"),
        Binding("j,down", "scroll(1)", "Scroll down", show=False),
        Binding("k,up", "scroll(-1)", "Scroll up", show=False),
        Binding("pagedown,space", "scroll(10)", "Page down", show=False),
        Binding("pageup", "scroll(-10)", "Page up", show=False),
    ]

    def __init__(self, under: Screen) -> None:
        super().__init__()
        self._under = under

    def compose(self) -> ComposeResult:
        app = self.app
        width = min(HELP_WIDTH, app.size.width) - HELP_CHROME
        # One line per action: its keys together ("j ↓  move down"), in binding-chain order.
        grouped: dict[tuple[int, str], list[Any]] = {}
        for active in self._under.active_bindings.values():
            if not _listed(active.node, active.binding):
                continue
            grouped.setdefault((id(active.node), active.binding.action), []).append(active)
        lines: list[tuple[str, str]] = []
        for actives in grouped.values():
            binding = actives[0].binding
            # A write key that does not apply now is answered by its hidden "explain" twin.
            enabled = actives[0].enabled and not binding.action.startswith("explain(")
            keys = " ".join(app.get_key_display(a.binding) for a in actives)
            what = binding.description or ACTION_WORDS.get(binding.action, binding.action)
            detail = binding.tooltip or ACTION_WORDS.get(binding.action, "")
            if detail.lower().startswith(what.lower()):
                what = detail  # "Open the selected service's detail", not "Open: Open …"
            elif detail:
                what = f"{what}: {detail}"
            if not enabled:
                what += " (does not apply now)"
            wrapped = textwrap.wrap(what, width=max(20, width - KEYS - 2)) or [""]
            lines.append((f"{keys:>{KEYS}}  ", "bold"))
            lines.append((wrapped[0], "" if enabled else "muted"))
            for more in wrapped[1:]:  # continuation lines under the words, not the keys
                lines.append((f"\n{'':>{KEYS}}  {more}", "" if enabled else "muted"))
            lines.append(("\n", ""))
        lines.append((f"\n{'ctrl+d':>{KEYS}}  ", "bold"))
        lines.append(("unbound on purpose (it deletes in k9s); every write asks first\n", "muted"))
        with Vertical(id="help"):
            yield Static(
                toned(
                    [
                        (
                            f"Keys: {self._under.__class__.__name__.removesuffix('Screen').lower()}",
                            "bold",
                        )
                    ]
                ),
                id="help-title",
            )
            with VerticalScroll():
                yield Static(toned(lines), id="help-keys")
            yield Static(
                toned(
                    [
                        ("esc", "bold"),
                        (" close    ", "muted"),
                        ("j/k", "bold"),
                        (" scroll", "muted"),
                    ]
                ),
                id="help-close",
            )

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.height < TALL, "-short")

    def action_scroll(self, lines: int) -> None:
        self.query_one("#help VerticalScroll", VerticalScroll).scroll_relative(
            y=lines, animate=False
        )
