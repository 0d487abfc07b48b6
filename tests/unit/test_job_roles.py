"""What a CI job is for: the traps real pipelines set for a naive reader."""

from __future__ import annotations

import pytest

from cockpit.insights.ciconfig import CiJob, Environment, parse
from cockpit.insights.job_roles import classify, commands, environment_tier


@pytest.mark.parametrize(
    ("name", "declared", "tier"),
    [
        ("production", None, "production"),
        ("prod-eu", None, "production"),
        ("live", None, "production"),
        ("staging", None, "staging"),
        ("pre-prod", None, "staging"),
        ("nonprod", None, "staging"),
        ("beta_staging", None, "staging"),
        ("review/$CI_COMMIT_REF_NAME", None, "development"),
        ("qa-env-2", None, "testing"),
        ("beta", None, "other"),
        ("customer-portal", "production", "production"),
    ],
)
def test_environment_tiers_follow_gitlabs_words(name: str, declared: str | None, tier: str) -> None:
    assert environment_tier(name, declared) == tier


def test_commands_start_at_the_executable() -> None:
    lines = (
        "cd tests && ./run-tests",
        'fdroid="$(brew --prefix)/bin/python3 $PWD/fdroid" ./tests/run-tests',
        "FOO=1 sudo -E make test",
    )
    assert commands(lines) == ["cd tests", "./run-tests", "./tests/run-tests", "make test"]


def job_from(yaml_text: str) -> CiJob:
    return parse(yaml_text).jobs[0]


@pytest.mark.parametrize(
    ("yaml_text", "tests", "checks", "tier"),
    [
        # Installing a tool is not running it.
        ("pages:\n  script: [apt-get install -y linkchecker, jekyll build]", set(), set(), "pages"),
        # A linter given a test script as argument is a lint.
        ("shellcheck:\n  script: shellcheck tests/run-tests", set(), {"lint"}, None),
        # Named like a test, deploys with helm: a deploy (to a testing tier).
        (
            "test_website:\n  stage: deploy\n  script: helm upgrade --install web .",
            set(),
            set(),
            "testing",
        ),
        # Named like a deploy, runs unittest: a test (with services: integration).
        (
            "test_deploy_to_s3:\n  services: [docker:dind]\n  script: python3 -m unittest -k s3",
            {"integration"},
            set(),
            None,
        ),
        # A job called deploy that deploys nowhere known.
        ("deploy:\n  stage: deploy\n  script: make deploy", set(), set(), "other"),
        # Placeholder tests still count by name (test1, test2 in GitLab's template).
        ("test1:\n  script: echo run tests", {"unit"}, set(), None),
        ("e2e_tests:\n  script: npm run test:e2e", {"e2e"}, set(), None),
        ("contract_tests:\n  script: npm run test:contracts", {"contract"}, set(), None),
        (
            "production_smoke_tests:\n  stage: production_verification\n  script: ./scripts/smoke-tests.sh production",
            {"smoke"},
            set(),
            None,
        ),
        ("lint_and_types:\n  script: [npm run lint, npm run typecheck]", set(), {"lint"}, None),
        ("bandit:\n  script: bandit -r -ii .", set(), {"security"}, None),
        ("deploy_production:\n  script: ./deploy.sh production", set(), set(), "production"),
    ],
)
def test_roles(yaml_text: str, tests: set[str], checks: set[str], tier: str | None) -> None:
    role = classify(job_from(yaml_text))
    assert (set(role.tests), set(role.checks), role.deploy_tier) == (tests, checks, tier)


def test_an_environment_that_is_stopped_is_not_a_deploy() -> None:
    job = CiJob(
        name="teardown_preview",
        script=("surge teardown $URL",),
        environment=Environment(name="review/x", action="stop"),
    )
    assert not classify(job).deploys


def test_the_configured_production_environment_and_deployment_history_win() -> None:
    job = CiJob(name="ship", script=("./ship",), environment=Environment(name="gprd"))
    assert classify(job).deploy_tier == "other"
    assert classify(job, production="gprd").deploy_tier == "production"
    plain = CiJob(name="publish_site", stage="deploy", script=("./publish.sh",))
    assert classify(plain).deploy_tier == "other"
    assert classify(plain, production_jobs=frozenset({"publish_site"})).deploy_tier == "production"
