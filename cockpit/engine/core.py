"""The engine: the feeds composed over one row store, behind the API the screen uses.

:class:`Engine` makes the sources the configuration names (or takes stand-ins), gives
each to its feed (:mod:`~cockpit.engine.gitlab_feed`, :mod:`~cockpit.engine.kube_feed`,
:mod:`~cockpit.engine.health_feed`), and lets the feeds write into one
:class:`~cockpit.engine.store.RowStore`, which publishes :class:`StateUpdate` s to
subscribers. Feeds are independent: one failing or slow never holds up the others. A
new source (a second cluster, GitLab over GraphQL) is another feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from cockpit.config import Config, EnvironmentConfig, ServiceConfig
from cockpit.engine.gitlab_feed import GitLabFeed, Project
from cockpit.engine.health_feed import HealthFeed
from cockpit.engine.kube_feed import KubeFeed
from cockpit.engine.polling import Poller
from cockpit.engine.protocols import Feed, GitLabReads, KubeReads, PrometheusReads
from cockpit.engine.store import Listener, Row, RowStore
from cockpit.model import EnvKey, ServiceState, SourceName, SourceStatus
from cockpit.sources.errors import SourceError


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class HeaderInfo:
    """What the screen's header names: where the data comes from."""

    kube_contexts: tuple[str, ...]
    gitlab_host: str | None
    prometheus_host: str | None


def _host(url: str | None) -> str | None:
    return urlsplit(url).netloc or None if url else None


class Engine:
    """Live state of every configured service × environment (see the module docstring)."""

    def __init__(
        self,
        config: Config,
        *,
        gitlab: GitLabReads | None = None,
        kube: KubeReads | None = None,
        prometheus: PrometheusReads | None = None,
        clock: Callable[[], datetime] = utcnow,
        wall_clock: Callable[[], datetime] = utcnow,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng or random.Random()
        self.gitlab = gitlab if gitlab is not None else self._make_gitlab()
        self.kube = kube if kube is not None else self._make_kube()
        self.prometheus = prometheus if prometheus is not None else self._make_prometheus()
        self._tasks: list[asyncio.Task[None]] = []
        rows = [
            Row(key=env.key, service=service, env=env) for service, env in config.environments()
        ]
        self.store = RowStore(rows, read_only=config.read_only, clock=clock, wall_clock=wall_clock)
        self._gitlab_feed: GitLabFeed | None = None
        self._health_feed: HealthFeed | None = None
        self.feeds: list[Feed] = []
        if self.gitlab is not None:
            self._gitlab_feed = GitLabFeed(
                self.gitlab, self.store, config, rng=self._rng, spawn=self._spawn
            )
            self.feeds.append(self._gitlab_feed)
        if self.kube is not None:
            self.feeds.append(
                KubeFeed(
                    self.kube,
                    self.store,
                    rng=self._rng,
                    spawn=self._spawn,
                    on_moving=self._rollout_moving,
                )
            )
        if self.prometheus is not None:
            self._health_feed = HealthFeed(
                self.prometheus, self.store, config, rng=self._rng, spawn=self._spawn
            )
            self.feeds.append(self._health_feed)
        for feed in self.feeds:
            self.store.intervals[feed.source] = feed.interval()
        for row in rows:
            for source in SourceName:
                covering = self.feed(source)
                if covering is not None and covering.covers(row.service, row.env):
                    row.sources[source] = SourceStatus(source=source)
        self.store.publish_all()
        self.header = HeaderInfo(
            kube_contexts=tuple(
                sorted(
                    {
                        env.kube_context or "(current context)"
                        for _, env in config.environments()
                        if env.workload_name
                    }
                )
            ),
            gitlab_host=config.gitlab.host if config.gitlab else None,
            prometheus_host=_host(config.prometheus.url) if config.prometheus else None,
        )

    # ------------------------------------------------------------------ sources

    def _make_gitlab(self) -> GitLabReads | None:
        if self.config.gitlab is None:
            return None
        from cockpit.sources.gitlab import GitLabSource

        return GitLabSource(self.config.gitlab)

    def _make_kube(self) -> KubeReads | None:
        if not any(env.workload_name for _, env in self.config.environments()):
            return None
        from cockpit.sources.kube import KubeSource

        return KubeSource(self.config.kubernetes)

    def _make_prometheus(self) -> PrometheusReads | None:
        if self.config.prometheus is None:
            return None
        from cockpit.sources.prometheus import PrometheusSource

        return PrometheusSource(self.config.prometheus)

    def feed(self, source: SourceName) -> Feed | None:
        """The feed of ``source``, if the configuration reads it."""
        for feed in self.feeds:
            if feed.source is source:
                return feed
        return None

    def _rollout_moving(self, key: EnvKey) -> None:
        """A rollout started moving: its health deserves a fresh look now."""
        if self._health_feed is not None:
            self._health_feed.refresh(key)

    # ------------------------------------------------------------------ public API

    @property
    def states(self) -> Mapping[EnvKey, ServiceState]:
        return self.store.states

    def now(self) -> datetime:
        """World time: what time it is in the systems watched (ages of events, query windows).

        The wall clock, except in a simulated world that runs faster (``cockpit demo``).
        """
        return self._clock()

    def wall_now(self) -> datetime:
        """Wall-clock time: how fresh each source's data is, and when to poll again."""
        return self._wall_clock()

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        return self.store.subscribe(listener)

    def env_config(self, key: EnvKey) -> tuple[ServiceConfig, EnvironmentConfig]:
        row = self.store.rows[key]
        return row.service, row.env

    def last_success(self, key: EnvKey, source: SourceName) -> datetime | None:
        """The true time of the last successful read (published states may lag it)."""
        return self.store.rows[key].fresh.get(source)

    async def job_trace(self, key: EnvKey, job_id: int) -> str:
        if self._gitlab_feed is None:
            raise SourceError(SourceName.GITLAB, "GitLab is not configured")
        row = self.store.rows[key]
        return await self._gitlab_feed.job_trace(row.service.gitlab_project or "", job_id)

    def refresh(self, key: EnvKey | None = None) -> None:
        """Ask every feed concerned to read now (kube watches are live anyway)."""
        if key is not None and key not in self.store.rows:
            return
        for feed in self.feeds:
            feed.refresh(key)

    async def wait_settled(self, timeout: float | None = None) -> bool:
        """Wait until the follow-up reads are in too: pipeline details, flags, health charts."""
        try:
            await asyncio.wait_for(self.store.settled.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every row has heard from each of its sources once (success or error)."""
        try:
            await asyncio.wait_for(self.store.ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def start(self) -> None:
        # Before the feeds start: one that fails at once (a kubeconfig that cannot be
        # read) has then been heard from, and ready does not wait for it in vain.
        self.store.expect()
        for feed in self.feeds:
            feed.start()
        self._spawn(self.store.housekeeping(), "engine-housekeeping")
        follow_ups: set[tuple[str, object]] = set()
        for feed in self.feeds:
            follow_ups |= feed.follow_ups()
        self.store.expect_follow_ups(follow_ups)

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for feed in self.feeds:
            with contextlib.suppress(Exception):
                await feed.close()

    def _spawn(self, coroutine: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coroutine, name=name)
        self._tasks = [t for t in self._tasks if not t.done()]
        self._tasks.append(task)
        return task

    # ------------------------------------------------------------------ for tests

    @property
    def _pollers(self) -> dict[str, Poller]:
        """Every poller by name (tests look at their failures)."""
        pollers: dict[str, Poller] = {}
        for feed in (self._gitlab_feed, self._health_feed):
            if feed is not None:
                pollers.update(feed.group.pollers)
        return pollers

    @property
    def _projects(self) -> dict[str, Project]:
        return self._gitlab_feed.projects if self._gitlab_feed is not None else {}

    async def _poll_project(self, project: Project) -> float:
        """One GitLab poll of ``project`` (tests drive it by hand)."""
        assert self._gitlab_feed is not None
        return await self._gitlab_feed.poll_project(project)
