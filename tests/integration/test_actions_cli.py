"""``cockpit promote|rollback|abort`` and ``cockpit audit`` against a simulator on its own
thread (manual clock): exit statuses, confirmation, dry run and read-only proven with
the requests the servers received."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from cockpit import cli
from cockpit.sim.background import BackgroundSimulator
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import RecordedRequest
from cockpit.sim.kube.store import ROLLOUT

STATUS = "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status"


class World:
    """The bad canary on the simulator's own thread, with a manual clock."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.background = BackgroundSimulator("bad-canary", clock=SimClock(manual=True))
        self.sim = self.background.start()
        self.sim.write_state_dir(directory)

    @property
    def config(self) -> str:
        return str(self.directory / "cockpit.toml")

    def writes(self) -> list[RecordedRequest]:
        return [r for r in list(self.sim.faults.request_log) if r.is_write]

    def rollout(self) -> dict:  # type: ignore[type-arg]
        """The Rollout once the controllers had a simulated second to react."""
        self.background.call(self.sim.advance, 1)
        store = self.sim.world.kube.store
        return self.background.call(store.get, ROLLOUT, "production", "checkout")


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    running = World(tmp_path / "sim")
    try:
        yield running
    finally:
        running.background.stop()


def audit_records(capsys: pytest.CaptureFixture[str], config: str) -> list[dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert cli.main(["audit", "--json", "--config", config]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_rollback_with_yes_aborts_the_canary_and_is_audited_once(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["rollback", "checkout", "--env", "production", "--yes", "--config", world.config]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert out.splitlines()[0] == "▲ PRODUCTION ▲  this changes what users get now"
    assert out.splitlines()[-1] == (
        "abort accepted: checkout/production sends all traffic back to the stable version"
    )
    assert [(w.method, w.path, w.body) for w in world.writes()] == [
        ("PATCH", STATUS, b'{"status":{"abort":true}}')
    ]
    status = world.rollout()["status"]
    assert status["abort"] is True and status["canary"]["weights"]["canary"]["weight"] == 0
    (record,) = audit_records(capsys, world.config)
    assert (record["action"], record["result"], record["gitlab_user"]) == ("abort", "ok", "oncall")


def test_dry_run_prints_the_exact_request_and_sends_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["rollback", "checkout", "--env", "production", "--dry-run", "--config", world.config]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    lines = out.splitlines()
    request = lines.index("Request:")
    assert lines[request + 1].startswith("  PATCH https://127.0.0.1:")
    assert lines[request + 1].endswith(STATUS)
    assert lines[request + 2] == "  Content-Type: application/merge-patch+json"
    assert lines[request + 3] == '  {"status":{"abort":true}}'
    assert lines[-1] == "dry run: nothing was sent"
    assert world.writes() == []
    assert audit_records(capsys, world.config) == []


def test_read_only_exits_1_changes_nothing_and_audits_the_refusal(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        [
            "rollback",
            "checkout",
            "--env",
            "production",
            "--yes",
            "--read-only",
            "--config",
            world.config,
        ]
    )
    _, err = capsys.readouterr()
    assert code == 1
    assert "refused: read-only mode (--read-only)" in err
    assert world.writes() == []
    assert "abort" not in world.rollout()["status"]
    (record,) = audit_records(capsys, world.config)
    assert record["result"] == "refused"
    # --read-only before the subcommand works too
    assert (
        cli.main(
            [
                "--read-only",
                "abort",
                "checkout",
                "--env",
                "production",
                "--yes",
                "--config",
                world.config,
            ]
        )
        == 1
    )
    assert world.writes() == []


def test_without_a_terminal_and_without_yes_nothing_is_sent(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code = cli.main(["rollback", "checkout", "--env", "production", "--config", world.config])
    _, err = capsys.readouterr()
    assert code == 2
    assert "add --yes to send it" in err
    assert world.writes() == []


def test_on_a_terminal_it_asks_and_n_sends_nothing_while_y_sends(
    world: World, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    answers = iter(["n", "y"])
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr("builtins.input", answer)
    arguments = ["promote", "checkout", "--env", "production", "--config", world.config]
    assert cli.main(arguments) == 1
    assert "cancelled: nothing was sent" in capsys.readouterr().err
    assert world.writes() == []
    assert cli.main(arguments) == 0
    assert prompts == ["Promote canary checkout/production: send it? [y/N] "] * 2
    assert [w.body for w in world.writes()] == [b'{"status":{"pauseConditions":null}}']


def test_promote_full_sends_the_full_promotion(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(
        ["promote", "checkout", "--env", "production", "--full", "--yes", "--config", world.config]
    )
    out, _ = capsys.readouterr()
    assert code == 0
    assert "WARNING:" in out and "full promotion skips the remaining 4 of 7 steps" in out
    assert [w.body for w in world.writes()] == [b'{"status":{"promoteFull":true}}']


def test_usage_errors_exit_2_and_name_the_choices(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["rollback", "checkout", "--yes", "--config", world.config]) == 2
    assert "give --env (one of: staging, production)" in capsys.readouterr().err
    assert cli.main(["rollback", "nope", "--yes", "--config", world.config]) == 2
    assert "no service named 'nope'" in capsys.readouterr().err
    assert cli.main(["rollback", "checkout", "--env", "qa", "--yes", "--config", world.config]) == 2
    assert "has no environment 'qa'" in capsys.readouterr().err
    assert world.writes() == []


def test_a_key_that_does_nothing_here_exits_1_with_the_reason(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli.main(["abort", "checkout", "--env", "staging", "--yes", "--config", world.config])
    assert code == 1
    assert "nothing is rolling out on checkout/staging: abort does not apply" in (
        capsys.readouterr().err
    )
    assert world.writes() == []
