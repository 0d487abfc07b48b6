"""A real Prometheus scraping the simulated services agrees with the simulated Prometheus.

The world runs on a sped-up clock (120 simulated seconds per real second), stepped by
a task as the simulator's ticker does; Prometheus scrapes ``/metrics`` every real
second. Prometheus' windows are in real time and ours in simulated time, so the two
agree exactly only while the traffic split is constant: then the ratio of 2xx to all
requests over any window is the same number, Σ share × success rate. We compare
there, then abort the canary and watch Prometheus see the canary's traffic stop.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from aiohttp import web

from cockpit.sim import scenario as scenarios
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import FaultSet
from cockpit.sim.metrics.api import create_metrics_app, create_prometheus_app
from cockpit.sim.statedir import success_rate_query
from tests.argo_plugin import Plugin
from tests.cluster_world import ClusterWorld, only
from tests.helpers import eventually

pytestmark = [pytest.mark.prometheus, pytest.mark.slow]

SCALE = 120.0
NS = "production"


@dataclass
class Served:
    world: ClusterWorld
    metrics: str  # host:port of the scrape target
    ours: str  # base URL of the simulated Prometheus


@contextlib.asynccontextmanager
async def served_world() -> AsyncIterator[Served]:
    base = only(scenarios.load("bad-canary"), ["checkout"])
    world = ClusterWorld(base, clock=SimClock(scale=SCALE))
    runners = []
    for app in (create_metrics_app(world), create_prometheus_app(world, FaultSet())):
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        runners.append(runner)
    metrics_host, metrics_port = runners[0].addresses[0][:2]
    ours_host, ours_port = runners[1].addresses[0][:2]

    async def tick() -> None:
        while True:
            world.step()
            await asyncio.sleep(0.05)

    ticker = asyncio.create_task(tick())
    try:
        yield Served(world, f"{metrics_host}:{metrics_port}", f"http://{ours_host}:{ours_port}")
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        for runner in runners:
            await runner.cleanup()


async def instant(client: httpx.AsyncClient, url: str, query: str) -> list[dict]:
    response = await client.get(f"{url}/api/v1/query", params={"query": query})
    body = response.json()
    assert body["status"] == "success", body
    return body["data"]["result"]


async def test_real_prometheus_agrees_with_the_simulated_one_and_sees_an_abort(prometheus) -> None:
    async with served_world() as served, httpx.AsyncClient(timeout=5) as client:
        world = served.world
        server = await asyncio.to_thread(prometheus, [served.metrics])
        query = success_rate_query("checkout", NS)
        # Our 5-minute window must hold only the 20 % split (it started 4 minutes
        # before the world did): 300 simulated seconds are 2.5 real seconds.
        start = world.clock.now()
        await eventually(
            lambda: (world.clock.now() - start).total_seconds() > 330,
            timeout=10,
            message="five simulated minutes",
        )

        async def both() -> tuple[float, float] | None:
            real = await instant(client, server.url, query)
            if not real:
                return None
            ours = await instant(client, served.ours, query)
            return float(real[0]["value"][1]), float(ours[0]["value"][1])

        real, ours = await eventually(both, timeout=30, message="Prometheus to scrape twice")
        stable = world.env("checkout", NS).stable.success_rate
        candidate = world.env("checkout", NS).candidate
        assert candidate is not None
        expected = 0.8 * stable + 0.2 * candidate.success_rate
        # Exact up to float rounding: text exposition keeps 17 significant digits.
        assert real == pytest.approx(ours, rel=1e-9)
        assert ours == pytest.approx(expected, rel=1e-9)
        assert real < 0.99

        stable_tag, canary_tag = (sha[:8] for sha in world.gitlab.deployed("checkout", NS)[-2:])
        by_version = 'sum by (version) (rate(http_requests_total{service="checkout",environment="production"}[3s]))'
        Plugin(world.kube.store, NS, "checkout").abort()

        async def canary_stopped() -> bool:
            rates = {
                s["metric"]["version"]: float(s["value"][1])
                for s in await instant(client, server.url, by_version)
            }
            return rates.get(canary_tag, 1.0) == 0.0 and rates.get(stable_tag, 0.0) > 0

        await eventually(canary_stopped, timeout=30, message="Prometheus to see the canary drained")
        recent = query.replace("[5m]", "[3s]")
        recovered = float((await instant(client, server.url, recent))[0]["value"][1])
        assert recovered == pytest.approx(stable, rel=1e-9)
