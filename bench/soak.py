"""Does anything grow? A simulated 12-hour shift of the screen against ``cockpit sim``.

    python bench/soak.py              # 10 minutes of wall time, a 12-hour shift
    python bench/soak.py --quick      # 2 minutes: a smoke run
    python bench/soak.py --trace DIR  # also tracemalloc snapshots of both processes

The simulator runs as its own process (``cockpit sim --scenario demo --time-scale N``,
N chosen so that ``--minutes`` of wall time are twelve hours of the world's), so the
resident set of each process is measured apart. This process runs the screen: the real
``CockpitApp`` headless (``App.run_test``), the real engine over real HTTP, the real
action layer (its audit log in a temporary directory) and the insights provider.

Scripted activity, in a loop until the time is up, by pressing the real keys through
the pilot: open a row's detail and a job's log, the feature flags (toggle one, confirm
with ``y``), the dashboard, help and the command palette, each closed again; promote
(``p``) and roll back (``r``) the selected row when the screen offers it, confirmed with
``y``. Meanwhile the world moves by itself: canaries progress, pipelines run and fail,
new builds are deployed.

Reported: RSS (``VmRSS`` from ``/proc``) of the screen process and of the simulator at
the start, after warm-up (the first 10 % of the run) and at the end. Budget (PASS/FAIL
per process): growth after warm-up ≤ 10 MB. Exit 1 on any FAIL, or at once with one
clear line when the simulator does not start.

``--no-footer`` runs the same shift with the footer replaced by a static one, to tell
the footer's own growth apart from everything else.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import tracemalloc
import urllib.request
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SHIFT = timedelta(hours=12)
WARMUP_SHARE = 0.10
GROWTH_BUDGET_MB = 10.0
SIZE = (120, 36)
SIM_START_SECONDS = 60.0
#: RSS is sampled this often (wall seconds) for the report's series.
SAMPLE_EVERY = 10.0


def rss_mb(pid: int | str = "self") -> float:
    """Resident set size in MB, from ``/proc/<pid>/status`` (proc(5): VmRSS)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


# ----------------------------------------------------------------- simulator side


def sim_child(argv: list[str]) -> int:
    """``cockpit sim`` itself, optionally with tracemalloc: SIGUSR1 writes a snapshot."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--trace")
    args, rest = parser.parse_known_args(argv)
    if args.trace:
        tracemalloc.start(8)
        count = 0

        def dump(signum: int, frame: object) -> None:
            nonlocal count
            gc.collect()
            tracemalloc.take_snapshot().dump(f"{args.trace}.{count}")
            Path(f"{args.trace}.{count}.done").touch()
            count += 1

        signal.signal(signal.SIGUSR1, dump)
    from cockpit.cli import main

    return main(["sim", *rest])


def start_simulator(state: Path, time_scale: float, trace: Path | None) -> subprocess.Popen[str]:
    command = [sys.executable, str(Path(__file__).resolve()), "--sim-child"]
    if trace is not None:
        command += ["--trace", str(trace / "sim")]
    command += [
        "--scenario",
        "demo",
        "--time-scale",
        str(time_scale),
        "--state-dir",
        str(state),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    # Under tracemalloc the simulator starts several times slower.
    deadline = time.monotonic() + SIM_START_SECONDS * (4 if trace is not None else 1)
    while not (state / "env").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            _, err = process.communicate()
            raise SystemExit(f"FAIL the simulator did not start: {err.strip()[-2000:]}")
        time.sleep(0.1)
    return process


def sim_admin(state: Path) -> str:
    for line in (state / "env").read_text().splitlines():
        if line.startswith("COCKPIT_SIM_ADMIN="):
            return line.split("=", 1)[1].strip().strip("'\"")
    raise SystemExit("FAIL the simulator's env file names no COCKPIT_SIM_ADMIN")


def world_clock(admin: str) -> Callable[[], datetime]:
    """The world's clock as seen from this process: its ``now`` once, then its pace."""
    with urllib.request.urlopen(f"{admin}/state", timeout=120) as response:
        state = json.load(response)
    origin = time.monotonic()
    start = datetime.fromisoformat(state["now"])
    scale = float(state["time_scale"])

    def now() -> datetime:
        return start + timedelta(seconds=(time.monotonic() - origin) * scale)

    return now


def snapshot_sim(process: subprocess.Popen[str], trace: Path, index: int) -> None:
    done = trace / f"sim.{index}.done"
    process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + 120
    while not done.exists():
        if time.monotonic() > deadline:
            print(f"warning: no snapshot from the simulator ({done})", file=sys.stderr)
            return
        time.sleep(0.2)


# ----------------------------------------------------------------- screen side


class Shift:
    """The scripted activity against the screen: one round of keys at a time."""

    def __init__(self, app: Any, pilot: Any) -> None:
        self.app = app
        self.pilot = pilot
        self.rounds = 0
        self.writes = 0
        self.missed: dict[str, int] = {}
        #: Wall seconds spent per key pressed and per condition waited on.
        self.spent: dict[str, float] = {}

    async def press(self, key: str) -> None:
        began = time.monotonic()
        await self.pilot.press(key)
        self.spent[key] = self.spent.get(key, 0.0) + time.monotonic() - began

    async def until(self, check: Callable[[], bool], what: str, timeout: float = 15.0) -> bool:
        began = time.monotonic()
        deadline = began + timeout
        try:
            while time.monotonic() < deadline:
                if check():
                    return True
                await self.pilot.pause(0.05)
            self.missed[what] = self.missed.get(what, 0) + 1
            return False
        finally:
            waited = f"wait {what}"
            self.spent[waited] = self.spent.get(waited, 0.0) + time.monotonic() - began

    def on(self, name: str) -> bool:
        return type(self.app.screen).__name__ == name

    async def overview(self) -> None:
        """Back to the overview: escape until it is on top."""
        for _ in range(8):
            if self.on("OverviewScreen"):
                return
            await self.press("escape")
            await self.pilot.pause(0.05)
        await self.until(lambda: self.on("OverviewScreen"), "back to the overview")

    async def open_and_close(self, key: str, screen: str) -> None:
        await self.press(key)
        if await self.until(lambda: self.on(screen), screen):
            await self.pilot.pause(0.1)
        await self.overview()

    async def confirm(self) -> None:
        def armed() -> bool:
            return self.on("ConfirmScreen") and bool(getattr(self.app.screen, "armed", False))

        if await self.until(armed, "confirm dialog", timeout=8):
            await self.press("y")
            self.writes += 1
            await self.until(lambda: not self.on("ConfirmScreen"), "dialog closed")

    async def intent(self, key: str, intent: str) -> None:
        """Press ``key`` on the overview when the screen offers ``intent`` for the row."""
        await self.overview()
        screen = self.app.screen
        if screen.check_action("intent", (intent,)) is not True:
            return
        await self.press(key)
        await self.confirm()
        await self.overview()

    async def round(self) -> None:
        pilot = self.pilot
        await self.overview()
        await self.press("j")
        # A row's detail, then the first job's log.
        await self.press("enter")
        if await self.until(lambda: self.on("DetailScreen"), "DetailScreen"):
            await pilot.pause(0.1)
            await self.press("enter")
            if await self.until(lambda: self.on("JobLogScreen"), "JobLogScreen", timeout=5):
                await pilot.pause(0.2)
        await self.overview()
        # Feature flags: toggle the first one (confirmed), every other round.
        await self.press("f")
        if await self.until(lambda: self.on("FlagsScreen"), "FlagsScreen"):
            await pilot.pause(0.1)
            if self.rounds % 2 == 0:
                await self.press("space")
                await self.confirm()
        await self.overview()
        await self.open_and_close("d", "DashboardScreen")
        await self.open_and_close("question_mark", "HelpScreen")
        await self.open_and_close("colon", "CommandPalette")
        for _ in range(self.rounds % 6):
            await self.press("j")
        await self.intent("p", "promote")
        await self.intent("r", "rollback")
        await self.intent("R", "retry")
        self.rounds += 1


def _no_footer() -> None:
    """Swap the footer for an empty widget (see the module docstring)."""
    from textual.widget import Widget

    import cockpit.ui.widgets.footer as footer

    class StaticFooter(Widget):
        DEFAULT_CSS = "StaticFooter { height: 1; dock: bottom; }"

    for name in dir(footer):
        value = getattr(footer, name)
        if isinstance(value, type) and name.endswith("Footer"):
            setattr(footer, name, StaticFooter)
    for module in list(sys.modules.values()):
        if getattr(module, "__name__", "").startswith("cockpit.ui"):
            for name in dir(module):
                if name.endswith("Footer") and getattr(module, name) is not StaticFooter:
                    original = getattr(module, name)
                    if isinstance(original, type) and original.__module__ == footer.__name__:
                        setattr(module, name, StaticFooter)


async def screen_shift(
    state: Path,
    *,
    seconds: float,
    simulator: subprocess.Popen[str],
    trace: Path | None,
    trace_sim: bool,
    no_footer: bool,
) -> dict[str, Any]:
    from cockpit.actions import ActionContext, AuditLog
    from cockpit.actions.context import secrets_of
    from cockpit.config import load
    from cockpit.engine import Engine
    from cockpit.ui.action_port import CockpitActions
    from cockpit.ui.app import CockpitApp
    from cockpit.ui.run import insights_provider

    if no_footer:
        _no_footer()
    config = load(state / "cockpit.toml", environ={})
    engine = Engine(config, clock=world_clock(sim_admin(state)))
    audit = AuditLog(state / "audit.jsonl", secrets=secrets_of(config))
    context = ActionContext.from_engine(engine, read_only=False, audit=audit, local_user="soak")
    app = CockpitApp(
        engine, actions=CockpitActions(context), insights=insights_provider(engine, config)
    )
    series: list[tuple[float, float, float]] = []
    marks: dict[str, tuple[float, float]] = {}
    snapshots = 0

    def sample(elapsed: float) -> tuple[float, float]:
        gc.collect()
        point = (rss_mb(), rss_mb(simulator.pid))
        series.append((round(elapsed, 1), round(point[0], 1), round(point[1], 1)))
        return point

    def snapshot() -> None:
        nonlocal snapshots
        if trace is None:
            return
        gc.collect()
        tracemalloc.take_snapshot().dump(str(trace / f"screen.{snapshots}"))
        if trace_sim:
            snapshot_sim(simulator, trace, snapshots)
        snapshots += 1

    async with app.run_test(size=SIZE, headless=True) as pilot:
        if not await engine.wait_ready(60):
            raise SystemExit("FAIL the engine never heard from every source")
        shift = Shift(app, pilot)
        started = time.monotonic()
        marks["start"] = sample(0.0)
        snapshot()
        warmup_at = started + seconds * WARMUP_SHARE
        next_sample = started + SAMPLE_EVERY
        end = started + seconds
        while time.monotonic() < end:
            if simulator.poll() is not None:
                raise SystemExit("FAIL the simulator exited during the shift")
            await shift.round()
            now = time.monotonic()
            if "warmup" not in marks and now >= warmup_at:
                marks["warmup"] = sample(now - started)
                snapshot()
            elif now >= next_sample:
                sample(now - started)
                next_sample = now + SAMPLE_EVERY
        await shift.overview()
        marks["end"] = sample(time.monotonic() - started)
        snapshot()
        activity = {
            "rounds": shift.rounds,
            "confirmed_writes": shift.writes,
            "missed_waits": shift.missed,
            "seconds_spent": {k: round(v, 1) for k, v in sorted(shift.spent.items())},
            "audit_records": _lines(state / "audit.jsonl"),
        }
    return {"marks": marks, "series": series, "activity": activity}


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


# ----------------------------------------------------------------- report


def diff_snapshots(trace: Path, name: str, first: int, last: int, top: int = 15) -> list[str]:
    """The biggest growths between two tracemalloc snapshots, by traceback."""
    before = tracemalloc.Snapshot.load(str(trace / f"{name}.{first}"))
    after = tracemalloc.Snapshot.load(str(trace / f"{name}.{last}"))

    def total(snapshot: tracemalloc.Snapshot) -> float:
        return sum(trace.size for trace in snapshot.traces) / 2**20

    # The Python heap next to RSS: when RSS grows far more, the growth is outside
    # Python's objects (allocator fragmentation, C libraries, tracemalloc's own).
    lines = [f"Python heap traced: {total(before):.1f} MB → {total(after):.1f} MB"]
    for stat in after.compare_to(before, "traceback")[:top]:
        frames = [
            f"{Path(f.filename).name}:{f.lineno}"
            for f in stat.traceback
            if "/cockpit/" in f.filename or "textual" in f.filename or "rich" in f.filename
        ]
        lines.append(
            f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+7d} blocks  "
            + " < ".join(frames[-6:][::-1] or [str(stat.traceback[-1])])
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--sim-child"]:
        return sim_child(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="wall time (default 10)")
    parser.add_argument("--quick", action="store_true", help="a 2-minute smoke run")
    parser.add_argument("--trace", type=Path, help="write tracemalloc snapshots here")
    parser.add_argument(
        "--trace-sim", action="store_true", help="the simulator's too (it starts much slower)"
    )
    parser.add_argument("--no-footer", action="store_true", help="a static footer instead")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    minutes = 2.0 if args.quick else args.minutes
    seconds = minutes * 60
    time_scale = round(SHIFT.total_seconds() / seconds, 1)
    if args.trace is not None:
        args.trace.mkdir(parents=True, exist_ok=True)
        tracemalloc.start(8)
    with tempfile.TemporaryDirectory(prefix="cockpit-soak-") as directory:
        state = Path(directory)
        simulator = start_simulator(state, time_scale, args.trace if args.trace_sim else None)
        try:
            result = asyncio.run(
                screen_shift(
                    state,
                    seconds=seconds,
                    simulator=simulator,
                    trace=args.trace,
                    trace_sim=args.trace_sim,
                    no_footer=args.no_footer,
                )
            )
        finally:
            simulator.send_signal(signal.SIGINT)
            try:
                simulator.wait(timeout=30)
            except subprocess.TimeoutExpired:
                simulator.kill()
    marks = result["marks"]
    growth = {
        "screen": marks["end"][0] - marks["warmup"][0],
        "simulator": marks["end"][1] - marks["warmup"][1],
    }
    budgets = {
        f"{name}_growth_after_warmup_le_10mb": g <= GROWTH_BUDGET_MB for name, g in growth.items()
    }
    report = {
        "wall_minutes": minutes,
        "time_scale": time_scale,
        "simulated_hours": round(seconds * time_scale / 3600, 1),
        "footer": not args.no_footer,
        "rss_mb": {
            name: {mark: round(values[index], 1) for mark, values in marks.items()}
            for index, name in enumerate(("screen", "simulator"))
        },
        "growth_after_warmup_mb": {k: round(v, 1) for k, v in growth.items()},
        "activity": result["activity"],
        "series": result["series"],
        "budgets": budgets,
        "pass": all(budgets.values()),
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"{minutes:g} min wall = {report['simulated_hours']} h simulated "
            f"(time scale {time_scale}), footer {'on' if report['footer'] else 'replaced'}"
        )
        print(f"activity: {report['activity']}")
        print(f"{'RSS MB':<10}{'start':>8}{'warm-up':>9}{'end':>8}{'growth':>8}")
        for name in ("screen", "simulator"):
            rss = report["rss_mb"][name]
            print(
                f"{name:<10}{rss['start']:>8}{rss['warmup']:>9}{rss['end']:>8}"
                f"{report['growth_after_warmup_mb'][name]:>+8}"
            )
        print("series (s, screen MB, simulator MB):", report["series"])
    if args.trace is not None:
        for name in ("screen", "sim") if args.trace_sim else ("screen",):
            print(f"\ntracemalloc {name}: warm-up → end, by traceback")
            for line in diff_snapshots(args.trace, name, 1, 2):
                print(line)
    for name, ok in budgets.items():
        print(f"{'PASS' if ok else 'FAIL'} {name}")
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
