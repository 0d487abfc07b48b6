"""CI configuration: the projects' ``.gitlab-ci.yml`` templates and the job graph read from them.

Each project's ``.gitlab-ci.yml`` is one of :data:`TEMPLATES`, rendered as YAML text.
Pipelines are built from that text through :func:`job_graph`, and the lint endpoint
reads the same text through :func:`lint`, so what the files API serves is exactly what
the pipelines run.

* ``level4`` is the article's continuous-deployment pipeline: quick checks first (lint,
  type check), build (with artifacts) beside a dependency scan, unit / integration
  (with ``services:``) / contract / end-to-end tests that ``need`` only the build,
  staging deploy and smoke tests, then production deploy and smoke tests, automatic on
  the default branch.
* ``level3`` is the same with the production deploy ``when: manual`` and
  ``allow_failure: false`` (continuous delivery: the pipeline blocks on a human).
* ``lean`` deploys automatically like ``level4`` but has no contract or end-to-end
  tests (an unmet prerequisite the maturity assessment can point at).

Job durations are the simulator's own (``DURATIONS``); they are not part of the YAML.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

import yaml

STAGES = (
    "quick_checks",
    "build",
    "test",
    "staging_deploy",
    "staging_tests",
    "production_deploy",
    "production_verification",
)

_ON_DEFAULT_BRANCH = "$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH"

#: Seconds a job takes (low, high); the simulator draws within the range.
DURATIONS: dict[str, tuple[float, float]] = {
    "lint": (25, 50),
    "typecheck": (40, 80),
    "build": (90, 180),
    "dependency_scan": (150, 300),
    "unit_tests": (60, 150),
    "integration_tests": (150, 300),
    "contract_tests": (60, 120),
    "e2e_tests": (200, 400),
    "deploy_staging": (60, 120),
    "staging_smoke_tests": (30, 60),
    "deploy_production": (120, 240),
    "production_smoke_tests": (30, 60),
}
DEFAULT_DURATION = (30.0, 90.0)


def _jobs(*, manual_production: bool, contract_and_e2e: bool) -> dict[str, Any]:
    tests = ["unit_tests", "integration_tests"]
    if contract_and_e2e:
        tests += ["contract_tests", "e2e_tests"]
    production_rule: dict[str, Any] = {"if": _ON_DEFAULT_BRANCH}
    if manual_production:
        production_rule.update({"when": "manual", "allow_failure": False})
    jobs: dict[str, Any] = {
        "lint": {
            "stage": "quick_checks",
            "script": ["bundle exec rubocop --format progress"],
            "timeout": "5m",
        },
        "typecheck": {
            "stage": "quick_checks",
            "script": ["bundle exec srb tc"],
            "timeout": "5m",
        },
        "build": {
            "stage": "build",
            "image": "docker:27",
            "services": ["docker:27-dind"],
            "script": [
                'docker build -t "$IMAGE" .',
                'docker push "$IMAGE"',
                "bundle exec rake assets:precompile",
            ],
            "artifacts": {"paths": ["dist/"], "expire_in": "1 week"},
        },
        "dependency_scan": {
            "stage": "build",
            "script": ["bundle exec bundle-audit check --update"],
        },
        "unit_tests": {
            "stage": "test",
            "needs": ["build"],
            "script": ["bundle exec rspec spec/unit --format progress"],
            "coverage": "/Line Coverage: (\\d+\\.\\d+)%/",
        },
        "integration_tests": {
            "stage": "test",
            "needs": ["build"],
            "services": ["postgres:16", "redis:7"],
            "variables": {"DATABASE_URL": "postgres://postgres@postgres/test"},
            "script": ["bin/rails db:prepare", "bundle exec rspec spec/integration"],
        },
    }
    if contract_and_e2e:
        jobs["contract_tests"] = {
            "stage": "test",
            "needs": ["build"],
            "script": ["bundle exec rspec spec/contract", "bundle exec pact-broker can-i-deploy"],
        }
        jobs["e2e_tests"] = {
            "stage": "test",
            "needs": ["build"],
            "services": ["postgres:16", "redis:7"],
            "script": ["bin/e2e up", "bundle exec rspec spec/e2e"],
        }
    jobs.update(
        {
            "deploy_staging": {
                "stage": "staging_deploy",
                "needs": [*tests, "dependency_scan"],
                "environment": {
                    "name": "staging",
                    "url": "https://$CI_PROJECT_NAME.staging.shop.example.com",
                },
                "script": ["./deploy.sh staging"],
                "rules": [{"if": _ON_DEFAULT_BRANCH}],
            },
            "staging_smoke_tests": {
                "stage": "staging_tests",
                "needs": ["deploy_staging"],
                "script": ["./scripts/smoke-tests.sh staging"],
                "rules": [{"if": _ON_DEFAULT_BRANCH}],
            },
            "deploy_production": {
                "stage": "production_deploy",
                "needs": ["staging_smoke_tests"],
                "environment": {
                    "name": "production",
                    "url": "https://$CI_PROJECT_NAME.shop.example.com",
                },
                "script": ["./deploy.sh production"],
                "rules": [production_rule],
            },
            "production_smoke_tests": {
                "stage": "production_verification",
                "needs": ["deploy_production"],
                "script": ["./scripts/smoke-tests.sh production"],
                "rules": [{"if": _ON_DEFAULT_BRANCH}],
            },
        }
    )
    return jobs


def _document(jobs: dict[str, Any]) -> dict[str, Any]:
    return {
        "workflow": {"name": "$CI_COMMIT_TITLE"},
        "default": {"image": "ruby:3.3", "interruptible": True},
        "variables": {"IMAGE": "$CI_REGISTRY_IMAGE:$CI_COMMIT_SHORT_SHA"},
        "stages": list(STAGES),
        **jobs,
    }


_HEADERS = {
    "level4": "# Continuous deployment: every commit on the default branch that passes goes live.",
    "level3": "# Continuous delivery: production waits for someone to press play.",
    "lean": "# Continuous deployment with unit and integration tests only.",
}


@functools.cache
def template(name: str) -> str:
    """The ``.gitlab-ci.yml`` text of a CI template (see the module docstring)."""
    if name == "level4":
        jobs = _jobs(manual_production=False, contract_and_e2e=True)
    elif name == "level3":
        jobs = _jobs(manual_production=True, contract_and_e2e=True)
    elif name == "lean":
        jobs = _jobs(manual_production=False, contract_and_e2e=False)
    else:
        raise ValueError(f"unknown CI template {name!r}; one of {', '.join(TEMPLATES)}")
    body = yaml.safe_dump(_document(jobs), sort_keys=False, default_flow_style=False, width=100)
    return f"{_HEADERS[name]}\n{body}"


TEMPLATES = ("level4", "level3", "lean")


# --------------------------------------------------------------------------- job graph


@dataclass(frozen=True)
class JobDefinition:
    """One job as a pipeline creates it from the configuration."""

    name: str
    stage: str
    stage_index: int
    script: tuple[str, ...]
    #: Jobs this one waits for; None: every job of the earlier stages (no ``needs``).
    needs: tuple[str, ...] | None
    when: str  # on_success | manual
    allow_failure: bool
    environment: str | None
    environment_url: str | None
    services: tuple[str, ...]
    artifacts: tuple[str, ...]
    coverage: bool
    image: str


@dataclass(frozen=True)
class LintResult:
    valid: bool
    errors: tuple[str, ...]
    warnings: tuple[str, ...]
    merged_yaml: str | None
    jobs: tuple[JobDefinition, ...]
    #: The configuration as parsed (for ``merged_yaml``), None when it did not parse.
    document: dict[str, Any] | None


_RESERVED = {
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
}


def lint(text: str) -> LintResult:
    """Validate a CI configuration the way GitLab's lint does, for the keys we use."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(error, "problem", None) or str(error)
        return LintResult(False, (f"(<unknown>): {problem}{where}",), (), None, (), None)
    if not isinstance(document, dict):
        return LintResult(False, ("Invalid configuration format",), (), None, (), None)
    errors: list[str] = []
    stages = document.get("stages", ["build", "test", "deploy"])
    if not isinstance(stages, list) or not all(isinstance(s, str) for s in stages):
        errors.append("stages config should be an array of strings")
        stages = []
    full_stages = [".pre", *stages, ".post"]
    default_image = str(
        (document.get("default") or {}).get("image") or document.get("image") or "ruby:3.3"
    )
    jobs: list[JobDefinition] = []
    names = [
        k
        for k, v in document.items()
        if k not in _RESERVED and not str(k).startswith(".") and isinstance(v, dict)
    ]
    for name in names:
        raw = document[name]
        stage = str(raw.get("stage", "test"))
        if stage not in full_stages:
            errors.append(
                f"{name} job: chosen stage {stage} does not exist; available stages are "
                + ", ".join(full_stages)
            )
            continue
        script = raw.get("script")
        if not script and "trigger" not in raw:
            errors.append(
                f"jobs:{name} config should implement the script:, run:, or trigger: keyword"
            )
            continue
        if "when" in raw and "rules" in raw:
            errors.append(f"jobs:{name} config key may not be used with `rules`: when")
            continue
        when, allow_failure = _when(raw)
        needs = raw.get("needs")
        env = raw.get("environment")
        env_name = env.get("name") if isinstance(env, dict) else env
        env_url = env.get("url") if isinstance(env, dict) else None
        artifacts = raw.get("artifacts") or {}
        jobs.append(
            JobDefinition(
                name=str(name),
                stage=stage,
                stage_index=full_stages.index(stage),
                script=tuple(
                    str(s) for s in ([script] if isinstance(script, str) else script or [])
                ),
                needs=None if needs is None else tuple(_need_name(n) for n in needs),
                when=when,
                allow_failure=allow_failure,
                environment=None if env_name is None else str(env_name),
                environment_url=None if env_url is None else str(env_url),
                services=tuple(str(s) for s in raw.get("services", [])),
                artifacts=tuple(str(p) for p in artifacts.get("paths", [])),
                coverage="coverage" in raw,
                image=str(raw.get("image", default_image)),
            )
        )
    known = {job.name for job in jobs}
    for job in jobs:
        for need in job.needs or ():
            if need not in known:
                errors.append(f"{job.name} job: undefined need: {need}")
    if not jobs and not errors:
        errors.append("jobs config should contain at least one visible job")
    jobs.sort(key=lambda j: j.stage_index)
    return LintResult(
        valid=not errors,
        errors=tuple(errors),
        warnings=(),
        merged_yaml=merged_yaml(document),
        jobs=tuple(jobs),
        document=document,
    )


def _need_name(need: Any) -> str:
    return str(need["job"]) if isinstance(need, dict) else str(need)


def _when(raw: dict[str, Any]) -> tuple[str, bool]:
    """``when`` and ``allow_failure`` of a job (from its first rule when it has rules)."""
    rules = raw.get("rules")
    source = rules[0] if isinstance(rules, list) and rules and isinstance(rules[0], dict) else raw
    when = str(source.get("when", raw.get("when", "on_success")))
    # A manual job outside rules may fail by default; inside rules it blocks by default.
    default_allow = when == "manual" and source is raw
    allow = source.get("allow_failure", raw.get("allow_failure", default_allow))
    return when, bool(allow)


@functools.cache
def job_graph(text: str) -> tuple[JobDefinition, ...]:
    """The jobs a pipeline on the default branch creates from this configuration."""
    result = lint(text)
    if not result.valid:
        raise ValueError("; ".join(result.errors))
    return result.jobs


# --------------------------------------------------------------------------- merged YAML


def merged_yaml(document: Any) -> str:
    """The configuration as GitLab's lint serialises it: Ruby symbol keys (``:stage:``)."""
    lines = ["---"]
    _emit(document, 0, lines)
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    text = str(value)
    if (
        text == ""
        or text[0] in "!&*-:?{}[],#|>@`\"'%"
        or ": " in text
        or " #" in text
        or text != text.strip()
        or text in ("true", "false", "null", "yes", "no")
    ):
        escaped = text.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    return text


def _emit(value: Any, indent: int, lines: list[str]) -> None:
    pad = " " * indent
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict) and item:
                lines.append(f"{pad}:{key}:")
                _emit(item, indent + 2, lines)
            elif isinstance(item, list) and item:
                lines.append(f"{pad}:{key}:")
                _emit(item, indent, lines)
            else:
                lines.append(f"{pad}:{key}: {_scalar(item)}".rstrip())
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, dict) and item:
                first = True
                for key, sub in item.items():
                    lead = f"{pad}- " if first else f"{pad}  "
                    first = False
                    if isinstance(sub, (dict, list)) and sub:
                        lines.append(f"{lead}:{key}:")
                        _emit(sub, indent + 4 if isinstance(sub, dict) else indent + 2, lines)
                    else:
                        lines.append(f"{lead}:{key}: {_scalar(sub)}".rstrip())
            else:
                lines.append(f"{pad}- {_scalar(item)}")
