"""The simulated metrics over HTTP: scrape targets and a Prometheus-compatible query API.

``create_metrics_app(world)`` serves ``/metrics`` (every service) and
``/services/<name>/metrics`` (one service) in the text exposition format, for a real
Prometheus to scrape. ``create_prometheus_app(world, faults)`` answers
``/api/v1/query`` and ``/api/v1/query_range`` (GET, or POST with a form body) from the
traffic model, in Prometheus' envelope (prometheus ``docs/querying/api.md``): ``resultType`` vector, matrix or
scalar, sample values as strings, ``400 bad_data`` for a query outside the PromQL
subset of :mod:`cockpit.sim.metrics.promql`; plus ``/-/healthy`` and ``/-/ready``.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from cockpit.sim.faults import FaultSet, fault_middleware
from cockpit.sim.metrics import promql
from cockpit.sim.metrics.exposition import exposition

#: Prometheus refuses range queries with more points than this per series.
MAX_POINTS = 11_000

#: errorType by HTTP status (web/api/v1/api.go); others are proxies' answers.
ERROR_TYPES = {
    400: "bad_data",
    404: "not_found",
    406: "not_acceptable",
    422: "execution",
    500: "internal",
    503: "unavailable",
    504: "timeout",
}


class BadData(ValueError):
    """A parameter Prometheus would reject with 400 ``bad_data``."""


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> web.Response:
    body = {
        "status": "error",
        "errorType": ERROR_TYPES.get(status, "unavailable"),
        "error": message,
    }
    return web.json_response(body, status=status, headers=headers or {})


def parse_timestamp(value: str, parameter: str) -> float:
    """Unix seconds (``1435781451.781``) or RFC 3339, as Prometheus accepts them."""
    try:
        return float(value)
    except ValueError:
        pass
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        raise BadData(
            f'invalid parameter "{parameter}": cannot parse "{value}" to a valid timestamp'
        ) from None


def parse_step(value: str) -> float:
    try:
        return promql.parse_duration(value)
    except promql.PromQLError:
        raise BadData(
            f'invalid parameter "step": cannot parse "{value}" to a valid duration'
        ) from None


def _vector(samples: list[promql.Sample], at: float) -> list[dict[str, Any]]:
    return [
        {
            "metric": sample.metric,
            "value": [promql.format_time(at), promql.format_value(sample.value)],
        }
        for sample in samples
    ]


def _success(data: dict[str, Any]) -> web.Response:
    return web.Response(
        text=json.dumps({"status": "success", "data": data}, allow_nan=False),
        content_type="application/json",
    )


async def _parameters(request: web.Request) -> dict[str, str]:
    values = dict(request.query)
    if request.method == "POST":
        form = await request.post()
        values.update({key: str(value) for key, value in form.items()})
    return values


def _parse_query(values: dict[str, str]) -> promql.Node:
    try:
        return promql.parse(values.get("query", ""))
    except promql.PromQLError as error:
        raise BadData(f'invalid parameter "query": {error}') from None


def create_prometheus_app(world: Any, faults: FaultSet) -> web.Application:
    def now() -> float:
        return float(world.clock.now().timestamp())

    async def query(request: web.Request) -> web.Response:
        try:
            values = await _parameters(request)
            node = _parse_query(values)
            at = parse_timestamp(values["time"], "time") if values.get("time") else now()
            result = promql.evaluate(node, world.traffic, at)
        except BadData as error:
            return error_response(400, str(error))
        except promql.ExecutionError as error:
            return error_response(422, str(error))
        except promql.PromQLError as error:
            return error_response(400, f'invalid parameter "query": {error}')
        if isinstance(result, float):
            return _success(
                {
                    "resultType": "scalar",
                    "result": [promql.format_time(at), promql.format_value(result)],
                }
            )
        return _success({"resultType": "vector", "result": _vector(result, at)})

    async def query_range(request: web.Request) -> web.Response:
        try:
            values = await _parameters(request)
            node = _parse_query(values)
            for name in ("start", "end", "step"):
                if not values.get(name):
                    raise BadData(
                        f'invalid parameter "{name}": cannot parse "" to a valid '
                        f"{'duration' if name == 'step' else 'timestamp'}"
                    )
            start = parse_timestamp(values["start"], "start")
            end = parse_timestamp(values["end"], "end")
            step = parse_step(values["step"])
            if end < start:
                raise BadData("end timestamp must not be before start time")
            if step <= 0:
                raise BadData(
                    "zero or negative query resolution step widths are not accepted. "
                    "Try a positive integer"
                )
            if (end - start) / step > MAX_POINTS:
                raise BadData(
                    "exceeded maximum resolution of 11,000 points per timeseries. "
                    "Try decreasing the query resolution (?step=XX)"
                )
            _, series = promql.evaluate_range(node, world.traffic, start, end, step)
        except BadData as error:
            return error_response(400, str(error))
        except promql.ExecutionError as error:
            return error_response(422, str(error))
        except promql.PromQLError as error:
            return error_response(400, f'invalid parameter "query": {error}')
        result = [
            {
                "metric": dict(labels),
                "values": [
                    [promql.format_time(at), promql.format_value(value)] for at, value in points
                ],
            }
            for labels, points in series
        ]
        return _success({"resultType": "matrix", "result": result})

    async def healthy(request: web.Request) -> web.Response:
        return web.Response(text="Prometheus Server is Healthy.\n")

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="Prometheus Server is Ready.\n")

    def render(status: int, message: str, headers: dict[str, str]) -> web.StreamResponse:
        return error_response(status, message, headers)

    app = web.Application(middlewares=[fault_middleware(faults, "prometheus", render)])
    app.add_routes(
        [
            web.get("/api/v1/query", query),
            web.post("/api/v1/query", query),
            web.get("/api/v1/query_range", query_range),
            web.post("/api/v1/query_range", query_range),
            web.get("/-/healthy", healthy),
            web.get("/-/ready", ready),
        ]
    )
    return app


def create_metrics_app(world: Any) -> web.Application:
    def scrape(service: str | None) -> web.Response:
        body = exposition(lambda: world.traffic.totals(service=service))
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    async def everything(request: web.Request) -> web.Response:
        return scrape(None)

    async def one(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in {service.name for service in world.scenario.services}:
            raise web.HTTPNotFound(text=f"no service named {name!r}\n")
        return scrape(name)

    app = web.Application()
    app.add_routes(
        [
            web.get("/metrics", everything),
            web.get("/services/{name}/metrics", one),
        ]
    )
    return app
