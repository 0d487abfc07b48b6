"""What the engine costs the systems it watches, against a naive poller, in one run.

    python bench/engine.py --services 200 --json

The simulator runs in its own process (``cockpit sim --services N``) so that this
process's CPU time is the engine's alone. Measured:

* seconds from ``engine.start()`` to the first complete state (every row has heard from
  each of its sources once);
* requests per minute per source at steady state, counted by the sources themselves
  over a window after a warm-up (Kubernetes watches reconnect every few minutes, so the
  window is long enough to contain reconnections: ``--seconds``);
* engine CPU seconds per minute over the same window (``time.process_time``).

The baseline is what a naive cockpit would do: every 2 s, for every service ×
environment, GET the workload, list its ReplicaSets, read the latest pipeline with its
jobs, list the deployments, and run the two PromQL queries. It runs in the same process
against the same simulator after the engine has stopped; its rate is reported both as
intended (requests per cycle × 30 cycles a minute) and as achieved (it may not keep up).

Budgets (PASS/FAIL): first complete state ≤ 2 s; Kubernetes watches ≤ 1 request per
minute per namespace at steady state; Kubernetes liveness probes (``GET /version`` while
a context's watches are silent) ≤ one per liveness window per context; at least 10×
fewer requests than the baseline overall.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cockpit.config import Config, load  # noqa: E402
from cockpit.engine import Engine  # noqa: E402
from cockpit.engine.kube_feed import LIVENESS_WINDOW  # noqa: E402
from cockpit.sources.gitlab import GitLabSource  # noqa: E402
from cockpit.sources.kube import KubeSource  # noqa: E402
from cockpit.sources.prometheus import PrometheusSource  # noqa: E402

BASELINE_PERIOD = 2.0


@dataclass
class Counts:
    gitlab: int = 0
    kube: int = 0
    prometheus: int = 0
    kube_probes: int = 0

    @property
    def total(self) -> int:
        return self.gitlab + self.kube + self.prometheus

    def per_minute(self, seconds: float) -> dict[str, float]:
        scale = 60.0 / seconds
        return {
            "gitlab": round(self.gitlab * scale, 1),
            "kube": round(self.kube * scale, 1),
            "prometheus": round(self.prometheus * scale, 1),
            "total": round(self.total * scale, 1),
        }


def counts(gitlab: object, kube: object, prometheus: object) -> Counts:
    return Counts(
        gitlab=getattr(gitlab, "request_count", 0),
        kube=getattr(kube, "request_count", 0),
        prometheus=getattr(prometheus, "request_count", 0),
        kube_probes=getattr(kube, "probe_count", 0),
    )


def start_simulator(services: int, state: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "sim",
            "--scenario",
            "healthy",
            "--services",
            str(services),
            "--state-dir",
            str(state),
        ],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not (state / "env").exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(
                f"the simulator did not start: {process.stderr.read() if process.stderr else ''}"
            )
        time.sleep(0.1)
    return process


async def measure_engine(config: Config, *, warmup: float, seconds: float) -> dict[str, object]:
    engine = Engine(config)
    started = time.monotonic()
    await engine.start()
    ready = await engine.wait_ready(60)
    first_complete = time.monotonic() - started
    await asyncio.sleep(warmup)
    before = counts(engine.gitlab, engine.kube, engine.prometheus)
    cpu_before = time.process_time()
    await asyncio.sleep(seconds)
    cpu = time.process_time() - cpu_before
    after = counts(engine.gitlab, engine.kube, engine.prometheus)
    await engine.stop()
    delta = Counts(
        after.gitlab - before.gitlab, after.kube - before.kube, after.prometheus - before.prometheus
    )
    probes = after.kube_probes - before.kube_probes
    return {
        "kube_probes_per_minute": round(probes * 60.0 / seconds, 1),
        "ready": ready,
        "first_complete_state_seconds": round(first_complete, 2),
        "requests_per_minute": delta.per_minute(seconds),
        "cpu_seconds_per_minute": round(cpu * 60.0 / seconds, 2),
    }


async def measure_baseline(config: Config, *, seconds: float) -> dict[str, object]:
    """Every object, every 2 s: what a cockpit without watches or adaptive polling sends."""
    gitlab = GitLabSource(config.gitlab) if config.gitlab else None
    kube = KubeSource(config.kubernetes)
    prometheus = PrometheusSource(config.prometheus) if config.prometheus else None
    rows = list(config.environments())

    async def one(service, env) -> None:  # type: ignore[no-untyped-def]
        calls = []
        if env.workload_name:
            namespace = kube.namespace(env.kube_context, env.namespace)
            calls.append(
                kube.get(
                    env.kube_context, namespace, env.workload_kind or "Rollout", env.workload_name
                )
            )
            calls.append(
                kube.list_replicasets(env.kube_context, namespace, f"app={env.workload_name}")
            )
        if gitlab is not None and service.gitlab_project:
            calls.append(gitlab.pipeline(service.gitlab_project, service.ref))
            calls.append(
                gitlab.deployments(service.gitlab_project, env.gitlab_environment, limit=20)
            )
        if prometheus is not None:
            calls.append(prometheus.query(env.success_rate))
            if env.latency:
                calls.append(prometheus.query(env.latency))
        await asyncio.gather(*calls, return_exceptions=True)

    first = counts(gitlab, kube, prometheus)
    cycle_started = time.monotonic()
    await asyncio.gather(*(one(service, env) for service, env in rows))
    cycle_seconds = time.monotonic() - cycle_started
    per_cycle = counts(gitlab, kube, prometheus)
    per_cycle = Counts(
        per_cycle.gitlab - first.gitlab,
        per_cycle.kube - first.kube,
        per_cycle.prometheus - first.prometheus,
    )
    start = counts(gitlab, kube, prometheus)
    window_started = time.monotonic()
    while time.monotonic() - window_started < seconds:
        began = time.monotonic()
        await asyncio.gather(*(one(service, env) for service, env in rows))
        await asyncio.sleep(max(0.0, BASELINE_PERIOD - (time.monotonic() - began)))
    elapsed = time.monotonic() - window_started
    end = counts(gitlab, kube, prometheus)
    for source in (gitlab, kube, prometheus):
        if source is not None:
            await source.close()
    achieved = Counts(
        end.gitlab - start.gitlab, end.kube - start.kube, end.prometheus - start.prometheus
    )
    return {
        "cycle_seconds": round(cycle_seconds, 2),
        "requests_per_cycle": per_cycle.total,
        "intended_requests_per_minute": per_cycle.per_minute(BASELINE_PERIOD),
        "achieved_requests_per_minute": achieved.per_minute(elapsed),
    }


async def run(
    services: int, warmup: float, seconds: float, baseline_seconds: float
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="cockpit-bench-") as directory:
        state = Path(directory)
        simulator = start_simulator(services, state)
        try:
            config = load(state / "cockpit.toml", environ={})
            namespaces = len({env.namespace for _, env in config.environments()})
            contexts = len({env.kube_context for _, env in config.environments()})
            engine = await measure_engine(config, warmup=warmup, seconds=seconds)
            baseline = await measure_baseline(config, seconds=baseline_seconds)
        finally:
            simulator.send_signal(signal.SIGINT)
            simulator.wait(timeout=30)
    engine_rate = engine["requests_per_minute"]
    intended = baseline["intended_requests_per_minute"]
    ratio = intended["total"] / max(engine_rate["total"], 1e-9)
    probes = engine["kube_probes_per_minute"]
    kube_per_namespace = (engine_rate["kube"] - probes) / max(namespaces, 1)
    budgets = {
        "first_complete_state_le_2s": engine["first_complete_state_seconds"] <= 2.0,
        "kube_le_1_request_per_minute_per_namespace": kube_per_namespace <= 1.0,
        "kube_probes_le_1_per_liveness_window_per_context": probes
        <= contexts * 60.0 / LIVENESS_WINDOW + 1,
        "at_least_10x_fewer_requests_than_baseline": ratio >= 10.0,
    }
    return {
        "services": services,
        "rows": services * 2,
        "namespaces": namespaces,
        "window_seconds": seconds,
        "engine": engine,
        "baseline": baseline,
        "kube_requests_per_minute_per_namespace": round(kube_per_namespace, 2),
        "baseline_to_engine_ratio": round(ratio, 1),
        "budgets": budgets,
        "pass": all(budgets.values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", type=int, default=200)
    parser.add_argument(
        "--warmup", type=float, default=10.0, help="seconds after the first complete state"
    )
    parser.add_argument("--seconds", type=float, default=300.0, help="steady-state window")
    parser.add_argument("--baseline-seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    report = asyncio.run(run(args.services, args.warmup, args.seconds, args.baseline_seconds))
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        engine = report["engine"]
        print(f"{report['rows']} rows in {report['namespaces']} namespaces")
        print(f"first complete state: {engine['first_complete_state_seconds']} s")
        print(f"engine requests/min:  {engine['requests_per_minute']}")
        print(f"engine CPU s/min:     {engine['cpu_seconds_per_minute']}")
        print(
            f"baseline requests/min (intended): {report['baseline']['intended_requests_per_minute']}"
        )
        print(
            f"baseline requests/min (achieved): {report['baseline']['achieved_requests_per_minute']}"
        )
        print(
            f"kube requests/min per namespace:  {report['kube_requests_per_minute_per_namespace']}"
        )
        print(f"baseline / engine: {report['baseline_to_engine_ratio']}×")
    for name, ok in report["budgets"].items():
        print(f"{'PASS' if ok else 'FAIL'} {name}", file=sys.stderr)
    return 0 if report["pass"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
