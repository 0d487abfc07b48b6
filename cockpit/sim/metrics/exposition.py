"""``/metrics`` in the Prometheus text format, through prometheus_client custom collectors.

``http_requests_total{service, environment, version, status}`` (a counter) and
``http_request_duration_seconds{service, environment, version}`` (a histogram with the
usual ``_bucket{le}``, ``_count`` and ``_sum``), valued at the simulated present.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

from prometheus_client import generate_latest
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from cockpit.sim.metrics.traffic import VersionTotals

LABELS = ["service", "environment", "version"]


class TrafficCollector(Collector):
    """Collects the traffic model's counters at the moment of each scrape."""

    def __init__(self, totals: Callable[[], list[VersionTotals]]) -> None:
        self._totals = totals

    def collect(self) -> Iterator[Metric]:
        totals = self._totals()
        requests = CounterMetricFamily(
            "http_requests_total",
            "HTTP requests answered, by status code.",
            labels=[*LABELS, "status"],
        )
        durations = HistogramMetricFamily(
            "http_request_duration_seconds",
            "Time taken to answer an HTTP request.",
            labels=LABELS,
        )
        for version in totals:
            labels = [version.service, version.environment, version.version]
            for status, count in version.requests:
                requests.add_metric([*labels, status], count)
            durations.add_metric(
                labels,
                buckets=[
                    ("+Inf" if math.isinf(bound) else repr(bound), count)
                    for bound, count in version.buckets
                ],
                sum_value=version.sum,
            )
        yield requests
        yield durations


def exposition(totals: Callable[[], list[VersionTotals]]) -> bytes:
    """The text a scrape receives."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(TrafficCollector(totals))
    return generate_latest(registry)
