"""Keys go where the person typed them: a burst of keys that opens a text field lands in
that field, however fast it arrives; a write key never receives a keystroke meant for it."""

from __future__ import annotations

from textual import events
from textual.app import App

from cockpit.model import EnvKey
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.overview import OverviewScreen
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.fake_actions import FakeActions
from tests.ui.pilot import cockpit

CHECKOUT = EnvKey("checkout", "production")


def type_at_once(app: App[object], keys: list[str]) -> None:
    """Queue every key before the app handles the first, as a fast typist or a pasted
    burst does over SSH (the pilot's ``press`` waits for each key to be handled)."""
    driver = app._driver
    assert driver is not None
    for key in keys:
        char = key if len(key) == 1 else {"slash": "/", "colon": ":", "enter": "\r"}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        driver.send_message(event)


async def test_slash_api_enter_typed_at_full_speed_filters_and_never_opens_a_dialog() -> None:
    actions = FakeActions()
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(ServiceTable)
        await eventually(lambda: table.selected == CHECKOUT)
        for _ in range(50):
            type_at_once(app, ["slash", "a", "p", "i", "enter"])
            await pilot.pause()
            await eventually(lambda: table.has_focus, message="the table, after the filter")
            assert isinstance(app.screen, OverviewScreen)
            assert app.screen.query_one("#filter").value == "api"
            assert actions.enriched == [] and actions.executed == []
            type_at_once(app, ["escape"])
            await eventually(lambda: len(table.rows) > 1, message="the filter cleared")
        assert not any(isinstance(s, ConfirmScreen) for s in app.screen_stack)


async def test_write_keys_are_inert_while_the_filter_has_focus() -> None:
    actions = FakeActions()
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash")
        for key in ("r", "p", "P", "a", "R"):
            await pilot.press(key)
        await pilot.pause()
        assert app.screen.query_one("#filter").value == "rpPaR"
        assert actions.enriched == []


async def test_keys_typed_while_the_palette_opens_reach_the_palette() -> None:
    actions = FakeActions()
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        type_at_once(app, ["colon", "a", "p", "i"])
        await pilot.pause()
        await eventually(lambda: app.screen.query("CommandInput"), message="the palette")
        palette_input = app.screen.query_one("CommandInput")
        await eventually(lambda: palette_input.value == "api", message="'api' in the palette")
        assert actions.enriched == []
