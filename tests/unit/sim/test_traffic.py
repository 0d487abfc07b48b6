"""The traffic model: success rate and latency follow the cluster's split, smoothly and exactly."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from datetime import timedelta

import pytest

from cockpit.sim import scenario as scenarios
from cockpit.sim.metrics import promql
from cockpit.sim.metrics.traffic import BUCKETS, Traffic, latency_cdf
from cockpit.sim.scenario import VersionProfile
from tests.argo_plugin import Plugin
from tests.cluster_world import ClusterWorld, only

NS = "production"
STABLE = VersionProfile(success_rate=0.9995, latency_ms=120.0)
CANARY = VersionProfile(success_rate=0.95, latency_ms=260.0)


def bad_canary(seed: int = 7) -> ClusterWorld:
    """checkout production at 20 % of a 0.95 canary over a 0.9995 stable."""
    base = only(scenarios.load("bad-canary"), ["checkout", "notifications"])
    checkout = base.service("checkout")
    production = replace(checkout.env(NS), stable=STABLE, candidate=CANARY)
    services = (
        replace(checkout, environments=(checkout.env("staging"), production)),
        base.service("notifications"),
    )
    return ClusterWorld(replace(base, services=services), seed=seed)


def tags(world: ClusterWorld) -> tuple[str, str]:
    stable, canary = world.gitlab.deployed("checkout", NS)[-2:]
    return stable[:8], canary[:8]


def test_success_rate_follows_the_split() -> None:
    world = bad_canary()
    world.advance(300, step=30)  # the whole 5-minute window now sits at 20 %
    rate = world.traffic.success_rate("checkout", NS)
    assert rate == pytest.approx(0.2 * 0.95 + 0.8 * 0.9995, abs=1e-12)  # ≈ 0.9896
    stable, canary = tags(world)
    assert world.traffic.success_rate("checkout", NS, version=canary) == pytest.approx(0.95)
    assert world.traffic.success_rate("checkout", NS, version=stable) == pytest.approx(0.9995)
    # Before the canary reached 20 % (half an hour ago) only the stable answered.
    earlier = world.clock.now() - timedelta(minutes=30)
    assert world.traffic.success_rate("checkout", NS, at=earlier) == pytest.approx(0.9995)


def test_promote_moves_the_success_rate_and_an_idle_version_reads_no_traffic() -> None:
    world = bad_canary()
    plugin = Plugin(world.kube.store, NS, "checkout")
    stable, _ = tags(world)
    plugin.promote(full=True)
    world.advance(120, step=2)
    assert dict(world.kube.traffic_split("checkout", NS)) == {
        world.gitlab.deployed("checkout", NS)[-1]: 1.0
    }
    world.advance(600, step=30)
    assert world.traffic.success_rate("checkout", NS) == pytest.approx(0.95)
    # The old stable no longer gets requests: None from the model, NaN from PromQL
    # (its series still exist): no requests in the window is 0/0, one "NaN" sample.
    assert world.traffic.success_rate("checkout", NS, version=stable) is None
    query = (
        f'sum(rate(http_requests_total{{service="checkout",environment="production",version="{stable}",status=~"2.."}}[5m]))'
        f' / sum(rate(http_requests_total{{service="checkout",environment="production",version="{stable}"}}[5m]))'
    )
    (sample,) = promql.evaluate(query, world.traffic, world.clock.now().timestamp())  # type: ignore[misc]
    assert math.isnan(sample.value)


def test_no_traffic_means_no_answer() -> None:
    world = bad_canary()
    assert world.env("notifications", "staging").rps == 0
    assert world.traffic.success_rate("notifications", "staging") is None
    assert world.traffic.latency_quantile("notifications", "staging", 0.99) is None
    assert world.traffic.success_rate("no-such-service", NS) is None
    assert not [
        t
        for t in world.traffic.totals()
        if t.environment == "staging" and t.service == "notifications"
    ]


def test_latency_quantile_is_what_histogram_quantile_makes_of_the_buckets() -> None:
    world = bad_canary()
    world.advance(300, step=30)
    now = world.clock.now().timestamp()
    for quantile in (0.5, 0.9, 0.99):
        ours = world.traffic.latency_quantile("checkout", NS, quantile)
        query = (
            f"histogram_quantile({quantile}, sum by (le) "
            f'(rate(http_request_duration_seconds_bucket{{service="checkout",environment="production"}}[5m])))'
        )
        (sample,) = promql.evaluate(query, world.traffic, now)  # type: ignore[misc]
        assert ours == pytest.approx(sample.value)
    # The median sits in the bucket holding the stable's 120 ms median (80 % of requests).
    p50 = world.traffic.latency_quantile("checkout", NS, 0.5)
    assert p50 is not None and 0.1 < p50 <= 0.25
    p99 = world.traffic.latency_quantile("checkout", NS, 0.99)
    assert p99 is not None and p99 > 0.25  # the slow canary's tail
    stable_only = world.traffic.latency_quantile(
        "checkout", NS, 0.99, at=world.clock.now() - timedelta(minutes=30)
    )
    assert stable_only is not None and stable_only < p99


def test_bucket_counts_are_cumulative_and_end_with_every_request() -> None:
    world = bad_canary()
    for totals in world.traffic.totals():
        counts = [count for _, count in totals.buckets]
        assert counts == sorted(counts)
        assert counts[-1] == pytest.approx(totals.count)
        assert sum(count for _, count in totals.requests) == pytest.approx(totals.count)
        assert totals.sum > 0
    assert latency_cdf(math.inf, 0.12) == 1.0
    assert BUCKETS[-1] == math.inf


def test_counters_are_deterministic_monotonic_and_smooth() -> None:
    first, second, other = bad_canary(seed=7), bad_canary(seed=7), bad_canary(seed=8)
    assert first.traffic.totals() == second.traffic.totals()
    assert first.traffic.totals() != other.traffic.totals()
    previous = None
    rates = []
    for _ in range(60):
        first.advance(10)
        totals = {(t.service, t.environment, t.version): t.count for t in first.traffic.totals()}
        if previous is not None:
            assert all(totals[key] >= previous.get(key, 0) for key in totals)
        previous = totals
        rates.append(first.traffic.requests_per_second("checkout", NS))
    steps = [abs(b - a) / a for a, b in itertools.pairwise(rates)]
    assert max(steps) < 0.01  # no jumps between ten-second samples
    assert max(rates) / min(rates) > 1.01  # but it does move


def test_the_model_keeps_hours_of_history_and_forgets_older() -> None:
    world = bad_canary()
    plugin = Plugin(world.kube.store, NS, "checkout")
    plugin.abort()
    world.advance(5 * 3600, step=600)
    stream = world.traffic._streams[("checkout", NS)]
    assert len(stream.segments) == 1  # the abort's split, in force for hours
    assert world.traffic.success_rate(
        "checkout", NS, at=world.clock.now() - timedelta(hours=2)
    ) == (pytest.approx(0.9995))


def test_traffic_reads_the_split_history_the_cluster_seeded() -> None:
    world = bad_canary()
    history = world.kube.traffic_history("checkout", NS)
    weights = [dict(split) for _, split in history]
    stable, canary = world.gitlab.deployed("checkout", NS)[-2:]
    assert weights[0] == {stable: 1.0}
    assert [w.get(canary, 0.0) for w in weights[1:]] == pytest.approx([0.05, 0.2])
    assert history[-1][0] < world.clock.now()
    assert isinstance(world.traffic, Traffic)
