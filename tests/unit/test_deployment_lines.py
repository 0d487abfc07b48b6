"""The detail's deployment history reads as a table: the commit titles start in one column."""

from __future__ import annotations

from dataclasses import replace

from cockpit.ui.widgets.detail.history import deployment_lines
from tests.ui.fake_engine import DEMO_NOW, checkout_production


def test_titles_line_up_whatever_the_numbers_users_and_outcomes() -> None:
    newest, middle, oldest = checkout_production().deployments[:3]
    history = (
        replace(newest, iid=102, user="hschmidt", is_rollback=True),
        replace(middle, iid=99, status="failed", user="jo"),
        oldest,
    )
    text = "".join(fragment for fragment, _ in deployment_lines(history, DEMO_NOW))
    lines = text.splitlines()
    assert len(lines) == 3
    columns = {line.index("change ") for line in lines}
    assert len(columns) == 1, lines
    assert "↺ rollback" in lines[0] and "failed" in lines[1]
