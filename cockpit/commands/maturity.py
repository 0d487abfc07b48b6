"""``cockpit maturity``: where a project stands on the continuous deployment maturity model.

``cockpit maturity --ci-file PATH`` reads one ``.gitlab-ci.yml`` and nothing else: what
needs GitLab (deployment history, feature flags) or the configuration (a health query)
is reported as unknown. ``cockpit maturity SERVICE`` reads the service's CI configuration
from GitLab (merged with its includes through the CI lint API when it has any), its
production deployments and its feature flags.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

from cockpit.ciconfig import CiConfig, guess_default_branch, parse, parse_merged_yaml
from cockpit.commands.service import (
    load_service,
    optional,
    production_environment,
    required,
)
from cockpit.errors import CommandFailed, UsageError
from cockpit.insights.maturity import MaturityReport, assess

CI_FILE = ".gitlab-ci.yml"


def run(args: argparse.Namespace) -> int:
    if args.ci_file and args.service:
        raise UsageError("give a SERVICE or --ci-file PATH, not both")
    if args.ci_file:
        config = read_ci_file(Path(args.ci_file))
        branch = args.default_branch or guess_default_branch(config) or "main"
        report = assess(
            config, deployments=None, health_configured=None, flags=None, default_branch=branch
        )
        subject, warnings = args.ci_file, config.warnings
    elif args.service:
        source, service = load_service(args)
        report, warnings = asyncio.run(gather(source, service))
        subject = args.service
    else:
        raise UsageError("give a SERVICE from the configuration, or --ci-file PATH")
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(subject, report, warnings))
    return 0


def read_ci_file(path: Path) -> CiConfig:
    """The file parsed; a one-line usage error when it cannot be read or is not valid."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as error:
        raise UsageError(f"{path}: no such file") from error
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"{path}: cannot be read ({_one_line(error)})") from error
    try:
        return parse(text)
    except ValueError as error:
        raise UsageError(f"{path}: {_one_line(error)}") from error


async def gather(source: Any, service: Any) -> tuple[MaturityReport, tuple[str, ...]]:
    """Read what the assessment needs from GitLab, concurrently, and assess.

    Returns the report and notes on the CI configuration. The CI file is required (its
    absence is level 1, a failure to read it ends the command); the rest is optional:
    when GitLab refuses it, the finding it feeds is unknown and says why.
    """
    project, ref = service.gitlab_project, service.ref
    production = production_environment(service)
    unavailable: dict[str, str] = {}
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
        health_configured=bool(production.success_rate) if production is not None else None,
        flags=flags,
        default_branch=ref,
        production=production.gitlab_environment if production is not None else "production",
        unavailable=unavailable,
    )
    return report, (*notes, *(config.warnings if config is not None else ()))


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


def render(subject: str, report: MaturityReport, warnings: tuple[str, ...] = ()) -> str:
    """The report as a person reads it: level, findings with reasons, then the next step."""
    bound = "" if report.complete else " (at least: the included files were not read)"
    lines = [f"{subject}: maturity level {report.level} of 4, {report.level_name}{bound}"]
    for title, marker, findings in (
        ("present", "+", report.present),
        ("missing", "-", report.missing),
        ("unknown", "?", report.unknown),
    ):
        if findings:
            lines.append(f"{title}:")
            lines.extend(f"  {marker} {item.title}: {item.reason}" for item in findings)
    if warnings:
        lines.append("notes on the CI configuration:")
        lines.extend(f"  ! {warning}" for warning in warnings)
    if report.next_step is not None:
        lines.append(f"next step: {report.next_step.title}: {report.next_step.reason}")
    return "\n".join(lines)


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split())
