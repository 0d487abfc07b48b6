"""The simulated Prometheus: the PromQL subset, its answers, and Prometheus' HTTP envelope."""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

import pytest
from aiohttp.test_utils import TestClient, TestServer

from cockpit.sim import scenario as scenarios
from cockpit.sim.faults import Fault, FaultSet
from cockpit.sim.metrics import promql
from cockpit.sim.metrics.api import create_metrics_app, create_prometheus_app
from cockpit.sim.statedir import latency_query, success_rate_query
from tests.cluster_world import ClusterWorld, only
from tests.helpers import load_fixture
from tests.shapes import shape_mismatches

T = 1_800_000_000.0


@dataclass
class Linear:
    """A counter growing at ``per_second`` from t=0."""

    labels: dict[str, str]
    per_second: float

    def value(self, at: float) -> float:
        return self.per_second * at


class Counters:
    """A promql Source over a fixed set of linear counters."""

    def __init__(self, *series: Linear) -> None:
        self.series = list(series)

    def select(
        self, name: str, matchers: Sequence[promql.Matcher], start: float, end: float
    ) -> list[Linear]:
        found = []
        for series in self.series:
            labels = {**series.labels, "__name__": series.labels.get("__name__", name)}
            if labels["__name__"] == name and all(m.matches(labels) for m in matchers):
                found.append(Linear(labels, series.per_second))
        return found


def requests(version: str, status: str, per_second: float) -> Linear:
    return Linear(
        {
            "__name__": "http_requests_total",
            "service": "checkout",
            "environment": "production",
            "version": version,
            "status": status,
        },
        per_second,
    )


def only_value(result: promql.Value) -> float:
    assert isinstance(result, list) and len(result) == 1, result
    return result[0].value


# --------------------------------------------------------------------------- the language


def test_the_configured_success_rate_query_is_the_ratio_of_2xx_to_all() -> None:
    # 20 % of traffic on a version answering 95 % correctly, 80 % on one at 99.95 %.
    source = Counters(
        requests("new", "200", 20 * 0.95),
        requests("new", "500", 20 * 0.05),
        requests("old", "200", 80 * 0.9995),
        requests("old", "503", 80 * 0.0005),
    )
    value = only_value(promql.evaluate(success_rate_query("checkout", "production"), source, T))
    assert value == pytest.approx(0.2 * 0.95 + 0.8 * 0.9995)  # ≈ 0.9896
    assert value < 0.99


def test_an_all_failing_service_reads_zero_not_no_data() -> None:
    source = Counters(requests("new", "500", 3.0))
    assert only_value(promql.evaluate(success_rate_query("checkout", "production"), source, T)) == 0


def test_no_requests_in_the_window_is_nan_and_no_series_is_an_empty_result() -> None:
    idle = Counters(requests("old", "200", 0.0))
    assert math.isnan(
        only_value(promql.evaluate(success_rate_query("checkout", "production"), idle, T))
    )
    assert promql.evaluate(success_rate_query("search", "production"), idle, T) == []


@pytest.mark.parametrize(
    "query",
    [
        'sum(irate(http_requests_total{service="checkout",status=~"2.."}[1m])) / sum(irate(http_requests_total{service="checkout"}[1m]))',
        'sum(rate(http_requests_total{service="checkout",environment="production",status!~"5.."}[10m])) / sum(rate(http_requests_total{service="checkout",environment="production"}[10m]))',
        '1 - sum(increase(http_requests_total{service="checkout",status=~"5.*"}[30m])) / sum(increase(http_requests_total{service="checkout"}[30m]))',
        'sum(rate(http_requests_total{service="checkout",status="200"}[5m])) / on() sum(rate(http_requests_total{service="checkout"}[5m]))',
    ],
)
def test_usual_variations_of_the_success_rate_agree(query: str) -> None:
    source = Counters(requests("a", "200", 9.0), requests("a", "500", 1.0))
    assert only_value(promql.evaluate(query, source, T)) == pytest.approx(0.9)


def test_extra_matchers_and_grouping_split_by_version() -> None:
    source = Counters(
        requests("new", "200", 1.9),
        requests("new", "500", 0.1),
        requests("old", "200", 8.0),
    )
    query = (
        'sum by (version) (rate(http_requests_total{service="checkout",status=~"2.."}[5m]))'
        ' / sum by (version) (rate(http_requests_total{service="checkout"}[5m]))'
    )
    result = {s.metric["version"]: s.value for s in promql.evaluate(query, source, T)}  # type: ignore[union-attr]
    assert result == pytest.approx({"new": 0.95, "old": 1.0})
    only_new = 'sum(rate(http_requests_total{service="checkout",version="new"}[5m]))'
    assert only_value(promql.evaluate(only_new, source, T)) == pytest.approx(2.0)


def test_histogram_quantile_interpolates_inside_the_bucket() -> None:
    buckets = [(0.1, 50.0), (0.25, 90.0), (0.5, 99.0), (math.inf, 100.0)]
    source = Counters(
        *(
            Linear(
                {
                    "__name__": "http_request_duration_seconds_bucket",
                    "service": "checkout",
                    "environment": "production",
                    "le": "+Inf" if math.isinf(bound) else str(bound),
                },
                count,
            )
            for bound, count in buckets
        )
    )
    value = only_value(promql.evaluate(latency_query("checkout", "production", 0.99), source, T))
    # rank 99 falls at the top of the (0.25, 0.5] bucket.
    assert value == pytest.approx(0.5)
    median = latency_query("checkout", "production", 0.5)
    assert only_value(promql.evaluate(median, source, T)) == pytest.approx(0.1)
    p70 = latency_query("checkout", "production", 0.7)
    assert only_value(promql.evaluate(p70, source, T)) == pytest.approx(0.1 + 0.15 * 20 / 40)


def test_arithmetic_comparison_and_set_operators() -> None:
    source = Counters(requests("a", "200", 3.0), requests("b", "200", 1.0))
    rate = 'rate(http_requests_total{service="checkout"}[5m])'
    assert promql.evaluate("2 * 3 + 1", source, T) == 7.0
    assert sorted(s.value for s in promql.evaluate(f"{rate} > 2", source, T)) == [3.0]  # type: ignore[union-attr]
    assert sorted(s.value for s in promql.evaluate(f"{rate} > bool 2", source, T)) == [0.0, 1.0]  # type: ignore[union-attr]
    assert only_value(promql.evaluate(f"sum({rate}) * 100", source, T)) == pytest.approx(400)
    assert promql.evaluate(f"{rate} and {rate} > 2", source, T)[0].metric["version"] == "a"  # type: ignore[index]
    assert only_value(promql.evaluate("vector(1) / vector(0)", source, T)) == math.inf
    with pytest.raises(promql.ExecutionError, match="many-to-many"):
        promql.evaluate(f"{rate} / on() {rate}", source, T)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "no expression found in input"),
        ("topk(3, http_requests_total)", "topk() is not supported"),
        ("sum(rate(http_requests_total[5m:1m]))", "subqueries are not supported"),
        ("rate(http_requests_total)", "expected type range vector"),
        ('http_requests_total{status=~"("}', "invalid regular expression"),
        ("sum(http_requests_total", "unexpected end of input"),
        ("nosuchfunction(http_requests_total)", 'unknown function with name "nosuchfunction"'),
    ],
)
def test_queries_outside_the_subset_are_refused_with_a_position(query: str, message: str) -> None:
    with pytest.raises(promql.PromQLError, match="parse error") as error:
        promql.parse(query)
    assert message in str(error.value)
    assert str(error.value).startswith("1:")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.9896, "0.9896"),
        (1e-05, "0.00001"),
        (3.0, "3"),
        (1e21, "1000000000000000000000"),
        (math.nan, "NaN"),
        (math.inf, "+Inf"),
        (-math.inf, "-Inf"),
        (-0.5, "-0.5"),
    ],
)
def test_sample_values_are_written_as_prometheus_writes_them(value: float, text: str) -> None:
    assert promql.format_value(value) == text


# --------------------------------------------------------------------------- over HTTP


def envelope(fixture: str) -> dict:
    """A captured answer with its series' labels emptied: the shape, not the content."""
    body = load_fixture(fixture)
    for series in body["data"]["result"]:
        series["metric"] = {}
    return body


@pytest.fixture
def world() -> ClusterWorld:
    return ClusterWorld(only(scenarios.load("bad-canary"), ["checkout", "notifications"]))


@pytest.fixture
async def prometheus(world: ClusterWorld) -> AsyncIterator[tuple[TestClient, FaultSet]]:
    faults = FaultSet()
    client = TestClient(TestServer(create_prometheus_app(world, faults)))
    await client.start_server()
    try:
        yield client, faults
    finally:
        await client.close()


@pytest.fixture
async def targets(world: ClusterWorld) -> AsyncIterator[TestClient]:
    client = TestClient(TestServer(create_metrics_app(world)))
    await client.start_server()
    try:
        yield client
    finally:
        await client.close()


async def test_an_instant_query_answers_in_prometheus_envelope(prometheus, world) -> None:
    client, _ = prometheus
    query = success_rate_query("checkout", "production")
    response = await client.get("/api/v1/query", params={"query": query})
    assert response.status == 200
    body = await response.json()
    assert not shape_mismatches(envelope("prometheus/query-instant-vector.json"), body)
    (sample,) = body["data"]["result"]
    assert sample["metric"] == {}
    moment, value = sample["value"]
    assert moment == world.clock.now().timestamp()
    assert isinstance(value, str)
    assert float(value) == pytest.approx(world.traffic.success_rate("checkout", "production"))


async def test_a_plain_selector_returns_series_with_their_labels(prometheus, world) -> None:
    client, _ = prometheus
    query = 'http_requests_total{service="checkout",environment="production",status="200"}'
    body = await (await client.get("/api/v1/query", params={"query": query})).json()
    assert not shape_mismatches(envelope("prometheus/query-instant-vector.json"), body)
    metrics = [sample["metric"] for sample in body["data"]["result"]]
    assert {m["version"] for m in metrics} == {
        sha[:8] for sha in world.gitlab.deployed("checkout", "production")[-2:]
    }
    assert all(
        set(m) == {"__name__", "service", "environment", "version", "status"} for m in metrics
    )


async def test_a_post_form_and_an_explicit_time_are_accepted(prometheus, world) -> None:
    client, _ = prometheus
    earlier = world.clock.now().timestamp() - 600
    query = success_rate_query("checkout", "production")
    by_post = await client.post("/api/v1/query", data={"query": query, "time": str(earlier)})
    by_rfc3339 = await client.get(
        "/api/v1/query", params={"query": query, "time": "2026-11-26T02:50:00Z"}
    )
    first, second = (await by_post.json()), (await by_rfc3339.json())
    assert first["data"]["result"][0]["value"] == second["data"]["result"][0]["value"]
    assert first["data"]["result"][0]["value"][0] == earlier


async def test_a_range_query_is_a_matrix_of_string_values(prometheus, world) -> None:
    client, _ = prometheus
    now = world.clock.now().timestamp()
    params = {
        "query": success_rate_query("checkout", "production"),
        "start": str(now - 1800),
        "end": str(now),
        "step": "60s",
    }
    body = await (await client.get("/api/v1/query_range", params=params)).json()
    assert not shape_mismatches(envelope("prometheus/query-range-matrix.json"), body)
    values = body["data"]["result"][0]["values"]
    assert len(values) == 31
    assert [t for t, _ in values] == [now - 1800 + 60 * i for i in range(31)]
    # Half an hour ago only the stable version served; at 20 % the rate is below 0.99.
    assert float(values[0][1]) > 0.999
    assert float(values[-1][1]) < 0.995


async def test_scalar_nan_and_empty_answers_match_real_ones(prometheus, world) -> None:
    client, _ = prometheus
    scalar = await (await client.get("/api/v1/query", params={"query": "2 * 21"})).json()
    assert not shape_mismatches(load_fixture("prometheus/query-scalar.json"), scalar)
    assert scalar["data"]["result"][1] == "42"
    empty = await (
        await client.get(
            "/api/v1/query", params={"query": success_rate_query("nope", "production")}
        )
    ).json()
    assert empty == load_fixture("prometheus/query-empty-vector.json")
    # notifications staging has no traffic at all: no series. Production's series exist; a
    # window ending before the world's first request is 0/0.
    nan = await (
        await client.get("/api/v1/query", params={"query": "vector(0) / vector(0)"})
    ).json()
    assert not shape_mismatches(load_fixture("prometheus/query-instant-vector-nan.json"), nan)
    assert nan["data"]["result"][0]["value"][1] == "NaN"


@pytest.mark.parametrize(
    ("params", "status", "error_type", "message"),
    [
        ({}, 400, "bad_data", 'invalid parameter "query": 1:1: parse error: no expression found'),
        ({"query": "topk(1, up)"}, 400, "bad_data", "topk() is not supported"),
        ({"query": "up", "time": "yesterday"}, 400, "bad_data", 'invalid parameter "time"'),
    ],
)
async def test_bad_queries_get_400_bad_data(
    prometheus, params, status, error_type, message
) -> None:
    client, _ = prometheus
    response = await client.get("/api/v1/query", params=params)
    assert response.status == status
    body = await response.json()
    assert not shape_mismatches(load_fixture("prometheus/error-internal-tsdb-not-ready.json"), body)
    assert (body["status"], body["errorType"]) == ("error", error_type)
    assert message in body["error"]


async def test_range_parameters_are_checked(prometheus) -> None:
    client, _ = prometheus
    base = {"query": "vector(1)", "start": "100", "end": "200"}
    for step, text in (("0", "zero or negative"), ("abc", 'invalid parameter "step"')):
        response = await client.get("/api/v1/query_range", params={**base, "step": step})
        assert response.status == 400 and text in (await response.json())["error"]
    backwards = await client.get("/api/v1/query_range", params={**base, "end": "50", "step": "1"})
    assert "end timestamp must not be before start time" in (await backwards.json())["error"]
    too_fine = await client.get(
        "/api/v1/query_range", params={**base, "end": "100000", "step": "1"}
    )
    assert "exceeded maximum resolution of 11,000 points" in (await too_fine.json())["error"]


async def test_faults_answer_in_prometheus_error_shape(prometheus) -> None:
    client, faults = prometheus
    faults.set("prometheus", Fault("error", status=503))
    response = await client.get("/api/v1/query", params={"query": "vector(1)"})
    assert response.status == 503
    assert (await response.json())["errorType"] == "unavailable"
    faults.set("prometheus", Fault("rate_limit", retry_after=7))
    limited = await client.get("/api/v1/query", params={"query": "vector(1)"})
    assert limited.status == 429 and limited.headers["Retry-After"] == "7"
    faults.clear()
    assert (await client.get("/-/ready")).status == 200
    assert (await client.get("/-/healthy")).status == 200


async def test_metrics_endpoints_expose_every_service_or_one(targets, world) -> None:
    text = await (await targets.get("/metrics")).text()
    assert "# TYPE http_requests_total counter" in text
    assert "# TYPE http_request_duration_seconds histogram" in text
    assert 'service="notifications"' in text and 'service="checkout"' in text
    one = await (await targets.get("/services/checkout/metrics")).text()
    assert 'service="notifications"' not in one
    lines = [line for line in one.splitlines() if line.startswith("http_requests_total{")]
    versions = {line.split('version="')[1].split('"')[0] for line in lines}
    assert len(versions) == 2  # stable and canary both serve
    assert 'le="+Inf"' in one
    assert (await targets.get("/services/nope/metrics")).status == 404
