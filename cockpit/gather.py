"""Reading from GitLab what the maturity and DORA insights need, for one configured service.

Shared by the commands that print (``cockpit maturity``, ``cockpit dora``) and the
screens that show the same figures (the ``d`` dashboard, the service detail). The
source is any object with GitLabSource's read methods; the sources layer itself is
imported only to recognise its error class.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from cockpit.errors import CommandFailed, UsageError, words
from cockpit.insights.ciconfig import CiConfig, parse, parse_merged_yaml
from cockpit.insights.dora import DoraReport, compute
from cockpit.insights.job_roles import environment_tier
from cockpit.insights.maturity import MaturityReport, assess

T = TypeVar("T")

CI_FILE = ".gitlab-ci.yml"

#: Enough deployments for a month of an elite team deploying a dozen times a day.
HISTORY_LIMIT = 1000


async def dora_report(
    source: Any, service: Any, environment_name: str, *, days: int, now: datetime
) -> DoraReport:
    """Read the environment's deployments of the last ``days`` days and compute."""
    target = environment(service, environment_name)
    project = service.gitlab_project
    deployments = await required(
        source.deployments(
            project,
            target.gitlab_environment,
            limit=HISTORY_LIMIT,
            updated_after=now - timedelta(days=days),
        ),
        f"the deployments of {project} to {target.gitlab_environment}",
    )
    return compute(deployments, now=now, days=days)


async def maturity_report(
    source: Any, service: Any, *, health_unknown: str | None = None
) -> tuple[MaturityReport, tuple[str, ...]]:
    """Read what the assessment needs from GitLab, concurrently, and assess.

    Returns the report and notes on the CI configuration. The CI file is required (its
    absence is level 1, a failure to read it ends the command); the rest is optional:
    when GitLab refuses it, the finding it feeds is unknown and says why.
    """
    project, ref = service.gitlab_project, service.ref
    production = production_environment(service)
    unavailable: dict[str, str] = {}
    if health_unknown is not None:
        unavailable["health"] = health_unknown
    if production is None:
        unavailable["deployments"] = unavailable["health"] = (
            "the service has no environment in the configuration"
        )
        deployments_call: Awaitable[Any] = _nothing()
    else:
        deployments_call = optional(
            source.deployments(project, production.gitlab_environment, limit=100),
            "the deployment history",
            unavailable,
            "deployments",
        )
    text, deployments, flags = await asyncio.gather(
        required(source.file(project, CI_FILE, ref), f"{CI_FILE} of {project} at {ref}"),
        deployments_call,
        optional(source.feature_flags(project), "the feature flags", unavailable, "flags"),
    )
    notes: list[str] = []
    config = await _configuration(source, project, ref, text, notes)
    report = assess(
        config,
        deployments=deployments,
        health_configured=(
            bool(production.success_rate)
            if production is not None and health_unknown is None
            else None
        ),
        flags=flags,
        default_branch=ref,
        production=production.gitlab_environment if production is not None else "production",
        unavailable=unavailable,
    )
    return report, (*notes, *(config.warnings if config is not None else ()))


@dataclass(frozen=True)
class GroupRow:
    """One project of a group, assessed (or why it could not be)."""

    project: str
    #: The configuration's name for it, when cockpit.toml has it as a service.
    service: str | None
    report: MaturityReport | None
    notes: tuple[str, ...] = ()
    error: str | None = None


@dataclass(frozen=True)
class _GroupEnvironment:
    name: str
    gitlab_environment: str
    success_rate: str | None = None


@dataclass(frozen=True)
class _GroupService:
    """A project of the group that cockpit.toml does not configure: what GitLab says."""

    gitlab_project: str
    ref: str
    environments: tuple[_GroupEnvironment, ...]


NOT_CONFIGURED = "the project is not a service of cockpit's configuration (no health query)"


async def group_maturity(source: Any, group: str, services: Iterable[Any]) -> tuple[GroupRow, ...]:
    """Every project of ``group`` (subgroups included) assessed as ``cockpit maturity
    SERVICE`` assesses one: a project the configuration has uses its service (production
    environment, health query); any other its default branch and the GitLab environment
    whose tier is production. One project GitLab refuses is a row with its reason."""
    projects = await required(source.group_projects(group), f"the projects of the group {group}")
    configured = {service.gitlab_project: service for service in services}

    async def one(project: Any) -> GroupRow:
        service = configured.get(project.path)
        if service is None:
            target: Any = _GroupService(
                gitlab_project=project.path,
                ref=project.default_branch or "main",
                environments=tuple(
                    _GroupEnvironment(name, name)
                    for name in project.environments
                    if environment_tier(name) == "production"
                ),
            )
        else:
            target = service
        try:
            report, notes = await maturity_report(
                source, target, health_unknown=None if service else NOT_CONFIGURED
            )
        except CommandFailed as error:
            name = service.name if service else None
            return GroupRow(project.path, name, None, error=str(error))
        return GroupRow(project.path, service.name if service else None, report, notes)

    return tuple(await asyncio.gather(*(one(project) for project in projects)))


def environment(service: Any, name: str) -> Any:
    """The service's environment called ``name``; a usage error naming the choices."""
    for candidate in service.environments:
        if candidate.name == name:
            return candidate
    names = ", ".join(candidate.name for candidate in service.environments) or "none"
    raise UsageError(f"the service has no environment {name!r} (it has: {names})")


def production_environment(service: Any) -> Any | None:
    """The environment that is production: by GitLab tier, else the last one listed."""
    environments = list(service.environments)
    for candidate in environments:
        if environment_tier(candidate.gitlab_environment) == "production":
            return candidate
    return environments[-1] if environments else None


def source_error() -> type[Exception]:
    """The sources layer's error class (``.message`` is meant for people)."""
    from cockpit.sources.errors import SourceError

    error_class: type[Exception] = SourceError
    return error_class


async def required(call: Awaitable[T], what: str) -> T:
    """Await a GitLab call the command cannot do without; its failure ends the command."""
    try:
        return await call
    except source_error() as error:
        raise CommandFailed(f"GitLab: cannot read {what}: {words(error)}") from error


async def optional(
    call: Awaitable[T], what: str, unavailable: dict[str, str], key: str
) -> T | None:
    """Await a GitLab call whose failure only makes one finding unknown."""
    try:
        return await call
    except source_error() as error:
        unavailable[key] = f"GitLab did not give {what}: {words(error)}"
        return None


async def _nothing() -> None:
    return None


async def _configuration(
    source: Any, project: str, ref: str, text: str | None, notes: list[str]
) -> CiConfig | None:
    """The CI configuration, with its includes merged by GitLab when it has any."""
    if text is None:
        return None
    try:
        config = parse(text)
    except ValueError as error:
        raise CommandFailed(f"{project}: {CI_FILE} at {ref}: {_one_line(error)}") from error
    if config.complete:
        return config
    unavailable: dict[str, str] = {}
    lint = await optional(
        source.ci_lint(project, ref), "the merged configuration", unavailable, "lint"
    )
    if lint is None:
        reason = unavailable["lint"]
    elif not lint.valid:
        reason = "GitLab's CI lint finds it invalid: " + "; ".join(lint.errors)
    elif not lint.merged_yaml:
        reason = "GitLab's CI lint returned no merged YAML"
    else:
        return parse_merged_yaml(lint.merged_yaml)
    notes.append(f"includes not merged ({reason}); only {CI_FILE} itself was read")
    return config


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
