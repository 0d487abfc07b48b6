"""Writes: every key goes through the confirm dialog; one confirmation sends one request."""

from __future__ import annotations

from cockpit.model import EnvKey
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.flags import FlagsScreen
from cockpit.ui.screens.overview import OverviewScreen
from tests.helpers import eventually
from tests.ui.fake_actions import FakeActions, FakeResult
from tests.ui.pilot import cockpit, notifications, static_text


def dialog_text(app) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(str(w.render()) for w in app.screen.query("#dialog Static"))


async def test_r_shows_exactly_what_will_happen_before_anything_is_sent() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        assert isinstance(app.screen, ConfirmScreen)
        text = dialog_text(app)
        assert "PRODUCTION" in text
        assert "Abort canary checkout/production" in text
        assert "stable revision 13: registry.example.com/shop/checkout:1.41.3" in text
        assert "deployed by bob 26h ago (3e1d0c9b)" in text
        assert "rollback crosses 1 destructive migration" in text
        assert '{"status":{"abort":true}}' in text
        assert app.screen.query_one("#dialog").has_class("-strong")
        assert actions.executed == []


async def test_n_and_escape_cancel_without_writing() -> None:
    app, engine, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r", "n")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("r", "escape")
        assert isinstance(app.screen, OverviewScreen)
        assert actions.executed == []
        assert engine.refreshes == []


async def test_one_confirmation_is_one_request_however_often_the_key_is_pressed() -> None:
    actions = FakeActions(
        hold=True, result=FakeResult(True, "canary aborted: traffic back on 1.41.3")
    )
    app, engine, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r", "y")
        await eventually(lambda: len(actions.executed) == 1)
        await pilot.press("y", "enter", "y", "escape", "n")  # in flight: all ignored
        assert isinstance(app.screen, ConfirmScreen)
        assert "sending" in static_text(app, "#choices")
        actions.release()
        await eventually(lambda: "canary aborted: traffic back on 1.41.3" in notifications(app))
        assert isinstance(app.screen, OverviewScreen)
        assert len(actions.executed) == 1
        assert actions.executed[0].intent == "rollback"
        assert engine.refreshes == [EnvKey("checkout", "production")]
        await eventually(lambda: "last action: ✔ canary aborted" in static_text(app, "#selection"))


async def test_a_failed_write_says_why_in_the_row() -> None:
    actions = FakeActions(
        result=FakeResult(False, "403: user cannot patch rollouts/status in checkout")
    )
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")  # detail
        await pilot.press("r", "enter")
        await eventually(
            lambda: "last action: ✖ 403: user cannot patch" in static_text(app, "#attention")
        )
        assert "403: user cannot patch rollouts/status in checkout" in notifications(app)


async def test_read_only_refuses_and_says_so() -> None:
    app, _, actions = cockpit(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert any("read-only mode: rollback refused" in n for n in notifications(app))
        assert actions.executed == []
        assert not app.screen.active_bindings["r"].binding.action.startswith("intent")


async def test_a_key_that_does_not_apply_says_why_and_is_not_offered() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert app.screen.active_bindings["r"].binding.action == "intent('rollback')"
        assert app.screen.active_bindings["a"].binding.action.startswith("explain")
        await pilot.press("a")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert any("abort does not apply" in n for n in notifications(app))
        assert actions.executed == []


async def test_without_an_action_layer_the_screen_is_view_only() -> None:
    from cockpit.ui.app import CockpitApp
    from tests.ui.fake_engine import demo_engine

    app = CockpitApp(demo_engine())
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen)
        assert any("view-only" in n for n in notifications(app))


async def test_p_on_a_manual_gate_plays_the_deploy_job_after_confirmation() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("j", "j", "p")
        assert "Play deploy-production payments/production" in dialog_text(app)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)
        assert actions.executed[0].request[0].endswith("/play")


async def test_flags_toggle_with_space_through_the_dialog() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f")
        assert isinstance(app.screen, FlagsScreen)
        await pilot.press("space")
        assert "Disable flag new-payment-form" in dialog_text(app)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)
        assert actions.executed[0].intent == "flag-toggle"
        await eventually(lambda: isinstance(app.screen, FlagsScreen))
