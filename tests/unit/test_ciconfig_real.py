"""The CI reader on real files: fragments, extends chains, !reference, and environment
names built from variables. The files and their origin: tests/data/ci/SOURCES.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit.cli import main
from cockpit.insights.ciconfig import CiConfig, PipelineContext, parse
from cockpit.insights.maturity import FRAGMENT_NOTE, assess
from tests.helpers import shared_fixtures

DATA = Path(__file__).resolve().parents[1] / "data" / "ci"
MAIN = PipelineContext.default_branch_push("main")
FEATURE = PipelineContext.branch_push("main")

ECS = "gitlab-template__Jobs-Deploy-ECS"
AUTO_DEPLOY = "gitlab-template__Jobs-Deploy"
TERRAFORM = "gitlab-template__Terraform-Base.latest"
REVIEW_APPS = "gitlabhq__review-apps-main"


def path(name: str) -> str:
    return str(DATA / f"{name}.gitlab-ci.yml")


def read(name: str) -> CiConfig:
    return parse(Path(path(name)).read_text(encoding="utf-8"))


def environment_name(config: CiConfig, job: str) -> str:
    found = config.job(job)
    assert found is not None and found.environment is not None
    return found.environment.name


# --------------------------------------------------------------------------- fragments


def test_a_template_whose_stages_are_not_declared_is_a_fragment_with_no_level(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["maturity", "--ci-file", path(ECS)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"{path(ECS)}: maturity level unknown: {FRAGMENT_NOTE}"
    assert "no unit test job" not in out, "tests live in the file that includes it"
    assert "next step: the including CI configuration" in out


def test_a_template_of_hidden_jobs_only_is_a_fragment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    config = read(TERRAFORM)
    assert config.jobs == ()
    assert config.hidden_jobs == (".init", ".validate", ".build", ".deploy", ".destroy")
    assert main(["maturity", "--ci-file", path(TERRAFORM), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["level"] is None
    assert document["fragment"] is True
    assert document["missing"] == []


def test_auto_devops_deploy_jobs_are_a_fragment_built_from_anchors_and_extends() -> None:
    config = read(AUTO_DEPLOY)
    assert config.fragment
    image = "${CI_TEMPLATE_REGISTRY_HOST}/gitlab-org/cluster-integration/auto-deploy-image:"
    production = config.job("production")
    assert production is not None, "a YAML anchor whose body says extends: .auto-deploy"
    assert production.image == image + "${AUTO_DEPLOY_IMAGE_VERSION}"
    assert production.extends == (".auto-deploy",)
    assert config.trigger(production, MAIN).automatic
    assert config.trigger(production, FEATURE).never
    # two `<<` merge keys: the manual rollout's rules, the production template's script
    last = config.job("rollout 100%")
    assert last is not None
    assert (last.stage, last.allow_failure) == ("production", False)
    assert "auto-deploy delete canary" in last.script
    assert config.trigger(last, MAIN).manual
    report = assess(config, deployments=None, health_configured=None, flags=None)
    assert (report.level, report.fragment) == (None, True)


def test_an_include_only_file_without_stages_is_a_fragment() -> None:
    config = parse("include:\n  - local: ci/build.yml\n  - template: Jobs/Deploy.gitlab-ci.yml\n")
    report = assess(config, deployments=None, health_configured=None, flags=None)
    assert report.level is None
    assert report.level_name == FRAGMENT_NOTE


def test_a_file_that_declares_its_stages_is_not_a_fragment() -> None:
    config = read(REVIEW_APPS)
    assert not config.fragment
    report = assess(config, deployments=None, health_configured=None, flags=None)
    assert report.level is not None
    assert not report.complete, "it includes five files: the level is a lower bound"


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in (shared_fixtures() / "gitlab-ci").glob("*.gitlab-ci.yml")),
)
def test_none_of_the_whole_pipelines_is_taken_for_a_fragment(name: str) -> None:
    text = (shared_fixtures() / "gitlab-ci" / name).read_text(encoding="utf-8")
    assert not parse(text).fragment


# --------------------------------------------------------------------------- extends, !reference


def test_a_three_level_extends_chain_gives_image_script_stage_and_environment() -> None:
    config = read(ECS)
    job = config.job("production_ecs")
    assert job is not None
    # production_ecs → .production_ecs_base → .deploy_to_ecs → .ecs_image
    assert job.image == "registry.gitlab.com/gitlab-org/cloud-deploy/aws-ecs:latest"
    assert job.script == ("ecs update-task-definition",)
    assert job.stage == "production"
    assert environment_name(config, "production_ecs") == "production"
    assert job.extends == (".production_ecs_base",)


def test_an_environment_hash_is_deep_merged_through_an_extends_list() -> None:
    config = read(REVIEW_APPS)
    pattern = "review/${CI_COMMIT_REF_SLUG}${SCHEDULE_TYPE}"
    for job, action in [
        ("review-deploy", "start"),
        ("review-deploy-sample-projects", "prepare"),
        ("review-delete-deployment", "stop"),  # two levels: .review-stop-base
        ("trigger-review-stop", "stop"),
    ]:
        found = config.job(job)
        assert found is not None and found.environment is not None, job
        assert (found.environment.name, found.environment.action) == (pattern, action)
        assert (
            found.environment.url == "https://gitlab-${CI_ENVIRONMENT_SLUG}.${REVIEW_APPS_DOMAIN}"
        )


def test_a_reference_into_an_included_file_is_reported_and_the_rest_kept() -> None:
    config = read(REVIEW_APPS)
    job = config.job("review-deploy")
    assert job is not None
    assert job.before_script[:2] == (
        "apk add --no-cache --update curl",
        "mv VERSION GITLAB_WORKHORSE_VERSION",
    )
    assert "source ./scripts/utils.sh" in job.before_script, "the YAML alias is flattened"
    assert "!reference ['.use-kube-context', 'before_script'] points at nothing" in config.warnings


def test_references_resolve_to_another_jobs_lists_flattened_in_place() -> None:
    config = parse(
        """
.setup:
  before_script: [source env.sh, make deps]
  rules:
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH
test:
  before_script:
    - echo start
    - !reference [.setup, before_script]
  script: make test
  rules:
    - !reference [.setup, rules]
"""
    )
    job = config.job("test")
    assert job is not None
    assert job.before_script == ("echo start", "source env.sh", "make deps")
    assert config.trigger(job, MAIN).automatic
    assert config.trigger(job, FEATURE).never


# --------------------------------------------------------------------------- variables


VARIABLES = """
variables:
  DEPLOY_ENV: staging
  REGION: eu

.deploy:
  stage: deploy
  script: ./deploy.sh
  environment:
    name: $DEPLOY_ENV
  rules:
    - if: $DEPLOY_ENV == "production"
      when: manual
    - if: $CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH

deploy-staging:
  extends: .deploy

deploy-production:
  extends: .deploy
  variables:
    DEPLOY_ENV: production

.regional:
  extends: .deploy
  variables:
    DEPLOY_ENV: ${TIER}-${REGION}
    TIER: production

deploy-regional:
  extends: .regional

review:
  stage: deploy
  script: ./deploy.sh
  variables:
    PREFIX: review
  environment:
    name: ${PREFIX}/$CI_COMMIT_REF_SLUG
    url: https://$CI_ENVIRONMENT_SLUG.example.com

isolated:
  extends: .deploy
  inherit:
    variables: false
"""


def test_environment_names_take_the_values_the_file_sets() -> None:
    config = parse(VARIABLES)
    assert environment_name(config, "deploy-staging") == "staging", "the global value"
    assert environment_name(config, "deploy-production") == "production", "the job's own"
    assert environment_name(config, "deploy-regional") == "production-eu", "a template's, nested"
    assert environment_name(config, "review") == "review/$CI_COMMIT_REF_SLUG", (
        "predefined: a pattern"
    )
    assert environment_name(config, "isolated") == "$DEPLOY_ENV", "inherit: variables: false"


def test_rules_see_the_jobs_own_variables() -> None:
    config = parse(VARIABLES)
    production = config.job("deploy-production")
    staging = config.job("deploy-staging")
    assert production is not None and staging is not None
    assert config.trigger(production, MAIN).manual
    assert config.trigger(staging, MAIN).automatic


def test_a_production_deploy_named_by_a_variable_counts_as_production() -> None:
    report = assess(parse(VARIABLES), deployments=None, health_configured=None, flags=None)
    production = report.finding("production_deploy")
    assert production is not None
    assert production.reason.startswith("deploy-production deploys by hand (when: manual) on main")


def test_rules_see_the_environment_name_the_variables_give() -> None:
    config = parse(
        """
variables:
  TARGET_ENV: dev
.base_job:
  script: echo deploy
  rules:
    - if: $CI_ENVIRONMENT_NAME == $TARGET_ENV
job1:
  extends: .base_job
  environment: {name: dev}
job3:
  extends: .base_job
  environment: {name: test}
"""
    )
    job1, job3 = config.job("job1"), config.job("job3")
    assert job1 is not None and job3 is not None
    assert config.trigger(job1, MAIN).automatic
    assert config.trigger(job3, MAIN).never
