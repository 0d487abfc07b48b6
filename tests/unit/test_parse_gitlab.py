"""GitLab payloads parsed into the model: every captured fixture, and what a user would see."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from cockpit.model import Deployment
from cockpit.sources.errors import SourceError
from cockpit.sources.gitlab import (
    feature_flag_request,
    http_error,
    job_action_request,
    pipeline_action_request,
    redeploy_request,
)
from cockpit.sources.gitlab_parse import (
    manual_gate,
    mark_rollbacks,
    normalize_merged_yaml,
    parse_ci_lint,
    parse_comparison,
    parse_deployment,
    parse_deployments,
    parse_feature_flag,
    parse_file_content,
    parse_job,
    parse_pipeline,
)
from tests.helpers import fixture_files, load_fixture

JOB_FIXTURES = [
    "gitlab/pipeline-jobs-list.json",
    "gitlab/pipeline-bridges-list.json",
    "gitlab/runner-jobs-running.json",
]
SINGLE_JOBS = [
    "gitlab/job-play-response.json",
    "gitlab/job-retry-response.json",
    "gitlab/job-cancel-response.json",
]


@pytest.mark.parametrize("path", JOB_FIXTURES)
def test_every_job_list_parses(path: str) -> None:
    raw = load_fixture(path)
    jobs = [parse_job(j) for j in raw]
    assert [j.id for j in jobs] == [j["id"] for j in raw]
    assert all(j.name and j.stage and j.status for j in jobs)


@pytest.mark.parametrize("path", SINGLE_JOBS)
def test_every_job_action_response_parses(path: str) -> None:
    raw = load_fixture(path)
    job = parse_job(raw)
    assert (job.id, job.status) == (raw["id"], raw["status"])
    assert job.user is None  # "user": null in these answers


def test_failed_jobs_carry_their_failure_reason() -> None:
    jobs = [parse_job(j) for j in load_fixture("gitlab/pipeline-jobs-list.json")]
    assert [(j.name, j.status, j.failure_reason) for j in jobs] == [
        ("rspec:other", "failed", "stuck_or_timeout_failure"),
        ("teaspoon", "failed", "script_failure"),
    ]
    assert jobs[0].duration == pytest.approx(0.192)
    assert jobs[0].user == "root"
    assert jobs[0].retryable and not jobs[0].playable
    assert jobs[0].started_at == datetime(2015, 12, 24, 17, 54, 24, 729000, tzinfo=UTC)


def test_running_jobs_are_cancelable() -> None:
    jobs = [parse_job(j) for j in load_fixture("gitlab/runner-jobs-running.json")]
    assert {j.status for j in jobs} == {"running"}
    assert all(j.cancelable and not j.retryable for j in jobs)


def test_bridge_is_marked() -> None:
    (bridge,) = [parse_job(j) for j in load_fixture("gitlab/pipeline-bridges-list.json")]
    assert bridge.is_bridge and bridge.status == "pending"


def test_play_answer_is_pending() -> None:
    job = parse_job(load_fixture("gitlab/job-play-response.json"))
    assert job.status == "pending" and job.cancelable and not job.playable


def test_manual_job_is_playable_in_a_webhook_pipeline() -> None:
    event = load_fixture("gitlab/webhook-pipeline-event-mixed-job-states.json")
    pipeline = parse_pipeline(event["object_attributes"], event["builds"])
    assert [s.name for s in pipeline.stages] == ["build", "test", "deploy"]
    production = pipeline.job("production")
    assert production is not None
    assert production.environment == "production"
    assert production.failure_reason is None  # only failed jobs keep a failure reason
    staging = pipeline.job("staging")
    assert staging is not None and staging.status == "created"
    assert pipeline.created_at == datetime(2016, 8, 12, 15, 23, 28, tzinfo=UTC)
    assert pipeline.status == "success" and pipeline.duration == 63
    assert pipeline.current_stage is not None and pipeline.current_stage.name == "deploy"


def test_manual_job_from_the_api_is_playable() -> None:
    raw = dict(load_fixture("gitlab/job-play-response.json"), status="manual")
    job = parse_job(raw)
    assert job.playable and not job.cancelable


def test_pipeline_groups_jobs_and_bridges_into_stages() -> None:
    pipeline = parse_pipeline(
        load_fixture("gitlab/pipeline-single-success.json"),
        load_fixture("gitlab/pipeline-jobs-list.json"),
        load_fixture("gitlab/pipeline-bridges-list.json"),
    )
    assert pipeline.id == 287 and pipeline.status == "success"
    assert pipeline.user == "root"
    assert pipeline.duration == 34
    assert pipeline.finished_at == datetime(2022, 9, 21, 1, 5, 50, 175000, tzinfo=UTC)
    (stage,) = pipeline.stages
    assert stage.name == "test"
    assert [j.id for j in stage.jobs] == [6, 7, 7]
    assert [j.is_bridge for j in stage.jobs] == [False, False, True]


def test_stage_order_follows_job_ids_or_the_given_order() -> None:
    def job(job_id: int, stage: str) -> dict[str, Any]:
        return {"id": job_id, "name": f"j{job_id}", "stage": stage, "status": "success"}

    jobs = [job(30, "deploy"), job(12, "test"), job(10, "build"), job(11, "test")]
    pipeline = parse_pipeline({"id": 1, "status": "success"}, jobs)
    assert [s.name for s in pipeline.stages] == ["build", "test", "deploy"]
    ordered = parse_pipeline({"id": 1}, jobs, stage_order=["test", "build", "deploy"])
    assert [s.name for s in ordered.stages] == ["test", "build", "deploy"]


@pytest.mark.parametrize("path", ["gitlab/pipelines-list.json"])
def test_thin_pipeline_list_items_parse(path: str) -> None:
    pipelines = [parse_pipeline(p) for p in load_fixture(path)]
    assert [(p.id, p.iid, p.status, p.source) for p in pipelines] == [
        (47, 12, "pending", "push"),
        (48, 13, "pending", "web"),
    ]
    assert pipelines[0].stages == () and pipelines[0].started_at is None


def test_deployment_finished_at_comes_from_the_deployable() -> None:
    deployment = parse_deployment(load_fixture("gitlab/deployment-single.json"))
    assert deployment.finished_at == datetime(2016, 8, 11, 11, 32, 35, 145000, tzinfo=UTC)
    assert deployment.environment == "production"
    assert (deployment.job_id, deployment.job_name, deployment.job_status) == (
        664,
        "deploy",
        "success",
    )
    assert deployment.pipeline_id == 42
    assert deployment.commit_title == "Merge branch 'rename-readme' into 'main'"
    assert deployment.commit_created_at == datetime(2016, 8, 11, 11, 28, 26, tzinfo=UTC)
    assert deployment.user == "root"


def test_deployment_list_is_newest_first() -> None:
    deployments = parse_deployments(load_fixture("gitlab/deployments-list.json"))
    assert [d.id for d in deployments] == [42, 41]
    assert {d.status for d in deployments} == {"created"}
    assert all(d.commit_title and "\r" not in d.commit_title for d in deployments)


def test_environment_last_deployment() -> None:
    environment = load_fixture("gitlab/environment-single-with-last-deployment.json")
    deployment = parse_deployment(environment["last_deployment"], environment=environment["name"])
    assert deployment.environment == "review/fix-foo"
    assert deployment.finished_at == datetime(2019, 3, 25, 18, 55, 13, 216000, tzinfo=UTC)
    assert deployment.job_id == 710


def _deployment(deployment_id: int, sha: str, status: str = "success") -> Deployment:
    return Deployment(
        id=deployment_id,
        iid=deployment_id,
        status=status,
        ref="main",
        sha=sha,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        environment="production",
    )


def test_rollback_is_a_sha_deployed_before() -> None:
    marked = mark_rollbacks(
        [
            _deployment(5, "aaa"),  # back to aaa after bbb: a rollback
            _deployment(4, "bbb"),
            _deployment(3, "bbb"),  # bbb again right after bbb: a re-deploy, not a rollback
            _deployment(2, "ccc", "failed"),
            _deployment(1, "aaa"),
        ]
    )
    assert [d.is_rollback for d in marked] == [True, False, False, False, False]


def test_manual_gate_is_the_newest_waiting_manual_deploy() -> None:
    raw = load_fixture("gitlab/deployments-list.json")
    for item in raw:
        item["deployable"]["status"] = "manual"
    deployments = [parse_deployment(d) for d in raw]
    assert manual_gate(deployments) == 664
    assert manual_gate(parse_deployments(load_fixture("gitlab/deployments-list.json"))) is None


@pytest.mark.parametrize(
    "path", ["gitlab/feature-flags-list.json", "gitlab/feature-flag-update-gradual-rollout.json"]
)
def test_every_feature_flag_fixture_parses(path: str) -> None:
    raw = load_fixture(path)
    flags = [parse_feature_flag(f) for f in (raw if isinstance(raw, list) else [raw])]
    assert all(f.name and f.active for f in flags)


def test_feature_flag_strategies() -> None:
    flag = parse_feature_flag(load_fixture("gitlab/feature-flag-update-gradual-rollout.json"))
    gradual, default = flag.strategies
    assert gradual.name == "gradualRolloutUserId"
    assert dict(gradual.parameters) == {"groupId": "default", "percentage": "25"}
    assert gradual.scopes == ("staging",)
    assert (default.name, default.scopes) == ("default", ("production",))
    assert flag.description is None


def test_comparison_lists_changed_files() -> None:
    comparison = parse_comparison(
        load_fixture("gitlab/repository-compare.json"), from_sha="a", to_sha="b"
    )
    (change,) = comparison.files
    assert change.new_path == "files/js/application.js"
    assert 'alert("Fixed")' in change.diff
    assert comparison.commits == 1 and not comparison.timed_out


@pytest.mark.parametrize("path", fixture_files("gitlab", "ci-lint-*.json"))
def test_every_ci_lint_fixture_parses(path: str) -> None:
    lint = parse_ci_lint(load_fixture(path))
    if "invalid" in path or "missing" in path:
        assert not lint.valid and lint.errors
    else:
        assert lint.valid and not lint.errors


def test_ci_lint_merged_yaml_loses_ruby_symbols() -> None:
    lint = parse_ci_lint(load_fixture("gitlab/ci-lint-compact-escaped-merged-yaml.json"))
    assert lint.merged_yaml is not None
    document = yaml.safe_load(lint.merged_yaml)
    assert document["deploy"]["rules"] == [{"when": "manual", "allow_failure": True}]
    assert document["deploy"]["script"] == ['echo "hello world"']
    assert document[".api_test"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE=="merge_request_event"'
    invalid = parse_ci_lint(load_fixture("gitlab/ci-lint-project-invalid.json"))
    assert invalid.errors == ("jobs config should contain at least one visible job",)
    assert yaml.safe_load(invalid.merged_yaml or "") == {"test_job": {"script": "echo 1"}}


def test_merged_yaml_that_is_not_yaml_is_kept() -> None:
    assert normalize_merged_yaml("key: [unclosed") == "key: [unclosed"


def test_file_content_is_decoded() -> None:
    assert parse_file_content(load_fixture("gitlab/repository-file.json")) == "This is a *README*!"
    dropped = load_fixture("gitlab/repository-file-docs-example-content-dropped.json")
    assert parse_file_content(dropped) is None


def test_environment_fixtures_are_not_deployments() -> None:
    """The environment list and stop answers carry no deployment: nothing to parse there."""
    for path in ("gitlab/environments-list.json", "gitlab/environment-stop-response.json"):
        raw = load_fixture(path)
        items = raw if isinstance(raw, list) else [raw]
        assert all("last_deployment" not in item for item in items)


# --------------------------------------------------------------------------- errors and writes


def test_a_404_page_from_another_server_points_at_gitlab_url() -> None:
    page = b"<!DOCTYPE HTML><html><body><h1>Error response</h1>Error code: 404</body></html>"
    error = http_error(404, page, page, {}, project="shop/checkout", action="reading pipelines")
    assert error.message.startswith("not GitLab: the server answered reading pipelines")
    assert "gitlab.url" in error.message


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("gitlab/error-401-unauthorized.json", 401, "GitLab rejected the token (401)"),
        ("gitlab/error-403-insufficient-scope.json", 403, "the token lacks the sudo scope"),
        ("gitlab/error-403-forbidden-sudo.json", 403, "Must be admin to use sudo"),
        ("gitlab/error-404-project-not-found.json", 404, "404: project shop/checkout not found"),
        ("gitlab/error-404-user-not-found.json", 404, "GitLab found nothing"),
        ("gitlab/error-409-already-exists.json", 409, "(409): Already exists"),
        ("gitlab/error-400-attribute-missing.json", 400, '"title" not given'),
        ("gitlab/error-400-validation.json", 400, "bio is too long"),
    ],
)
def test_every_error_fixture_becomes_words(path: str, status: int, words: str) -> None:
    body = load_fixture(path)
    message = body.get("message") or body.get("error")
    error = http_error(status, message, body, {}, project="shop/checkout", action="reading")
    assert isinstance(error, SourceError)
    assert words in error.message
    assert error.status == status
    assert error.transient is False


def test_rate_limit_words_and_wait() -> None:
    error = http_error(
        429,
        "Retry later",
        b"Retry later",
        {"RateLimit-Reset": "1012"},
        project="shop/checkout",
        action="reading pipelines",
        now=1000.0,
    )
    assert error.message == "rate limited by GitLab while reading pipelines, retrying in 12 s"
    assert error.retry_after == 12.0 and error.transient


def test_writes_are_described_exactly() -> None:
    play = job_action_request("shop/checkout", 42, "play")
    assert (play.method, play.path, play.body) == (
        "POST",
        "/api/v4/projects/shop%2Fcheckout/jobs/42/play",
        None,
    )
    assert pipeline_action_request("shop/checkout", 7, "cancel").path.endswith(
        "/pipelines/7/cancel"
    )
    flag = feature_flag_request("shop/checkout", "new checkout", False)
    assert flag.method == "PUT"
    assert flag.path == "/api/v4/projects/shop%2Fcheckout/feature_flags/new%20checkout"
    assert flag.body == {"active": False}
    deployment = parse_deployment(load_fixture("gitlab/deployment-single.json"))
    redeploy = redeploy_request("shop/checkout", deployment)
    assert redeploy.path == "/api/v4/projects/shop%2Fcheckout/jobs/664/retry"
    assert "POST /api/v4/projects/shop%2Fcheckout/jobs/664/retry" in str(redeploy)
