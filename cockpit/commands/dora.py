"""``cockpit dora SERVICE --env E``: the four DORA metrics of one service in one environment.

Reads the environment's GitLab deployments over the window (``--days``, 30 by default)
and prints deployment frequency, lead time, change failure rate and time to restore,
each with its class from the Accelerate State of DevOps 2019 report (see
:mod:`cockpit.insights.dora` for how the metrics and classes are defined).
"""

from __future__ import annotations

import argparse
import asyncio
import json
from datetime import UTC, datetime

from cockpit.commands.service import load_service
from cockpit.gather import dora_report
from cockpit.insights.dora import SOURCE, DoraReport


def run(args: argparse.Namespace) -> int:
    source, service = load_service(args)
    now = datetime.now(UTC)
    report = asyncio.run(dora_report(source, service, args.env, days=args.days, now=now))
    if args.json:
        print(json.dumps(report.to_json(), indent=2))
    else:
        print(render(f"{args.service} / {args.env}", report))
    return 0


def render(subject: str, report: DoraReport) -> str:
    """One line per metric: title, value, class, and how it was measured."""
    lines = [f"{subject}: DORA metrics over the last {report.window_days} days"]
    for _, title, metric in report.metrics:
        lines.append(f"  {title:<22} {metric.display():<13} {metric.cls or '-':<7} {metric.detail}")
    lines.append(f"classes: {SOURCE} (elite, high, medium, low)")
    return "\n".join(lines)
