"""Detail, job log, help and dashboard in a headless terminal."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cockpit.model import EnvKey
from cockpit.ui.insight_rows import DoraFigure, InsightRow
from cockpit.ui.screens import job_log
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.detail import DetailScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.job_log import JobLogScreen
from cockpit.ui.screens.overview import OverviewScreen
from tests.helpers import eventually
from tests.ui.fake_engine import checkout_production, demo_engine
from tests.ui.pilot import cockpit, notifications


def panel(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


async def test_detail_shows_the_rollout_as_the_plugin_does() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        rollout = panel(app, "#rollout")
        assert "Step: 1/6  SetWeight: 20  ActualWeight: 20" in rollout
        assert "▶ 1 pause: 5m  ← current" in rollout
        assert "✔ 0 setWeight: 20" in rollout and "○ 5 setWeight: 100" in rollout
        assert "paused, 2m 30s left" in rollout
        assert "✔ 0.995 ✔ 0.991 ✖ 0.974" in rollout
        assert "# 13 stable  5/5 ready  1.41.3" in rollout
        health = panel(app, "#health")
        assert "success rate 97.10% < threshold 99.0%" in health
        assert "latency p99 660 ms" in health
        history = panel(app, "#deployments")
        assert "#90 9f3c2a1b" in history and "bob" in history
        assert "● on  new-payment-form" in panel(app, "#flags")


async def test_pipeline_jobs_move_with_hjkl_and_show_needs() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(100, 40)) as pilot:
        await pilot.press("enter")
        await pilot.press("l", "j")
        pipeline = panel(app, "#pipeline")
        assert "›✔ integration" in pipeline
        assert "integration needs: build" in pipeline
        assert "! dependency-scan allowed" in pipeline


async def test_job_keys_show_in_the_footer_only_when_they_apply() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        bindings = app.screen.active_bindings
        assert bindings["t"].binding.action == "job_action('job-retry')"
        assert bindings["t"].binding.description == "Retry job"
        assert bindings["m"].binding.action.startswith("explain")  # the job is not manual
        assert bindings["c"].binding.action.startswith("explain")  # nor running
        await pilot.press("m")
        await pilot.pause()
        assert any("cannot play build" in n for n in notifications(app))


async def test_tab_moves_between_panels() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("enter")
        focused = []
        for _ in range(6):
            focused.append(app.focused.id if app.focused else None)
            await pilot.press("tab")
        assert focused == ["pipeline", "deployments", "flags", "health", "rollout", "pipeline"]


async def test_detail_follows_live_updates_of_its_row() -> None:
    app, engine, _ = cockpit()
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("enter")
        state = checkout_production()
        assert state.rollout is not None
        engine.publish(
            replace(state, rollout=replace(state.rollout, aborted=True, phase="Degraded"))
        )
        await eventually(lambda: "✖ aborted" in panel(app, "#rollout"))
        assert "rollout aborted" in panel(app, "#attention")


async def test_job_log_is_cleaned_and_followed_while_the_job_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(job_log, "POLL_SECONDS", 0.05)
    engine = demo_engine()
    state = engine.states[EnvKey("checkout", "production")]
    assert state.pipeline is not None
    build = state.pipeline.jobs[0]
    running_stage = replace(state.pipeline.stages[0], jobs=(replace(build, status="running"),))
    running = replace(
        state, pipeline=replace(state.pipeline, stages=(running_stage, *state.pipeline.stages[1:]))
    )
    engine.publish(running)
    engine.traces[build.id] = "section_start:1:step\r\x1b[0K\x1b[32m$ make\x1b[0m\nstep 1\n"
    app, _, _ = cockpit(engine)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter", "enter")
        assert isinstance(app.screen, JobLogScreen)
        log = app.screen.query_one("#log")

        def shown() -> list[str]:
            return [line.text for line in log.lines]

        await eventually(lambda: shown() == ["$ make", "step 1"])
        engine.traces[build.id] += "step 2\npartial"
        await eventually(lambda: shown() == ["$ make", "step 1", "step 2"])
        engine.publish(state)  # the job finished: the last line is complete, polling stops
        await eventually(lambda: shown()[-1] == "partial")
        calls = len(engine.trace_calls)
        await pilot.pause(0.2)
        assert len(engine.trace_calls) == calls
        await pilot.press("escape")
        assert isinstance(app.screen, DetailScreen)


async def test_a_log_that_cannot_be_read_says_why() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter", "l", "enter")
        await eventually(lambda: "✖ GitLab: job 48122 not found (404)" in panel(app, "#log-title"))


async def test_help_lists_every_key_of_the_screen_underneath() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 50)) as pilot:
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        keys = panel(app, "#help-keys")
        for words in (
            "j ↓",
            "Filter",
            "Rollback",
            "Promote",
            "Flags",
            "Dashboard",
            "Refresh",
            "Quit",
        ):
            assert words in keys
        assert "Abort: Abort the rollout: traffic back to stable (does not apply now)" in keys
        assert "ctrl+d" in keys and "unbound on purpose" in keys
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("enter", "question_mark")
        keys = panel(app, "#help-keys")
        assert "Retry job" in keys and "Back" in keys


async def test_dashboard_shows_levels_and_dora_classes_side_by_side() -> None:
    rows = (
        InsightRow(
            "checkout",
            "production",
            3,
            "deploy to production automatically after the tests",
            ("automatic production deploy",),
            DoraFigure("2.4/day", "elite"),
            DoraFigure("3h", "elite"),
            DoraFigure("18%", "high"),
            DoraFigure("n/a", None),
        ),
    )

    async def provider() -> tuple[InsightRow, ...]:
        return rows

    app, _, _ = cockpit(insights=provider)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one("#dashboard-table")
        await eventually(lambda: table.row_count == 1)
        row = [str(c) for c in table.get_row_at(0)]
        assert row[:3] == ["checkout", "production", "3 delivery"]
        assert row[3] == "2.4/day elite" and row[6] == "n/a n/a"
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_dashboard_without_data_says_so() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        assert "not connected" in panel(app, "#dashboard-note")


async def test_theme_switch_redraws_the_table() -> None:
    app, _, _ = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        table = app.screen.query_one("#table")
        before = table.render_line(1)
        app.theme = "textual-light"
        await pilot.pause()
        after = table.render_line(1)
        assert before.text == after.text
        assert before != after  # colours follow the theme
