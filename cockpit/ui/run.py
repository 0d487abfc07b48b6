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
    warnings: tuple[str, ...] = (),
) -> int:
    """Run the screen until the user quits, or a signal stops it; the exit status."""
    if low_bandwidth:
        apply_low_bandwidth(os.environ)
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.terminal import run_until_signalled

    app = CockpitApp(
        engine,
        read_only=read_only,
        low_bandwidth=low_bandwidth,
        actions=actions,
        insights=insights,
        warnings=warnings,
    )
    return run_until_signalled(app)


def action_port(engine: Engine, *, read_only: bool) -> ActionPort:
    """``cockpit.actions`` bound to this engine, refusing every write when ``read_only``."""
    from cockpit.ui.action_port import CockpitActions

    return CockpitActions.from_engine(engine, read_only=read_only)


def run(args: argparse.Namespace) -> int:
    from cockpit.config import load
    from cockpit.engine import Engine

    config = load(args.config)
    engine: Any = Engine(config)
    read_only = bool(args.read_only or config.read_only)
    return run_app(
        engine,
        read_only=read_only,
        low_bandwidth=bool(args.low_bandwidth),
        actions=action_port(engine, read_only=read_only),
        insights=insights_provider(engine, config),
        warnings=config.warnings,
    )


def insights_provider(engine: Engine, config: Config) -> InsightsProvider | None:
    """Maturity per service and DORA per environment, from GitLab, for the ``d`` dashboard
    (every service) and the service detail (one service).

    Gathered on demand (neither view is live) through the engine's own GitLab source,
    with ``cockpit maturity`` and ``cockpit dora``'s own gathering (:mod:`cockpit.gather`); what GitLab refuses
    is shown as unknown with GitLab's reason: one service never fails the others.
    """
    gitlab = getattr(engine, "gitlab", None)
    if gitlab is None:
        return None

    async def rows(service: str | None = None) -> tuple[Any, ...]:
        import asyncio

        from cockpit.errors import words
        from cockpit.gather import dora_report, maturity_report
        from cockpit.ui.insight_rows import DoraFigure, InsightRow, Maturity

        now = engine.now()

        async def assess(service_config: Any) -> Maturity:
            try:
                report, _ = await maturity_report(gitlab, service_config)
            except Exception as error:  # shown with its reason: never fails the view
                return Maturity(level=None, error=words(error))
            step = report.next_step
            return Maturity(
                level=report.level,
                name=report.level_name,
                present=tuple(f.title for f in report.present),
                missing=tuple(f.title for f in report.missing),
                unknown=tuple(f.title for f in report.unknown),
                next_step=step.title if step else None,
                next_step_reason=step.reason if step else None,
                complete=report.complete,
                # a fragment has no level: its reason is shown where an error would be
                error=report.level_name if report.level is None else None,
            )

        async def measure(
            service_config: Any, env: Any
        ) -> tuple[tuple[DoraFigure, ...], str | None]:
            try:
                report = await dora_report(gitlab, service_config, env.name, days=30, now=now)
            except Exception as error:
                return (), words(error)
            figures = tuple(
                DoraFigure(title=title, value=m.display(), cls=m.cls, detail=m.detail)
                for _, title, m in report.metrics
            )
            return figures, None

        async def one_service(service_config: Any) -> list[InsightRow]:
            environments = service_config.environments
            assessing = asyncio.ensure_future(assess(service_config))
            measured = await asyncio.gather(*(measure(service_config, e) for e in environments))
            level = await assessing
            return [
                InsightRow(
                    service=service_config.name,
                    environment=env.name,
                    maturity=level,
                    dora=figures,
                    dora_error=error,
                )
                for env, (figures, error) in zip(environments, measured, strict=True)
            ]

        chosen = [s for s in config.services if service is None or s.name == service]
        per_service = await asyncio.gather(*(one_service(s) for s in chosen))
        return tuple(row for found in per_service for row in found)

    return rows
