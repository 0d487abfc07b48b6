"""Prometheus over its HTTP API with httpx: instant and range queries (Prometheus, docs/querying/api.md).

One :class:`httpx.AsyncClient` with explicit timeouts. Queries are POSTed as forms (long
PromQL does not fit a URL). ``query`` gives one number or None (no traffic);
``query_range`` gives the samples of one series. Failures — HTTP errors, Prometheus's
error envelopes, proxies answering HTML — become SourceError with Prometheus's own words.
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

import httpx

from cockpit.config import PrometheusConfig
from cockpit.model import Sample, SourceName
from cockpit.redact import shown
from cockpit.sources.errors import (
    SourceError,
    connection_refused,
    retry_after_seconds,
    seconds,
)
from cockpit.sources.prometheus_parse import (
    Series,
    instant_value,
    parse_query_result,
    range_samples,
)

#: Queries in flight at once. Hundreds of environments polled together would otherwise
#: queue in httpcore's connection pool, whose bookkeeping grows with the square of the
#: queue (measured: 22 million checks for 400 queued queries) and which checks every
#: pooled connection on each request. Measured with 400 first queries against the
#: simulator: 4 in flight 1.4–1.5 s, 8 1.5–1.7 s, 12 1.5–1.8 s, 24 2.6 s, 48 3.5 s; 8
#: keeps some parallelism for a Prometheus further away than loopback.
MAX_IN_FLIGHT = 8


class PrometheusSource:
    def __init__(
        self,
        config: PrometheusConfig,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._config = config
        self._client = httpx.AsyncClient(
            base_url=config.url,
            timeout=httpx.Timeout(config.timeout),
            transport=transport,
            headers={"Accept": "application/json"},
            limits=httpx.Limits(
                max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT
            ),
        )
        self._in_flight = asyncio.Semaphore(MAX_IN_FLIGHT)
        self._requests = 0
        #: Seconds Prometheus took to answer the last request.
        self.latency: float | None = None

    @property
    def request_count(self) -> int:
        return self._requests

    async def close(self) -> None:
        await self._client.aclose()

    async def probe(self) -> None:
        """One cheap request (``GET /-/ready``, Prometheus docs/management_api.md): does Prometheus answer at all?"""
        url = f"{self._config.url}/-/ready"
        try:
            self._requests += 1
            response = await self._client.get("/-/ready")
        except httpx.TimeoutException:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"timed out after {seconds(self._config.timeout)} waiting for Prometheus at {url}",
                transient=True,
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"cannot reach Prometheus at {self._config.url}: {type(error).__name__}",
                transient=True,
            ) from None
        if not response.is_success:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"Prometheus at {self._config.url} is not ready ({response.status_code})",
                status=response.status_code,
                retry_after=retry_after_seconds(response.headers),
            )

    async def query(self, expr: str, *, at: datetime | None = None) -> float | None:
        """The value of an instant query that returns one series; None when there is no traffic."""
        form = {"query": expr}
        if at is not None:
            form["time"] = f"{at.timestamp():.3f}"
        return instant_value(await self._post("/api/v1/query", form, expr), expr)

    async def query_range(
        self, expr: str, *, start: datetime, end: datetime, step: float
    ) -> tuple[Sample, ...]:
        """The samples of a range query that returns one series (NaN → ``value=None``)."""
        form = {
            "query": expr,
            "start": f"{start.timestamp():.3f}",
            "end": f"{end.timestamp():.3f}",
            "step": f"{step:g}",
        }
        return range_samples(await self._post("/api/v1/query_range", form, expr), expr)

    async def _post(self, path: str, form: dict[str, str], expr: str) -> tuple[Series, ...]:
        url = f"{self._config.url}{path}"
        try:
            async with self._in_flight:
                self._requests += 1
                started = time.monotonic()
                response = await self._client.post(path, data=form)
                self.latency = time.monotonic() - started
        except httpx.TimeoutException:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"timed out after {seconds(self._config.timeout)} waiting for Prometheus at {url}",
                transient=True,
            ) from None
        except httpx.ConnectError as error:
            refused = connection_refused(error)
            reason = "connection refused: " if refused else "cannot connect: "
            raise SourceError(
                SourceName.PROMETHEUS,
                f"{reason}is Prometheus at {self._config.url} reachable?",
                transient=True,
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"the request to Prometheus at {url} failed: {type(error).__name__}",
                transient=True,
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if body is None and response.status_code == 429:
            wait = retry_after_seconds(response.headers)
            raise SourceError(
                SourceName.PROMETHEUS,
                "rate limited in front of Prometheus"
                + (f", retrying in {seconds(wait)}" if wait is not None else ""),
                status=429,
                retry_after=wait,
            )
        if body is None and response.status_code in (401, 403):
            raise SourceError(
                SourceName.PROMETHEUS,
                f"Prometheus at {self._config.url} refused the request ({response.status_code}): "
                "it sits behind authentication cockpit does not send",
                status=response.status_code,
            )
        try:
            series = parse_query_result(body, expr=expr, status=response.status_code)
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as error:
            raise SourceError(
                SourceName.PROMETHEUS,
                f"unexpected answer from Prometheus at {url}: {type(error).__name__}: "
                f"{shown(error)}",
                status=response.status_code,
            ) from None
        if not response.is_success:  # an error body that still said "success"
            raise SourceError(
                SourceName.PROMETHEUS,
                f"Prometheus answered {response.status_code} for {expr}",
                status=response.status_code,
            )
        return series
