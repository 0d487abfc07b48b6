"""``cockpit demo``: the simulated world and the cockpit screen against it, with no setup.

The simulator (GitLab, Kubernetes with Argo Rollouts, Prometheus) runs on loopback
ports in a background thread; its generated configuration, kubeconfig and token go to a
private temporary directory; the screen runs exactly as ``cockpit`` does, through the
real sources and engine. Quitting stops the simulator and removes the directory.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from cockpit.errors import UsageError

#: Simulated seconds per real second: a five-minute canary pause takes ten seconds.
DEMO_TIME_SCALE = 30.0


def run(args: argparse.Namespace) -> int:
    from cockpit.config import load
    from cockpit.engine import Engine
    from cockpit.sim.background import BackgroundSimulator
    from cockpit.sim.scenario import available
    from cockpit.ui.run import action_port, insights_provider, run_app

    if args.scenario not in available():
        raise UsageError(
            f"unknown scenario {args.scenario!r}; choose one of: {', '.join(available())}"
        )
    time_scale = args.time_scale or DEMO_TIME_SCALE
    if time_scale <= 0:
        raise UsageError("--time-scale must be a positive number")
    print(f"cockpit demo: starting the simulated world ({args.scenario})…", file=sys.stderr)
    background = BackgroundSimulator(args.scenario, seed=args.seed, time_scale=time_scale)
    with tempfile.TemporaryDirectory(prefix="cockpit-demo-") as directory:
        simulator = background.start()
        try:
            simulator.write_state_dir(Path(directory))
            config = load(Path(directory) / "cockpit.toml", environ={})
            # Ages of deployments, pause time left and query windows follow the world's
            # (sped-up) clock; freshness of the data follows the wall clock.
            engine = Engine(config, clock=simulator.clock.now)
            read_only = bool(args.read_only or config.read_only)
            return run_app(
                engine,
                read_only=read_only,
                low_bandwidth=bool(args.low_bandwidth),
                actions=action_port(engine, read_only=read_only),
                insights=insights_provider(engine, config),
            )
        finally:
            background.stop()
