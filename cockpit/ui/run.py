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
    )
