"""``cockpit`` with no subcommand: load the configuration, build the engine, run the screen.

``run_app`` is shared with ``cockpit demo`` (which builds its engine against the
simulator). Textual is imported only here, after the low-bandwidth preset has set the
environment it reads at import time.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import MutableMapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cockpit.config import Config
    from cockpit.engine import Engine
    from cockpit.ui.action_port import ActionPort
    from cockpit.ui.insight_rows import InsightsProvider

#: For slow SSH links: 256 colours (about a quarter fewer bytes than truecolor) and
#: at most 10 frames a second. An explicit setting in the environment wins.
LOW_BANDWIDTH_ENVIRONMENT = {"TEXTUAL_COLOR_SYSTEM": "256", "TEXTUAL_FPS": "10"}


def apply_low_bandwidth(environ: MutableMapping[str, str]) -> None:
    """Set the low-bandwidth preset, keeping any value the user already chose."""
    for name, value in LOW_BANDWIDTH_ENVIRONMENT.items():
        environ.setdefault(name, value)


def run_app(
    engine: Engine,
    *,
    read_only: bool,
    low_bandwidth: bool,
    actions: ActionPort | None,
    insights: InsightsProvider | None = None,
) -> int:
    """Run the screen until the user quits; the exit status."""
    if low_bandwidth:
        apply_low_bandwidth(os.environ)
    from cockpit.ui.app import CockpitApp

    app = CockpitApp(
        engine,
        read_only=read_only,
        low_bandwidth=low_bandwidth,
        actions=actions,
        insights=insights,
    )
    app.run()
    return app.return_code or 0


def action_port(engine: Engine, config: Config) -> ActionPort:
    """``cockpit.actions`` bound to this engine and configuration."""
    from cockpit.actions import ActionContext
    from cockpit.ui.action_port import CockpitActions

    return CockpitActions(ActionContext(engine=engine, config=config))


def run(args: argparse.Namespace) -> int:
    from cockpit.config import load
    from cockpit.engine import Engine

    config = load(args.config)
    engine: Any = Engine(config)
    return run_app(
        engine,
        read_only=bool(args.read_only or config.read_only),
        low_bandwidth=bool(args.low_bandwidth),
        actions=action_port(engine, config),
        insights=insights_provider(engine, config),
    )


def insights_provider(engine: Engine, config: Config) -> InsightsProvider | None:
    """The ``d`` dashboard's data: maturity per service, DORA per environment, from GitLab.

    Gathered on demand (the dashboard is a read-only view, not a live one) through the
    engine's own GitLab source; a service GitLab will not describe shows as unknown.
    """
    gitlab = getattr(engine, "gitlab", None)
    if gitlab is None:
        return None

    async def rows() -> tuple[Any, ...]:
        import asyncio

        from cockpit.commands import dora, maturity
        from cockpit.ui.insight_rows import DoraFigure, InsightRow

        now = engine.now()

        def figure(metric: Any) -> DoraFigure:
            return DoraFigure(value=metric.display(), cls=metric.cls)

        unknown = DoraFigure(value="?", cls=None)

        async def one_service(service: Any) -> list[InsightRow]:
            try:
                report, _ = await maturity.gather(gitlab, service)
            except Exception:  # shown as unknown: the dashboard never fails as a whole
                report = None
            found = []
            for env in service.environments:
                try:
                    dora_report = await dora.gather(gitlab, service, env.name, days=30, now=now)
                    figures = [figure(m) for _, _, m in dora_report.metrics]
                except Exception:
                    figures = [unknown] * 4
                found.append(
                    InsightRow(
                        service=service.name,
                        environment=env.name,
                        level=report.level if report else None,
                        next_step=report.next_step.title if report and report.next_step else None,
                        missing=tuple(f.title for f in report.missing) if report else (),
                        deployment_frequency=figures[0],
                        lead_time=figures[1],
                        change_failure_rate=figures[2],
                        time_to_restore=figures[3],
                    )
                )
            return found

        per_service = await asyncio.gather(*(one_service(s) for s in config.services))
        return tuple(row for rows in per_service for row in rows)

    return rows
