"""Snapshot tests: the screens must not drift, narrow (80×24) and wide (120×36).

The overview and the canary detail are rendered from the real demo world, frozen (the
screenshots' own moment, through ``screenshots/render.py``'s own steps), so they guard
what the README shows. Precise situations the demo does not hold at that moment — a
strong rollback warning, read-only mode, ``NO_COLOR``, help over the fake rows — come
from the hand-built states of ``tests/ui/fake_engine.py``.

Update after a deliberate change with ``pytest tests/e2e/test_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from cockpit.ui.app import CockpitApp
from cockpit.ui.screens.confirm import ConfirmScreen
from screenshots import render
from tests.helpers import eventually
from tests.ui.demo_world import FrozenDemo, frozen_demo
from tests.ui.fake_actions import FakeActions
from tests.ui.fake_engine import demo_engine

SIZES = {"wide": (120, 36), "narrow": (80, 24)}
#: Keys pressed over the fake rows, and what must be on screen before the picture.
SCREENS: dict[str, tuple[tuple[str, ...], type | None]] = {
    "help": (("question_mark",), None),
    "confirm-rollback": (("r",), ConfirmScreen),  # opens once the plan has been checked
}
NO_COLOR_SCREENS = {"overview": (), "detail-canary": ("enter",)}


@pytest.fixture(scope="module")
def demo() -> Iterator[FrozenDemo]:
    with frozen_demo("demo", seed=render.SEED, advance=render.MOMENT) as world:
        yield world


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("shot", ["overview", "detail-canary"])
def test_the_demo_looks_as_recorded(
    snap_compare: Any, demo: FrozenDemo, shot: str, size: str
) -> None:
    app, engine = demo.app()

    async def run_before(pilot: Any) -> None:
        await render.prepare(app, engine, pilot, render.SHOT_NAMED[shot])

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_looks_as_recorded(snap_compare: Any, screen: str, size: str) -> None:
    app = CockpitApp(demo_engine(), actions=FakeActions())
    keys, shown = SCREENS[screen]

    async def run_before(pilot: Any) -> None:
        await pilot.press(*keys)
        if shown is not None:
            # Armed: open for a moment, laid out, its choices line final.
            await eventually(lambda: isinstance(app.screen, shown) and app.screen.armed)

    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_read_only_overview_looks_as_recorded(snap_compare: Any) -> None:
    app = CockpitApp(demo_engine(), actions=FakeActions(), read_only=True)
    assert snap_compare(app, terminal_size=SIZES["narrow"])


@pytest.mark.parametrize("screen", NO_COLOR_SCREENS)
def test_no_color_screen_looks_as_recorded(
    snap_compare: Any, monkeypatch: pytest.MonkeyPatch, screen: str
) -> None:
    """With NO_COLOR every status still reads as a glyph and a word."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = CockpitApp(demo_engine(), actions=FakeActions())
    assert snap_compare(app, press=NO_COLOR_SCREENS[screen], terminal_size=SIZES["narrow"])
