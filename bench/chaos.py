"""The fault matrix: each fault × each source × idle / during a canary / during a write.

    python bench/chaos.py            # the whole matrix (about 8 minutes)
    python bench/chaos.py --quick    # one fault of each family, idle and during a write

The simulator runs in its own process (``cockpit sim``), so this process's CPU time is
the engine's alone; the engine runs headless. For each cell a fault is switched on
through the simulator's admin API (Kubernetes faults also drop the open watches, as a
failing apiserver would, except ``frozen``, which keeps them open and silent), held
until the engine shows it, then switched off. Measured per cell:

* detected after: seconds from the fault to the first row showing its source degraded
  (or, for ``slow``, showing it slow);
* recovered after: seconds from the fault's end to every row of that source ok (and
  not slow) with data read after the end;
* CPU during: the engine process's CPU time over the fault's duration, in % of a core;
* tracebacks: exceptions logged or left unretrieved in the engine, and tracebacks in
  the simulator's output (must be 0);
* writes lost or duplicated (``write`` cells: a GitLab flag toggle and a Rollout
  annotation sent while the fault is on; a write that reported success must have
  reached the server exactly once, one that failed at most once).

Budgets: detection ≤ 2 poll intervals (Kubernetes: its liveness window); recovery ≤
max(2 s, one poll interval) after the fault clears (plus the ``Retry-After`` the server
asked for); CPU ≤ 2 % of a core. A cell that does not reach a state within its budget
plus 10 s stops waiting and fails with a clear line: the run is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, replace
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cockpit.config import Config, PollConfig, load  # noqa: E402
from cockpit.engine import Engine  # noqa: E402
from cockpit.engine.kube_feed import LIVENESS_WINDOW  # noqa: E402
from cockpit.model import LinkState, SourceName  # noqa: E402
from cockpit.sources.errors import SourceError  # noqa: E402

#: Poll intervals for the run: short enough that the matrix fits in minutes.
POLL = PollConfig(
    gitlab_active=3.0, gitlab_idle=5.0, prometheus=5.0, prometheus_active=4.0, history=60, flags=60
)
#: Seconds a GitLab or Prometheus request may take (a frozen server times out).
TIMEOUT = 3.0
RETRY_AFTER = 3
FAULTS: dict[str, dict[str, object]] = {
    "error-500": {"kind": "error", "status": 500},
    "error-503": {"kind": "error", "status": 503},
    "rate-limit": {"kind": "rate_limit", "retry_after": RETRY_AFTER},
    "slow": {"kind": "latency", "seconds": 2.5},
    "unauthorized": {"kind": "unauthorized"},
    "frozen": {"kind": "frozen"},
}
QUICK_FAULTS = ("error-503", "rate-limit", "slow", "frozen")
SOURCES = {
    "gitlab": SourceName.GITLAB,
    "kube": SourceName.KUBE,
    "prometheus": SourceName.PROMETHEUS,
}
#: World per situation: nothing moving, or canaries stepping.
SCENARIOS = {"idle": "healthy", "canary": "demo", "write": "healthy"}
#: Services in the world (each with two environments): the first of the scenario's.
SERVICES = 4
#: Seconds past a budget before a cell gives up waiting.
GRACE = 10.0
CPU_BUDGET = 2.0


def interval(api: str) -> float:
    return {"gitlab": POLL.gitlab_idle, "prometheus": POLL.prometheus}.get(api, LIVENESS_WINDOW)


@dataclass
class Cell:
    fault: str
    api: str
    situation: str
    detected: float | None = None
    recovered: float | None = None
    cpu: float | None = None
    tracebacks: int = 0
    writes_bad: int = 0
    note: str = ""

    def budgets(self) -> tuple[float, float]:
        detect = 2 * interval(self.api)
        recover = max(2.0, interval(self.api))
        if self.fault == "rate-limit":
            recover += RETRY_AFTER
        return detect, recover

    @property
    def ok(self) -> bool:
        detect, recover = self.budgets()
        return (
            self.detected is not None
            and self.detected <= detect
            and self.recovered is not None
            and self.recovered <= recover
            and self.cpu is not None
            and self.cpu <= CPU_BUDGET
            and self.tracebacks == 0
            and self.writes_bad == 0
        )


class Tracebacks(logging.Handler):
    """Counts log records that carry an exception, and asyncio's unretrieved ones."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0
        self.first: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.levelno >= logging.WARNING:
            self.count += 1
            self.first = self.first or self.format(record)

    def loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict) -> None:
        self.count += 1
        self.first = self.first or str(context.get("message"))


class Admin:
    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def _send(self, method: str, path: str, body: object | None = None) -> object:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=10) as answer:
            return json.loads(answer.read() or b"null")

    async def call(self, method: str, path: str, body: object | None = None) -> object:
        return await asyncio.to_thread(self._send, method, path, body)


def start_simulator(scenario: str, state: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "sim",
            "--scenario",
            scenario,
            "--services",
            str(SERVICES),
            "--state-dir",
            str(state),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (state / "env").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise SystemExit(f"FAIL the simulator did not start ({scenario})")
        time.sleep(0.1)
    return process


def admin_url(state: Path) -> str:
    for line in (state / "env").read_text().splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "COCKPIT_SIM_ADMIN":
            return value.strip().strip("'\"")
    raise SystemExit(f"FAIL no admin URL in {state / 'env'}")


async def wait_for(check, budget: float) -> float | None:  # type: ignore[no-untyped-def]
    """Seconds until ``check()`` holds, or None after ``budget + GRACE``."""
    started = time.monotonic()
    while time.monotonic() - started <= budget + GRACE:
        if check():
            return time.monotonic() - started
        await asyncio.sleep(0.05)
    return None


def showing(engine: Engine, source: SourceName, fault: str) -> bool:
    for state in engine.states.values():
        status = state.source(source)
        if status.state in (LinkState.DEGRADED, LinkState.DOWN):
            return True
        if fault == "slow" and status.slow is not None:
            return True
    return False


def all_fresh(engine: Engine, source: SourceName, since) -> bool:  # type: ignore[no-untyped-def]
    for key, state in engine.states.items():
        status = state.source(source)
        if status.state is LinkState.UNKNOWN and status.last_error is None:
            continue  # a row this source does not serve
        if status.state is not LinkState.OK or status.slow is not None:
            return False
        last = engine.last_success(key, source)  # the true time (published lazily)
        if last is None or last < since:
            return False
    return True


def lagging(engine: Engine, source: SourceName, since) -> str:  # type: ignore[no-untyped-def]
    """What keeps the rows from counting as recovered, in a few words."""
    states = [s.source(source) for s in engine.states.values()]
    served = [s for s in states if not (s.state is LinkState.UNKNOWN and s.last_error is None)]
    not_ok = [s for s in served if s.state is not LinkState.OK]
    slow = [s for s in served if s.slow is not None]
    old = [
        key
        for key, state in engine.states.items()
        if state.source(source) in served
        and ((last := engine.last_success(key, source)) is None or last < since)
    ]
    words = f"{len(not_ok)} not ok, {len(slow)} slow, {len(old)} not read since"
    if not_ok:
        words += f" ({not_ok[0].last_error})"
    return words


async def write_during(engine: Engine, admin: Admin, tag: str) -> list[tuple[str, bool, int]]:
    """One GitLab flag toggle and one Rollout annotation: (a marker of each, whether it
    succeeded, how many such writes the server had seen before)."""
    row = next(s for s in engine.states.values() if s.flags and s.rollout is not None)
    service, env = engine.env_config(row.key)
    flag = row.flags[0]
    outcomes: list[tuple[str, bool, int]] = []
    marker = f"feature_flags/{flag.name}"
    before = await count_writes(admin, marker)
    try:
        await engine.gitlab.set_feature_flag(  # type: ignore[union-attr]
            service.gitlab_project, flag.name, not flag.active
        )
        outcomes.append((marker, True, before))
    except SourceError:
        outcomes.append((marker, False, before))
    body = {"metadata": {"annotations": {"cockpit.test/chaos": tag}}}
    try:
        await engine.kube.patch(  # type: ignore[union-attr]
            env.kube_context,
            env.namespace,
            env.workload_kind or "Rollout",
            env.workload_name,
            body,
            patch_type="merge",
        )
        outcomes.append((tag, True, 0))
    except SourceError:
        outcomes.append((tag, False, 0))
    return outcomes


async def count_writes(admin: Admin, marker: str) -> int:
    seen = await admin.call("GET", "/requests?writes=1")
    return sum(1 for r in seen if marker in r["path"] or marker in r["body"])  # type: ignore[union-attr]


async def run_cell(engine: Engine, admin: Admin, cell: Cell, errors: Tracebacks) -> None:
    source = SOURCES[cell.api]
    detect_budget, recover_budget = cell.budgets()
    before_tracebacks = errors.count
    await admin.call("PUT", f"/faults/{cell.api}", FAULTS[cell.fault])
    if cell.api == "kube" and cell.fault != "frozen":
        await admin.call("POST", "/watches/drop")
    cpu_started, wall_started = time.process_time(), time.monotonic()
    writing: asyncio.Task[list[tuple[str, bool, int]]] | None = None
    if cell.situation == "write":
        tag = f"{cell.fault}-{cell.api}-{int(time.time() * 1000)}"
        writing = asyncio.create_task(write_during(engine, admin, tag))
    cell.detected = await wait_for(lambda: showing(engine, source, cell.fault), detect_budget)
    if cell.detected is None:
        cell.note = "never shown"
    await asyncio.sleep(2.0)  # the outage goes on a little: CPU while it lasts
    writes = await writing if writing is not None else []
    cell.cpu = 100 * (time.process_time() - cpu_started) / (time.monotonic() - wall_started)
    await admin.call("DELETE", f"/faults/{cell.api}")
    cleared = engine.wall_now()
    cell.recovered = await wait_for(lambda: all_fresh(engine, source, cleared), recover_budget)
    if cell.recovered is None:
        cell.note = (
            (cell.note + "; " if cell.note else "")
            + "not recovered: "
            + lagging(engine, source, cleared)
        )
    for marker, succeeded, before in writes:
        received = await count_writes(admin, marker) - before
        if received > 1 or (succeeded and received != 1):
            cell.writes_bad += 1
    cell.tracebacks = errors.count - before_tracebacks
    await asyncio.sleep(1.0)  # let the world settle before the next fault


async def run_situation(
    situation: str, faults: list[str], apis: list[str], errors: Tracebacks
) -> tuple[list[Cell], int]:
    cells: list[Cell] = []
    with tempfile.TemporaryDirectory(prefix="cockpit-chaos-") as directory:
        state = Path(directory)
        simulator = start_simulator(SCENARIOS[situation], state)
        admin = Admin(admin_url(state))
        sim_tracebacks = 0
        try:
            config = load(state / "cockpit.toml", environ={})
            config = adjust(config)
            engine = Engine(config)
            asyncio.get_running_loop().set_exception_handler(errors.loop_handler)
            await engine.start()
            if not await engine.wait_ready(30):
                raise SystemExit(f"FAIL the engine did not become ready ({situation})")
            await engine.wait_settled(30)
            cpu, wall = time.process_time(), time.monotonic()
            await asyncio.sleep(5.0)
            calm = 100 * (time.process_time() - cpu) / (time.monotonic() - wall)
            print(f"  {situation}: {len(engine.states)} rows, CPU while calm {calm:.1f}%")
            for api in apis:
                for fault in faults:
                    cell = Cell(fault, api, situation)
                    print(f"  {situation:7} {api:10} {fault:13} …", end="", flush=True)
                    await run_cell(engine, admin, cell, errors)
                    print(f"\r  {situation:7} {api:10} {fault:13} {'ok' if cell.ok else 'FAIL'}")
                    cells.append(cell)
            await engine.stop()
        finally:
            simulator.send_signal(signal.SIGINT)
            try:
                _, stderr = simulator.communicate(timeout=30)
            except subprocess.TimeoutExpired:
                simulator.kill()
                _, stderr = simulator.communicate()
            sim_tracebacks = (stderr or "").count("Traceback")
    return cells, sim_tracebacks


def adjust(config: Config) -> Config:
    config = replace(config, poll=POLL)
    if config.gitlab is not None:
        config = replace(config, gitlab=replace(config.gitlab, timeout=TIMEOUT))
    if config.prometheus is not None:
        config = replace(config, prometheus=replace(config.prometheus, timeout=TIMEOUT))
    return config


def table(cells: list[Cell]) -> str:
    def seconds(value: float | None) -> str:
        return "—" if value is None else f"{value:.1f} s"

    lines = [
        f"{'situation':9} {'source':10} {'fault':13} {'detected':>9} {'recovered':>10} "
        f"{'CPU':>6} {'tracebacks':>10} {'writes bad':>10}  result",
    ]
    for c in cells:
        detect, recover = c.budgets()
        lines.append(
            f"{c.situation:9} {c.api:10} {c.fault:13} {seconds(c.detected):>9} "
            f"{seconds(c.recovered):>10} {c.cpu or 0:>5.1f}% {c.tracebacks:>10} "
            f"{c.writes_bad:>10}  {'PASS' if c.ok else 'FAIL'}"
            + (
                f" (budgets {detect:g} s / {recover:g} s{'; ' + c.note if c.note else ''})"
                if not c.ok
                else ""
            )
        )
    return "\n".join(lines)


async def main_async(quick: bool) -> int:
    errors = Tracebacks()
    logging.getLogger().addHandler(errors)
    faults = list(QUICK_FAULTS if quick else FAULTS)
    situations = ["idle", "write"] if quick else ["idle", "canary", "write"]
    cells: list[Cell] = []
    sim_tracebacks = 0
    started = time.monotonic()
    for situation in situations:
        found, from_sim = await run_situation(situation, faults, list(SOURCES), errors)
        cells += found
        sim_tracebacks += from_sim
    print()
    print(table(cells))
    print()
    print(
        f"{len(cells)} cells in {time.monotonic() - started:.0f} s; simulator tracebacks: {sim_tracebacks}"
    )
    if errors.first:
        print(f"first engine traceback: {errors.first.splitlines()[0]}")
    passed = all(c.ok for c in cells) and sim_tracebacks == 0
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer faults, no canary world")
    args = parser.parse_args()
    return asyncio.run(main_async(args.quick))


if __name__ == "__main__":
    raise SystemExit(main())
