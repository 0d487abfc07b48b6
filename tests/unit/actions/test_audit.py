"""The audit log: append-only JSONL, 0600, one fsynced line per record, never a token."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from cockpit import cli
from cockpit.actions.audit import AuditLog, AuditRecord, read_audit
from cockpit.locations import audit_log_path

TOKEN = "glpat-very-secret-token"


def record(**fields: object) -> AuditRecord:
    values: dict[str, object] = {
        "time": "2026-11-26T03:04:05.123Z",
        "actor": "person",
        "local_user": "alice",
        "gitlab_user": "oncall",
        "action": "abort",
        "service": "checkout",
        "environment": "production",
        "target": "Rollout production/checkout revision 33",
        "result": "ok",
        "requests": (
            "PATCH /apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status",
        ),
    }
    values.update(fields)
    return AuditRecord(**values)  # type: ignore[arg-type]


def test_records_are_appended_one_line_each_to_a_file_only_the_user_can_read(
    tmp_path: Path,
) -> None:
    path = tmp_path / "state" / "cockpit" / "audit.jsonl"
    log = AuditLog(path)
    log.append_now(record())
    log.append_now(record(result="refused", error="read-only mode"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    lines = path.read_text().splitlines()
    assert [json.loads(line)["result"] for line in lines] == ["ok", "refused"]
    assert read_audit(path).records == (record(), record(result="refused", error="read-only mode"))


async def test_appending_from_the_event_loop_keeps_every_record(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    for index in range(5):
        await log.append(record(target=f"t{index}"))
    assert [r.target for r in read_audit(log.path).records] == [f"t{i}" for i in range(5)]


def test_a_token_never_reaches_the_file_whatever_field_it_hides_in(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl", secrets=(TOKEN,))
    written = log.append_now(
        record(
            result="failed",
            error=f"GitLab said 401 for private_token={TOKEN}",
            target=f"job {TOKEN}",
            requests=(f"POST /api/v4/projects/1/jobs/2/play?private_token={TOKEN}",),
        )
    )
    text = log.path.read_text()
    assert TOKEN not in text
    assert written.error == "GitLab said 401 for private_token=***"


def test_a_corrupt_line_is_reported_and_skipped_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    AuditLog(path).append_now(record(target="first"))
    with path.open("a") as handle:
        handle.write('{"time": "2026-11-26T03:05:00Z", "actio\n')
        handle.write("[1, 2]\n")
    AuditLog(path).append_now(record(target="after"))
    reading = read_audit(path)
    assert [r.target for r in reading.records] == ["first", "after"]
    assert len(reading.problems) == 2
    assert "line 2: not JSON" in reading.problems[0]
    assert "line 3: not a JSON object" in reading.problems[1]


def test_cockpit_audit_prints_a_table_and_json_lines_and_reports_bad_lines(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = AuditLog(audit_log_path())
    log.append_now(record())
    log.append_now(
        record(
            actor="cockpit health guard",
            result="failed",
            error="Kubernetes: user viewer cannot patch",
        )
    )
    with log.path.open("a") as handle:
        handle.write("not json\n")
    assert cli.main(["audit"]) == 0
    out, err = capsys.readouterr()
    table = out.splitlines()
    assert table[0].split() == ["TIME", "RESULT", "ACTION", "ROW", "WHO", "TARGET", "/", "ERROR"]
    assert "2026-11-26 03:04:05  ok" in table[1] and "oncall (alice)" in table[1]
    assert "cockpit health guard for oncall (alice)" in table[2]
    assert table[2].endswith("revision 33: Kubernetes: user viewer cannot patch")
    assert "line 3: not JSON" in err
    assert cli.main(["audit", "--json"]) == 0
    out, _ = capsys.readouterr()
    parsed = [json.loads(line) for line in out.splitlines()]
    assert [p["result"] for p in parsed] == ["ok", "failed"]
    assert parsed[0]["requests"] == list(record().requests)


def test_cockpit_audit_with_no_log_yet_says_so_and_succeeds(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["audit"]) == 0
    assert "no audit records yet" in capsys.readouterr().err


def test_a_write_is_one_record_whose_outcome_replaces_its_pending_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.jsonl")
    log.append_now(record(id="w1", result="pending"))
    log.append_now(record(id="w2", result="pending", target="the flag"))
    log.append_now(record(id="w1", result="ok"))
    records = read_audit(log.path).records
    assert [(r.id, r.result, r.outcome) for r in records] == [
        ("w1", "ok", "ok"),
        ("w2", "pending", "sent, outcome unknown"),
    ]


def test_cockpit_audit_shows_a_write_whose_answer_never_came_as_sent_outcome_unknown(
    capsys: pytest.CaptureFixture[str],
) -> None:
    AuditLog(audit_log_path()).append_now(record(id="w1", result="pending"))
    assert cli.main(["audit"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert "sent, outcome unknown" in table[1]
