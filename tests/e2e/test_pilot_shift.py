"""A whole on-call shift in a headless terminal: nothing grows with use.

The footer is rebuilt on many cursor moves (the write keys that apply change from row
to row); each rebuild used to leave its keys' watchers behind, so a shift made every
later move slower and the process bigger.
"""

from __future__ import annotations

import logging
import sys
from typing import Any

import pytest
from textual.dom import DOMNode

from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.pilot import cockpit

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
