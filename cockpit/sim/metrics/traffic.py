"""The simulated services' traffic: request counters and latency histograms over time.

Each service × environment receives ``rps`` requests per second, varying smoothly
(a slow and a faster wave, phases drawn from the seed), split between versions as the
cluster routes them (:meth:`cockpit.sim.kube.cluster.Cluster.traffic_split`). Each
version answers as its :class:`~cockpit.sim.scenario.VersionProfile` says: a share
``success_rate`` of ``200``, the rest ``500``/``503``; latencies log-normal around
``latency_ms``. Counters hold expected values, not random draws, so every curve is
smooth and every number reproducible.

Counters are functions of time rather than stored samples: the request rate has a
closed-form integral, and the split only changes at known instants (the cluster tells
us), so the value of any counter at any instant in the retained past (three hours) is
exact. That answers range queries over the last half hour and 5-minute windows
without keeping a ring buffer of samples, and costs nothing while nothing changes.
"""

from __future__ import annotations

import bisect
import hashlib
import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from cockpit.sim.metrics.promql import Matcher, bucket_quantile
from cockpit.sim.scenario import VersionProfile

#: How far back counters can be asked for.
RETENTION_SECONDS = 3 * 3600.0
#: The services have been up this long before the world starts (counters are not 0).
UPTIME_SECONDS = 6 * 3600.0
#: The histogram's bucket bounds (prometheus_client's defaults), in seconds.
BUCKETS: tuple[float, ...] = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
    math.inf,
)
#: Spread of the log-normal latency distribution around a version's median.
LATENCY_SIGMA = 0.35
#: How failed requests split between status codes.
ERROR_STATUSES = (("500", 0.7), ("503", 0.3))
#: The two waves on the request rate: (relative amplitude, period in seconds).
WAVES = ((0.12, 3600.0), (0.04, 420.0))

Split = tuple[tuple[str, float], ...]


def version_tag(sha: str) -> str:
    return sha[:8]


def latency_cdf(bound: float, median_seconds: float) -> float:
    """Share of requests answered within ``bound`` seconds."""
    if math.isinf(bound):
        return 1.0
    if bound <= 0:
        return 0.0
    z = (math.log(bound) - math.log(median_seconds)) / (LATENCY_SIGMA * math.sqrt(2))
    return 0.5 * (1 + math.erf(z))


def latency_mean(median_seconds: float) -> float:
    return median_seconds * math.exp(LATENCY_SIGMA**2 / 2)


@dataclass(frozen=True)
class Load:
    """Requests per second as a smooth function of unix time, with an exact integral."""

    rps: float
    phases: tuple[float, ...]

    def rate(self, at: float) -> float:
        wave = sum(
            amplitude * math.sin(2 * math.pi * at / period + phase)
            for (amplitude, period), phase in zip(WAVES, self.phases, strict=True)
        )
        return self.rps * (1 + wave)

    def integral(self, start: float, end: float) -> float:
        total = end - start
        for (amplitude, period), phase in zip(WAVES, self.phases, strict=True):
            omega = 2 * math.pi / period
            total += (
                amplitude
                / omega
                * (math.cos(omega * start + phase) - math.cos(omega * end + phase))
            )
        return self.rps * total


@dataclass(frozen=True)
class Segment:
    """From ``start`` on, requests split as ``split``; ``base`` = requests per sha before."""

    start: float
    split: Split
    base: tuple[tuple[str, float], ...]

    def requests(self, sha: str, load: Load, at: float) -> float:
        base = dict(self.base).get(sha, 0.0)
        fraction = dict(self.split).get(sha, 0.0)
        return base + fraction * load.integral(self.start, at)


@dataclass
class Stream:
    """One service × environment: its load, its split history, its versions' profiles."""

    service: str
    environment: str
    load: Load
    default_profile: VersionProfile
    segments: list[Segment] = field(default_factory=list)
    #: sha → when its first segment began (its series exist from then on).
    born: dict[str, float] = field(default_factory=dict)
    profiles: dict[str, VersionProfile] = field(default_factory=dict)

    def change(self, at: float, split: Split) -> None:
        if self.segments and self.segments[-1].split == split:
            return
        if self.segments and at <= self.segments[-1].start:
            # Same instant (or out of order): the newest split wins from that instant.
            at = self.segments[-1].start
            previous = self.segments.pop()
            base = previous.base
        elif self.segments:
            base = tuple((sha, self.requests(sha, at)) for sha in sorted(self.shas()))
        else:
            base = ()
        self.segments.append(Segment(at, split, base))
        for sha, _ in split:
            self.born.setdefault(sha, at)

    def shas(self) -> set[str]:
        return set(self.born)

    def _segment(self, at: float) -> Segment:
        starts = [segment.start for segment in self.segments]
        position = max(bisect.bisect_right(starts, at) - 1, 0)
        return self.segments[position]

    def requests(self, sha: str, at: float) -> float:
        """Requests this version has answered, cumulative, at ``at``."""
        if not self.segments:
            return 0.0
        at = max(at, self.segments[0].start)
        return self._segment(at).requests(sha, self.load, at)

    def prune(self, before: float) -> None:
        """Forget splits that ended before ``before`` (keeping the one in effect then)."""
        starts = [segment.start for segment in self.segments]
        keep_from = max(bisect.bisect_right(starts, before) - 1, 0)
        if keep_from:
            del self.segments[:keep_from]
            alive = {sha for segment in self.segments for sha, _ in segment.split}
            for sha in list(self.born):
                if sha not in alive:
                    del self.born[sha]

    def profile(self, sha: str) -> VersionProfile:
        return self.profiles.get(sha, self.default_profile)


@dataclass
class _Counter:
    """One exposed series: a stream's version requests times a constant factor."""

    labels: dict[str, str]
    stream: Stream
    sha: str
    factor: float

    def value(self, at: float) -> float:
        return self.stream.requests(self.sha, at) * self.factor


@dataclass(frozen=True)
class VersionTotals:
    """What a version's ``/metrics`` shows at one instant."""

    service: str
    environment: str
    version: str
    requests: tuple[tuple[str, float], ...]  # status → count
    buckets: tuple[tuple[float, float], ...]  # upper bound → cumulative count
    count: float
    sum: float


class Traffic:
    """Counters per service × environment × version × status, and latency histograms."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self._streams: dict[tuple[str, str], Stream] = {}
        now = world.clock.now().timestamp()
        origin = now - UPTIME_SECONDS
        for env in world.envs():
            if env.rps <= 0:
                continue
            digest = hashlib.sha256(f"{world.seed}:{env.service}:{env.environment}".encode())
            phases = tuple(byte / 255 * 2 * math.pi for byte in digest.digest()[: len(WAVES)])
            stream = Stream(env.service, env.environment, Load(env.rps, phases), env.stable)
            history = world.kube.traffic_history(env.service, env.environment)
            if not history:
                history = [
                    (
                        world.clock.now(),
                        tuple(world.kube.traffic_split(env.service, env.environment)),
                    )
                ]
            in_effect = history[0][1]
            for moment, split in history:
                if moment.timestamp() <= origin:
                    in_effect = split
            stream.change(origin, tuple(in_effect))
            for moment, split in history:
                if moment.timestamp() > origin:
                    stream.change(moment.timestamp(), tuple(split))
            for sha in stream.shas():
                self._remember_profile(stream, sha)
            self._streams[(env.service, env.environment)] = stream
        world.kube.split_listeners.append(self._on_split)

    # ------------------------------------------------------------------ moving

    def _remember_profile(self, stream: Stream, sha: str) -> None:
        version = self.world.versions.get(stream.service, sha, stream.environment)
        if version is not None:
            stream.profiles[sha] = version.profile

    def _on_split(self, service: str, environment: str, moment: datetime, split: Split) -> None:
        stream = self._streams.get((service, environment))
        if stream is None:
            return
        stream.change(moment.timestamp(), tuple(split))
        for sha, _ in split:
            if sha not in stream.profiles:
                self._remember_profile(stream, sha)

    def step(self, now: datetime) -> None:
        """Forget what is older than the retention (splits arrive as the cluster moves)."""
        horizon = now.timestamp() - RETENTION_SECONDS
        for stream in self._streams.values():
            if len(stream.segments) > 1 and stream.segments[1].start < horizon:
                stream.prune(horizon)

    # ------------------------------------------------------------------ questions

    def _at(self, at: datetime | None) -> float:
        return (at or self.world.clock.now()).timestamp()

    def success_rate(
        self,
        service: str,
        environment: str,
        *,
        at: datetime | None = None,
        window: float = 300.0,
        version: str | None = None,
    ) -> float | None:
        """Share of 2xx answers over ``window`` seconds before ``at`` (None: no requests)."""
        stream = self._streams.get((service, environment))
        if stream is None:
            return None
        end = self._at(at)
        total = good = 0.0
        for sha in stream.shas():
            if version is not None and not sha.startswith(version):
                continue
            count = stream.requests(sha, end) - stream.requests(sha, end - window)
            total += count
            good += count * stream.profile(sha).success_rate
        return good / total if total > 0 else None

    def latency_quantile(
        self,
        service: str,
        environment: str,
        quantile: float,
        *,
        at: datetime | None = None,
        window: float = 300.0,
    ) -> float | None:
        """The latency (seconds) under which ``quantile`` of the requests were answered,
        computed from the histogram buckets as ``histogram_quantile`` does."""
        stream = self._streams.get((service, environment))
        if stream is None:
            return None
        end = self._at(at)
        buckets = [0.0] * len(BUCKETS)
        for sha in stream.shas():
            count = stream.requests(sha, end) - stream.requests(sha, end - window)
            median = stream.profile(sha).latency_ms / 1000
            for index, bound in enumerate(BUCKETS):
                buckets[index] += count * latency_cdf(bound, median)
        if buckets[-1] <= 0:
            return None
        return bucket_quantile(quantile, list(zip(BUCKETS, buckets, strict=True)))

    def requests_per_second(
        self, service: str, environment: str, at: datetime | None = None
    ) -> float:
        stream = self._streams.get((service, environment))
        return 0.0 if stream is None else stream.load.rate(self._at(at))

    # ------------------------------------------------------------------ series

    def select(
        self, name: str, matchers: Sequence[Matcher], start: float, end: float
    ) -> list[_Counter]:
        """The :class:`~cockpit.sim.metrics.promql.Source` of the simulated Prometheus."""
        exact = {m.name: m.value for m in matchers if m.op == "="}
        streams = [
            stream
            for (service, environment), stream in self._streams.items()
            if exact.get("service", service) == service
            and exact.get("environment", environment) == environment
        ]
        found = []
        for stream in streams:
            for labels, sha, factor in self._series(stream, name, end):
                labels["__name__"] = name
                if all(m.matches(labels) for m in matchers):
                    found.append(_Counter(labels, stream, sha, factor))
        return found

    def _series(
        self, stream: Stream, name: str, end: float
    ) -> Iterator[tuple[dict[str, str], str, float]]:
        for sha in sorted(stream.shas()):
            if stream.born[sha] > end:
                continue
            profile = stream.profile(sha)
            base = {
                "service": stream.service,
                "environment": stream.environment,
                "version": version_tag(sha),
            }
            if name == "http_requests_total":
                for status, share in _status_shares(profile):
                    yield {**base, "status": status}, sha, share
            elif name == "http_request_duration_seconds_bucket":
                median = profile.latency_ms / 1000
                for bound in BUCKETS:
                    yield {**base, "le": _bound_label(bound)}, sha, latency_cdf(bound, median)
            elif name == "http_request_duration_seconds_count":
                yield dict(base), sha, 1.0
            elif name == "http_request_duration_seconds_sum":
                yield dict(base), sha, latency_mean(profile.latency_ms / 1000)

    def totals(self, at: datetime | None = None, service: str | None = None) -> list[VersionTotals]:
        """Every version's counters at ``at`` (what ``/metrics`` exposes)."""
        moment = self._at(at)
        result = []
        for (name, environment), stream in sorted(self._streams.items()):
            if service is not None and name != service:
                continue
            for sha in sorted(stream.shas()):
                if stream.born[sha] > moment:
                    continue
                requests = stream.requests(sha, moment)
                profile = stream.profile(sha)
                median = profile.latency_ms / 1000
                result.append(
                    VersionTotals(
                        service=name,
                        environment=environment,
                        version=version_tag(sha),
                        requests=tuple(
                            (status, requests * share) for status, share in _status_shares(profile)
                        ),
                        buckets=tuple(
                            (bound, requests * latency_cdf(bound, median)) for bound in BUCKETS
                        ),
                        count=requests,
                        sum=requests * latency_mean(median),
                    )
                )
        return result

    def services(self) -> set[str]:
        return {service for service, _ in self._streams}


def _status_shares(profile: VersionProfile) -> Iterator[tuple[str, float]]:
    yield "200", profile.success_rate
    failed = 1 - profile.success_rate
    if failed > 0:
        for status, share in ERROR_STATUSES:
            yield status, failed * share


def _bound_label(bound: float) -> str:
    """``le`` as prometheus_client writes it (``0.005``, ``1.0``, ``+Inf``)."""
    return "+Inf" if math.isinf(bound) else repr(float(bound))
