"""``cockpit sim``: run the simulated world until SIGINT or SIGTERM, then exit 0."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from datetime import UTC, datetime
from pathlib import Path

from cockpit.sim.scenario import ScenarioError, available


async def _serve(args: argparse.Namespace, state_dir: Path) -> None:
    from cockpit.sim.clock import SimClock
    from cockpit.sim.server import simulate

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # A cockpit in another process reads the wall clock: the world starts at the current
    # second so that ages agree (with a time scale above 1 the world runs ahead of it).
    start = datetime.now(UTC).replace(microsecond=0)
    clock = SimClock(start, scale=args.time_scale or 1.0)
    async with simulate(
        args.scenario, seed=args.seed, clock=clock, services=args.services, state_dir=state_dir
    ) as sim:
        urls = sim.urls
        assert urls is not None
        print(
            f"cockpit sim: scenario {sim.scenario.name!r} (seed {args.seed}) is up\n"
            f"  GitLab      {urls.gitlab}\n"
            f"  Kubernetes  {urls.kube}\n"
            f"  Prometheus  {urls.prometheus}\n"
            f"  metrics     {urls.metrics}/metrics\n"
            f"  state       {state_dir} (kubeconfig, cockpit.toml, env)\n"
            "Stop with Ctrl-C.",
            file=sys.stderr,
            flush=True,
        )
        await stop.wait()


def run(args: argparse.Namespace) -> int:
    if args.scenario not in available():
        print(
            f"cockpit: error: unknown scenario {args.scenario!r}; choose one of: "
            f"{', '.join(available())}",
            file=sys.stderr,
        )
        return 2
    if args.services is not None and args.services < 1:
        print("cockpit: error: --services must be at least 1", file=sys.stderr)
        return 2
    if args.time_scale is not None and args.time_scale <= 0:
        print("cockpit: error: --time-scale must be a positive number", file=sys.stderr)
        return 2
    try:
        asyncio.run(_serve(args, Path(args.state_dir).absolute()))
    except ScenarioError as error:
        print(f"cockpit: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"cockpit: error: cannot start the simulator: {error}", file=sys.stderr)
        return 1
    return 0
