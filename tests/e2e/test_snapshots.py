"""Snapshot tests: the screenshots' screens, narrow (80×24) and wide (120×36), must not drift.

Update after a deliberate change with ``pytest tests/e2e/test_snapshots.py --snapshot-update``
and look at the report before committing.
"""

from __future__ import annotations

from typing import Any

import pytest

from cockpit.ui.app import CockpitApp
from tests.ui.fake_actions import FakeActions
from tests.ui.fake_engine import demo_engine

SIZES = {"wide": (120, 36), "narrow": (80, 24)}
SCREENS = {
    "overview": (),
    "detail-canary": ("enter",),
    "help": ("question_mark",),
    "confirm-rollback": ("r",),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("screen", SCREENS)
def test_screen_looks_as_recorded(snap_compare: Any, screen: str, size: str) -> None:
    app = CockpitApp(demo_engine(), actions=FakeActions())
    assert snap_compare(app, press=SCREENS[screen], terminal_size=SIZES[size])


def test_read_only_overview_looks_as_recorded(snap_compare: Any) -> None:
    app = CockpitApp(demo_engine(), actions=FakeActions(), read_only=True)
    assert snap_compare(app, terminal_size=SIZES["narrow"])


@pytest.mark.parametrize("screen", ["overview", "detail-canary"])
def test_no_color_screen_looks_as_recorded(
    snap_compare: Any, monkeypatch: pytest.MonkeyPatch, screen: str
) -> None:
    """With NO_COLOR every status still reads as a glyph and a word."""
    monkeypatch.setenv("NO_COLOR", "1")
    app = CockpitApp(demo_engine(), actions=FakeActions())
    assert snap_compare(app, press=SCREENS[screen], terminal_size=SIZES["narrow"])
