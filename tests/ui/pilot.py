"""Helpers for pilot tests: an app over the fake engine, what is on screen in words, and
the confirm dialog once it accepts keys."""

from __future__ import annotations

from typing import Any

from textual.widgets import Static

from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.confirm import ConfirmScreen
from cockpit.ui.widgets.overview.service_table import ServiceTable
from tests.helpers import eventually
from tests.ui.fake_actions import FakeActions
from tests.ui.fake_engine import FakeEngine, demo_engine


def cockpit(
    engine: FakeEngine | None = None, *, actions: FakeActions | None = None, **kwargs: Any
) -> tuple[CockpitApp, FakeEngine, FakeActions]:
    engine = engine or demo_engine()
    actions = actions if actions is not None else FakeActions()
    return CockpitApp(engine, actions=actions, **kwargs), engine, actions


def static_text(app: CockpitApp, selector: str) -> str:
    widget = app.screen.query_one(selector, Static)
    return str(widget.render())


def table_lines(app: CockpitApp) -> list[str]:
    table = app.screen.query_one(ServiceTable)
    return [table.render_line(y).text for y in range(table.size.height)]


def notifications(app: CockpitApp) -> list[str]:
    return [n.message for n in app._notifications]


async def confirm_dialog(app: CockpitApp) -> ConfirmScreen:
    """The confirm dialog once it is open (after the plan was checked) and accepts keys."""
    await eventually(
        lambda: isinstance(app.screen, ConfirmScreen) and app.screen.armed,
        message="the confirm dialog, ready for a key",
    )
    assert isinstance(app.screen, ConfirmScreen)
    return app.screen


def dialog_text(app: CockpitApp) -> str:
    return "\n".join(str(w.render()) for w in app.screen.query("#dialog Static"))
