"""Keys typed while a text field opens: held, then handed to that field, never to a write key.

Textual forwards each key to the focused widget's own message queue and moves focus
later (``Widget.focus`` defers it with ``call_later``, textual/widget.py), so in a burst
such as ``/api`` the ``a`` can be queued for the table, whose screen binds ``a`` to abort,
before the filter has focus. The app therefore holds every key that arrives after a key
that opens a text field (the filter's ``/``, the palette's ``:``) until a text field has
focus, then replays them into it in order. Held keys that no field takes within
``LIMIT_SECONDS`` are dropped: a key meant for a text field must never reach anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from textual import events

#: Actions that open a text field (bound to ``/`` and ``:``).
TEXT_FIELD_ACTIONS = frozenset({"filter", "command_palette", "app.command_palette"})
#: How long keys wait for the field before they are dropped.
LIMIT_SECONDS = 5.0


@dataclass
class TypeAhead:
    """The keys held since a text-field key, in the order they arrived."""

    holding: bool = False
    keys: list[events.Key] = field(default_factory=list)

    def start(self) -> None:
        """A key that opens a text field is on its way: hold what follows."""
        self.holding = True
        self.keys.clear()

    def hold(self, event: events.Key) -> None:
        self.keys.append(event)

    def release(self) -> list[events.Key]:
        """Stop holding; the held keys, oldest first, for the field that opened."""
        held, self.keys = self.keys, []
        self.holding = False
        return held
