"""Detail, job log, help and dashboard in a headless terminal."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import pytest

from cockpit.model import EnvKey, Job, Stage
from cockpit.ui.insight_rows import DoraFigure, InsightRow, Maturity
from cockpit.ui.screens import job_log
from cockpit.ui.screens.dashboard import DashboardScreen
from cockpit.ui.screens.detail import DetailScreen
from cockpit.ui.screens.help import HelpScreen
from cockpit.ui.screens.job_log import JobLogScreen
from cockpit.ui.screens.overview import OverviewScreen
from tests.helpers import eventually
from tests.ui.fake_engine import checkout_production, demo_engine
from tests.ui.pilot import cockpit, confirm_dialog, dialog_text, notifications


def panel(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    return str(app.screen.query_one(selector).render())


def words(app, selector: str) -> str:  # type: ignore[no-untyped-def]
    """A panel's text with its wrapping undone (every run of spaces and newlines as one)."""
    return " ".join(panel(app, selector).split())


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
        # Measurements read as values (the query's 0..1 ratio as a percentage), newest last.
        assert "✔ 99.50 %  ✔ 99.10 %  ✖ 97.40 %" in rollout
        assert "success-rate ◌ Running  2 passed, 1 failed" in rollout
        assert "# 13 stable  5/5 ready  1.41.3" in rollout
        health = panel(app, "#health")
        assert "success rate 97.10 % < threshold 99 %" in health
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
        assert "› integration ✔ success · 50s · needs: build" in pipeline
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
        assert focused == ["pipeline", "insights", "flags", "health", "rollout", "deployments"]


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


async def test_the_job_keys_work_from_the_job_log_too() -> None:
    app, _, actions = cockpit()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("enter", "enter")
        assert isinstance(app.screen, JobLogScreen)
        bindings = app.screen.active_bindings
        assert bindings["t"].enabled  # a finished job can be retried
        assert "m" not in bindings and "c" not in bindings  # not manual, not running
        await pilot.press("t")
        await confirm_dialog(app)
        assert "job-retry build" in dialog_text(app)
        await pilot.press("y")
        await eventually(lambda: [p.intent for p in actions.executed] == ["job-retry"])


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
        assert "Abort the rollout: traffic back to stable (does not apply now)" in keys
        assert "ctrl+d" in keys and "unbound on purpose" in keys
        # Textual's own app and screen keys are not what a person opened help for.
        every_line = str(app.screen.query_one("#help-keys").render())
        assert "Refresh" in every_line
        for textual_words in ("Focus Next", "Focus Previous", "Copy selected text"):
            assert textual_words not in every_line
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)
        await pilot.press("enter", "question_mark")
        keys = panel(app, "#help-keys")
        assert "Retry job" in keys and "Back" in keys


def insight_row(environment: str, *, dora_error: str | None = None) -> InsightRow:
    figures = (
        DoraFigure("deployment frequency", "2.4 per day", "elite"),
        DoraFigure("lead time for changes", "3.0 h", "elite"),
        DoraFigure("change failure rate", "18 %", "low"),
        DoraFigure("time to restore", "n/a", None, "nothing to restore"),
    )
    return InsightRow(
        "checkout",
        environment,
        Maturity(
            level=3,
            name="continuous delivery",
            present=("automated tests on every commit", "a staging deploy before production"),
            missing=("production deploys automatically after tests",),
            next_step="production deploys automatically after tests",
            next_step_reason="let the production job run automatically on the default branch",
        ),
        dora=() if dora_error else figures,
        dora_error=dora_error,
    )


async def test_dashboard_shows_levels_and_dora_classes_side_by_side() -> None:
    rows = (
        insight_row("staging"),
        insight_row("production", dora_error="GitLab: cannot read the deployments: 403"),
    )
    asked: list[str | None] = []

    async def provider(service: str | None = None) -> tuple[InsightRow, ...]:
        asked.append(service)
        return rows

    app, _, _ = cockpit(insights=provider)
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.press("d")
        assert isinstance(app.screen, DashboardScreen)
        table = app.screen.query_one("#dashboard-table")
        await eventually(lambda: table.row_count == 2)
        assert asked == [None]
        first = [str(c) for c in table.get_row_at(0)]
        assert first[:3] == ["checkout", "staging", "3 delivery"]
        assert first[3] == "2.4 per day ● elite" and first[6] == "n/a –"
        second = [str(c) for c in table.get_row_at(1)]
        assert second[:3] == ["", "production", ""]  # the service and its level once
        assert second[3] == "?"
        # Every cell is shown whole: the columns are as wide as their widest cell.
        widths = [c.width for c in table.columns.values()]
        assert widths[3] >= len("2.4 per day ● elite")
        note = panel(app, "#dashboard-note")
        assert "next step: production deploys automatically after tests" in note
        await pilot.press("j")
        assert "DORA: GitLab: cannot read the deployments: 403" in panel(app, "#dashboard-note")
        await pilot.press("escape")
        assert isinstance(app.screen, OverviewScreen)


async def test_the_detail_measures_maturity_and_dora_of_its_row_when_opened() -> None:
    gate = asyncio.Event()
    asked: list[str | None] = []

    async def provider(service: str | None = None) -> tuple[InsightRow, ...]:
        asked.append(service)
        await gate.wait()
        return (insight_row("staging"), insight_row("production"))

    app, _, _ = cockpit(insights=provider)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("enter")
        assert isinstance(app.screen, DetailScreen)
        await eventually(lambda: "measuring…" in panel(app, "#insights"))
        assert asked == ["checkout"]
        gate.set()
        await eventually(
            lambda: "Maturity level 3 of 4 · continuous delivery" in panel(app, "#insights")
        )
        text = words(app, "#insights")
        assert "✔ present: automated tests on every commit, a staging deploy" in text
        assert "✖ missing: production deploys automatically after tests" in text
        assert "➜ next step: production deploys automatically after tests: let the" in text
        assert "DORA production · last 30 days" in text
        assert "deployment frequency 2.4 per day ● elite" in text
        assert "change failure rate 18 % ○ low" in text
        assert "time to restore n/a nothing to restore" in text


async def test_the_detail_says_why_gitlab_would_not_give_the_insights() -> None:
    async def provider(service: str | None = None) -> tuple[InsightRow, ...]:
        return (
            InsightRow(
                "checkout",
                "production",
                Maturity(
                    level=None, error="GitLab: cannot read .gitlab-ci.yml of shop/checkout: 403"
                ),
                dora_error="GitLab: cannot read the deployments of shop/checkout: 403",
            ),
        )

    app, _, _ = cockpit(insights=provider)
    async with app.run_test(size=(120, 60)) as pilot:
        await pilot.press("enter")
        await eventually(lambda: "not assessed" in panel(app, "#insights"))
        text = words(app, "#insights")
        assert "cannot read .gitlab-ci.yml of shop/checkout: 403" in text
        assert "cannot read the deployments of shop/checkout: 403" in text


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


SEVEN_STAGES = {
    "quick_checks": ["lint", "typecheck"],
    "build": ["build", "dependency_scan"],
    "test": ["unit_tests", "integration_tests", "contract_tests", "e2e_tests"],
    "staging_deploy": ["deploy_staging"],
    "staging_tests": ["staging_smoke_tests"],
    "production_deploy": ["deploy_production"],
    "production_verification": ["production_smoke_tests"],
}


@pytest.mark.parametrize("size", [(120, 36), (80, 24)])
async def test_seven_stages_read_left_to_right_with_every_name_whole(
    size: tuple[int, int],
) -> None:
    state = checkout_production()
    assert state.pipeline is not None
    job_id = 900
    stages = []
    for name, jobs in SEVEN_STAGES.items():
        built = []
        for job in jobs:
            job_id += 1
            status = "manual" if job == "deploy_production" else "created"
            if name in ("quick_checks", "build", "test", "staging_deploy", "staging_tests"):
                status = "success"
            built.append(
                Job(job_id, job, name, status, duration=65.0 if status == "success" else None)
            )
        stages.append(Stage(name, tuple(built)))
    engine = demo_engine()
    pipeline = replace(state.pipeline, status="manual", stages=tuple(stages))
    engine.publish(replace(state, pipeline=pipeline))
    app, _, _ = cockpit(engine)
    async with app.run_test(size=size) as pilot:
        await pilot.press("enter")
        await pilot.pause()
        text = panel(app, "#pipeline")
        lines = text.splitlines()
        # Stage headings, read band by band, left to right, come in pipeline order.
        headings = [
            word.strip("→ ")
            for line in lines
            for word in line.split(" → ")
            if word.strip().startswith(("✔", "▶", "○"))
            and word.strip().split(" ", 1)[-1].strip() in SEVEN_STAGES
        ]
        assert [h.split(" ", 1)[1].strip() for h in headings] == list(SEVEN_STAGES)
        for jobs in SEVEN_STAGES.values():
            for job in jobs:
                assert job in text, job
        assert "…" not in text
        # The cursor starts where a person looks: the manual gate.
        assert "› deploy_production ▶ manual · needs: its stage order only" in text


async def test_a_narrow_dashboard_keeps_the_classes_and_moves_the_values_to_the_note() -> None:
    async def provider(service: str | None = None) -> tuple[InsightRow, ...]:
        # The demo's longest names, as wide as a row gets.
        return tuple(
            replace(insight_row(env), service="notifications") for env in ("staging", "production")
        )

    app, _, _ = cockpit(insights=provider)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("d")
        table = app.screen.query_one("#dashboard-table")
        await eventually(lambda: table.row_count == 2)
        first = [str(c) for c in table.get_row_at(0)]
        assert first[2:] == ["3", "● elite", "● elite", "○ low", "–"]
        # Every column fits beside the scrollbar: nothing to scroll sideways for.
        assert table.max_scroll_x == 0
        note = panel(app, "#dashboard-note")
        assert "2.4 per day · 3.0 h · 18 % · n/a · level 3 continuous delivery" in note
