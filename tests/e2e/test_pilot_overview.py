"""The overview in a headless terminal: order, movement, filter, live updates, staleness."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cockpit import triage
from cockpit.model import EnvKey, Health, HealthStatus, LinkState, SourceName, SourceStatus
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.detail import DetailScreen
from cockpit.ui.screens.overview import OverviewScreen
from cockpit.ui.widgets.footer import ESSENTIAL_ACTIONS, KeyFooter
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.fake_engine import (
    DEMO_NOW,
    FakeEngine,
    cart_production,
    checkout_staging,
    demo_engine,
    notifications_production,
)
from tests.ui.pilot import cockpit, static_text, table_lines


def spy_on_refresh(table: ServiceTable) -> list[tuple[object, ...]]:
    """Every region the table asks to repaint from now on (a region per row: one row)."""
    refreshed: list[tuple[object, ...]] = []
    original = table.refresh

    def spy(*regions, **kwargs):  # type: ignore[no-untyped-def]
        refreshed.append(regions)
        return original(*regions, **kwargs)

    table.refresh = spy  # type: ignore[method-assign]
    return refreshed


def selected(app) -> EnvKey | None:  # type: ignore[no-untyped-def]
    return app.screen.query_one(ServiceTable).selected


async def test_rows_needing_attention_come_first_with_their_reason() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        lines = table_lines(app)
        assert lines[0].split()[:2] == ["SERVICE", "ENV"]
        assert lines[1].startswith("›⚠ checkout")
        assert "production" in lines[1] and "✖  97.1% <99%" in lines[1]
        assert "users" in lines[7] and "⚠" not in lines[7]
        assert "success rate 97.1 % under 99.0 %" in static_text(app, "#selection")


async def test_j_k_g_G_and_arrows_move_the_selection() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("j", "j")
        assert selected(app) == EnvKey("payments", "production")
        await pilot.press("k")
        assert selected(app) == EnvKey("cart", "production")
        await pilot.press("G")
        assert selected(app) == EnvKey("users", "production")
        await pilot.press("g")
        assert selected(app) == EnvKey("checkout", "production")
        await pilot.press("down", "up", "down")
        assert selected(app) == EnvKey("cart", "production")
        assert "2/7 cart/production" in static_text(app, "#selection")


async def test_slash_filters_by_service_or_environment_and_escape_clears() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("slash", *"stag")
        table = app.screen.query_one(ServiceTable)
        assert table.rows == (EnvKey("checkout", "staging"),)
        await pilot.press("enter")  # back to the table, filter kept
        assert table.has_focus and table.rows == (EnvKey("checkout", "staging"),)
        await pilot.press("escape")
        assert len(table.rows) == 7
        await pilot.press("slash", *"nothing-like-this")
        assert table.rows == ()
        assert "no service matches the filter" in table_lines(app)[1]


async def test_enter_opens_the_detail_and_escape_comes_back() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("j", "enter")
        assert isinstance(app.screen, DetailScreen)
        assert app.screen.key == EnvKey("cart", "production")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        assert selected(app) == EnvKey("cart", "production")


async def test_a_row_that_turns_bad_moves_up_and_the_cursor_stays_on_its_row() -> None:
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("G")
        assert selected(app) == EnvKey("users", "production")
        staging = checkout_staging()
        bad = replace(
            staging, health=Health(threshold=0.99, success_rate=0.95, status=HealthStatus.BAD)
        )
        engine.publish(bad)
        table = app.screen.query_one(ServiceTable)
        await eventually(
            lambda: (
                table.rows[:2] == (EnvKey("checkout", "production"), EnvKey("checkout", "staging"))
            )
        )
        assert selected(app) == EnvKey("users", "production")
        assert "95.0%" in table_lines(app)[2]


async def test_until_the_user_moves_the_cursor_stays_on_the_most_urgent_row() -> None:
    # The engine starts empty and rows arrive one burst at a time, in no useful order.
    states = demo_engine().states
    calm_first = sorted(states.values(), key=lambda s: -triage.urgency(s))
    engine = FakeEngine(initial=())
    app, _, _ = cockpit(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        for state in calm_first:
            engine.publish(state)
            await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        assert selected(app) == table.rows[0] == EnvKey("checkout", "production")
        assert table_lines(app)[1].startswith("›⚠ checkout")
        # A row that turns bad takes the top, and the untouched cursor goes with the top.
        cart = cart_production()
        bad = replace(cart, health=replace(cart.health, success_rate=0.90, status=HealthStatus.BAD))
        engine.publish(bad)
        await eventually(lambda: selected(app) == EnvKey("cart", "production"))
        assert "1/7 cart/production" in static_text(app, "#selection")
        # Once the person has moved it, the cursor follows its row instead.
        await pilot.press("j")
        assert selected(app) == EnvKey("checkout", "production")
        engine.publish(cart)
        await eventually(lambda: table.rows[0] == EnvKey("checkout", "production"))
        assert selected(app) == EnvKey("checkout", "production")
        engine.publish(bad)  # cart is worst again: the moved cursor stays where it was put
        await eventually(lambda: table.rows[0] == EnvKey("cart", "production"))
        assert selected(app) == EnvKey("checkout", "production")


async def test_an_update_to_one_row_repaints_that_row_only() -> None:
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        refreshed = spy_on_refresh(table)
        staging = checkout_staging()
        engine.publish(replace(staging, health=replace(staging.health, success_rate=0.9951)))
        await eventually(lambda: "99.5%" in table_lines(app)[5] and refreshed)
        assert all(len(r) == 1 and r[0].height == 1 for r in refreshed), refreshed


async def test_a_change_the_row_does_not_show_repaints_nothing() -> None:
    """A success rate moving in its fifth decimal is news to the engine, not to the eye."""
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        before = table_lines(app)
        refreshed = spy_on_refresh(table)
        staging = checkout_staging()
        rate = staging.health.success_rate
        engine.publish(replace(staging, health=replace(staging.health, success_rate=rate + 1e-6)))
        await pilot.pause()
        assert app.states[staging.key].health.success_rate == rate + 1e-6  # the screen has it
        assert refreshed == []
        assert table_lines(app) == before


async def test_a_failing_source_is_named_with_the_age_of_its_data() -> None:
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "⚠ Prometheus: no data for 47s (connection refused)" in static_text(app, "#sources")
        assert app.screen.query_one("#sources").has_class("-trouble")
        healed = replace(
            notifications_production(),
            sources=tuple(
                SourceStatus(s.source, LinkState.OK, last_success=DEMO_NOW)
                for s in notifications_production().sources
            ),
        )
        engine.publish(healed)
        await eventually(lambda: "Prometheus ✔" in static_text(app, "#sources"))
        engine.clock = DEMO_NOW + timedelta(seconds=30)
        rejected = replace(
            healed,
            sources=(
                SourceStatus(
                    SourceName.GITLAB, LinkState.DOWN, DEMO_NOW, last_error="401 token rejected"
                ),
            ),
        )
        engine.publish(rejected)
        await eventually(
            lambda: "✖ GitLab: no data for 30s (401 token rejected)" in static_text(app, "#sources")
        )


async def test_read_only_mode_is_marked_in_the_header() -> None:
    app, _, _ = cockpit(read_only=True)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        assert "READ-ONLY" in static_text(app, "#header")
        assert app.has_class("-read-only")


async def test_80_by_24_keeps_the_columns_that_matter() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        heading = table_lines(app)[0].split()
        assert heading == ["SERVICE", "ENV", "PIPELINE", "ROLLOUT", "HEALTH"]
        assert "‖ paused" in table_lines(app)[1]


def footer_keys(app) -> list:  # type: ignore[no-untyped-def]
    return list(app.screen.query_one(KeyFooter).query("FooterKey"))


async def test_80_columns_keep_quit_help_and_the_write_keys_in_the_footer() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(80, 24)) as pilot:
        keys = await eventually(lambda: footer_keys(app), message="footer keys")
        shown = [key for key in keys if key.display]
        labels = [key.description for key in shown]
        for needed in ("Open", "Filter", "Promote", "Rollback", "Quit", "Help"):
            assert needed in labels
        assert all(key.region.right <= 80 for key in shown), "a key is clipped"
        hidden = [key for key in keys if not key.display]
        assert "Dashboard" in [key.description for key in hidden]
        assert not [key for key in hidden if key.action in ESSENTIAL_ACTIONS]
        await pilot.press("d")  # its label made way, its key still works
        await eventually(lambda: isinstance(app.screen, DashboardScreen))


async def test_a_wide_terminal_shows_every_key_in_the_footer() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(140, 36)):
        keys = await eventually(lambda: footer_keys(app), message="footer keys")
        labels = [key.description for key in keys if key.display]
        assert {"Full promote", "Flags", "Dashboard", "Refresh", "Quit", "Help"} <= set(labels)


async def test_command_palette_goes_to_a_service() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("colon")
        await pilot.press(*"go to service payments")
        await eventually(lambda: app.screen.query("CommandList Option") or True)
        await pilot.pause(0.3)
        await pilot.press("enter")
        await eventually(lambda: isinstance(app.screen, DetailScreen))
        assert app.screen.key == EnvKey("payments", "production")


async def test_ctrl_r_asks_the_engine_for_fresh_data_and_ctrl_d_does_nothing() -> None:
    app, engine, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("ctrl+d")
        await pilot.pause()
        assert isinstance(app.screen, OverviewScreen) and actions.executed == []
        assert "ctrl+d" not in app.screen.active_bindings
        await pilot.press("ctrl+r")
        assert engine.refreshes == [None]


async def test_command_palette_offers_the_actions_that_apply_to_the_selection() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("colon", *"rollback checkout")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await eventually(lambda: app.screen.__class__.__name__ == "ConfirmScreen")
        assert app.screen.plan.intent == "rollback"  # type: ignore[attr-defined]
        await pilot.press("n")
        assert actions.executed == []


async def test_a_new_minute_repaints_only_the_rows_whose_ages_read_differently() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one(ServiceTable)
        before = table_lines(app)
        refreshed = spy_on_refresh(table)
        table.set_now(DEMO_NOW + timedelta(minutes=1))
        await pilot.pause()
        after = table_lines(app)
        changed_rows = [
            y for y, (old, new) in enumerate(zip(before, after, strict=True)) if old != new
        ]
        # One region per row whose line reads differently (a "0s" deployed age becoming
        # "1m"), never the whole table.
        assert refreshed and all(len(r) == 1 and r[0].height == 1 for r in refreshed), refreshed
        assert sorted(r[0].y for r in refreshed) == changed_rows  # type: ignore[index]
