"""The real Prometheus that integration tests start: it scrapes and answers PromQL."""

from __future__ import annotations

import httpx
from aiohttp import web

from tests.helpers import eventually


async def test_prometheus_scrapes_a_metrics_endpoint_and_answers_a_query(prometheus) -> None:
    requests = {"count": 0}

    async def metrics(request: web.Request) -> web.Response:
        requests["count"] += 1
        body = (
            "# HELP checkout_orders_total Orders placed.\n"
            "# TYPE checkout_orders_total counter\n"
            'checkout_orders_total{service="checkout",status="200"} 1234\n'
            'checkout_orders_total{service="checkout",status="500"} 16\n'
        )
        return web.Response(text=body, content_type="text/plain")

    app = web.Application()
    app.router.add_get("/metrics", metrics)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        server = prometheus([f"{host}:{port}"])
        query = 'sum(checkout_orders_total{service="checkout"})'

        async def answered() -> float | None:
            async with httpx.AsyncClient() as client:
                response = await client.get(f"{server.url}/api/v1/query", params={"query": query})
            body = response.json()
            assert body["status"] == "success"
            result = body["data"]["result"]
            return float(result[0]["value"][1]) if result else None

        value = await eventually(answered, timeout=30, message="Prometheus to scrape the target")
        assert value == 1250.0
        assert requests["count"] >= 1

        async with httpx.AsyncClient() as client:
            up = (await client.get(f"{server.url}/api/v1/query", params={"query": "up"})).json()
        assert up["data"]["result"][0]["value"][1] == "1"
    finally:
        await runner.cleanup()
