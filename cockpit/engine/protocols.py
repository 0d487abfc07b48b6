"""What the engine needs from each source, and what every feed offers the engine.

The sources (:mod:`cockpit.sources`) are typed here by what the engine calls, as
:class:`typing.Protocol` s, so a test's stand-in or another implementation (a second
cluster, GitLab over GraphQL) fits without inheriting anything. A :class:`Feed` keeps
one source's share of every row current; the engine composes feeds.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.model import Deployment, EnvKey, FeatureFlag, Pipeline, Sample, SourceName
from cockpit.sources.errors import RateLimit, SourceError
from cockpit.sources.kube import WatchChange

Backoff = Callable[[int, SourceError], float]


class Closeable(Protocol):
    async def close(self) -> None: ...


class GitLabReads(Closeable, Protocol):
    """The GitLab reads the engine makes (:class:`cockpit.sources.gitlab.GitLabSource`)."""

    async def pipeline(
        self, project: str, ref: str, *, previous: Pipeline | None = None
    ) -> Pipeline | None: ...

    async def pipeline_details(self, project: str, pipeline: Pipeline) -> Pipeline: ...

    async def deployments(
        self, project: str, environment: str | None, *, limit: int = 20
    ) -> Iterable[Deployment]: ...

    async def feature_flags(self, project: str) -> Iterable[FeatureFlag]: ...

    async def job_trace(self, project: str, job_id: int) -> str: ...


@runtime_checkable
class Quota(Protocol):
    """A source that reports the rate-limit quota its server last announced."""

    rate_limit: RateLimit | None


@runtime_checkable
class Timed(Protocol):
    """A source that says how long its server took to answer the last request."""

    latency: float | None


@runtime_checkable
class Probing(Protocol):
    """A source with one cheap request that tells whether its server answers at all."""

    async def probe(self) -> None: ...


@runtime_checkable
class ContextProbing(Protocol):
    """A Kubernetes source that can ask one context's apiserver whether it answers."""

    async def probe(self, context: str | None) -> None: ...


@runtime_checkable
class Heard(Protocol):
    """A watch that says when its server last sent anything (``time.monotonic()``)."""

    heard_at: float | None


@runtime_checkable
class Reconnecting(Protocol):
    """A watch that can be told its stream was abandoned (it announces its reconnection)."""

    def interrupted(self) -> None: ...


class Watch(Protocol):
    """One kind in one namespace, listed then watched (:class:`cockpit.sources.kube.KindWatch`)."""

    @property
    def objects(self) -> Mapping[str, dict[str, Any]]: ...

    def changes(self) -> AsyncGenerator[WatchChange, None]: ...


class KubeReads(Closeable, Protocol):
    """The Kubernetes reads the engine makes (:class:`cockpit.sources.kube.KubeSource`)."""

    def namespace(self, context: str | None, namespace: str | None) -> str: ...

    def watch(
        self, context: str | None, namespace: str | None, kind: Any, *, backoff: Backoff
    ) -> Watch: ...


class PrometheusReads(Closeable, Protocol):
    """The queries the engine asks (:class:`cockpit.sources.prometheus.PrometheusSource`)."""

    async def query(self, expr: str, *, at: datetime | None = None) -> float | None: ...

    async def query_range(
        self, expr: str, *, start: datetime, end: datetime, step: float
    ) -> tuple[Sample, ...]: ...


class Feed(Protocol):
    """One source's share of every row: it polls or watches, and writes into the store."""

    source: SourceName

    def covers(self, service: ServiceConfig, env: EnvironmentConfig) -> bool:
        """Whether a row reads from this feed's source."""
        ...

    def interval(self) -> float | None:
        """Seconds between two reads of a calm row; None: it is told of changes (a watch)."""
        ...

    def start(self) -> None:
        """Start the feed's tasks (the rows exist and the store is ready to take updates)."""
        ...

    def follow_ups(self) -> set[tuple[str, object]]:
        """The follow-up reads (after the first picture) that settle the screen."""
        ...

    def refresh(self, key: EnvKey | None) -> None:
        """Read now: one row's data, or every row's (None)."""
        ...

    async def close(self) -> None:
        """Close the source (the feed's tasks are already cancelled)."""
        ...
