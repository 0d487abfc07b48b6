"""The footer: the keys that work here, the least needed ones dropped when the terminal is narrow.

Textual's ``Footer`` clips at the right edge, so at 80 columns the overview lost ``q Quit``
and ``? Help`` and cut a key in half. ``KeyFooter`` always shows the essential keys
(leave, help, back, open, filter and the three write keys an on-call engineer reaches
for) and then as many of the others, in their usual order, as fit; ``?`` still lists
every binding. Hidden keys stay bound: only their label goes.

Textual's ``Footer`` rebuilds its keys whenever the screen's bindings are refreshed
(every cursor move, every data change), and each new key binds ``compact`` to the
footer with ``data_bind``: a watcher on the footer that Textual drops only when
``compact`` next changes (``reactive._check_watchers`` filters out closed watchers),
which in cockpit is never. Over a shift that list grew by about ten watchers a move,
and adding one scans the whole list. ``KeyFooter`` keeps its keys when they would be
the same, and after a rebuild lets Textual drop the watchers of the removed keys.
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


def shown_keys(footer: Footer) -> tuple[object, ...]:
    """What ``Footer.compose`` would show for its screen's bindings now, as a comparable value
    (textual/widgets/_footer.py: every shown binding, its key as displayed, its state)."""
    app = footer.app
    keys: list[object] = [footer.show_command_palette, footer.compact]
    for _node, binding, enabled, tooltip in footer.screen.active_bindings.values():
        if binding.show or binding.key == app.COMMAND_PALETTE_BINDING:
            keys.append(
                (
                    binding.key,
                    app.get_key_display(binding),
                    binding.action,
                    binding.description,
                    binding.group,
                    enabled,
                    tooltip or binding.tooltip,
                )
            )
    return tuple(keys)


class KeyFooter(Footer):
    """A ``Footer`` that drops its least needed keys rather than clipping the essential ones."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: What the last rebuild showed (``None``: nothing yet).
        self._shown: tuple[object, ...] | None = None

    def bindings_changed(self, screen: Any) -> None:
        # Under a dialog the screen's bindings read as the dialog's (Screen.active_bindings
        # follows the app's focus), which would empty this footer: keep the keys shown
        # until the screen is on top again (its screen then re-reads them on resume).
        if self.is_attached and self.screen is not self.app.screen:
            return
        super().bindings_changed(screen)

    async def recompose(self) -> None:
        if not self.is_attached:
            return
        shown = shown_keys(self)
        if shown == self._shown:
            return
        await super().recompose()
        self._shown = shown
        # Setting ``compact`` (to its own value) makes Textual drop the watchers of the
        # keys just removed: ``Reactive._check_watchers`` keeps only open ones.
        self.mutate_reactive(Footer.compact)
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
