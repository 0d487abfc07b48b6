"""Faults switched on and off at run time, per API: errors, throttling, latency, auth.

A :class:`FaultSet` holds at most one active :class:`Fault` per API (``gitlab``,
``kube``, ``prometheus``). Each API's aiohttp app installs :func:`fault_middleware`
with its own error renderer, so a fault answers in that API's error shape (a GitLab
``{"message": ...}``, a Kubernetes ``Status``, a Prometheus error envelope). Dropped
watch streams are an action on the cluster, not a standing fault
(:meth:`cockpit.sim.kube.store.ObjectStore.drop_watches`).

The same middleware keeps a bounded log of every request it saw
(:class:`RecordedRequest`: API, method, path, query, content type and body, never a
header), so tests can check that a write left the client byte for byte as intended,
or that nothing was sent at all.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

APIS = ("gitlab", "kube", "prometheus")
KINDS = ("error", "rate_limit", "latency", "unauthorized", "forbidden", "frozen")
#: Requests kept in the log (the oldest fall off).
REQUEST_LOG_SIZE = 2000

#: Renders an error response in an API's own shape: (status, message, extra headers).
ErrorRenderer = Callable[[int, str, dict[str, str]], web.StreamResponse]


@dataclass(frozen=True)
class Fault:
    """What an API does wrong while the fault is on.

    * ``error``: every request answers ``status`` (default 503).
    * ``rate_limit``: 429 with ``Retry-After: retry_after`` (and GitLab's RateLimit-* headers).
    * ``latency``: every response is delayed by ``seconds`` (real seconds).
    * ``unauthorized`` / ``forbidden``: 401 / 403 on every request.
    * ``frozen``: the server hangs (a stopped process, a wedged apiserver): requests get
      no answer and open watch streams send nothing, not even bookmarks, until the
      fault is cleared; then everything held goes out.

    ``writes_only``: the fault hits requests that may change the world and leaves reads
    alone (a slow admission webhook, a write path failing while reads are served).
    """

    kind: str
    status: int = 503
    retry_after: int = 5
    seconds: float = 0.0
    writes_only: bool = False

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")

    def hits(self, method: str) -> bool:
        return not self.writes_only or method not in ("GET", "HEAD", "OPTIONS")

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Fault:
        allowed = {"kind", "status", "retry_after", "seconds", "writes_only"}
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields {sorted(unknown)}")
        return cls(**data)  # type: ignore[arg-type]


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it (headers are never kept: they carry tokens)."""

    api: str
    method: str
    #: The path as sent, still percent-encoded (``/api/v4/projects/shop%2Fcheckout/...``).
    path: str
    query: str
    content_type: str
    body: bytes
    #: ``time.monotonic()`` when the server began handling it (same clock as the client's
    #: when both run in one process: benchmarks measure request latency with it).
    received: float

    @property
    def is_write(self) -> bool:
        """A request that may change the world (Prometheus queries are POSTs but read)."""
        return self.api != "prometheus" and self.method not in ("GET", "HEAD", "OPTIONS")


class FaultSet:
    """The faults currently switched on, per API, and the log of requests seen."""

    def __init__(self) -> None:
        self._faults: dict[str, Fault] = {}
        #: How many requests each API has answered (benchmarks read this).
        self.requests: dict[str, int] = dict.fromkeys(APIS, 0)
        #: Every request seen, oldest first, at most ``REQUEST_LOG_SIZE``.
        self.request_log: deque[RecordedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        #: Requests whose client hung up before sending the whole body, per API.
        self.abandoned: dict[str, int] = dict.fromkeys(APIS, 0)
        #: Set while an API is not frozen.
        self._thawed = {api: asyncio.Event() for api in APIS}
        for event in self._thawed.values():
            event.set()

    def set(self, api: str, fault: Fault | None) -> None:
        if api not in APIS:
            raise ValueError(f"unknown API {api!r}; one of {', '.join(APIS)}")
        if fault is None:
            self._faults.pop(api, None)
        else:
            self._faults[api] = fault
        if fault is not None and fault.kind == "frozen":
            self._thawed[api].clear()
        else:
            self._thawed[api].set()

    def clear(self) -> None:
        self._faults.clear()
        for event in self._thawed.values():
            event.set()

    async def thawed(self, api: str) -> None:
        """Return once ``api`` is not frozen (at once when it is not)."""
        await self._thawed[api].wait()

    def get(self, api: str) -> Fault | None:
        return self._faults.get(api)

    def active(self) -> dict[str, Fault]:
        return dict(self._faults)


def fault_middleware(
    faults: FaultSet, api: str, render_error: ErrorRenderer
) -> Callable[
    [web.Request, Callable[[web.Request], Awaitable[web.StreamResponse]]],
    Awaitable[web.StreamResponse],
]:
    """aiohttp middleware: count and log the request, then apply the API's fault, if any."""

    @web.middleware
    async def middleware(
        request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        received = time.monotonic()
        faults.requests[api] = faults.requests.get(api, 0) + 1
        # read() caches the body, so the handler can still read it.
        try:
            body = await request.read() if request.body_exists else b""
        except ConnectionResetError:
            # The client hung up mid-body: routine for a server (a killed kubectl, a
            # timed-out client), not an error worth a traceback. Nobody reads an answer;
            # an HTTP exception ends the request without aiohttp's error log.
            faults.abandoned[api] += 1
            raise web.HTTPBadRequest(reason="client closed the connection mid-body") from None
        path, _, query = request.raw_path.partition("?")
        content_type = request.headers.get("Content-Type", "")
        faults.request_log.append(
            RecordedRequest(api, request.method, path, query, content_type, body, received)
        )
        fault = faults.get(api)
        if fault is None or not fault.hits(request.method):
            return await handler(request)
        if fault.kind == "latency":
            await asyncio.sleep(fault.seconds)
            return await handler(request)
        if fault.kind == "frozen":
            await faults.thawed(api)
            return await handler(request)
        if fault.kind == "rate_limit":
            return render_error(429, "Retry later", {"Retry-After": str(fault.retry_after)})
        if fault.kind == "unauthorized":
            return render_error(401, "Unauthorized", {})
        if fault.kind == "forbidden":
            return render_error(403, "Forbidden", {})
        return render_error(fault.status, "Service Unavailable (simulated fault)", {})

    return middleware
