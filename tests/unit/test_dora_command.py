"""`cockpit dora SERVICE --env E`: the four metrics of one environment, for people or scripts."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from cockpit import gather
from cockpit.cli import main
from cockpit.commands import dora
from cockpit.errors import CommandFailed, UsageError
from cockpit.model import Deployment
from tests.unit.gitlab_stand_in import Service, StandInGitLab, refusal, source_error_class

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def history(now: datetime = NOW) -> tuple[Deployment, ...]:
    """Ten deployments in a month, the newest rolled back half an hour later."""
    deployments = []
    for number in range(1, 11):
        finished = now - timedelta(days=3 * number - 1)
        deployments.append(
            Deployment(
                id=number,
                iid=number,
                status="success",
                ref="main",
                sha=f"{number:040x}",
                created_at=finished - timedelta(minutes=10),
                environment="production",
                finished_at=finished,
                commit_created_at=finished - timedelta(hours=4),
            )
        )
    newest = now - timedelta(days=2)  # the first one above, rolled back
    deployments.append(
        Deployment(
            id=11,
            iid=11,
            status="success",
            ref="main",
            sha=deployments[1].sha,
            created_at=newest + timedelta(minutes=20),
            environment="production",
            finished_at=newest + timedelta(minutes=30),
            is_rollback=True,
        )
    )
    return tuple(deployments)


async def test_the_environment_history_of_the_window_is_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(history=history())
    report = await gather.dora_report(gitlab, Service(), "production", days=30, now=NOW)
    assert gitlab.called("deployments") == [
        (
            ("shop/checkout", "production"),
            {"limit": gather.HISTORY_LIMIT, "updated_after": NOW - timedelta(days=30)},
        )
    ]
    assert report.deployment_frequency.display() == "2.3 per week"
    assert report.deployment_frequency.cls == "high"
    assert report.lead_time.display() == "4.0 h"
    assert report.change_failure_rate.display() == "10 %"
    assert report.time_to_restore.display() == "30 min"


async def test_an_environment_the_service_does_not_have_names_the_ones_it_has(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    with pytest.raises(UsageError) as failure:
        await gather.dora_report(StandInGitLab(), Service(), "prod", days=30, now=NOW)
    assert str(failure.value) == (
        "the service has no environment 'prod' (it has: staging, production)"
    )


async def test_gitlab_refusing_the_history_ends_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = source_error_class(monkeypatch)
    gitlab = StandInGitLab(failures={"deployments": refusal(error, "401 Unauthorized")})
    with pytest.raises(CommandFailed) as failure:
        await gather.dora_report(gitlab, Service(), "production", days=30, now=NOW)
    assert str(failure.value) == (
        "GitLab: cannot read the deployments of shop/checkout to production: 401 Unauthorized"
    )


def test_the_command_prints_a_table_or_json(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(history=history(datetime.now(UTC)))
    monkeypatch.setattr(dora, "load_service", lambda args: (gitlab, Service()))

    assert main(["dora", "checkout", "--env", "production", "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert list(document) == [
        "deployment_frequency",
        "lead_time",
        "change_failure_rate",
        "time_to_restore",
    ]
    assert document["change_failure_rate"]["value"] == pytest.approx(10.0)
    assert document["change_failure_rate"]["class"] == "elite"

    assert main(["dora", "checkout", "--env", "production", "--days", "7"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "checkout / production: DORA metrics over the last 7 days"
    assert lines[1].split()[:3] == ["deployment", "frequency", "2.0"]
    assert lines[-1] == "classes: Accelerate State of DevOps 2019 (elite, high, medium, low)"


@pytest.mark.parametrize("days", ["0", "-3", "week"])
def test_a_window_of_no_days_is_a_usage_error(
    days: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["dora", "checkout", "--env", "production", "--days", days])
    assert exit_info.value.code == 2
    assert "--days" in capsys.readouterr().err


def test_a_configuration_without_gitlab_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cockpit.toml"
    config.write_text(
        '[[service]]\nname = "checkout"\ngitlab_project = "shop/checkout"\n'
        '[[service.environment]]\nname = "production"\ngitlab_environment = "production"\n'
    )
    assert main(["dora", "checkout", "--env", "production", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"cockpit: error: {config} has no [gitlab] table: this command reads from GitLab\n"
    )
