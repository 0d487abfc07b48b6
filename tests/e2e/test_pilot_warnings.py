"""The configuration's warnings (a token file others can read) greet the screen at start."""

from __future__ import annotations

from tests.helpers import eventually
from tests.ui.pilot import cockpit, notifications

WARNING = (
    "WARNING: token file /home/alice/token is readable by others (mode 0644); "
    "run chmod 600 /home/alice/token"
)


async def test_each_warning_is_a_notification_once_the_screen_starts() -> None:
    app, _, _ = cockpit(warnings=(WARNING,))
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        await eventually(lambda: WARNING in notifications(app), message="the warning")
        assert notifications(app).count(WARNING) == 1


async def test_no_warning_no_notification() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert not any(message.startswith("WARNING") for message in notifications(app))
