"""`cockpit maturity`: from a CI file alone, or from a service's GitLab project."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cockpit import gather
from cockpit.cli import build_parser, main
from cockpit.commands import maturity
from cockpit.errors import CommandFailed
from cockpit.insights.ciconfig import parse
from cockpit.insights.maturity import assess
from cockpit.model import CiLint, Deployment, FeatureFlag, GroupProject
from tests.unit.gitlab_stand_in import (
    Service,
    StandInGitLab,
    refusal,
    source_error_class,
)

MANUAL_GATE = """\
stages: [lint, test, deploy]
lint: {stage: lint, script: ruff check .}
unit: {stage: test, script: pytest}
production:
  stage: deploy
  script: ./deploy.sh
  environment: production
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
"""


def write(tmp_path: Path, text: str | bytes, name: str = ".gitlab-ci.yml") -> str:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# --------------------------------------------------------------------------- --ci-file


def test_ci_file_report_for_people(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MANUAL_GATE)
    assert main(["maturity", "--ci-file", path]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0] == f"{path}: maturity level 3 of 4, continuous delivery"
    assert "present:" in lines and "missing:" in lines and "unknown:" in lines
    assert "  + fail-fast order: lint runs before unit" in lines
    assert "  ? a rollback path: needs GitLab's deployment history" in lines
    assert lines[-1].startswith("next step: ")


def test_ci_file_report_as_json(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, MANUAL_GATE)
    assert main(["maturity", "--ci-file", path, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["level"] == 3
    assert {"level", "present", "missing", "unknown"} <= set(document)
    unknown = {item["key"] for item in document["unknown"]}
    assert unknown == {"monitoring", "rollback_path", "feature_flags"}
    assert all(set(item) == {"key", "title", "reason"} for item in document["missing"])


def test_the_default_branch_can_be_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(
        tmp_path,
        """
stages: [test, deploy]
unit: {stage: test, script: pytest}
deploy: {stage: deploy, script: ./deploy.sh, environment: production, only: [trunk]}
""",
    )
    main(["maturity", "--ci-file", path, "--json"])
    assert json.loads(capsys.readouterr().out)["level"] == 2, "nothing deploys from main"
    main(["maturity", "--ci-file", path, "--json", "--default-branch", "trunk"])
    assert json.loads(capsys.readouterr().out)["level"] == 4


def test_a_file_with_includes_gives_a_lower_bound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "include: [{local: ci/tests.yml}]\ndeploy: {script: ./deploy.sh}\n")
    main(["maturity", "--ci-file", path])
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        f"{path}: maturity level 1 of 4, manual deployments "
        "(at least: the included files were not read)"
    )


def test_notes_on_the_file_are_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "unit:\n  script: pytest\n  needs: [build]\n")
    main(["maturity", "--ci-file", path])
    out = capsys.readouterr().out
    assert (
        "notes on the CI configuration:\n  ! job unit needs build, which is not defined here" in out
    )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("job:\n  script: [make\n", "invalid YAML at line 3, column 1"),
        ("- build\n- test\n", "a CI configuration is a mapping of job names and keywords"),
        (b"\xff\xfe\x00job", "cannot be read"),
    ],
    ids=["missing", "invalid-yaml", "not-a-mapping", "not-text"],
)
def test_an_unusable_file_is_one_line_on_stderr_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | bytes | None, message: str
) -> None:
    path = str(tmp_path / "absent.yml") if content is None else write(tmp_path, content)
    assert main(["maturity", "--ci-file", path]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"cockpit: error: {path}: ")
    assert message in lines[0]


@pytest.mark.parametrize(
    "args", [["maturity"], ["maturity", "svc", "--ci-file", "x.yml"]], ids=["neither", "both"]
)
def test_either_a_service_or_a_file(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err.startswith("cockpit: error: give a SERVICE")


def test_config_is_accepted_before_or_after_the_subcommand() -> None:
    parser = build_parser()
    assert parser.parse_args(["--config", "a.toml", "maturity", "svc"]).config == "a.toml"
    assert parser.parse_args(["maturity", "svc", "--config", "b.toml"]).config == "b.toml"
    assert parser.parse_args(["dora", "svc", "--env", "production"]).config is None


# --------------------------------------------------------------------------- SERVICE (GitLab)


def deployment(number: int, sha: str) -> Deployment:
    return Deployment(
        id=number,
        iid=number,
        status="success",
        ref="main",
        sha=sha * 40,
        created_at=datetime(2026, 11, number, tzinfo=UTC),
        environment="production",
        job_name="production",
    )


async def test_a_service_is_assessed_from_its_project(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(
        files={".gitlab-ci.yml": MANUAL_GATE},
        history=(deployment(1, "a"), deployment(2, "b")),
        flags=(FeatureFlag("new_checkout", True),),
    )
    report, notes = await gather.maturity_report(gitlab, Service())
    assert report.level == 3
    assert notes == ()
    assert gitlab.called("file") == [(("shop/checkout", ".gitlab-ci.yml", "main"), {})]
    assert gitlab.called("deployments") == [
        (("shop/checkout", "production"), {"limit": 100, "updated_after": None})
    ]
    assert gitlab.called("ci_lint") == [], "a file without includes needs no merging"
    present = {item.key for item in report.present}
    assert {"monitoring", "rollback_path", "feature_flags"} <= present
    assert report.unknown == ()


async def test_gitlab_is_asked_for_everything_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(files={".gitlab-ci.yml": MANUAL_GATE})
    await gather.maturity_report(gitlab, Service())
    first_answer = next(i for i, event in enumerate(gitlab.events) if event.startswith("end"))
    started = {event for event in gitlab.events[:first_answer] if event.startswith("start")}
    assert started == {"start file", "start deployments", "start feature_flags"}


async def test_includes_are_read_through_gitlabs_merged_yaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    merged = (
        "---\n:stages:\n- test\n- deploy\n:unit:\n  :stage: test\n  :script: pytest\n"
        ":production:\n  :stage: deploy\n  :script: ./deploy.sh\n  :environment: production\n"
        "  :only:\n  - main\n"
    )
    gitlab = StandInGitLab(
        files={".gitlab-ci.yml": "include: [{local: ci/jobs.yml}]\n"},
        lint=CiLint(valid=True, merged_yaml=merged),
    )
    report, _ = await gather.maturity_report(gitlab, Service())
    assert gitlab.called("ci_lint") == [(("shop/checkout", "main"), {})]
    assert report.level == 4


async def test_an_invalid_merge_falls_back_to_the_file_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(
        files={".gitlab-ci.yml": "include: [{local: ci/jobs.yml}]\n"},
        lint=CiLint(valid=False, errors=("Local file `ci/jobs.yml` does not exist!",)),
    )
    report, notes = await gather.maturity_report(gitlab, Service())
    assert notes == (
        "includes not merged (GitLab's CI lint finds it invalid: Local file `ci/jobs.yml` "
        "does not exist!); only .gitlab-ci.yml itself was read",
    )
    assert report.finding("production_deploy").reason.startswith("not in this file")  # type: ignore[union-attr]


async def test_a_project_without_ci_is_level_1(monkeypatch: pytest.MonkeyPatch) -> None:
    source_error_class(monkeypatch)
    report, _ = await gather.maturity_report(
        StandInGitLab(files={".gitlab-ci.yml": None}), Service()
    )
    assert report.level == 1
    assert report.finding("ci").reason == "the project has no CI configuration"  # type: ignore[union-attr]


async def test_refused_flags_are_unknown_with_gitlabs_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = source_error_class(monkeypatch)
    gitlab = StandInGitLab(
        files={".gitlab-ci.yml": MANUAL_GATE},
        failures={"feature_flags": refusal(error, "403 Forbidden: needs the Developer role")},
    )
    report, _ = await gather.maturity_report(gitlab, Service())
    finding = report.finding("feature_flags")
    assert finding in report.unknown
    assert finding is not None and finding.reason == (
        "GitLab did not give the feature flags: 403 Forbidden: needs the Developer role"
    )


async def test_an_unreadable_ci_file_ends_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    error = source_error_class(monkeypatch)
    gitlab = StandInGitLab(failures={"file": refusal(error, "404 Project Not Found")})
    with pytest.raises(CommandFailed) as failure:
        await gather.maturity_report(gitlab, Service())
    assert str(failure.value) == (
        "GitLab: cannot read .gitlab-ci.yml of shop/checkout at main: 404 Project Not Found"
    )


async def test_an_invalid_ci_file_in_the_project_ends_the_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(files={".gitlab-ci.yml": "job: [unclosed\n"})
    with pytest.raises(
        CommandFailed, match=r"^shop/checkout: \.gitlab-ci\.yml at main: invalid YAML"
    ):
        await gather.maturity_report(gitlab, Service())


async def test_a_service_without_environments_has_no_history_to_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(files={".gitlab-ci.yml": MANUAL_GATE})
    report, _ = await gather.maturity_report(gitlab, Service(environments=()))
    assert gitlab.called("deployments") == []
    finding = report.finding("rollback_path")
    assert finding in report.unknown
    assert finding is not None
    assert finding.reason == "the service has no environment in the configuration"


def test_the_service_command_prints_the_report(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source_error_class(monkeypatch)
    gitlab = StandInGitLab(files={".gitlab-ci.yml": MANUAL_GATE})
    monkeypatch.setattr(maturity, "load_service", lambda args: (gitlab, Service()))
    assert main(["maturity", "checkout", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["level"] == 3
    assert main(["maturity", "checkout"]) == 0
    assert capsys.readouterr().out.startswith("checkout: maturity level 3 of 4")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["maturity", "svc", "--group", "shop"], "give a SERVICE, --ci-file PATH or --group GROUP"),
        (["maturity", "svc", "--markdown"], "--markdown goes with --group GROUP"),
    ],
)
def test_group_usage_mistakes(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 2
    assert capsys.readouterr().err.startswith(f"cockpit: error: {message}")


def test_group_rows_for_people_and_for_a_team_page() -> None:
    fragment = assess(
        parse("include: [{local: ci/jobs.yml}]\n"),
        deployments=None,
        health_configured=None,
        flags=None,
    )
    rows = (
        gather.GroupRow("shop/a|b", "ab", fragment),
        gather.GroupRow("shop/down", None, None, error="GitLab: cannot read .gitlab-ci.yml"),
    )
    table = maturity.group_table("shop", rows).splitlines()
    assert table[1].split()[:2] == ["shop/a|b", "?"]
    assert "fragment — tests and stages come from includes" in table[1]
    assert "not assessed: GitLab: cannot read .gitlab-ci.yml" in table[2]
    assert table[-1] == "2 projects in shop"
    markdown = maturity.group_markdown("shop", rows).splitlines()
    assert markdown[4].startswith(
        "| shop/a\\|b | ? | fragment — tests and stages come from includes |"
    )


@dataclass
class GroupStandIn(StandInGitLab):
    projects: tuple[GroupProject, ...] = ()
    unreadable: str = ""

    async def group_projects(self, group: str) -> tuple[GroupProject, ...]:
        return await self._answer("group_projects", self.projects, group)

    async def file(self, project: str, path: str, ref: str) -> str | None:
        if project == self.unreadable:
            raise self.failures["unreadable"]
        return await super().file(project, path, ref)


async def test_a_group_gives_one_row_per_project_even_when_one_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    error = source_error_class(monkeypatch)
    gitlab = GroupStandIn(
        files={".gitlab-ci.yml": MANUAL_GATE},
        projects=(
            GroupProject("shop/checkout", "main", ("staging", "production")),
            GroupProject("shop/down", "main", ()),
            GroupProject("shop/legacy", "master", ("review/x", "prod")),
        ),
        unreadable="shop/down",
        failures={"unreadable": refusal(error, "403 Forbidden")},
    )
    rows = await gather.group_maturity(gitlab, "shop", [Service()])
    assert [row.project for row in rows] == ["shop/checkout", "shop/down", "shop/legacy"]
    checkout, down, legacy = rows
    assert checkout.report is not None and checkout.report.level == 3
    assert down.report is None
    assert down.error == "GitLab: cannot read .gitlab-ci.yml of shop/down at main: 403 Forbidden"
    assert legacy.service is None and legacy.report is not None
    deployments = gitlab.called("deployments")
    assert (("shop/legacy", "prod"), {"limit": 100}) in [
        (args, {"limit": kwargs["limit"]}) for args, kwargs in deployments
    ], "the environment whose tier is production, not review/x"
    assert ("shop/legacy", ".gitlab-ci.yml", "master") in [a for a, _ in gitlab.called("file")]
