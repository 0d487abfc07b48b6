"""The health guard on the bad canary: marks the row with the numbers, aborts by itself
once per revision when the environment asks for it, and never writes in read-only mode."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from cockpit.actions.guard import GuardReport, HealthGuard
from cockpit.engine import StateUpdate
from cockpit.model import Health, HealthStatus, Sample, ServiceState
from tests.integration.actions_rig import Rig, edit_env, rig

CHECKOUT = [("checkout", "production")]


def auto_abort(config):  # type: ignore[no-untyped-def]
    return edit_env(config, "checkout", "production", auto_abort=True, guard_samples=3)


def failing(r: Rig, rates: tuple[float | None, ...] = (0.97, 0.95, 0.94)) -> ServiceState:
    """The row as the engine has it, with success-rate samples taken since the canary began."""
    state = r.state("checkout", "production")
    rollout = state.rollout
    assert rollout is not None and rollout.in_progress
    started = next(x.created_at for x in rollout.revisions if x.pod_hash == rollout.current_hash)
    assert started is not None
    before = Sample(started - timedelta(minutes=5), 0.999)
    samples = tuple(Sample(started + timedelta(minutes=i + 1), v) for i, v in enumerate(rates))
    health = Health(
        threshold=0.99,
        success_rate=rates[-1],
        status=HealthStatus.BAD,
        history=(before, *samples),
    )
    return replace(state, health=health)


async def test_a_failing_canary_is_aborted_once_by_the_guard_and_audited_as_such(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, configure=auto_abort) as r:
        told: list[GuardReport] = []
        guard = HealthGuard(r.ctx, on_report=told.append)
        state = failing(r)
        report = guard.check(state)
        assert report is not None and report.triggered
        assert report.verdict.message == (
            "success rate under 99.0 % for 3 samples in a row (97.0 %, 95.0 %, 94.0 %): "
            "press r to roll back"
        )
        await guard.settle()
        guard.check(state)  # the same revision, still failing: no second abort
        await guard.settle()
        assert [(w.method, w.path, w.body) for w in r.writes()] == [
            (
                "PATCH",
                "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status",
                b'{"status":{"abort":true}}',
            )
        ]
        (record,) = r.audit_records()
        assert (record["actor"], record["action"], record["result"]) == (
            "cockpit health guard",
            "abort",
            "ok",
        )
        assert told[-1].action is not None
        assert told[-1].action.startswith("aborted by cockpit health guard: abort accepted")
        await r.until(lambda: r.rollout("production", "checkout")["status"].get("abort"), "abort")


async def test_without_auto_abort_the_guard_only_marks_the_row(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        guard = HealthGuard(r.ctx)
        report = guard.check(failing(r))
        assert report is not None and report.triggered and report.action is None
        assert guard.reports[report.key] is report
        assert "press r to roll back" in report.message
        await guard.settle()
        assert r.writes() == []


async def test_read_only_wins_over_auto_abort(tmp_path: Path) -> None:
    async with rig(
        tmp_path, "bad-canary", rows=CHECKOUT, configure=auto_abort, read_only=True
    ) as r:
        guard = HealthGuard(r.ctx)
        report = guard.check(failing(r))
        assert report is not None and report.triggered
        assert report.action == (
            "auto_abort is on, but read-only mode (--read-only): cockpit writes nothing: "
            "nothing was sent"
        )
        await guard.settle()
        assert r.writes() == []
        assert r.audit_text() == ""


async def test_two_bad_samples_of_three_are_not_yet_a_verdict(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, configure=auto_abort) as r:
        guard = HealthGuard(r.ctx)
        report = guard.check(failing(r, (0.999, 0.95, None, 0.94)))
        assert report is not None and not report.triggered
        assert report.verdict.bad_streak == 2
        await guard.settle()
        assert r.writes() == []


async def test_the_guard_follows_engine_updates_and_forgets_rows_without_a_canary(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        guard = HealthGuard(r.ctx)
        stop = guard.attach(r.engine)
        state = failing(r)
        guard.on_update(
            StateUpdate({state.key: state}, frozenset({state.key}), at=state.health.history[-1].at)
        )  # type: ignore[union-attr]
        assert guard.reports[state.key].triggered
        done = replace(state, rollout=replace(state.rollout, aborted=True))  # type: ignore[type-var]
        assert guard.check(done) is None and state.key not in guard.reports
        stop()


async def test_a_person_and_the_guard_aborting_at_once_send_one_abort(tmp_path: Path) -> None:
    from cockpit.actions import execute

    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, configure=auto_abort) as r:
        person = await r.plan("checkout", "production", "rollback")
        guard = HealthGuard(r.ctx)
        mine = asyncio.ensure_future(execute(person, r.ctx))
        guard.check(failing(r))
        result = await mine
        await guard.settle()
        assert len(r.writes()) == 1
        results = sorted(record["result"] for record in r.audit_records())
        assert results == ["ok", "refused"]
        assert result.ok or "already being sent" in result.message
