"""Writes: every key is checked, then goes through the confirm dialog; one confirmation sends
one request; the health guard's verdicts mark the row and are announced once."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import pytest

from cockpit.actions.guard import GuardReport
from cockpit.insights.health_guard import GuardVerdict
from cockpit.model import EnvKey
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.flags import FlagsScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.overview import OverviewScreen
from tests.helpers import eventually
from tests.ui.fake_actions import FakeActions, FakeResult
from tests.ui.fake_engine import DEMO_NOW, checkout_production
from tests.ui.pilot import cockpit, confirm_dialog, dialog_text, notifications, static_text

CHECKOUT = EnvKey("checkout", "production")


async def test_r_shows_exactly_what_will_happen_before_anything_is_sent() -> None:
    actions = FakeActions(enrich_warnings=("live check: the canary is at step 1/6",))
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await confirm_dialog(app)
        text = dialog_text(app)
        assert "PRODUCTION" in text
        assert "Abort canary checkout/production" in text
        assert "stable revision 13: registry.example.com/shop/checkout:1.41.3" in text
        assert "deployed by bob 26h ago (3e1d0c9b)" in text
        assert "rollback crosses 1 destructive migration" in text
        # What the live check added is in the dialog: it shows the checked plan.
        assert "live check: the canary is at step 1/6" in text
        assert '{"status":{"abort":true}}' in text
        assert app.screen.query_one("#dialog").has_class("-strong")
        assert [p.intent for p in actions.enriched] == ["rollback"]
        assert actions.executed == []


async def test_no_notification_covers_the_confirm_dialog_or_help_and_none_is_lost() -> None:
    app, _, _ = cockpit(actions=FakeActions())
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        app.notify("checkout/production: 4 samples in a row under 99 %", title="Health guard")
        await eventually(lambda: app.screen.query("Toast"))
        await pilot.press("r")
        await confirm_dialog(app)
        app.notify("a second report while the dialog is open")
        toasts = await eventually(
            lambda: len(app.screen.query("Toast")) == 2 and app.screen.query("Toast")
        )
        await pilot.pause()
        assert [toast.region.area for toast in toasts] == [0, 0]  # mounted, not drawn
        await pilot.press("n")
        await eventually(lambda: isinstance(app.screen, OverviewScreen))
        shown = await eventually(
            lambda: [str(toast.render()) for toast in app.screen.query("Toast")]
        )
        assert any("second report" in text for text in shown)
        await pilot.press("question_mark")  # the key list is not covered either
        await eventually(lambda: isinstance(app.screen, HelpScreen))
        toasts = await eventually(lambda: app.screen.query("Toast"))
        await pilot.pause()
        assert {toast.region.area for toast in toasts} == {0}


async def test_while_the_plan_is_checked_the_row_says_so_and_no_dialog_is_open() -> None:
    actions = FakeActions(hold_enrich=True)
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(lambda: "checking what this would do" in static_text(app, "#selection"))
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("r")  # a second key while checking: said, not queued
        await eventually(lambda: any("still checking" in n for n in notifications(app)))
        actions.release_enrich()
        await confirm_dialog(app)
        assert len(actions.enriched) == 1
        await pilot.press("n")
        await eventually(lambda: isinstance(app.screen, OverviewScreen))
        assert "checking" not in static_text(app, "#selection")


async def test_a_check_that_fails_says_why_and_opens_no_dialog() -> None:
    actions = FakeActions(enrich_error=RuntimeError("Kubernetes: 403 cannot get rollouts"))
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(
            lambda: any("403 cannot get rollouts" in n for n in notifications(app)),
            message="the reason the check failed",
        )
        assert any("nothing was sent" in n for n in notifications(app))
        assert isinstance(app.screen, OverviewScreen)
        assert "checking" not in static_text(app, "#selection")
        assert actions.executed == []


async def test_a_key_pressed_as_the_dialog_opens_does_not_confirm_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # However slow this machine is, the keys below arrive before the dialog is armed.
    monkeypatch.setattr(ConfirmScreen, "ARM_SECONDS", 3600.0)
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen) and not dialog.armed
        await pilot.press("enter", "y")  # typed ahead, before anyone could read the dialog
        assert app.screen is dialog
        assert "was ignored" in static_text(app, "#choices")
        assert actions.executed == []
        dialog.arm()  # what the timer does
        await eventually(lambda: dialog.armed)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)


async def test_n_and_escape_cancel_without_writing() -> None:
    app, engine, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(lambda: isinstance(app.screen, ConfirmScreen))
        await pilot.press("n")  # cancelling needs no waiting
        await eventually(lambda: isinstance(app.screen, OverviewScreen))
        await pilot.press("r")
        await confirm_dialog(app)
        await pilot.press("escape")
        await eventually(lambda: isinstance(app.screen, OverviewScreen))
        assert actions.executed == []
        assert engine.refreshes == []


async def test_one_confirmation_is_one_request_however_often_the_key_is_pressed() -> None:
    actions = FakeActions(
        hold=True, result=FakeResult(True, "canary aborted: traffic back on 1.41.3")
    )
    app, engine, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await confirm_dialog(app)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)
        await pilot.press("y", "enter", "y", "escape", "n")  # in flight: all ignored
        assert isinstance(app.screen, ConfirmScreen)
        assert "sending" in static_text(app, "#choices")
        actions.release()
        await eventually(lambda: "canary aborted: traffic back on 1.41.3" in notifications(app))
        assert isinstance(app.screen, OverviewScreen)
        assert len(actions.executed) == 1
        assert actions.executed[0].intent == "rollback"
        assert engine.refreshes == [CHECKOUT]
        await eventually(lambda: "last action: ✔ canary aborted" in static_text(app, "#selection"))


async def test_a_failed_write_says_why_in_the_row() -> None:
    actions = FakeActions(
        result=FakeResult(False, "403: user cannot patch rollouts/status in checkout")
    )
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter")  # detail
        await pilot.press("r")
        await confirm_dialog(app)
        await pilot.press("enter")
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
        assert actions.executed == [] and actions.enriched == []
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
        await confirm_dialog(app)
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
        await confirm_dialog(app)
        assert "Disable flag new-payment-form" in dialog_text(app)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)
        assert actions.executed[0].intent == "flag-toggle"
        await eventually(lambda: isinstance(app.screen, FlagsScreen))


async def test_the_flag_cursor_stays_on_its_flag_when_the_list_reorders() -> None:
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("f", "j")
        screen = app.screen
        assert isinstance(screen, FlagsScreen)
        assert screen.selected_flag is not None
        assert screen.selected_flag.name == "one-click-checkout"
        state = engine.states[CHECKOUT]
        toggled = replace(state.flags[1], active=True)
        engine.publish(replace(state, flags=(toggled, state.flags[0])))
        await eventually(lambda: screen.selected_flag == toggled)
        await pilot.press("space")
        await confirm_dialog(app)
        assert "one-click-checkout" in dialog_text(app)
        assert "new-payment-form" not in dialog_text(app)


def guard_report(streak: int, *, canary: str = "7d4f9c", action: str | None = None) -> GuardReport:
    message = (
        f"success rate under 99.0 % for {streak} samples in a row (97.4 %, 97.2 %, 97.1 %): "
        "press r to roll back"
    )
    return GuardReport(
        key=CHECKOUT,
        verdict=GuardVerdict(True, streak, 0.971, message),
        threshold=0.99,
        consecutive=3,
        canary=canary,
        action=action,
    )


async def test_the_health_guard_marks_the_row_and_is_announced_once_per_trigger() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert actions.watching
        for streak in (3, 4, 5):  # every new sample changes the numbers: one notification
            actions.report(guard_report(streak))
        await pilot.pause()
        said = [n for n in notifications(app) if "samples in a row" in n]
        assert said == [
            f"{CHECKOUT}: 3 samples in a row under 99 %, now 97.1 %: press r to roll back"
        ]
        line = static_text(app, "#selection")
        assert (
            "⚠ health guard: 5 samples in a row under 99 %, now 97.1 %: press r to roll back"
            in line
        )
        # The row's own "success rate 97.1 % under 99.0 %" is not said twice.
        assert "success rate" not in line
        # What the guard then does is news: said once more.
        actions.report(guard_report(5, action="aborted by cockpit health guard: abort accepted"))
        await pilot.pause()
        assert sum("aborted by cockpit health guard" in n for n in notifications(app)) == 1
        # A new canary revision that trips again is a new trigger.
        actions.report(guard_report(3, canary="8e5a0d"))
        await pilot.pause()
        assert sum("samples in a row" in n for n in notifications(app)) == 3


async def test_a_read_only_session_does_not_suggest_r() -> None:
    app, _, actions = cockpit(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        actions.report(guard_report(3))
        await pilot.pause()
        line = static_text(app, "#selection")
        assert "roll back from a session that can write (this one is read-only)" in line
        assert "press r" not in line
        assert not any("press r" in n for n in notifications(app))


async def test_a_guard_that_stops_triggering_unmarks_the_row() -> None:
    app, engine, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        actions.report(guard_report(3))
        await pilot.pause()
        assert "health guard" in static_text(app, "#selection")
        calm = GuardReport(
            CHECKOUT, GuardVerdict(False, 0, 0.995, "success rate 99.5 %"), 0.99, 3, "7d4f9c"
        )
        actions.report(calm)
        await pilot.pause()
        assert "health guard" not in static_text(app, "#selection")
        assert app.guard_reports == {}
        # The row's own reasons are still there (its state has not changed).
        state = checkout_production(DEMO_NOW + timedelta(seconds=1))
        assert app.attention(state) == app.attention(engine.states[CHECKOUT])


async def test_an_abort_is_ready_while_gitlab_still_checks_the_migrations() -> None:
    actions = FakeActions(
        rollback_operation="abort",
        safety_pending=True,
        hold_safety=True,
        safety_warnings=("rollback crosses 2 migrations (0 destructive)",),
    )
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        dialog = await confirm_dialog(app)  # armed, with GitLab still not answering
        assert "checking the migrations this rollback crosses" in dialog_text(app)
        actions.release_safety()
        await eventually(lambda: "rollback crosses 2 migrations" in dialog_text(app))
        assert "checking the migrations" not in dialog_text(app)
        await eventually(lambda: dialog.armed)
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)


async def test_an_undo_waits_for_the_migration_check_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ConfirmScreen, "ARM_SECONDS", 3600.0)
    actions = FakeActions(rollback_operation="undo", safety_pending=True, hold_safety=True)
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        await eventually(lambda: actions.rechecked, message="the re-read before y")
        dialog.arm()  # quiet long enough: only the migration check is missing now
        await eventually(
            lambda: "waits for the migration check" in static_text(app, "#choices"),
            message="the dialog saying what y waits for",
        )
        await pilot.press("y")  # too early: ignored, and the wait for quiet starts again
        assert not dialog.armed and actions.executed == []
        actions.release_safety()
        await eventually(
            lambda: "waits for the migration check" not in static_text(app, "#choices")
        )
        assert not dialog.armed
        dialog.arm()
        await eventually(lambda: dialog.armed, message="y, once the check is done")
        await pilot.press("y")
        await eventually(lambda: len(actions.executed) == 1)


async def test_a_write_made_meanwhile_by_someone_else_shows_before_y_is_accepted() -> None:
    # Another cockpit aborted the canary between the plan and the dialog's re-read.
    actions = FakeActions(recheck_stale="checkout/production is already aborted")
    app, _, _ = cockpit(actions=actions)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(
            lambda: (
                isinstance(app.screen, ConfirmScreen)
                and "already aborted: confirming would send nothing" in static_text(app, "#choices")
            ),
            message="the dialog showing the other write",
        )
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        await pilot.press("y", "enter")
        assert not dialog.armed and actions.executed == []
        await pilot.press("n")
        await eventually(lambda: isinstance(app.screen, OverviewScreen))
        assert actions.executed == []


async def test_keys_typed_while_the_dialog_waits_start_its_wait_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ConfirmScreen, "ARM_SECONDS", 2.0)
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("r")
        await eventually(lambda: isinstance(app.screen, ConfirmScreen))
        dialog = app.screen
        assert isinstance(dialog, ConfirmScreen)
        # Keys keep arriving for longer than the wait: it never ends while they do.
        for _ in range(40):
            await pilot.press("x")
            await asyncio.sleep(0.1)
            assert not dialog.armed
        await eventually(lambda: dialog.armed, message="armed once the keys stop")
        assert actions.executed == []


async def test_there_is_more_is_said_until_the_plan_is_scrolled_to_its_end() -> None:
    app, _, _ = cockpit(actions=FakeActions())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("r")
        dialog = await confirm_dialog(app)
        await eventually(lambda: "there is more" in static_text(app, "#choices"))
        for _ in range(30):  # j scrolls one line: more than the body has
            await pilot.press("j")
        await eventually(
            lambda: "there is more" not in static_text(app, "#choices"),
            message="the hint gone at the end of the plan",
        )
        assert "y / enter confirm" in static_text(app, "#choices") and dialog.armed
        await pilot.press("k")
        await eventually(lambda: "there is more" in static_text(app, "#choices"))
