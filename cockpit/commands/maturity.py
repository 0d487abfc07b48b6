"""``cockpit maturity``: where a project stands on the continuous deployment maturity model.

``cockpit maturity --ci-file PATH`` reads one ``.gitlab-ci.yml`` and nothing else: what
needs GitLab (deployment history, feature flags) or the configuration (a health query)
is reported as unknown. ``cockpit maturity SERVICE`` reads the service's CI configuration
from GitLab (merged with its includes through the CI lint API when it has any), its
production deployments and its feature flags. ``cockpit maturity --group GROUP`` does
that for every project of a GitLab group, in one table (``--json``, ``--markdown``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from pathlib import Path

from cockpit.commands.service import load_group_source, load_service
from cockpit.errors import UsageError
from cockpit.gather import GroupRow, group_maturity, maturity_report
from cockpit.insights.ciconfig import CiConfig, guess_default_branch, parse
from cockpit.insights.maturity import MaturityReport, assess


def run(args: argparse.Namespace) -> int:
    if sum(1 for given in (args.ci_file, args.service, args.group) if given) > 1:
        raise UsageError("give a SERVICE, --ci-file PATH or --group GROUP, only one of them")
    if args.markdown and not args.group:
        raise UsageError("--markdown goes with --group GROUP")
    if args.group:
        return run_group(args)
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
        raise UsageError("give a SERVICE from the configuration, --ci-file PATH or --group GROUP")
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(subject, report, warnings))
    return 0


def run_group(args: argparse.Namespace) -> int:
    source, services = load_group_source(args)
    try:
        rows = asyncio.run(group_maturity(source, args.group, services))
    finally:
        asyncio.run(source.close())
    if args.json:
        print(json.dumps([group_row_json(row) for row in rows], indent=2))
    elif args.markdown:
        print(group_markdown(args.group, rows))
    else:
        print(group_table(args.group, rows))
    return 0


def group_row_json(row: GroupRow) -> dict[str, object]:
    return {
        "project": row.project,
        "service": row.service,
        "report": row.report.to_json() if row.report is not None else None,
        "notes": list(row.notes),
        "error": row.error,
    }


def _level(row: GroupRow) -> str:
    if row.report is None:
        return "?"
    if row.report.level is None:
        return "?"
    return f"{row.report.level}" + ("" if row.report.complete else "+")


def _name(row: GroupRow) -> str:
    if row.report is None:
        return f"not assessed: {row.error}"
    return row.report.level_name


def _next(row: GroupRow) -> str:
    step = row.report.next_step if row.report is not None else None
    return step.title if step is not None else ""


def group_table(group: str, rows: tuple[GroupRow, ...]) -> str:
    """One line per project: level (``3+``: at least 3, includes not read), its name, the
    next step."""
    if not rows:
        return f"{group}: no projects"
    header = ("project", "level", "maturity", "next step")
    body = [(row.project, _level(row), _name(row), _next(row)) for row in rows]
    widths = [max(len(line[i]) for line in (header, *body)) for i in range(3)]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(line[:3], widths, strict=True))
        + "  "
        + line[3]
        for line in (header, *body)
    ]
    footer = f"{len(rows)} projects in {group}"
    if any(_level(row).endswith("+") for row in rows):
        footer += "; '+': at least that level (included CI files not read)"
    lines.append(footer)
    return "\n".join(line.rstrip() for line in lines)


def group_markdown(group: str, rows: tuple[GroupRow, ...]) -> str:
    """A Markdown table for a team page (pipes in text escaped)."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        f"## Continuous deployment maturity: {cell(group)}",
        "",
        "| Project | Level | Maturity | Next step |",
        "|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {cell(row.project)} | {_level(row)} | {cell(_name(row))} | {cell(_next(row))} |"
        )
    return "\n".join(lines)


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
