"""The health feed: one Prometheus poller per row, its success rate, latency and charts.

The first poll asks only for the current success rate, the cheapest query, so that every
row has one quickly; the follow-up poll (once every row has its first picture) loads the
last 30 minutes for the chart in one range query; later polls add the current value to
the chart, one bin per minute. Latency is asked less often unless the row's rollout
moves; a moving rollout also makes the success rate polled faster.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from cockpit.backoff import BackoffPolicy, adaptive_interval
from cockpit.config import Config, EnvironmentConfig, ServiceConfig
from cockpit.engine.polling import Poller, PollerGroup, Spawn, probe_cap, slow_latency
from cockpit.engine.protocols import Probing, PrometheusReads
from cockpit.engine.store import Row, RowStore
from cockpit.model import EnvKey, Health, Sample, SourceName, classify_health

#: How far back the health charts reach, and the width of one chart bin.
HEALTH_WINDOW = timedelta(minutes=30)
HEALTH_STEP = timedelta(minutes=1)
#: How soon the follow-up poll (the chart) follows the first.
FOLLOW_UP_SECONDS = 1.0
#: Backoff after failures: from 0.5–1 s up to a minute.
PROMETHEUS_BACKOFF = BackoffPolicy(base=1.0, cap=60.0)


def merge_history(history: tuple[Sample, ...], sample: Sample, now: datetime) -> tuple[Sample, ...]:
    """Put a fresh sample into its one-minute bin and drop bins older than the window."""
    bin_start = _bin(sample.at)
    kept = [s for s in history if s.at > now - HEALTH_WINDOW and _bin(s.at) != bin_start]
    kept.append(Sample(at=bin_start, value=sample.value))
    kept.sort(key=lambda s: s.at)
    return tuple(kept)


def binned(samples: Iterable[Sample], now: datetime) -> tuple[Sample, ...]:
    """A range query's samples as the chart's one-minute bins over the whole window.

    Every bin is there, ``None`` where Prometheus had nothing (no series, or no traffic),
    so the chart always spans its 30 minutes and a later "no traffic" answer lands in an
    existing bin instead of growing the chart.
    """
    values = {_bin(sample.at): sample.value for sample in samples}
    step = HEALTH_STEP
    count = int(HEALTH_WINDOW / step)
    newest = _bin(now)
    return tuple(
        Sample(at=at, value=values.get(at))
        for at in (newest - step * index for index in range(count - 1, -1, -1))
    )


def _bin(moment: datetime) -> datetime:
    seconds = int(HEALTH_STEP.total_seconds())
    epoch = int(moment.timestamp())
    return datetime.fromtimestamp(epoch - epoch % seconds, UTC)


class HealthFeed:
    """Success rate and latency of every row with a success-rate query."""

    source = SourceName.PROMETHEUS

    def __init__(
        self,
        prometheus: PrometheusReads,
        store: RowStore,
        config: Config,
        *,
        rng: random.Random,
        spawn: Spawn,
    ) -> None:
        self.prometheus = prometheus
        self._store = store
        self._config = config
        self.group = PollerGroup(
            SourceName.PROMETHEUS,
            rng=rng,
            spawn=spawn,
            probe=prometheus.probe if isinstance(prometheus, Probing) else None,
            policy=PROMETHEUS_BACKOFF,
            probe_cap=probe_cap(self.interval()),
        )
        self._pollers: dict[EnvKey, Poller] = {}

    def covers(self, service: ServiceConfig, env: EnvironmentConfig) -> bool:
        return bool(env.success_rate)

    def interval(self) -> float | None:
        return self._config.poll.prometheus

    def start(self) -> None:
        for row in self._store.rows.values():
            if SourceName.PROMETHEUS not in row.sources:
                continue
            self._pollers[row.key] = self.group.add(
                f"prometheus:{row.key}",
                functools.partial(self.poll, row),
                policy=PROMETHEUS_BACKOFF,
                on_error=functools.partial(self._store.failed, [row.key], SourceName.PROMETHEUS),
            )

    def follow_ups(self) -> set[tuple[str, object]]:
        return {("chart", key) for key in self._pollers}

    def refresh(self, key: EnvKey | None) -> None:
        if key is None:
            self.group.wake_all()
            return
        poller = self._pollers.get(key)
        if poller is not None:
            poller.wake()

    async def close(self) -> None:
        await self.prometheus.close()

    async def poll(self, row: Row) -> float:
        """The success rate (every poll), its chart, and latency (less often unless moving)."""
        prometheus = self.prometheus
        store = self._store
        env = row.env
        poll = self._config.poll
        moving = row.rollout is not None and row.rollout.in_progress
        previous = row.health
        if previous is not None and not row.chart_loaded:
            await store.ready.wait()
        now = store.now()
        start, step = now - HEALTH_WINDOW, HEALTH_STEP.total_seconds()
        if previous is not None and not row.chart_loaded:
            samples = await prometheus.query_range(
                env.success_rate, start=start, end=now, step=step
            )
            rate = samples[-1].value if samples and now - samples[-1].at < HEALTH_STEP else None
            history = binned(samples, now)
            row.chart_loaded = True
            store.followed_up(("chart", row.key))
        else:
            rate = await prometheus.query(env.success_rate)
            history = merge_history(previous.history if previous else (), Sample(now, rate), now)
        latency = previous.latency_p99 if previous else None
        latency_history = previous.latency_history if previous else ()
        wall = store.wall_now()
        latency_due = row.chart_loaded and (
            moving
            or row.latency_at is None
            or (wall - row.latency_at).total_seconds() >= poll.history
        )
        if env.latency and latency_due:
            if not latency_history:
                samples = await prometheus.query_range(env.latency, start=start, end=now, step=step)
                latency = samples[-1].value if samples else None
                latency_history = binned(samples, now)
            else:
                latency = await prometheus.query(env.latency)
                latency_history = merge_history(latency_history, Sample(now, latency), now)
            row.latency_at = wall
        health = Health(
            threshold=env.threshold,
            success_rate=rate,
            status=classify_health(rate, env.threshold, measured=True),
            latency_p99=latency,
            sampled_at=_bin(now),
            history=history,
            latency_history=tuple(latency_history),
        )
        changed = health != row.health
        row.health = health
        store.ok(row, SourceName.PROMETHEUS, changed, slow=slow_latency(prometheus))
        if not row.chart_loaded:
            return FOLLOW_UP_SECONDS
        return adaptive_interval(moving=moving, active=poll.prometheus_active, idle=poll.prometheus)
