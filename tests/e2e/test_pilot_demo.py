"""The real demo world (frozen: a manual clock) through the real engine and action layer:
the 3 a.m. moment from the screen, down to what the simulated cluster received."""

from __future__ import annotations

from cockpit.model import EnvKey
from cockpit.sim.faults import Fault
from cockpit.ui.screens.detail import DetailScreen
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.demo_world import frozen_demo, settled
from tests.ui.pilot import confirm_dialog, dialog_text, notifications, static_text

CHECKOUT = EnvKey("checkout", "production")


async def test_r_then_y_on_the_bad_canary_aborts_it_with_one_write() -> None:
    with frozen_demo("demo") as demo:
        sim = demo.simulator
        app, engine = demo.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settled(app, engine)
            assert demo.writes() == []  # reading the world writes nothing
            # The health guard judged the failing canary and marked its row.
            await eventually(lambda: "health guard: " in static_text(app, "#selection"))
            assert "press r to roll back" in static_text(app, "#selection")
            await pilot.press("enter")  # the top row: the failing canary
            assert isinstance(app.screen, DetailScreen) and app.screen.key == CHECKOUT
            await pilot.press("r")
            await confirm_dialog(app)
            text = dialog_text(app)
            assert "PRODUCTION" in text
            assert "Abort canary checkout/production" in text
            # Checked against the live cluster: the full URL of the apiserver it goes to.
            assert f"PATCH {sim.urls.kube}/apis/argoproj.io/v1alpha1/namespaces/production" in text
            await pilot.press("y")
            await eventually(
                lambda: any("abort accepted" in n for n in notifications(app)),
                message="the result of the abort",
            )
            assert "last action: ✔ abort accepted" in static_text(app, "#attention")
            assert [(w.method, w.path, w.body) for w in demo.writes()] == [
                (
                    "PATCH",
                    "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status",
                    b'{"status":{"abort":true}}',
                )
            ]

            demo.advance(1)  # the controller reacts to the abort
            status = demo.rollout("production", "checkout")["status"]
            assert status["abort"] is True
            assert status["canary"]["weights"]["canary"]["weight"] == 0
            # The screen follows: the row's rollout reads aborted.
            await eventually(lambda: engine.states[CHECKOUT].rollout.aborted)
            await eventually(lambda: "rollout aborted" in static_text(app, "#attention"))
            # The canary is no longer in flight: the guard's mark is gone with it.
            assert "health guard" not in static_text(app, "#attention")
            assert CHECKOUT not in app.guard_reports


async def test_r_on_orders_warns_of_the_destructive_migration_it_would_cross() -> None:
    with frozen_demo("migration-rollback") as demo:
        app, engine = demo.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settled(app, engine)
            await pilot.press("slash", *"orders", "enter")
            assert app.screen.query_one(ServiceTable).selected == EnvKey("orders", "production")
            await pilot.press("r")
            dialog = await confirm_dialog(app)
            text = " ".join(dialog_text(app).split())
            assert "Undo orders/production to revision" in text
            # What enrich read from GitLab: the migrations between the two commits.
            assert (
                "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders)"
                in text
            )
            assert "contract: drop_legacy_state_from_orders" in text
            assert dialog.query_one("#dialog").has_class("-strong")
            await pilot.press("n")
            assert demo.writes() == []


async def test_r_is_ready_to_abort_while_gitlab_answers_slowly() -> None:
    """Time to safety: the abort needs only the cluster. With every GitLab request held
    for a minute, the dialog accepts y while the migration check still waits on GitLab."""
    with frozen_demo("demo") as demo:
        app, engine = demo.app()
        async with app.run_test(size=(120, 36)) as pilot:
            await settled(app, engine)
            slow = Fault("latency", seconds=60.0)
            demo.background.call(demo.simulator.set_fault, "gitlab", slow)
            assert app.screen.query_one(ServiceTable).selected == CHECKOUT
            await pilot.press("r")
            await confirm_dialog(app)
            text = dialog_text(app)
            assert "Abort canary checkout/production" in text
            assert "checking the migrations this rollback crosses (GitLab)" in text
            await pilot.press("y")
            await eventually(
                lambda: any("abort accepted" in n for n in notifications(app)),
                message="the result of the abort",
            )
            assert [w.path for w in demo.writes()] == [
                "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status"
            ]
