"""Reading .gitlab-ci.yml: the 12 real files, GitLab's merge rules, and when jobs run."""

from __future__ import annotations

import pytest

from cockpit.insights.ciconfig import (
    DEFAULT_STAGES,
    CiConfig,
    PipelineContext,
    Rule,
    guess_default_branch,
    parse,
    parse_merged_yaml,
)
from tests.helpers import load_fixture, shared_fixtures

MAIN = PipelineContext.default_branch_push("main")
MASTER = PipelineContext.default_branch_push("master")
FEATURE = PipelineContext.branch_push("main")
MERGE_REQUEST = PipelineContext.merge_request("main")
TAG = PipelineContext.tag_push("main")


def fixture(name: str) -> CiConfig:
    """One of the real files in the shared fixtures, read as text (not pre-parsed)."""
    path = shared_fixtures() / "gitlab-ci" / f"{name}.gitlab-ci.yml"
    return parse(path.read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the 12 files


@pytest.mark.parametrize(
    ("name", "jobs", "stages", "includes"),
    [
        ("CalcProgrammer1__OpenRGB", 7, ("build",), 0),
        ("NebulousLabs__Sia", 5, ("lint", "test", "deploy"), 0),
        ("RNAcentral__rnacentral-webcode", 5, ("deploy",), 0),
        ("f-droid__fdroid-website", 5, ("test", "deploy"), 0),
        ("f-droid__fdroidserver", 26, ("lint", "test", "deploy"), 0),
        ("gitlab-template__Django", 3, ("build", "test", "deploy"), 0),
        (
            "gitlab-template__OpenShift",
            6,
            ("build", "test", "deploy", "review", "staging", "production", "cleanup"),
            0,
        ),
        ("gitlab-template__Ruby", 4, ("build", "test", "deploy"), 0),
        ("gitlab-template__Rust", 2, ("build", "test", "deploy"), 0),
        (
            "meltano__meltano",
            8,
            ("lint", "test", "docs", "build_base", "build", "publish", "review"),
            1,
        ),
        ("zammad__zammad", 0, ("pre", "test", "browser-core", "browser-integration"), 7),
        (
            "zero804__gitter",
            19,
            ("docker_images", "build_unit_test", "pre_deploy", "deploy", "security"),
            0,
        ),
    ],
)
def test_every_real_file_reads_with_its_jobs_stages_and_includes(
    name: str, jobs: int, stages: tuple[str, ...], includes: int
) -> None:
    config = fixture(name)
    assert len(config.jobs) == jobs
    assert config.stages == (".pre", *stages, ".post")
    assert len(config.includes) == includes
    assert config.complete is (includes == 0)
    assert not any(job.name.startswith(".") for job in config.jobs), "hidden jobs are not jobs"


def test_two_merge_keys_in_one_mapping_both_apply() -> None:
    """fdroidserver's bandit: `<<: *python-rules-changes` and `<<: *apt-template`."""
    bandit = fixture("f-droid__fdroidserver").job("bandit")
    assert bandit is not None
    assert bandit.rules is not None and bandit.rules[0].has_changes
    assert any("apt.conf.d" in line for line in bandit.before_script)


def test_a_merge_key_list_merges_every_anchor() -> None:
    """RNAcentral: `<<: [*deploy_steps, *variables_fallback]` brings the script."""
    job = fixture("RNAcentral__rnacentral-webcode").job("fallback_prod_website")
    assert job is not None
    assert any(line.startswith("helm upgrade --install") for line in job.script)
    assert job.environment is None, "this file has no environment: anywhere"


def test_anchors_merged_into_rules_items_keep_their_condition_and_when() -> None:
    deploy_prod = fixture("zero804__gitter").job("deploy_prod")
    assert deploy_prod is not None
    assert deploy_prod.rules == (
        Rule(
            condition='$CI_PROJECT_PATH != "gitterHQ/webapp" && '
            '$CI_PROJECT_PATH != "gitlab/gitter/webapp"',
            when="never",
        ),
        Rule(condition="$CI_COMMIT_TAG", when="manual"),
    )
    assert deploy_prod.environment is not None and deploy_prod.environment.name == "prod"


def test_nested_and_listed_extends_resolve_like_gitlab() -> None:
    config = fixture("zero804__gitter")
    test = config.job("test")  # extends [.test_job], which extends .node_job
    assert test is not None
    assert test.extends == (".test_job",)
    assert test.stage == "build_unit_test"
    assert "npm install" in test.before_script, "from .node_job, two levels up"
    assert len(test.services) == 5, "from .test_job, through anchors"
    assert test.rules == (Rule(when="always"),), "its own rules replace nothing inherited"
    staging = config.job("distribute_staging")  # extends [.distribute_job, .rules:staging]
    assert staging is not None
    assert staging.stage == "pre_deploy"
    assert staging.rules is not None and len(staging.rules) == 3


def test_legacy_keywords_and_defaults_reach_every_job() -> None:
    ruby = fixture("gitlab-template__Ruby")
    deploy = ruby.job("deploy")
    assert deploy is not None
    assert deploy.stage == "deploy", "the deprecated `type:` still names the stage"
    rspec = ruby.job("rspec")
    assert rspec is not None
    assert rspec.stage == "test", "no stage: GitLab's default"
    assert rspec.services == ("mysql:latest", "redis:latest", "postgres:latest")
    assert "gem install bundler  --no-ri --no-rdoc" in rspec.before_script
    django = fixture("gitlab-template__Django").job("django-tests")
    assert django is not None
    assert django.services == ("mysql:8.0",), "from default: services"


def test_a_block_scalar_anchor_is_one_script_line() -> None:
    build = fixture("f-droid__fdroid-website").job("build")
    assert build is not None
    assert build.script[0].startswith("ruby -v\napt-get update")
    assert build.except_ is not None and build.except_.refs == ("master",)


def test_environment_actions_needs_and_allow_failure_forms() -> None:
    website = fixture("f-droid__fdroid-website")
    teardown = website.job("teardown_preview")
    assert teardown is not None and teardown.environment is not None
    assert teardown.environment.action == "stop" and not teardown.environment.deploys
    assert teardown.allow_failure, "explicitly allowed to fail"
    manual = website.job("f-droid.org")
    assert manual is not None and manual.when == "manual"
    assert manual.allow_failure, "GitLab's default for when: manual outside rules"

    server = fixture("f-droid__fdroidserver")
    pages = server.job("pages")
    assert pages is not None and pages.needs == ("Build documentation",)
    windows = server.job("Windows")
    assert windows is not None
    assert windows.allow_failure is False and windows.allow_failure_exit_codes == (1,)

    openshift = fixture("gitlab-template__OpenShift")
    production = openshift.job("production")
    assert production is not None and production.environment is not None
    assert production.environment.url == "http://$CI_PROJECT_NAME.$OPENSHIFT_DOMAIN"
    stop = openshift.job("stop-review")
    assert stop is not None and stop.allow_failure is False, "when: manual inside rules"


def test_artifacts_coverage_and_parallel() -> None:
    sia = fixture("NebulousLabs__Sia").job("legacy-tests")
    assert sia is not None and sia.artifacts is not None
    assert sia.artifacts.paths == ("$CI_PROJECT_DIR/SiaTesting", "$CI_PROJECT_DIR/cover/cover.out")
    pylint = fixture("f-droid__fdroidserver").job("pylint")
    assert pylint is not None and pylint.artifacts is not None
    assert pylint.artifacts.reports == ("codequality",) and not pylint.artifacts.paths
    config = parse(
        """
unit:
  script: npm test
  coverage: '/All files[^|]*\\|[^|]*\\s+([\\d\\.]+)/'
  parallel: 4
matrix:
  script: make
  parallel:
    matrix:
      - PROVIDER: [aws, gcp]
        STACK: [a, b, c]
      - PROVIDER: ovh
"""
    )
    unit, matrix = config.jobs
    assert unit.coverage == "/All files[^|]*\\|[^|]*\\s+([\\d\\.]+)/"
    assert unit.parallel == 4
    assert matrix.parallel == 7


# --------------------------------------------------------------------------- GitLab's semantics


def test_extends_deep_merges_mappings_and_replaces_lists_later_parent_winning() -> None:
    config = parse(
        """
.base:
  stage: build
  script: [base]
  artifacts: {paths: [base/], expire_in: 1 week}
  environment: {name: staging, url: https://staging.example}
.other:
  stage: deploy
job:
  extends: [.base, .other]
  script: [own]
  artifacts: {paths: [own/]}
  environment: {name: production}
"""
    )
    job = config.job("job")
    assert job is not None
    assert job.stage == "deploy", "the later parent wins"
    assert job.script == ("own",), "lists are replaced, not merged"
    assert job.artifacts is not None
    assert job.artifacts.paths == ("own/",) and job.artifacts.expire_in == "1 week"
    assert job.environment is not None
    assert job.environment.name == "production"
    assert job.environment.url == "https://staging.example", "mappings merge key by key"


def test_circular_extends_is_an_error_naming_the_cycle() -> None:
    with pytest.raises(ValueError, match=r"circular extends: a → b → a"):
        parse("a:\n  extends: b\n  script: x\nb:\n  extends: a\n  script: y\n")


def test_extending_something_not_in_the_file_is_a_warning_not_a_crash() -> None:
    config = parse("job:\n  extends: .from-an-include\n  script: make\n")
    assert config.job("job") is not None
    assert config.warnings == ("job extends .from-an-include, which is not defined here",)


def test_reference_tags_resolve_and_flatten_into_scripts() -> None:
    config = parse(
        """
.setup:
  script: [one, two]
job:
  script:
    - !reference [.setup, script]
    - three
  before_script: !reference [.nowhere, script]
"""
    )
    job = config.job("job")
    assert job is not None
    assert job.script == ("one", "two", "three")
    assert job.before_script == ()
    assert "!reference ['.nowhere', 'script'] points at nothing" in config.warnings


def test_unknown_tags_keep_the_value_they_tag() -> None:
    config = parse("job:\n  script: !vault [a, b]\n  image: !custom 'alpine:3'\n")
    job = config.job("job")
    assert job is not None
    assert job.script == ("a", "b")
    assert job.image == "alpine:3"


def test_keywords_are_not_jobs_and_stages_default_to_gitlabs() -> None:
    config = parse(
        """
default: {image: alpine}
variables: {DEPLOY_ENABLED: "true", NEXT: $OTHER}
workflow: {rules: [{if: $CI_COMMIT_BRANCH}]}
include: [{template: Security/SAST.gitlab-ci.yml}, 'https://example.com/ci.yml']
build:
  script: make
"""
    )
    assert [job.name for job in config.jobs] == ["build"]
    assert config.stages == DEFAULT_STAGES
    assert config.jobs[0].stage == "test"
    assert config.jobs[0].image == "alpine"
    assert config.variables == (("DEPLOY_ENABLED", "true"),), "only literal values are known"
    assert [(i.kind, i.location) for i in config.includes] == [
        ("template", "Security/SAST.gitlab-ci.yml"),
        ("remote", "https://example.com/ci.yml"),
    ]


def test_a_spec_header_document_is_skipped() -> None:
    config = parse("spec:\n  inputs:\n    stage: {default: test}\n---\njob:\n  script: make\n")
    assert [job.name for job in config.jobs] == ["job"]


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("job:\n  script: [make\n", "line 3, column 1"),
        ("job:\n  script: make\n   stage: test\n", "line 3, column 9"),
        ("a: b: c\n", "line 1, column 5"),
    ],
)
def test_invalid_yaml_names_the_line_and_column(text: str, where: str) -> None:
    with pytest.raises(ValueError, match=f"invalid YAML at {where}"):
        parse(text)


def test_a_file_that_is_not_a_mapping_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="mapping of job names and keywords, not a list"):
        parse("- build\n- test\n")


def test_an_empty_file_has_no_jobs() -> None:
    assert parse("").jobs == ()


# --------------------------------------------------------------------------- merged YAML


def test_merged_yaml_with_ruby_symbol_keys() -> None:
    payload = load_fixture("gitlab/ci-lint-project-valid.json")
    config = parse_merged_yaml(payload["merged_yaml"])
    assert [(job.name, job.script) for job in config.jobs] == [("test_job", ("echo 1",))]

    payload = load_fixture("gitlab/ci-lint-merged-yaml-with-jobs.json")
    config = parse_merged_yaml(payload["merged_yaml"])
    assert [(job.name, job.stage) for job in config.jobs] == [
        ("another_test", "test"),
        ("test", "test"),
    ]
    assert config.complete


def test_merged_yaml_keeps_extends_and_escaped_quotes() -> None:
    payload = load_fixture("gitlab/ci-lint-compact-escaped-merged-yaml.json")
    config = parse_merged_yaml(payload["merged_yaml"])
    assert [job.name for job in config.jobs] == ["deploy"]
    deploy = config.jobs[0]
    assert deploy.extends == (".api_test",)
    assert deploy.script == ('echo "hello world"',)
    assert deploy.rules == (Rule(when="manual", allow_failure=True),)
    assert config.trigger(deploy, MAIN).manual


# --------------------------------------------------------------------------- when jobs run


def test_rules_decide_per_pipeline() -> None:
    config = fixture("gitlab-template__OpenShift")

    def outcomes(name: str, context: PipelineContext) -> set[str]:
        job = config.job(name)
        assert job is not None
        return set(config.trigger(job, context).outcomes)

    assert outcomes("production", MAIN) == {"manual"}
    assert outcomes("production", FEATURE) == {"never"}
    assert outcomes("staging", MAIN) == {"auto"}
    assert outcomes("review", MAIN) == {"never"}
    assert outcomes("review", FEATURE) == {"auto"}


def test_only_and_except_follow_gitlabs_defaults() -> None:
    ruby = fixture("gitlab-template__Ruby")
    deploy = ruby.job("deploy")
    assert deploy is not None
    assert ruby.trigger(deploy, MAIN).automatic and ruby.trigger(deploy, FEATURE).automatic
    assert ruby.trigger(deploy, MERGE_REQUEST).never, "no only/rules: not in MR pipelines"
    sia = fixture("NebulousLabs__Sia")
    sia_deploy = sia.job("deploy")
    assert sia_deploy is not None
    assert sia.trigger(sia_deploy, MASTER).automatic
    assert sia.trigger(sia_deploy, PipelineContext.branch_push("master")).never
    meltano = fixture("meltano__meltano")
    publish = meltano.job("publish")  # only: variables: [$CI_COMMIT_TAG]
    assert publish is not None
    assert meltano.trigger(publish, MASTER).never and meltano.trigger(publish, TAG).automatic


def test_unknown_conditions_leave_both_outcomes_open() -> None:
    gitter = fixture("zero804__gitter")
    deploy_prod = gitter.job("deploy_prod")
    assert deploy_prod is not None
    on_tag = gitter.trigger(deploy_prod, TAG)
    assert on_tag.manual and on_tag.conditional, "unless the project path says never"
    assert gitter.trigger(deploy_prod, MASTER).never


def test_workflow_rules_can_stop_the_whole_pipeline() -> None:
    gitter = fixture("zero804__gitter")  # pipelines for MRs, develop, master, release/*, tags
    test = gitter.job("test")
    assert test is not None
    assert gitter.trigger(test, PipelineContext.merge_request("master")).automatic
    assert gitter.trigger(test, PipelineContext.branch_push("master")).never


def test_literal_file_variables_are_known_to_rules() -> None:
    config = parse(
        """
variables: {DEPLOY_TARGET: production}
deploy:
  script: ./deploy.sh
  rules:
    - if: $DEPLOY_TARGET == "production"
      when: manual
"""
    )
    assert config.trigger(config.jobs[0], MAIN).manual


def test_ancestors_follow_stages_or_needs() -> None:
    config = parse(
        """
stages: [lint, build, test, deploy]
lint: {stage: lint, script: ruff}
build: {stage: build, script: make}
unit: {stage: test, script: pytest, needs: [build]}
fast: {stage: test, script: pytest, needs: []}
deploy: {stage: deploy, script: ./deploy.sh, needs: [ghost]}
"""
    )
    assert config.ancestors(config.job("unit")) == {"build", "lint"}  # type: ignore[arg-type]
    assert config.ancestors(config.job("fast")) == frozenset()  # type: ignore[arg-type]
    # A need this file does not define falls back to the stage order.
    assert config.ancestors(config.job("deploy")) == {"lint", "build", "unit", "fast"}  # type: ignore[arg-type]
    assert "job deploy needs ghost, which is not defined here" in config.warnings


@pytest.mark.parametrize(
    ("name", "branch"),
    [
        ("NebulousLabs__Sia", "master"),
        ("zero804__gitter", "master"),
        ("f-droid__fdroidserver", "master"),
        ("gitlab-template__OpenShift", None),
        ("gitlab-template__Ruby", None),
    ],
)
def test_the_default_branch_is_guessed_from_the_names_a_file_uses(
    name: str, branch: str | None
) -> None:
    assert guess_default_branch(fixture(name)) == branch


def test_what_depends_on_the_project_stays_unknown() -> None:
    config = parse(
        """
e2e:
  script: npx playwright test
  rules:
    - if: $CI_MERGE_REQUEST_LABELS =~ /run-e2e/
"""
    )
    job = config.jobs[0]
    assert config.trigger(job, MERGE_REQUEST).conditional, "labels depend on the merge request"
    assert config.trigger(job, MAIN).never, "a push has no merge request labels"


def test_restricted_to_the_default_branch() -> None:
    sia = fixture("NebulousLabs__Sia")
    assert sia.only_on_default_branch(sia.job("deploy"), "master")  # type: ignore[arg-type]
    ruby = fixture("gitlab-template__Ruby")
    assert not ruby.only_on_default_branch(ruby.job("deploy"), "main")  # type: ignore[arg-type]
    openshift = fixture("gitlab-template__OpenShift")
    assert openshift.only_on_default_branch(openshift.job("production"), "main")  # type: ignore[arg-type]
    assert not openshift.only_on_default_branch(openshift.job("review"), "main")  # type: ignore[arg-type]
