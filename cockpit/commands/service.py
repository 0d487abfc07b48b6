"""What the commands that read one configured service from GitLab share.

Loading the configuration and the GitLab source, finding a service's environments, and
turning a GitLab failure into one line for the person at the terminal. The configuration
and the sources layer are imported only when a command needs them.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable
from typing import Any, TypeVar

from cockpit.errors import CommandFailed, UsageError
from cockpit.insights.job_roles import environment_tier

T = TypeVar("T")


def source_error() -> type[Exception]:
    """The sources layer's error class (``.message`` is meant for people)."""
    from cockpit.sources.errors import SourceError

    error_class: type[Exception] = SourceError
    return error_class


def load_service(args: argparse.Namespace) -> tuple[Any, Any]:
    """(GitLab source, service configuration) for ``args.service`` and ``args.config``."""
    from cockpit.config import load, print_warnings
    from cockpit.sources.gitlab import GitLabSource

    config = load(args.config)
    print_warnings(config)
    return GitLabSource(config.gitlab), config.service(args.service)


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


async def required(call: Awaitable[T], what: str) -> T:
    """Await a GitLab call the command cannot do without; its failure ends the command."""
    try:
        return await call
    except source_error() as error:
        raise CommandFailed(f"GitLab: cannot read {what}: {_message(error)}") from error


async def optional(
    call: Awaitable[T], what: str, unavailable: dict[str, str], key: str
) -> T | None:
    """Await a GitLab call whose failure only makes one finding unknown."""
    try:
        return await call
    except source_error() as error:
        unavailable[key] = f"GitLab did not give {what}: {_message(error)}"
        return None


def _message(error: Exception) -> str:
    return str(getattr(error, "message", None) or error)
