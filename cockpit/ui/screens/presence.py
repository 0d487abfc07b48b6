"""Whether a screen's widgets are there to update: for listeners, timers and workers.

Engine updates, health-guard reports, timers and workers finish at any moment, also
while a screen is being removed. Textual removes a screen's widgets before the screen
itself (textual/app.py ``_prune``), and when the app quits it does so for every screen
on the stack (``App._close_all``), while the engine and the screen's timers still run:
a ``query_one`` then raises ``NoMatches``. Whatever arrives then has nothing to show.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen


def is_shown(screen: Screen[Any]) -> bool:
    """True while ``screen`` is composed and mounted, on the app's screen stack (maybe
    under another screen) and the app is not quitting.

    ``is_attached`` is False from the moment ``App.exit`` is called
    (textual/message_pump.py ``MessagePump.is_attached``); a popped screen leaves the
    stack before its widgets are removed (``App.pop_screen``).
    """
    return screen.is_mounted and screen.is_attached and screen in screen.app.screen_stack
