"""Watch streams: chunked, newline-delimited ``{"type", "object"}`` events.

One open watch is one :class:`~cockpit.sim.kube.store.Watcher` on the store. The
stream first replays what the requested ``resourceVersion`` calls for (synthetic
``ADDED`` for every object when it is unset or ``"0"``; recorded events after it
otherwise), then forwards the store's events as they happen. It ends when:

* ``timeoutSeconds`` (real seconds) have passed: the stream closes cleanly, after a
  last ``BOOKMARK`` when the client allowed bookmarks;
* the store drops every watch (:meth:`ObjectStore.drop_watches`, a fault);
* the client goes away.

A resourceVersion older than the store's history answers 200 and a single ``ERROR``
event carrying the 410 ``Expired`` Status, the way an apiserver with a watch cache does.
With ``allowWatchBookmarks=true`` a ``BOOKMARK`` (only kind, apiVersion and
``metadata.resourceVersion``) is sent every ``bookmark_interval`` real seconds. A
streaming list (``sendInitialEvents=true``) replays every current object and marks the
end with a ``BOOKMARK`` annotated ``k8s.io/initial-events-end``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from cockpit.sim.kube.status import from_store_error
from cockpit.sim.kube.store import Expired, Obj, ObjectStore, ResourceType, WatchEvent

#: How often an idle stream checks that its client is still there (real seconds).
LIVENESS_CHECK_SECONDS = 0.5
#: How long a watch lasts when the client gives no ``timeoutSeconds`` (the apiserver's
#: ``--min-request-timeout`` default).
DEFAULT_TIMEOUT_SECONDS = 1800.0

#: The annotation on the bookmark that ends a streaming list's initial events.
INITIAL_EVENTS_END = "k8s.io/initial-events-end"

#: Renders a watched object for the wire; the flag says whether it is the stream's first.
ObjectEncoder = Callable[[Obj, bool], Any]


@dataclass(frozen=True)
class WatchRequest:
    rtype: ResourceType
    namespace: str | None
    resource_version: str | None
    label_selector: str | None
    field_selector: str | None
    timeout_seconds: float | None
    bookmarks: bool
    #: ``sendInitialEvents=true`` (a streaming list): ADDED for every current object,
    #: then a BOOKMARK annotated ``k8s.io/initial-events-end``, whatever the rv.
    initial_events: bool = False


def bookmark(
    rtype: ResourceType, resource_version: str, *, initial_events_end: bool = False
) -> dict[str, Any]:
    metadata: dict[str, Any] = {"resourceVersion": resource_version}
    if initial_events_end:
        metadata["annotations"] = {INITIAL_EVENTS_END: "true"}
    return {
        "type": "BOOKMARK",
        "object": {"kind": rtype.kind, "apiVersion": rtype.api_version, "metadata": metadata},
    }


def _line(event: dict[str, Any]) -> bytes:
    return json.dumps(event, separators=(",", ":")).encode() + b"\n"


def _stream_response() -> web.StreamResponse:
    response = web.StreamResponse(
        status=200,
        headers={"Content-Type": "application/json", "Cache-Control": "no-cache, private"},
    )
    response.enable_chunked_encoding()
    return response


async def serve(
    request: web.Request,
    store: ObjectStore,
    watch: WatchRequest,
    encode: ObjectEncoder,
    *,
    bookmark_interval: float,
    hold: Callable[[], Awaitable[None]] | None = None,
) -> web.StreamResponse:
    """Answer one watch request with a stream that lasts until one of the ends above.

    ``hold``: awaited before anything is sent (a frozen server sends nothing).
    """
    try:
        watcher, replay = store.watch(
            watch.rtype,
            watch.namespace,
            since=None if watch.initial_events else watch.resource_version,
            label_selector=watch.label_selector,
            field_selector=watch.field_selector,
        )
    except Expired as error:
        response = _stream_response()
        await response.prepare(request)
        await response.write(_line({"type": "ERROR", "object": from_store_error(error).body()}))
        await response.write_eof()
        return response
    response = _stream_response()
    try:
        await response.prepare(request)
        first = True

        async def send(event: WatchEvent) -> None:
            nonlocal first
            await response.write(_line({"type": event.type, "object": encode(event.object, first)}))
            first = False

        for event in replay:
            await send(event)
        if watch.initial_events:
            end = bookmark(watch.rtype, store.resource_version, initial_events_end=True)
            await response.write(_line(end))
        await _follow(request, response, store, watcher.queue, watch, send, bookmark_interval, hold)
        await response.write_eof()
    except ConnectionResetError:
        pass  # the client went away in the middle of a write
    finally:
        store.unwatch(watcher)
    return response


async def _follow(
    request: web.Request,
    response: web.StreamResponse,
    store: ObjectStore,
    queue: asyncio.Queue[WatchEvent | None],
    watch: WatchRequest,
    send: Callable[[WatchEvent], Any],
    bookmark_interval: float,
    hold: Callable[[], Awaitable[None]] | None = None,
) -> None:
    clock = asyncio.get_running_loop()
    started = clock.time()
    timeout = watch.timeout_seconds if watch.timeout_seconds else DEFAULT_TIMEOUT_SECONDS
    deadline = started + timeout
    next_bookmark = started + bookmark_interval
    while True:
        now = clock.time()
        if now >= deadline:
            if watch.bookmarks:
                await response.write(_line(bookmark(watch.rtype, store.resource_version)))
            return
        if watch.bookmarks and now >= next_bookmark:
            if hold is not None:
                await hold()
            await response.write(_line(bookmark(watch.rtype, store.resource_version)))
            next_bookmark = now + bookmark_interval
        wait = min(deadline - now, LIVENESS_CHECK_SECONDS)
        if watch.bookmarks:
            wait = min(wait, max(next_bookmark - now, 0.0))
        try:
            async with asyncio.timeout(wait):  # not wait_for: it can swallow a cancellation
                event = await queue.get()
        except TimeoutError:
            if request.transport is None or request.transport.is_closing():
                return  # the client went away
            continue
        if event is None:
            return  # the store dropped every watch
        if hold is not None:
            await hold()
        await send(event)
