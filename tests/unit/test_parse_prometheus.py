"""Prometheus answers parsed: every fixture, NaN and empty as no traffic, errors in words."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cockpit.sources.errors import SourceError
from cockpit.sources.prometheus_parse import instant_value, parse_query_result, range_samples
from tests.helpers import fixture_files, load_fixture, shared_fixtures


def test_every_prometheus_fixture_is_covered() -> None:
    shared_fixtures()
    assert set(fixture_files("prometheus")) == {
        f"prometheus/{name}"
        for name in (
            "error-not-acceptable.json",
            "query-range-matrix.json",
            "query-instant-vector-nan.json",
            "query-empty-vector.json",
            "query-scalar.json",
            "error-internal-tsdb-not-ready.json",
            "error-timeout-with-data.json",
            "query-range-matrix-nan.json",
            "query-instant-vector.json",
            "query-instant-vector-native-histogram.json",
        )
    }


def test_nan_is_no_traffic() -> None:
    series = parse_query_result(load_fixture("prometheus/query-instant-vector-nan.json"))
    assert instant_value(series) is None
    assert series[0].samples[0].at == datetime.fromtimestamp(1643023250.379, tz=UTC)


def test_empty_vector_is_no_traffic() -> None:
    assert (
        instant_value(parse_query_result(load_fixture("prometheus/query-empty-vector.json")))
        is None
    )


def test_scalar_is_a_number() -> None:
    assert instant_value(parse_query_result(load_fixture("prometheus/query-scalar.json"))) == 42.0


def test_several_series_must_be_aggregated() -> None:
    series = parse_query_result(load_fixture("prometheus/query-instant-vector.json"), expr="up")
    assert [s.samples[0].value for s in series] == [1.0, 0.0]
    with pytest.raises(SourceError) as caught:
        instant_value(series, "up")
    message = str(caught.value)
    assert "must return one series, it returned 2" in message
    assert 'job="prometheus"' in message and "sum(" in message


def test_range_matrix() -> None:
    series = parse_query_result(load_fixture("prometheus/query-range-matrix.json"))
    assert [[s.value for s in one.samples] for one in series] == [[1, 1, 1], [0, 0, 1]]
    with pytest.raises(SourceError, match="one series"):
        range_samples(series)
    assert [s.value for s in range_samples(series[1:])] == [0.0, 0.0, 1.0]


def test_range_nan_samples_are_none() -> None:
    series = parse_query_result(load_fixture("prometheus/query-range-matrix-nan.json"))
    assert len(series) == 2
    samples = range_samples(series[:1])
    assert len(samples) == 4 and all(s.value is None for s in samples)
    assert samples[1].at == datetime.fromtimestamp(1714404071.3, tz=UTC)


def test_native_histogram_is_refused_in_words() -> None:
    body = load_fixture("prometheus/query-instant-vector-native-histogram.json")
    with pytest.raises(SourceError, match="native histogram"):
        parse_query_result(body, expr="http_request_duration_seconds")


@pytest.mark.parametrize(
    ("path", "words", "transient"),
    [
        (
            "prometheus/error-internal-tsdb-not-ready.json",
            "Prometheus failed 503 (internal): TSDB not ready",
            True,
        ),
        (
            "prometheus/error-timeout-with-data.json",
            "gave up on the query (timeout): message",
            True,
        ),
        (
            "prometheus/error-not-acceptable.json",
            "(not_acceptable): cannot encode response as application/default-format",
            False,
        ),
    ],
)
def test_error_envelopes_carry_prometheus_words(path: str, words: str, transient: bool) -> None:
    with pytest.raises(SourceError) as caught:
        parse_query_result(load_fixture(path), status=503)
    assert words in caught.value.message
    assert caught.value.transient is transient


def test_bad_data_error() -> None:
    body = {
        "status": "error",
        "errorType": "bad_data",
        "error": 'invalid parameter "query": 1:1: parse error',
    }
    with pytest.raises(SourceError) as caught:
        parse_query_result(body, status=400)
    assert caught.value.message.startswith(
        "Prometheus rejected the query (bad_data): invalid parameter"
    )
    assert caught.value.status == 400 and not caught.value.transient


def test_infinity_is_a_query_to_fix() -> None:
    body = {
        "status": "success",
        "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "+Inf"]}]},
    }
    with pytest.raises(SourceError, match="check its denominator"):
        parse_query_result(body, expr="a / b")


def test_not_prometheus_at_all() -> None:
    with pytest.raises(SourceError, match="not its API"):
        parse_query_result(None, status=200)
