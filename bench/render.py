"""What the overview costs on the wire and on the CPU, against a whole-table re-render.

How it measures (and why this is faithful): each variant runs as a child process whose
stdin/stdout/stderr are the slave side of a pseudo-terminal (``os.openpty``) sized
120×36, with ``TERM=xterm-256color`` and truecolor, so Textual's real Linux driver
writes exactly the escape sequences it would write to an SSH session. The parent reads
the master side and timestamps every chunk; those are the bytes a terminal (or an SSH
link) would carry. The child drives its own scenario with the fake engine (200 service
environments, all sources fresh) and records, per phase, its start and end on the
system-wide monotonic clock and its own CPU time (``time.process_time``); the parent
then adds up the bytes that fell inside each phase.

Phases: ``idle`` (nothing changes for 5 s), ``single-row`` (ten updates that each change
one visible row's success rate as shown, 0.5 s apart), ``full-repaint`` (five forced repaints of
the whole screen: the size of one full frame), ``steady`` (200 services, 20 row updates
per second for 5 s).

Variants, in the same run: ``cockpit`` (the real overview: Line API, only changed rows
repainted) and ``baseline`` (a ``DataTable`` rebuilt from scratch on every update), both
fed by the fake engine; and ``live``: the simulator with 200 services (400 rows) in a
background thread and the real engine polling it at its default intervals, measured
``frozen`` for 35 s (the world's clock stopped: every poller asks at least once, every
answer is the same, so nothing may be written) and ``moving`` for 60 s (the world at
the clock's own pace: the living world's pipelines, deploys and canaries, and every age
on screen growing). Their CPU figures include the engine's own polling of
400 rows (see ``bench/engine.py``); the CPU budget is the screen's, measured above.

Budgets (cockpit): idle ≤ 1 % of a core and ≤ 200 B/s; one row change writes less than
1/20 of a full repaint. Prints the figures and PASS/FAIL; ``--json`` prints JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import fcntl
import json
import os
import random
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
SIZE = (120, 36)
SERVICES = 200
IDLE_SECONDS = 5.0
STEADY_SECONDS = 5.0
STEADY_UPDATES_PER_SECOND = 20
#: Long enough for every poller to ask once at the default intervals (30 s).
FROZEN_SECONDS = 35.0
MOVING_SECONDS = 60.0

IDLE_CPU_BUDGET = 1.0  # % of one core
IDLE_BYTES_BUDGET = 200.0  # bytes per second
SINGLE_ROW_RATIO_BUDGET = 1 / 20


# --------------------------------------------------------------------------- child


def _states(now: Any) -> list[Any]:
    from cockpit.model import EnvKey, Health, HealthStatus, Sample
    from tests.ui.fake_engine import checkout_staging

    template = checkout_staging(now)
    states = []
    for index in range(SERVICES):
        rate = 0.995 + (index % 5) / 1000
        history = tuple(Sample(at=now, value=rate) for _ in range(12))
        health = Health(threshold=0.99, success_rate=rate, status=HealthStatus.OK, history=history)
        key = EnvKey(f"service-{index:03d}", "production" if index % 2 else "staging")
        states.append(replace(template, key=key, health=health))
    return states


def _with_rate(state: Any, rate: float) -> Any:
    assert state.health is not None
    return replace(state, health=replace(state.health, success_rate=rate))


def _baseline_app(engine: Any) -> Any:
    """A straightforward overview: a DataTable rebuilt from scratch on every update."""
    from textual.app import App, ComposeResult
    from textual.widgets import DataTable

    from cockpit import triage
    from cockpit.ui.presenters import COLUMNS, row_cells

    class BaselineApp(App[None]):
        def compose(self) -> ComposeResult:
            yield DataTable(id="table")

        def on_mount(self) -> None:
            table = self.query_one(DataTable)
            table.add_columns(*(c.title for c in COLUMNS))
            self._rebuild(engine.states)
            engine.subscribe(lambda update: self._rebuild(update.states))

        def _rebuild(self, states: Any) -> None:
            table = self.query_one(DataTable)
            table.clear()
            widths = {c.key: c.max_width for c in COLUMNS}
            for state in sorted(states.values(), key=triage.sort_key):
                cells = row_cells(state, engine.now(), widths)
                table.add_row(*("".join(t for t, _ in cells[c.key]) for c in COLUMNS))

    return BaselineApp()


def run_phases(
    app: Any,
    prepare: Any,
    phases: list[tuple[str, Any]],
    *,
    settle: float,
) -> list[dict[str, float | str]]:
    """Run ``app``; once ``prepare()`` is done, time each phase on the wall and the CPU.

    ``settle`` seconds after each phase let its last frame out before the phase ends.
    """
    timed: list[dict[str, float | str]] = []

    async def script() -> None:
        await prepare()
        for name, body in phases:
            start, cpu = time.monotonic(), time.process_time()
            await body()
            await asyncio.sleep(settle)
            timed.append(
                {
                    "name": name,
                    "start": start,
                    "end": time.monotonic(),
                    "cpu": time.process_time() - cpu,
                }
            )
        app.exit()

    async def start_script() -> None:
        await asyncio.sleep(0)
        asyncio.get_running_loop().create_task(script())

    app.call_later(start_script)
    app.run()
    return timed


def live_child(result_path: Path) -> None:
    """The real simulator and engine behind the real overview."""
    from cockpit.config import load
    from cockpit.engine import Engine
    from cockpit.sim.background import BackgroundSimulator
    from cockpit.sim.clock import SimClock
    from cockpit.ui.app import CockpitApp

    background = BackgroundSimulator("healthy", services=SERVICES, clock=SimClock(manual=True))
    simulator = background.start()
    with tempfile.TemporaryDirectory() as directory:
        simulator.write_state_dir(Path(directory))
        # cockpit's default intervals: a calm row is asked twice a minute.
        config = load(Path(directory) / "cockpit.toml", environ={})
        engine = Engine(config, clock=simulator.clock.now)
        app = CockpitApp(engine)

        async def frozen() -> None:
            await asyncio.sleep(FROZEN_SECONDS)

        async def moving() -> None:
            # The world at the clock's own pace: the steady state of a real night.
            loop = asyncio.get_running_loop()
            deadline = time.monotonic() + MOVING_SECONDS
            while time.monotonic() < deadline:
                began = time.monotonic()
                await asyncio.sleep(0.5)
                await loop.run_in_executor(
                    None, background.call, simulator.advance, time.monotonic() - began
                )

        async def prepare() -> None:
            await engine.wait_settled(120)
            await asyncio.sleep(3)  # every poller past its follow-up, the screen drawn

        phases = run_phases(app, prepare, [("frozen", frozen), ("moving", moving)], settle=0.0)
    background.stop()
    result_path.write_text(json.dumps(phases))


def child(variant: str, result_path: Path) -> None:
    sys.path.insert(0, str(REPO))
    if variant == "live":
        live_child(result_path)
        return
    from tests.ui.fake_engine import DEMO_NOW, FakeEngine

    states = _states(DEMO_NOW)
    engine = FakeEngine(initial=states, clock=DEMO_NOW)
    if variant == "cockpit":
        from cockpit.ui.app import CockpitApp

        app: Any = CockpitApp(engine)
    else:
        app = _baseline_app(engine)
    rng = random.Random(7)

    async def idle() -> None:
        await asyncio.sleep(IDLE_SECONDS)

    async def single_row() -> None:
        # A row on screen: the fifth one in display order.
        from cockpit import triage

        key = sorted(engine.states.values(), key=triage.sort_key)[4].key
        for step in range(10):
            # Each update changes what the row shows (99.0 %, 99.1 %, …): a real repaint.
            engine.publish(_with_rate(engine.states[key], 0.9900 + step / 1000))
            await asyncio.sleep(0.5)

    async def full_repaint() -> None:
        for _ in range(5):
            app.screen.refresh(repaint=True)
            app.refresh(repaint=True)
            await asyncio.sleep(0.5)

    async def steady() -> None:
        keys = list(engine.states)
        deadline = time.monotonic() + STEADY_SECONDS
        while time.monotonic() < deadline:
            key = rng.choice(keys)
            engine.publish(_with_rate(engine.states[key], 0.99 + rng.random() / 100))
            await asyncio.sleep(1 / STEADY_UPDATES_PER_SECOND)

    async def prepare() -> None:
        await asyncio.sleep(1.5)  # first frame out, everything settled

    phases = run_phases(
        app,
        prepare,
        [
            ("idle", idle),
            ("single-row", single_row),
            ("full-repaint", full_repaint),
            ("steady", steady),
        ],
        settle=0.3,
    )
    result_path.write_text(json.dumps(phases))


# --------------------------------------------------------------------------- parent


def measure(variant: str) -> dict[str, Any]:
    master, slave = os.openpty()
    cols, rows = SIZE
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    chunks: list[tuple[float, int]] = []

    def reader() -> None:
        while True:
            try:
                data = os.read(master, 65536)
            except OSError:
                return
            if not data:
                return
            chunks.append((time.monotonic(), len(data)))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    with tempfile.TemporaryDirectory() as tmp:
        result = Path(tmp) / "phases.json"
        env = {
            **os.environ,
            "TERM": "xterm-256color",
            "COLORTERM": "truecolor",
            "COLUMNS": str(cols),
            "LINES": str(rows),
        }
        env.pop("NO_COLOR", None)
        process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", variant, str(result)],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            cwd=REPO,
            env=env,
            start_new_session=True,
        )
        os.close(slave)
        process.wait(timeout=300)
        time.sleep(0.2)
        os.close(master)
        thread.join(timeout=2)
        if not result.exists():
            raise SystemExit(
                f"bench: the {variant} child did not finish (exit {process.returncode})"
            )
        phases = json.loads(result.read_text())
    figures: dict[str, Any] = {}
    for item in phases:
        seconds = item["end"] - item["start"]
        written = sum(n for at, n in chunks if item["start"] <= at <= item["end"])
        figures[item["name"]] = {
            "seconds": round(seconds, 2),
            "bytes": written,
            "bytes_per_second": round(written / seconds, 1),
            "cpu_percent": round(100 * item["cpu"] / seconds, 2),
        }
    if "single-row" in figures:
        figures["single-row"]["bytes_per_update"] = round(figures["single-row"]["bytes"] / 10, 1)
        figures["full-repaint"]["bytes_per_repaint"] = round(
            figures["full-repaint"]["bytes"] / 5, 1
        )
    return figures


def verdicts(cockpit: dict[str, Any], live: dict[str, Any]) -> list[dict[str, Any]]:
    idle = cockpit["idle"]
    frozen = live["frozen"]
    per_update = cockpit["single-row"]["bytes_per_update"]
    full = cockpit["full-repaint"]["bytes_per_repaint"]
    return [
        {
            "check": "idle CPU ≤ 1 % of a core",
            "value": idle["cpu_percent"],
            "pass": idle["cpu_percent"] <= IDLE_CPU_BUDGET,
        },
        {
            "check": "idle output ≤ 200 B/s",
            "value": idle["bytes_per_second"],
            "pass": idle["bytes_per_second"] <= IDLE_BYTES_BUDGET,
        },
        {
            "check": "simulator frozen, engine polling: output ≤ 200 B/s",
            "value": frozen["bytes_per_second"],
            "pass": frozen["bytes_per_second"] <= IDLE_BYTES_BUDGET,
        },
        {
            "check": "one row change < 1/20 of a full repaint",
            "value": round(per_update / full, 4) if full else None,
            "pass": bool(full) and per_update < full * SINGLE_ROW_RATIO_BUDGET,
        },
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "RESULT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    results = {variant: measure(variant) for variant in ("cockpit", "baseline", "live")}
    checks = verdicts(results["cockpit"], results["live"])
    ok = all(c["pass"] for c in checks)
    if args.json:
        print(
            json.dumps(
                {
                    "size": SIZE,
                    "services": SERVICES,
                    "variants": results,
                    "checks": checks,
                    "pass": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"overview at {SIZE[0]}x{SIZE[1]}, {SERVICES} service environments")
    header = f"{'':14}{'idle B/s':>10}{'idle CPU':>10}{'1-row B':>10}{'full B':>10}{'steady B/s':>12}{'steady CPU':>12}"
    print(header)
    for variant, f in results.items():
        if variant == "live":
            frozen, moving = f["frozen"], f["moving"]
            print(
                f"live (simulator, {SERVICES} services, CPU with the engine's polling): "
                f"frozen {frozen['bytes_per_second']} B/s {frozen['cpu_percent']}% CPU; "
                f"moving {moving['bytes_per_second']} B/s {moving['cpu_percent']}% CPU"
            )
            continue
        print(
            f"{variant:14}{f['idle']['bytes_per_second']:>10}{f['idle']['cpu_percent']:>9}%"
            f"{f['single-row']['bytes_per_update']:>10}{f['full-repaint']['bytes_per_repaint']:>10}"
            f"{f['steady']['bytes_per_second']:>12}{f['steady']['cpu_percent']:>11}%"
        )
    for check in checks:
        print(f"{'PASS' if check['pass'] else 'FAIL'}  {check['check']}: {check['value']}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
