"""The footer: the keys that work here, the least needed ones dropped when the terminal is narrow.

Textual's ``Footer`` clips at the right edge, so at 80 columns the overview lost ``q Quit``
and ``? Help`` and cut a key in half. ``KeyFooter`` always shows the essential keys
(leave, help, back, open, filter and the three write keys an on-call engineer reaches
for) and then as many of the others, in their usual order, as fit; ``?`` still lists
every binding. Hidden keys stay bound: only their label goes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.cells import cell_len
from textual import events
from textual.widgets import Footer

ESSENTIAL_ACTIONS = frozenset(
    {
        "quit",
        "help",
        "dismiss",
        "app.pop_screen",
        "open",
        "open_log",
        "filter",
        "toggle",
        "confirm",
        "cancel",
        "intent('promote')",
        "intent('rollback')",
        "intent('abort')",
    }
)
"""Actions whose key is always in the footer, however narrow the terminal."""


def key_width(key_display: str, description: str) -> int:
    """Cells a footer key takes: `` k `` then ``description `` (Textual's default padding)."""
    return cell_len(key_display) + 2 + (cell_len(description) + 1 if description else 0)


def keys_that_fit(widths: Sequence[int], essential: Sequence[bool], room: int) -> list[bool]:
    """Which keys to show in ``room`` cells: every essential one, then the others in order while they fit."""
    used = sum(width for width, needed in zip(widths, essential, strict=True) if needed)
    shown: list[bool] = []
    for width, needed in zip(widths, essential, strict=True):
        fits = needed or used + width <= room
        if fits and not needed:
            used += width
        shown.append(fits)
    return shown


class KeyFooter(Footer):
    """A ``Footer`` that drops its least needed keys rather than clipping the essential ones."""

    def bindings_changed(self, screen: Any) -> None:
        # Under a dialog the screen's bindings read as the dialog's (Screen.active_bindings
        # follows the app's focus), which would empty this footer: keep the keys shown
        # until the screen is on top again (its focus then changes, and they are re-read).
        if self.is_attached and self.screen is not self.app.screen:
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        await super().recompose()
        self._fit()

    def on_resize(self, event: events.Resize) -> None:
        self._fit()

    def _fit(self) -> None:
        # By CSS type name: Textual exports ``Footer`` but not its ``FooterKey`` children.
        keys: list[Any] = list(self.query_children("FooterKey"))
        if not keys or not self.size.width:
            return
        shown = keys_that_fit(
            [key_width(key.key_display, key.description) for key in keys],
            [key.action in ESSENTIAL_ACTIONS or key.has_class("-command-palette") for key in keys],
            self.size.width,
        )
        for key, show in zip(keys, shown, strict=True):
            key.display = show
