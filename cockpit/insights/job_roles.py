"""What a CI job is for: a check, which kinds of test, or a deploy to which tier.

A job's role is read from what a person would read: its ``environment:`` first (GitLab's
own notion of a deployment), then the commands it runs, then its name and stage. The
order matters for the traps real pipelines contain: a job named ``test_website`` that
runs ``helm upgrade`` is a deploy, a job named ``test_deploy_to_s3`` that runs
``python -m unittest`` is a test, and a job called ``deploy`` that only builds binaries
deploys to no known environment.

Environment tiers follow GitLab's deployment tiers (production, staging, testing,
development, other): an explicit ``deployment_tier`` wins, otherwise the name is read
word by word (``prod-eu`` is production, ``pre-prod`` and ``nonprod`` are staging,
``review/…`` is development), staging words first so that ``pre-prod`` is not production.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from cockpit.insights.ciconfig import CiJob

TIERS = ("production", "staging", "testing", "development", "other")

_STAGING = {
    "staging",
    "stage",
    "stg",
    "preprod",
    "preproduction",
    "pre",
    "uat",
    "demo",
    "nonprod",
    "nonproduction",
}
_PRODUCTION = {"production", "prod", "prd", "live"}
_TESTING = {"test", "testing", "tests", "tst", "qa", "qc", "acceptance", "integration"}
_DEVELOPMENT = {"dev", "develop", "development", "review", "preview", "local"}

# Command patterns are matched at the start of each shell command of a job's script
# (after `&&`, `;`, `|`, and after `VAR=value`, `sudo`, `time` or `exec`), so that
# `apt-get install linkchecker` is an install and `shellcheck tests/run-tests` a lint.
_PATH = r"(?:\S*/)?"
_TEST_COMMANDS = re.compile(
    rf"""(?x)
      {_PATH}pytest\b | python[0-9.]*\s+-m\s+(?:pytest|unittest|nose2?)\b | nose2?\b
    | (?:npm|pnpm|yarn)\s+(?:run\s+)?test | npx\s+(?:jest|vitest|mocha|cypress|playwright)\b
    | go\s+test\b | cargo\s+(?:test|nextest)\b | (?:bundle\s+exec\s+)?rspec\b
    | (?:bundle\s+exec\s+)?rails\s+test\b | (?:bundle\s+exec\s+)?rake\s+(?:test|spec)\b
    | python[0-9.]*\s+manage\.py\s+test\b | make\s+(?:-\S+\s+)*[\w.-]*test[\w.-]*
    | {_PATH}mvnw?\b.*\b(?:test|verify)\b | {_PATH}gradlew?\b.*\b(?:test|check)\b
    | {_PATH}(?:jest|mocha|vitest|phpunit|tox|ctest|behave|cucumber|bats|linkchecker)\b
    | {_PATH}run-tests\b | dotnet\s+test\b | mix\s+test\b
    """
)
_LINT_COMMANDS = re.compile(
    rf"""(?x)
      {_PATH}(?:flake8|pyflakes|pycodestyle|pylint|rubocop|black|prettier|gofmt|gometalinter
             |golangci-lint|mypy|pyright|tsc|pre-commit|shellcheck|yamllint|ruff|isort
             |hadolint|stylelint|eslint|phpstan|psalm|ktlint|checkstyle)\b
    | go\s+vet\b | cargo\s+(?:fmt|clippy)\b | (?:npm|pnpm|yarn)\s+(?:run\s+)?[\w:-]*(?:lint|prettier|typecheck|type-check|format)
    | make\s+(?:-\S+\s+)*[\w.-]*(?:lint|validate|fmt|format|style)[\w.-]*
    """
)
_SECURITY_COMMANDS = re.compile(
    rf"""(?x)
      {_PATH}(?:bandit|pip-audit|safety|trivy|grype|snyk|semgrep|gitleaks|govulncheck
             |bundle-audit)\b
    | python[0-9.]*\s+-m\s+(?:pip_audit|safety|bandit)\b | (?:npm|yarn)\s+audit\b
    | bundle\s+audit\b | cargo\s+audit\b
    """
)
_DEPLOY_COMMANDS = re.compile(
    rf"""(?x)
      helm\s+(?:upgrade|install)\b | kubectl\b.*\b(?:apply|set\s+image|replace|rollout\s+restart)\b
    | oc\s+(?:start-build|apply|new-app|rollout\s+latest)\b | dpl\b | ansible-playbook\b
    | surge\b(?!\s+teardown) | scp\s | cf\s+push\b | heroku\b | gcloud\b.*\bdeploy\b
    | aws\s+(?:ecs\s+update-service|deploy|lambda\s+update-function-code|s3\s+sync)\b
    | terraform\s+apply\b | pulumi\s+up\b | docker\s+stack\s+deploy\b | vercel\b
    | (?:serverless|sls|firebase|netlify|kamal|flyctl|fly)\s+deploy\b | argocd\s+app\s+sync\b
    | {_PATH}deploy(?:[\w.-]*)?\.sh\b | \./deploy\b | cap\s+\S+\s+deploy\b
    """
)
_IMAGE_PUSH = re.compile(
    rf"(?:docker|podman|buildah)\s+push\b|crane\s+push\b|{_PATH}kaniko/executor\b"
)
_COMMAND_PREFIX = re.compile(
    r"""^(?:\w+=(?:"[^"]*"|'[^']*'|`[^`]*`|\S*)\s+|sudo\s+(?:-\S+\s+)*|time\s+|exec\s+|env\s+)*"""
)


def commands(lines: tuple[str, ...]) -> list[str]:
    """The shell commands of script lines, each starting at its executable."""
    found: list[str] = []
    for line in lines:
        for part in re.split(r"&&|\|\||;|\||\n|\bthen\b|\bdo\b", line):
            command = _COMMAND_PREFIX.sub("", part.strip().lstrip("({!").strip())
            if command:
                found.append(command)
    return found


def _first_match(pattern: re.Pattern[str], found: list[str]) -> str | None:
    for command in found:
        match = pattern.match(command)
        if match:
            return match.group(0).strip()
    return None


_TEST_WORDS = {"test", "tests", "testing", "spec", "specs", "rspec", "check", "checks"}
_DEPLOY_WORDS = {"deploy", "deployment", "deploys", "release", "publish", "rollout", "ship"}
_LINT_WORDS = {"lint", "linter", "linting", "typecheck", "types", "fmt", "format", "style"}
_SMOKE_WORDS = {"smoke", "verify", "verification", "sanity", "healthcheck", "synthetic"}
_E2E_WORDS = {
    "e2e",
    "endtoend",
    "end2end",
    "cypress",
    "playwright",
    "selenium",
    "browser",
    "acceptance",
    "webdriver",
}
#: Stage names too generic to say anything (GitLab puts every job without a stage in "test").
_GENERIC_STAGES = {"test", "tests"}


def words(text: str) -> list[str]:
    """Lower-case words of a name: ``deploy_prod-eu`` → ``deploy``, ``prod``, ``eu``.

    A word that ends in digits also counts without them (``test1`` is a ``test``).
    """
    found: list[str] = []
    for word in re.split(r"[^a-z0-9]+", text.lower()):
        if word:
            found.append(word)
            stem = word.rstrip("0123456789")
            if stem and stem != word:
                found.append(stem)
    return found


def environment_tier(name: str, deployment_tier: str | None = None) -> str:
    """GitLab's deployment tier for an environment, guessed from its name if not declared."""
    if deployment_tier in TIERS:
        return deployment_tier
    found = set(words(name))
    joined = name.lower().replace("-", "").replace("_", "")
    if found & _STAGING or "preprod" in joined:
        return "staging"
    if found & _PRODUCTION:
        return "production"
    if found & _TESTING:
        return "testing"
    if found & _DEVELOPMENT:
        return "development"
    return "other"


@dataclass(frozen=True)
class JobRole:
    """What one job does, with the evidence a person can check."""

    job: CiJob
    #: Checks that are not tests: "lint" (linters, formatters, type checks), "security".
    checks: frozenset[str] = frozenset()
    #: Kinds of test: "unit", "integration", "contract", "e2e", "smoke".
    tests: frozenset[str] = frozenset()
    #: The tier it deploys to (TIERS, or "pages" for GitLab Pages); None: not a deploy.
    deploy_tier: str | None = None
    #: Why, in a few words ("runs pytest", "environment production").
    evidence: str = ""

    @property
    def is_test(self) -> bool:
        return bool(self.tests)

    @property
    def is_lint(self) -> bool:
        return "lint" in self.checks

    @property
    def deploys(self) -> bool:
        return self.deploy_tier is not None


def classify(
    job: CiJob, *, production: str = "production", production_jobs: frozenset[str] = frozenset()
) -> JobRole:
    """The role of ``job``.

    ``production`` is the name of the production environment (it is production even if
    its name does not say so); ``production_jobs`` are job names GitLab's deployment
    history shows deploying to production.
    """
    found = commands((*job.before_script, *job.script))
    name_words = set(words(job.name))
    stage_words = set() if job.stage in _GENERIC_STAGES else set(words(job.stage))
    checks = _checks(name_words | stage_words, found)

    if job.name in production_jobs:
        return JobRole(job, checks, deploy_tier="production", evidence="deploys to production")
    environment = job.environment
    if environment is not None and environment.deploys:
        tier = (
            "production"
            if environment.name == production
            else environment_tier(environment.name, environment.deployment_tier)
        )
        return JobRole(job, checks, deploy_tier=tier, evidence=f"environment {environment.name}")

    test_command = _first_match(_TEST_COMMANDS, found)
    if test_command:
        kinds = _test_kinds(job, name_words | stage_words, found)
        return JobRole(job, checks, tests=kinds, evidence=f"runs {test_command}")
    # A job that stops, prepares or checks an environment deploys nothing.
    if environment is None:
        if job.name == "pages":
            return JobRole(job, checks, deploy_tier="pages", evidence="publishes GitLab Pages")
        deploy_command = _first_match(_DEPLOY_COMMANDS, found)
        deploy_stage = bool(stage_words & _DEPLOY_WORDS) and not stage_words & {"pre", "post"}
        if deploy_command or name_words & _DEPLOY_WORDS or deploy_stage:
            tier = _tier_from_words(name_words) or _tier_from_words(stage_words) or "other"
            evidence = f"runs {deploy_command}" if deploy_command else "named as a deploy"
            return JobRole(job, checks, deploy_tier=tier, evidence=evidence)
    if name_words & (_TEST_WORDS | _SMOKE_WORDS | _E2E_WORDS) and not checks:
        kinds = _test_kinds(job, name_words | stage_words, found)
        return JobRole(job, checks, tests=kinds, evidence="named as a test")
    return JobRole(job, checks, evidence=_describe_checks(checks, found))


def _checks(name_words: set[str], found: list[str]) -> frozenset[str]:
    checks: set[str] = set()
    if name_words & _LINT_WORDS or _first_match(_LINT_COMMANDS, found):
        checks.add("lint")
    if "security" in name_words or _first_match(_SECURITY_COMMANDS, found):
        checks.add("security")
    return frozenset(checks)


def _describe_checks(checks: frozenset[str], found: list[str]) -> str:
    command = _first_match(_LINT_COMMANDS, found) or _first_match(_SECURITY_COMMANDS, found)
    if command:
        return f"runs {command}"
    return f"named as a {' and '.join(sorted(checks))} check" if checks else ""


def _test_kinds(job: CiJob, name_words: set[str], found: list[str]) -> frozenset[str]:
    script = "\n".join(found).lower()
    everything = name_words | set(words(script))
    kinds: set[str] = set()
    if everything & (_SMOKE_WORDS - {"verify"}) or name_words & {"verify", "verification"}:
        kinds.add("smoke")
    if everything & _E2E_WORDS or "end-to-end" in script:
        kinds.add("e2e")
    if everything & {"contract", "contracts", "pact"}:
        kinds.add("contract")
    if everything & {"integration", "integ"} or job.services:
        kinds.add("integration")
    if "unit" in everything or not kinds:
        kinds.add("unit")
    return frozenset(kinds)


def _tier_from_words(found: set[str]) -> str | None:
    if found & _STAGING:
        return "staging"
    if found & _PRODUCTION:
        return "production"
    if found & (_TESTING - {"integration"}):
        return "testing"
    if found & _DEVELOPMENT:
        return "development"
    return None


def pushes_image(job: CiJob) -> bool:
    """The job publishes a container image (a build artifact kept in a registry)."""
    return _first_match(_IMAGE_PUSH, commands(job.script)) is not None
