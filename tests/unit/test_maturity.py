"""The maturity level and its prerequisites, measured on real pipelines and the article's."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from cockpit.insights.ciconfig import CiConfig, guess_default_branch, parse
from cockpit.insights.maturity import PRIORITY, MaturityReport, assess
from cockpit.model import Deployment, FeatureFlag
from tests.helpers import SHARED_FIXTURES, require, shared_fixtures

SEED = SHARED_FIXTURES.parent / "seed" / "continuous-deployment-maturity-model.md"


def read_file(name: str) -> CiConfig:
    path = shared_fixtures() / "gitlab-ci" / f"{name}.gitlab-ci.yml"
    return parse(path.read_text(encoding="utf-8"))


def assess_ci(config: CiConfig | None, **inputs: object) -> MaturityReport:
    """As `cockpit maturity --ci-file` does: no GitLab, the file's default branch."""
    branch = (guess_default_branch(config) if config else None) or "main"
    arguments: dict[str, object] = {
        "deployments": None,
        "health_configured": None,
        "flags": None,
        "default_branch": branch,
    }
    arguments.update(inputs)
    return assess(config, **arguments)  # type: ignore[arg-type]


def state(report: MaturityReport, key: str) -> str:
    for group in ("present", "missing", "unknown"):
        if any(item.key == key for item in getattr(report, group)):
            return group
    raise AssertionError(f"{key} is in no group")


def reason(report: MaturityReport, key: str) -> str:
    finding = report.finding(key)
    assert finding is not None
    return finding.reason


def article_pipeline(heading: str) -> CiConfig:
    """One of the two pipelines printed in the article, cut out of its text.

    The article is not copied into the project: the YAML starts at its `# heading`
    comment and ends where the prose resumes (a line that is not YAML).
    """
    require(SEED.is_file(), f"the article is not at {SEED}")
    lines = SEED.read_text(encoding="utf-8").splitlines()
    start = lines.index(f"# {heading}")
    block: list[str] = []
    for line in lines[start:]:
        prose = line and not line.startswith((" ", "-", "#")) and not re.match(r"^[\w.-]+:", line)
        if prose:
            break
        block.append(line)
    return parse("\n".join(block))


# --------------------------------------------------------------------------- the 12 files


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("CalcProgrammer1__OpenRGB", 1),
        ("RNAcentral__rnacentral-webcode", 1),
        ("NebulousLabs__Sia", 2),
        ("f-droid__fdroidserver", 2),
        ("zammad__zammad", 2),
        ("zero804__gitter", 3),
        ("gitlab-template__OpenShift", 3),
        ("gitlab-template__Ruby", 4),
        ("gitlab-template__Django", 4),
        ("gitlab-template__Rust", 4),
    ],
)
def test_levels_agree_with_the_fixture_readme(name: str, level: int) -> None:
    assert assess_ci(read_file(name)).level == level


def test_openrgb_builds_but_never_tests() -> None:
    report = assess_ci(read_file("CalcProgrammer1__OpenRGB"))
    assert state(report, "build_artifacts") == "present"
    assert reason(report, "automated_tests") == "no job runs tests"
    assert report.next_step is not None and report.next_step.key == "automated_tests"


def test_rnacentral_deploys_production_automatically_without_any_test() -> None:
    """README: 1, ambiguous. Level 1 by the letter (no tests); the automatic fallback
    production deploy is still reported, and so is the missing test gate."""
    report = assess_ci(read_file("RNAcentral__rnacentral-webcode"))
    assert report.level == 1
    assert "fallback_prod_website deploys automatically on main" in reason(
        report, "production_deploy"
    )
    assert reason(report, "continuous_deployment") == (
        "fallback_prod_website deploys automatically on main, but no test has to pass first"
    )


def test_sia_deploy_job_deploys_nothing_known() -> None:
    """The trap: a job named deploy, in a deploy stage, that builds release binaries."""
    report = assess_ci(read_file("NebulousLabs__Sia"))
    assert reason(report, "production_deploy") == (
        "no job deploys production; deploy jobs: deploy (other)"
    )
    assert reason(report, "fail_fast") == "lint runs before integration-tests"


def test_fdroidserver_pages_and_publish_tests_are_not_production_deploys() -> None:
    report = assess_ci(read_file("f-droid__fdroidserver"))
    assert reason(report, "production_deploy") == (
        "no job deploys production; deploy jobs: pages (pages)"
    )
    assert state(report, "fail_fast") == "present"
    assert "test_deploy_to_s3_with_rclone (with services docker:dind)" in reason(
        report, "integration_tests"
    )


def test_zammad_jobs_in_unread_includes_are_unknown_not_missing() -> None:
    report = assess_ci(read_file("zammad__zammad"))
    assert not report.complete, "the level is a lower bound"
    assert report.missing == ()
    assert "stages test, browser-core and browser-integration are declared" in reason(
        report, "automated_tests"
    )
    assert reason(report, "production_deploy").startswith(
        "not in this file; it includes 7 more (/.gitlab/ci/base.yml"
    )
    assert report.next_step is not None and report.next_step.key == "includes"


def test_gitter_production_is_a_manual_tag_deploy_named_prod() -> None:
    report = assess_ci(read_file("zero804__gitter"))
    assert reason(report, "production_deploy") == (
        "deploy_prod deploys by hand (when: manual) on tags when its conditions hold"
    )
    assert reason(report, "staging") == (
        "deploy_staging deploys staging from other pipelines than deploy_prod"
    )
    assert reason(report, "fail_fast") == (
        "test starts without waiting for validate (same stage, or needs: that skip it)"
    )
    assert reason(report, "e2e_tests") == "test_e2e runs only when a person starts it"


def test_openshift_stages_staging_before_a_manual_production() -> None:
    report = assess_ci(read_file("gitlab-template__OpenShift"))
    assert reason(report, "staging") == "staging deploys before production"
    assert reason(report, "production_deploy") == (
        "production deploys by hand (when: manual) on main"
    )


def test_templates_deploy_automatically_from_every_branch() -> None:
    report = assess_ci(read_file("gitlab-template__Ruby"))
    assert reason(report, "continuous_deployment") == (
        "deploy deploys automatically on main after rspec and rails; careful: it also "
        "deploys from other branches and tags"
    )
    assert state(report, "fail_fast") == "missing", "rubocop runs beside the tests"


def test_fdroid_website_is_level_2_not_3() -> None:
    """README: 3, ambiguous with 4. cockpit reads 2, and disagrees on purpose.

    The canonical production job, `f-droid.org`, names no environment and is, by the
    file's own comment, run by hand with `gitlab-runner exec` on the deploy server:
    deployment outside the pipeline is level 2's definition. `pages` publishes a GitLab
    Pages mirror, which cockpit never counts as the product's production deploy.
    """
    report = assess_ci(read_file("f-droid__fdroid-website"))
    assert report.level == 2
    assert reason(report, "automated_tests") == "build runs automatically on other branches"
    assert "f-droid.org (other)" in reason(report, "production_deploy")


def test_meltano_is_level_2_because_the_docs_site_is_not_the_product() -> None:
    """README: 4, ambiguous. cockpit reads 2: the automatic master job (`docs`) uploads
    the documentation website, the application is only published on tags (to PyPI and
    Docker Hub, not deployed), and the Helm production job is hidden. The include it
    does not read leaves the rest unknown rather than missing."""
    report = assess_ci(read_file("meltano__meltano"))
    assert report.level == 2
    assert report.missing == ()
    assert state(report, "production_deploy") == "unknown"
    assert reason(report, "fail_fast") == "lint runs before test_postgres"


# --------------------------------------------------------------------------- the article


def test_the_articles_first_pipeline_is_level_4_but_misses_fail_fast_staging_and_smoke() -> None:
    """deploy_production runs on main, `when: on_success` after the four test jobs: the
    article's own continuous deployment. What the same article asks for elsewhere is
    missing: no lint before the tests, no staging, nothing checks production after."""
    report = assess_ci(article_pipeline("Pipeline with comprehensive testing"))
    assert report.level == 4
    for key in ("unit_tests", "integration_tests", "contract_tests", "e2e_tests"):
        assert state(report, key) == "present", key
    assert "integration_tests (with services postgres:14, redis:7)" in reason(
        report, "integration_tests"
    )
    assert {"fail_fast", "staging", "production_verification"} <= {
        item.key for item in report.missing
    }
    assert reason(report, "continuous_deployment").startswith(
        "deploy_production deploys automatically on main after unit_tests, integration_tests"
    )


def test_the_articles_second_pipeline_fails_fast_and_verifies_production() -> None:
    """The optimised pipeline: lint and types first, build with artifacts, production
    on main after the tests, smoke tests after it. Its staging stages hold no job in the
    excerpt (production_deploy needs an undefined staging_tests), so staging is missing;
    so are integration, contract and end-to-end tests."""
    report = assess_ci(article_pipeline("Optimized pipeline structure"))
    assert report.level == 4
    assert reason(report, "fail_fast") == "lint_and_types runs before unit_tests"
    assert reason(report, "build_artifacts") == "build keeps dist/"
    assert reason(report, "production_verification") == (
        "production_smoke_tests runs after production_deploy"
    )
    assert {"staging", "integration_tests", "contract_tests", "e2e_tests"} <= {
        item.key for item in report.missing
    }


# --------------------------------------------------------------------------- edge cases


def test_no_ci_at_all_is_level_1() -> None:
    report = assess_ci(None)
    assert report.level == 1
    assert reason(report, "ci") == "the project has no CI configuration"


def test_a_file_without_jobs_is_level_1() -> None:
    report = assess_ci(parse("variables: {A: b}\n"))
    assert report.level == 1
    assert reason(report, "ci") == "the configuration defines no jobs"


def test_only_manual_jobs_are_level_1() -> None:
    report = assess_ci(
        parse(
            """
tests:
  script: pytest
  when: manual
deploy:
  script: ./deploy.sh
  environment: production
  when: manual
"""
        )
    )
    assert report.level == 1
    assert reason(report, "automated_tests") == "tests never starts by itself"


RULES_MANUAL = """
stages: [test, deploy]
unit:
  stage: test
  script: pytest
deploy:
  stage: deploy
  script: ./deploy.sh
  environment: production
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
      when: manual
"""


def test_a_rules_based_manual_production_deploy_is_level_3() -> None:
    report = assess_ci(parse(RULES_MANUAL))
    assert report.level == 3
    assert reason(report, "production_deploy") == ("deploy deploys by hand (when: manual) on main")


def test_an_automatic_deploy_beside_the_tests_is_not_continuous_deployment() -> None:
    report = assess_ci(
        parse(
            """
unit: {script: pytest}
deploy: {script: ./deploy.sh, environment: production}
"""
        )
    )
    assert report.level == 3
    assert reason(report, "continuous_deployment") == (
        "deploy deploys automatically on main, but no test has to pass first"
    )


def test_an_automatic_deploy_on_tags_is_continuous_delivery() -> None:
    report = assess_ci(
        parse(
            """
stages: [test, deploy]
unit: {stage: test, script: pytest}
release:
  stage: deploy
  script: ./deploy.sh
  environment: production
  rules: [{if: $CI_COMMIT_TAG}]
"""
        )
    )
    assert report.level == 3
    assert reason(report, "production_deploy") == "release deploys automatically on tags"


def test_deployment_history_names_the_production_job() -> None:
    text = """
stages: [test, deploy]
unit: {stage: test, script: pytest}
publish_site: {stage: deploy, script: ./publish.sh, only: [main]}
"""
    assert assess_ci(parse(text)).level == 2
    history = (deployment(1, "aaa", job_name="publish_site"),)
    assert assess_ci(parse(text), deployments=history).level == 4


# --------------------------------------------------------------------------- GitLab inputs


def deployment(
    number: int, sha: str, status: str = "success", job_name: str = "deploy"
) -> Deployment:
    return Deployment(
        id=number,
        iid=number,
        status=status,
        ref="main",
        sha=sha * 8,
        created_at=datetime(2026, 11, number, tzinfo=UTC),
        environment="production",
        job_name=job_name,
    )


def test_missing_gitlab_inputs_are_unknown_never_missing() -> None:
    report = assess_ci(parse(RULES_MANUAL))
    for key in ("monitoring", "rollback_path", "feature_flags"):
        assert state(report, key) == "unknown"
    assert reason(report, "rollback_path") == "needs GitLab's deployment history"
    unavailable = {"flags": "GitLab refused: 403 Forbidden"}
    report = assess_ci(parse(RULES_MANUAL), unavailable=unavailable)
    assert reason(report, "feature_flags") == "GitLab refused: 403 Forbidden"


def test_gitlab_inputs_fill_in_monitoring_rollback_and_flags() -> None:
    history = (deployment(1, "a"), deployment(2, "b", "failed"), deployment(3, "c"))
    flags = (FeatureFlag("new_checkout", True), FeatureFlag("old_search", False))
    report = assess_ci(
        parse(RULES_MANUAL), deployments=history, health_configured=True, flags=flags
    )
    assert reason(report, "monitoring") == "a success-rate query watches production"
    assert reason(report, "rollback_path") == (
        "2 successful deployments; the previous version (aaaaaaaa, 2026-11-01) can be re-deployed"
    )
    assert reason(report, "feature_flags") == "2 flags, 1 active (new_checkout, old_search)"


def test_a_single_version_deployed_leaves_nothing_to_roll_back_to() -> None:
    report = assess_ci(
        parse(RULES_MANUAL),
        deployments=(deployment(1, "a"), deployment(2, "a")),
        health_configured=False,
        flags=(),
    )
    assert state(report, "rollback_path") == "missing"
    assert reason(report, "monitoring") == "no success-rate query is configured for production"
    assert reason(report, "feature_flags") == "the project defines no feature flags"


def test_the_next_step_is_the_most_valuable_missing_item() -> None:
    report = assess_ci(read_file("NebulousLabs__Sia"))
    assert report.next_step is not None
    assert report.next_step.key == "production_deploy"
    assert "when: manual" in report.next_step.reason
    missing = [item.key for item in report.missing]
    assert missing == sorted(missing, key=PRIORITY.index)


def test_json_has_the_documented_shape() -> None:
    document = assess_ci(parse(RULES_MANUAL)).to_json()
    assert set(document) == {
        "level",
        "present",
        "missing",
        "unknown",
        "next_step",
        "complete",
        "fragment",
    }
    assert document["level"] == 3
    for group in ("present", "missing", "unknown"):
        for item in document[group]:
            assert set(item) == {"key", "title", "reason"}
