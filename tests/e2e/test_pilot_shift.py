"""A whole on-call shift in a headless terminal: quitting is clean, nothing grows with use.

Engine updates and health-guard reports arrive at any moment, also while a screen is
covered by another or the app is quitting: none of them may reach a screen that is
not there any more, and quitting from any screen writes nothing over the shell. The footer is rebuilt on many cursor moves (the write keys that apply change from row
to row); each rebuild used to leave its keys' watchers behind, so a shift made every
later move slower and the process bigger.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from dataclasses import replace
from typing import Any

import pytest
from textual.dom import DOMNode

from cockpit.actions.guard import GuardReport
from cockpit.insights.health_guard import GuardVerdict
from cockpit.model import EnvKey
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.detail import DetailScreen
from cockpit.ui.screens.flags import FlagsScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.job_log import JobLogScreen
from cockpit.ui.screens.overview import OverviewScreen
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.fake_actions import FakeActions
from tests.ui.fake_engine import FakeEngine, checkout_production
from tests.ui.pilot import cockpit

CHECKOUT = EnvKey("checkout", "production")

#: Down the whole demo table and back up: every row, and the footer keys change on most.
SWEEP = ["j"] * 6 + ["k"] * 6


def watcher_count(app: Any) -> int:
    """Every reactive watcher registered in the app: Textual keeps them in a
    ``__watchers`` dict on the watched object (textual/reactive.py ``_watch``)."""
    nodes: list[DOMNode] = [app]
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(with_self=True))
    return sum(
        len(watchers) for node in nodes for watchers in getattr(node, "__watchers", {}).values()
    )


def footer_actions(app: Any) -> list[str]:
    return [key.action for key in app.screen.query_one(KeyFooter).query("FooterKey")]


@pytest.mark.slow  # 204 key presses, each waited on by the pilot
async def test_the_number_of_watchers_stays_flat_over_200_cursor_moves() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        table = app.screen.query_one(ServiceTable)
        await eventually(lambda: "quit" in footer_actions(app), message="the footer keys")
        await pilot.press(*SWEEP)  # warm-up: every row once
        await pilot.pause()
        top_keys = await eventually(
            lambda: table.selected == table.rows[0] and footer_actions(app),
            message="the footer of the top row",
        )
        warmed_up = watcher_count(app)

        seen: set[tuple[str, ...]] = set()
        for _ in range(17):  # 204 moves
            for key in SWEEP:
                await pilot.press(key)
                seen.add(tuple(footer_actions(app)))
        await pilot.pause()
        await eventually(
            lambda: table.selected == table.rows[0] and footer_actions(app) == top_keys,
            message="the top row's footer again",
        )
        assert len(seen) > 2, "the footer keys changed between rows (it was rebuilt)"
        assert watcher_count(app) == warmed_up


async def test_printing_while_the_app_runs_reaches_the_output(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """A library that prints or logs to stderr while the screen runs (and flushes, as
    ``logging`` does) must not crash cockpit; Textual passes the text on."""
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        print("a line on stdout", flush=True)
        print("a line on stderr", file=sys.stderr, flush=True)
        logging.getLogger("cockpit.test").addHandler(handler := logging.StreamHandler())
        try:
            logging.getLogger("cockpit.test").warning("a logged warning")
        finally:
            logging.getLogger("cockpit.test").removeHandler(handler)
        await pilot.press("q")
    assert app.return_code == 0
    captured = capfd.readouterr()
    assert "a line on stdout" in captured.out
    assert "a line on stderr" in captured.err and "a logged warning" in captured.err


def guard_report(streak: int) -> GuardReport:
    return GuardReport(
        key=CHECKOUT,
        verdict=GuardVerdict(True, streak, 0.971, f"{streak} samples in a row under 99 %"),
        threshold=0.99,
        consecutive=3,
        canary="7d4f9c",
    )


class Storm:
    """Engine updates and guard reports: one round at a time with :meth:`blow`, or on
    every turn of the event loop from :meth:`rage` until :meth:`calm` (only while the
    app quits: so fast a stream keeps the pilot from ever seeing the app idle). The
    guard reports for as long as the app watches health, as the real one does until
    the app stops it."""

    def __init__(self, engine: FakeEngine, actions: FakeActions) -> None:
        state = checkout_production()
        assert state.health is not None
        self._variants = (state, replace(state, health=replace(state.health, success_rate=0.95)))
        self._engine = engine
        self._actions = actions
        self._calm = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.rounds = 0

    def blow(self) -> None:
        self._engine.publish(self._variants[self.rounds % 2])
        if self._actions.watching:
            self._actions.report(guard_report(3 + self.rounds % 2))
        self.rounds += 1

    def rage(self) -> None:
        self._task = asyncio.create_task(self._rage())

    async def calm(self) -> int:
        """Stop; the number of rounds (a listener's exception is raised here)."""
        self._calm.set()
        if self._task is not None:
            await self._task
        return self.rounds

    async def _rage(self) -> None:
        while not self._calm.is_set():
            self.blow()
            await asyncio.sleep(0)  # one turn of the event loop: the app runs between rounds


#: How to open each screen from the overview, and the screen that opens.
SCREENS = {
    "overview": ((), OverviewScreen),
    "detail": (("enter",), DetailScreen),
    "flags": (("f",), FlagsScreen),
    "job log": (("enter", "enter"), JobLogScreen),
    "dashboard": (("d",), DashboardScreen),
    "help": (("question_mark",), HelpScreen),
    "confirm dialog": (("r",), ConfirmScreen),
    "command palette": (("colon",), None),
}


@pytest.mark.parametrize("name", list(SCREENS))
async def test_quitting_from_any_screen_while_updates_arrive_is_clean(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    keys, screen_type = SCREENS[name]
    app, engine, actions = cockpit()
    storm: Storm | None = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            storm = Storm(engine, actions)
            for key in keys:
                storm.blow()
                await pilot.press(key)
                storm.blow()
            await eventually(
                lambda: (
                    isinstance(app.screen, screen_type)
                    if screen_type is not None
                    else type(app.screen).__name__ == "CommandPalette"
                ),
                message=f"the {name}",
            )
            storm.rage()
            await pilot.press("ctrl+q")
    finally:
        rounds = await storm.calm() if storm is not None else 0
    assert rounds > 0
    assert app._exception is None
    assert app.return_code == 0
    assert capfd.readouterr() == ("", ""), "something was written over the shell"


async def test_going_back_and_forth_while_updates_arrive_is_clean(
    capfd: pytest.CaptureFixture[str],
) -> None:
    """Screens opened and closed under a stream of updates: each closed screen's timers,
    workers and listeners find nothing to do, and the overview is still live."""
    app, engine, actions = cockpit()
    storm: Storm | None = None
    try:
        async with app.run_test(size=(120, 36)) as pilot:
            await pilot.pause()
            storm = Storm(engine, actions)

            async def press(*keys: str) -> None:
                for key in keys:
                    await pilot.press(key)
                    storm.blow()

            await press("enter", "enter", "escape", "escape", "f", "escape", "r")
            await eventually(lambda: isinstance(app.screen, ConfirmScreen))
            await press("n", "question_mark", "escape", "d", "escape", "colon", "escape")
            await eventually(lambda: isinstance(app.screen, OverviewScreen))
            selection = app.screen.query_one("#selection")
            assert "samples in a row under 99 %" in str(selection.render())
            storm.rage()
            await pilot.press("q")
    finally:
        if storm is not None:
            await storm.calm()
    assert app._exception is None and app.return_code == 0
    assert capfd.readouterr() == ("", ""), "something was written over the shell"
