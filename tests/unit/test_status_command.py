"""``cockpit status``: the JSON every script reads, the table, and which rows count as failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from cockpit.commands.status import HEADERS, failing, format_table, row_json, source_problems
from cockpit.model import (
    Deployment,
    EnvKey,
    Health,
    HealthStatus,
    Job,
    LinkState,
    Pipeline,
    Rollout,
    RolloutStep,
    ServiceState,
    SourceName,
    SourceStatus,
    Stage,
    Strategy,
)

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
OK_SOURCES = tuple(SourceStatus(s, LinkState.OK, last_success=NOW) for s in SourceName)


def canary(weight: int, *, aborted: bool = False) -> Rollout:
    steps = (
        RolloutStep(0, "setWeight", "setWeight: 20", weight=20),
        RolloutStep(1, "pause", "pause"),
        RolloutStep(2, "setWeight", "setWeight: 100", weight=100),
    )
    return Rollout(
        kind="Rollout",
        name="checkout",
        namespace="production",
        strategy=Strategy.CANARY,
        phase="Degraded" if aborted else "Paused",
        steps=steps,
        step_index=0 if aborted else 1,
        set_weight=0 if aborted else weight,
        actual_weight=0 if aborted else weight,
        paused=not aborted,
        aborted=aborted,
        current_hash="new",
        stable_hash="old",
        images=("registry.example.com/shop/checkout:1a2b3c4d",),
    )


def state(**changes) -> ServiceState:
    base = dict(
        key=EnvKey("checkout", "production"),
        pipeline=Pipeline(
            id=42,
            status="success",
            ref="main",
            sha="1a2b3c4d" + "0" * 32,
            stages=(
                Stage("test", (Job(id=1, name="unit_tests", stage="test", status="success"),)),
            ),
        ),
        rollout=canary(20),
        health=Health(threshold=0.99, success_rate=0.995, status=HealthStatus.OK),
        deployments=(
            Deployment(
                id=7,
                iid=7,
                status="success",
                ref="main",
                sha="1a2b3c4d" + "0" * 32,
                created_at=NOW - timedelta(minutes=9),
                environment="production",
                user="alice",
            ),
        ),
        sources=OK_SOURCES,
    )
    base.update(changes)
    return ServiceState(**base)


def test_json_row_carries_what_scripts_need() -> None:
    row = row_json(state(), NOW, {SourceName.GITLAB: NOW - timedelta(seconds=12)})
    assert row["service"] == "checkout" and row["environment"] == "production"
    assert row["pipeline"]["id"] == 42 and row["pipeline"]["status"] == "success"
    assert row["pipeline"]["stages"][0] == {
        "name": "test",
        "status": "success",
        "jobs": [
            {
                "id": 1,
                "name": "unit_tests",
                "status": "success",
                "allow_failure": False,
                "duration": None,
            }
        ],
    }
    rollout = row["rollout"]
    assert (rollout["strategy"], rollout["step"], rollout["steps"]) == ("canary", 1, 3)
    assert (rollout["canary_weight"], rollout["paused"], rollout["aborted"]) == (20, True, False)
    assert row["health"] == {
        "success_rate": 0.995,
        "threshold": 0.99,
        "status": "ok",
        "latency_p99_seconds": None,
    }
    assert row["sources"]["gitlab"] == {"state": "ok", "age_seconds": 12.0, "error": None}
    assert row["last_deployment"]["user"] == "alice"


def test_no_traffic_is_null_not_a_number() -> None:
    row = row_json(
        state(health=Health(threshold=0.99, success_rate=None, status=HealthStatus.NO_TRAFFIC)),
        NOW,
        {},
    )
    assert row["health"]["success_rate"] is None
    assert row["health"]["status"] == "no-traffic"
    assert "no traffic" in format_table([state(health=Health(0.99, None, HealthStatus.NO_TRAFFIC))])


def test_failing_rows_are_bad_health_aborts_failed_pipelines_and_unreadable_sources() -> None:
    assert not failing(state())
    assert failing(state(health=Health(threshold=0.99, success_rate=0.97, status=HealthStatus.BAD)))
    assert failing(state(rollout=canary(0, aborted=True)))
    failed = Pipeline(id=43, status="failed", ref="main", sha="f" * 40)
    assert failing(state(pipeline=failed))
    down = tuple(
        SourceStatus(s, LinkState.DOWN if s is SourceName.PROMETHEUS else LinkState.OK)
        for s in SourceName
    )
    assert failing(state(sources=down))


def test_a_gate_waiting_for_a_person_is_not_a_failure() -> None:
    gate = Job(id=9, name="deploy_production", stage="deploy", status="manual")
    assert not failing(state(manual_gate=gate))


def test_table_has_a_header_and_one_line_per_row_in_words() -> None:
    table = format_table(
        [state(), state(key=EnvKey("cart", "staging"), rollout=canary(0, aborted=True))]
    )
    lines = table.splitlines()
    assert lines[0].split() == HEADERS
    assert len(lines) == 3
    assert "canary step 1/3 20% paused Paused" in lines[1]
    assert "99.50% (ok)" in lines[1]
    assert "aborted" in lines[2]


def test_under_the_table_each_unreadable_source_says_why() -> None:
    def sources(error: str | None) -> tuple[SourceStatus, ...]:
        return tuple(
            SourceStatus(s, LinkState.DOWN, last_error=error)
            if s is SourceName.GITLAB
            else SourceStatus(s, LinkState.OK)
            for s in SourceName
        )

    rows = [
        state(sources=sources("GitLab rejected the token (401): check GITLAB_TOKEN")),
        state(
            key=EnvKey("cart", "staging"),
            sources=sources("GitLab rejected the token (401): check GITLAB_TOKEN"),
        ),
        state(key=EnvKey("cart", "production")),
    ]
    assert source_problems(rows) == [
        "gitlab down on 2 of 3 rows: GitLab rejected the token (401): check GITLAB_TOKEN"
    ]
    assert source_problems([state()]) == []
