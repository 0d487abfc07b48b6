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
from pathlib import Path

from cockpit.commands.service import load_service
from cockpit.errors import UsageError
from cockpit.gather import maturity_report
from cockpit.insights.ciconfig import CiConfig, guess_default_branch, parse
from cockpit.insights.maturity import MaturityReport, assess


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
        report, warnings = asyncio.run(maturity_report(source, service))
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


def render(subject: str, report: MaturityReport, warnings: tuple[str, ...] = ()) -> str:
    """The report as a person reads it: level, findings with reasons, then the next step."""
    if report.level is None:
        lines = [f"{subject}: maturity level unknown: {report.level_name}"]
    else:
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
