"""Kubernetes with lightkube: list+watch per (context, namespace, kind), reads and patches.

One lightkube :class:`~lightkube.AsyncClient` per kube context (kubeconfig file or
lightkube's own discovery: in-cluster, ``$KUBECONFIG``, ``~/.kube/config``; exec
credential plugins work as lightkube supports them), created on first use and closed by
:meth:`KubeSource.close`.

:class:`KindWatch` keeps a cache ``name -> object dict`` for one kind in one namespace.
It lists, then watches from the list's resourceVersion; it re-lists when the server says
the version expired (HTTP 410, or an in-stream ``ERROR`` event with code 410 and reason
``Expired`` or ``Gone``), reconnects from the last seen resourceVersion when the server
closes the stream normally, skips the blank lines apiservers and proxies may send, and
reports failures as :class:`SourceError` values without dying, backing off between
attempts. The list and watch requests are sent through the AsyncClient's own HTTP client
(its auth, TLS and base URL) but read line by line here, because lightkube's watch
iterator stops on a blank line and retries an expired resourceVersion forever.

Patches to Argo Rollouts are MERGE or JSON patches, never lightkube's default STRATEGIC
(which a CRD refuses with 415); the status subresource is addressed with ``subresource``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

import httpx
from lightkube import ApiError, AsyncClient, KubeConfig
from lightkube.config.kubeconfig import SingleConfig
from lightkube.core.exceptions import ConfigError as KubeConfigError
from lightkube.generic_resource import create_namespaced_resource
from lightkube.resources.apps_v1 import Deployment, ReplicaSet
from lightkube.types import PatchType

from cockpit import kubeconfig as kubeconfig_file
from cockpit.config import KubernetesConfig
from cockpit.model import SourceName
from cockpit.redact import shown
from cockpit.sources.errors import (
    SourceError,
    connection_refused,
    retry_after_seconds,
    seconds,
)
from cockpit.sources.writes import WriteRequest

Kind = Literal["Rollout", "Deployment", "ReplicaSet", "AnalysisRun"]
PatchKind = Literal["merge", "json", "strategic"]

Rollout = create_namespaced_resource("argoproj.io", "v1alpha1", "Rollout", "rollouts")
AnalysisRun = create_namespaced_resource("argoproj.io", "v1alpha1", "AnalysisRun", "analysisruns")

RESOURCES: dict[str, Any] = {
    "Rollout": Rollout,
    "AnalysisRun": AnalysisRun,
    "Deployment": Deployment,
    "ReplicaSet": ReplicaSet,
}
#: (API path prefix, plural) per kind, for messages and dry-run descriptions.
PATHS: dict[str, tuple[str, str]] = {
    "Rollout": ("/apis/argoproj.io/v1alpha1", "rollouts"),
    "AnalysisRun": ("/apis/argoproj.io/v1alpha1", "analysisruns"),
    "Deployment": ("/apis/apps/v1", "deployments"),
    "ReplicaSet": ("/apis/apps/v1", "replicasets"),
}
PATCH_TYPES = {
    "merge": (PatchType.MERGE, "application/merge-patch+json"),
    "json": (PatchType.JSON, "application/json-patch+json"),
    "strategic": (PatchType.STRATEGIC, "application/strategic-merge-patch+json"),
}

#: Seconds the server keeps one watch request open before closing it normally.
WATCH_SERVER_TIMEOUT = 290
#: Seconds a liveness probe (``GET /version``) may take before the apiserver counts as
#: not answering.
PROBE_TIMEOUT = 5.0


def _kind(kind: str) -> Any:
    try:
        return RESOURCES[kind]
    except KeyError:
        raise ValueError(f"unknown kind {kind!r}; one of {', '.join(RESOURCES)}") from None


# --------------------------------------------------------------------------- writes, described


def patch_request(
    namespace: str,
    kind: Kind,
    name: str,
    body: Any,
    *,
    patch_type: PatchKind = "merge",
    subresource: str | None = None,
) -> WriteRequest:
    """The PATCH that :meth:`KubeSource.patch` sends, without sending it."""
    prefix, plural = PATHS[kind]
    path = f"{prefix}/namespaces/{namespace}/{plural}/{name}"
    if subresource:
        path += f"/{subresource}"
    content_type = PATCH_TYPES[patch_type][1]
    return WriteRequest(SourceName.KUBE, "PATCH", path, body, content_type=content_type)


# --------------------------------------------------------------------------- errors


@dataclass(frozen=True)
class _Target:
    context: str
    namespace: str | None
    kind: str
    verb: str
    name: str | None = None
    subresource: str | None = None

    @property
    def resource(self) -> str:
        plural = PATHS[self.kind][1] if self.kind in PATHS else self.kind.lower()
        return f"{plural}/{self.subresource}" if self.subresource else plural

    @property
    def what(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return (
            f"{self.kind} {where}{self.name}"
            if self.name
            else f"{self.resource} in {self.namespace}"
        )


def status_error(
    code: int,
    status: Mapping[str, Any] | None,
    target: _Target,
    headers: Mapping[str, str] | None = None,
) -> SourceError:
    """The words for a Kubernetes ``Status`` failure (the API conventions' Status kind, Kubernetes community/contributors/devel/sig-architecture/api-conventions.md)."""
    status = status or {}
    reason = str(status.get("reason") or "")
    text = str(status.get("message") or "").strip()
    retry_after = retry_after_seconds(headers) if headers is not None else None
    details = status.get("details") or {}
    if retry_after is None and details.get("retryAfterSeconds"):
        retry_after = float(details["retryAfterSeconds"])
    namespace = target.namespace or "the namespace"
    if code == 401:
        message = (
            f"Kubernetes rejected the credentials of context {target.context} (401): log in "
            "again or refresh the token in the kubeconfig"
        )
    elif code == 403:
        user = re.search(r'User "([^"]+)"', text)
        who = f"user {user.group(1)}" if user else "user"
        message = f"Kubernetes: {who} cannot {target.verb} {target.resource} in {namespace} (RBAC)"
    elif code == 404:
        if target.name:
            message = f"Kubernetes: {target.what} not found (context {target.context})"
        else:
            message = (
                f"Kubernetes: {target.resource} are not served by context {target.context}"
                + (
                    " — is Argo Rollouts installed?"
                    if target.kind in ("Rollout", "AnalysisRun")
                    else ""
                )
            )
    elif code == 409:
        message = (
            f"Kubernetes: {target.what} changed while cockpit was writing (409 {reason or 'Conflict'}); "
            "refresh and try again"
        )
    elif code == 410:
        message = f"Kubernetes: the watch of {target.resource} expired (410 {reason or 'Gone'})"
    elif code == 415:
        message = f"Kubernetes refused the patch format for {target.what} (415): {text}"
    elif code == 422:
        message = f"Kubernetes refused the change to {target.what} as invalid (422): {text}"
    elif code == 429:
        wait = f", retrying in {seconds(retry_after)}" if retry_after is not None else ""
        message = f"Kubernetes is throttling cockpit (429){wait}"
    elif code >= 500:
        detail = text or reason
        message = f"the Kubernetes API of context {target.context} failed ({code})" + (
            f": {detail}" if detail else ""
        )
    else:
        message = f"Kubernetes refused to {target.verb} {target.what} ({code}): {text or reason}"
    return SourceError(SourceName.KUBE, message, status=code, retry_after=retry_after)


def transport_error(
    error: httpx.HTTPError, target: _Target, server: str, timeout: float
) -> SourceError:
    """The words for a request that got no HTTP answer."""
    if isinstance(error, httpx.TimeoutException):
        message = (
            f"timed out after {seconds(timeout)} talking to the apiserver of context "
            f"{target.context} at {server}"
        )
    elif isinstance(error, httpx.ConnectError) and connection_refused(error):
        message = f"connection refused: is the apiserver at {server} reachable?"
    elif isinstance(error, httpx.ConnectError):
        message = f"cannot connect to the apiserver at {server}: {error}"
    else:
        message = f"the connection to the apiserver at {server} broke: {type(error).__name__}"
    return SourceError(SourceName.KUBE, message, transient=True)


def _status_body(response: httpx.Response) -> dict[str, Any] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def is_expired(status: Mapping[str, Any]) -> bool:
    """A watch ``ERROR`` Status (or HTTP 410 body) meaning: re-list, the version is gone."""
    return status.get("code") == 410 or status.get("reason") in ("Expired", "Gone")


# --------------------------------------------------------------------------- the watch


#: A pseudo event: the watch is connected again after a failure (its cache is intact).
RECONNECTED = "cockpit/RECONNECTED"


@dataclass(frozen=True)
class WatchChange:
    """What one step of a watch did to its cache (nothing at all: it reconnected)."""

    #: Objects added, modified or deleted (for a re-list: those that differ from before).
    names: frozenset[str] = frozenset()
    #: The cache was rebuilt from a fresh list.
    relisted: bool = False
    #: The watch failed; it keeps trying (after a backoff) and the cache is unchanged.
    error: SourceError | None = None


def default_backoff(failures: int, error: SourceError) -> float:
    """Seconds to wait after ``failures`` failures in a row: exponential, jittered, capped."""
    delay = min(30.0, 0.5 * 2.0 ** (failures - 1)) * random.uniform(0.8, 1.2)
    return max(delay, error.retry_after or 0.0)


class _Expired(Exception):
    """The resourceVersion is too old: drop the cache and list again."""


def _name(obj: Mapping[str, Any]) -> str:
    return str((obj.get("metadata") or {}).get("name") or "")


def _version(obj: Mapping[str, Any]) -> str | None:
    value = (obj.get("metadata") or {}).get("resourceVersion")
    return str(value) if value is not None else None


class KindWatch:
    """List then watch one kind in one namespace of one context, keeping a cache by name."""

    def __init__(
        self,
        source: KubeSource,
        context: str,
        namespace: str,
        kind: Kind,
        *,
        backoff: Callable[[int, SourceError], float] = default_backoff,
        server_timeout: int = WATCH_SERVER_TIMEOUT,
        idle_reconnect_delay: float = 1.0,
    ) -> None:
        self.context = context
        self.namespace = namespace
        self.kind = kind
        #: ``name -> object`` as last seen (do not mutate).
        self.objects: dict[str, dict[str, Any]] = {}
        self.resource_version: str | None = None
        #: The last failure, cleared by the next successful list or event.
        self.error: SourceError | None = None
        #: HTTP requests this watch has made (lists, list pages and watch requests).
        self.request_count = 0
        self.relists = 0
        self._source = source
        self._backoff = backoff
        self._server_timeout = server_timeout
        self._idle_reconnect_delay = idle_reconnect_delay
        #: ``time.monotonic()`` when the apiserver last said anything on this watch: a list,
        #: an event, a BOOKMARK (which it sends when asked with ``allowWatchBookmarks``).
        self.heard_at: float | None = None
        self._wake = asyncio.Event()
        #: The next watch request announces itself (RECONNECTED) even without a failure.
        self._announce = False

    def wake(self) -> None:
        """End a backoff now: the caller knows the server answers again."""
        self._wake.set()

    def interrupted(self) -> None:
        """The caller stopped following this watch (the apiserver seemed hung): the next
        watch request, once answered, says so with a RECONNECTED change."""
        self._announce = True

    @property
    def synced(self) -> bool:
        """The cache reflects a list (it may be behind while the watch reconnects)."""
        return self.resource_version is not None

    async def changes(self) -> AsyncGenerator[WatchChange, None]:
        """List, then watch, forever: one WatchChange per applied event, re-list or failure."""
        failures = 0
        while True:
            try:
                if self.resource_version is None:
                    yield await self._relist()
                    failures = 0
                received = 0
                async for change in self._watch_once():
                    received += 1
                    failures = 0
                    yield change
                if received == 0:
                    await asyncio.sleep(self._idle_reconnect_delay)
            except _Expired:
                self.resource_version = None
            except (SourceError, TypeError, ValueError, KeyError, AttributeError) as caught:
                # An answer of the wrong shape (a list that is not one, a name that is not
                # a string) is this watch's failure like any other: listed again later.
                error = caught if isinstance(caught, SourceError) else self._unexpected(caught)
                failures += 1
                self.error = error
                self.resource_version = None if error is not caught else self.resource_version
                yield WatchChange(error=error)
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._backoff(failures, error)):
                        await self._wake.wait()

    def _unexpected(self, error: Exception) -> SourceError:
        return SourceError(
            SourceName.KUBE,
            f"unexpected answer from Kubernetes for the {self.kind} watch in {self.namespace}: "
            f"{type(error).__name__}: {shown(error)}",
        )

    async def _relist(self) -> WatchChange:
        items, version = await self._source._list_raw(self)
        fresh = {_name(item): item for item in items}
        changed = {
            name
            for name in set(fresh) | set(self.objects)
            if _version(fresh.get(name, {})) != _version(self.objects.get(name, {}))
            or (name in fresh) != (name in self.objects)
        }
        self.objects = fresh
        self.resource_version = version
        self.heard_at = time.monotonic()
        self.error = None
        self.relists += 1
        return WatchChange(names=frozenset(changed), relisted=True)

    async def _watch_once(self) -> AsyncIterator[WatchChange]:
        async for event in self._source._watch_raw(self):
            change = self._apply(event)
            if change is not None:
                yield change

    def _apply(self, event: Mapping[str, Any]) -> WatchChange | None:
        self.heard_at = time.monotonic()
        kind = event.get("type")
        obj = event.get("object") or {}
        if kind == "ERROR":
            if is_expired(obj):
                raise _Expired
            raise status_error(
                int(obj.get("code") or 500),
                obj,
                _Target(self.context, self.namespace, self.kind, "watch"),
            )
        version = _version(obj)
        if version is not None:
            self.resource_version = version
        if kind == "BOOKMARK":
            return None  # only a resourceVersion (a BOOKMARK event, Kubernetes "API concepts: watch bookmarks"); heard_at says it came
        if kind == RECONNECTED:
            self.error = None
            return WatchChange()
        name = _name(obj)
        if kind in ("ADDED", "MODIFIED"):
            self.objects[name] = dict(obj)
        elif kind == "DELETED":
            self.objects.pop(name, None)
        else:
            return None
        self.error = None
        return WatchChange(names=frozenset({name}))


# --------------------------------------------------------------------------- the source


class KubeSource:
    """All Kubernetes reads and writes, across every kube context the configuration names."""

    def __init__(self, config: KubernetesConfig, *, timeout: float = 10.0) -> None:
        self._config = config
        self._timeout = timeout
        self._kubeconfig: KubeConfig | None = None
        self._clients: dict[str, tuple[AsyncClient, SingleConfig]] = {}
        self._watches: dict[tuple[str, str, str], KindWatch] = {}
        self._direct_requests = 0
        #: Liveness probes sent (``GET /version``).
        self.probe_count = 0
        #: Seconds the apiserver took to answer the last probe or list.
        self.latency: float | None = None

    @property
    def request_count(self) -> int:
        """Every HTTP request made: watches' lists and watch requests, gets, lists, patches."""
        return (
            self._direct_requests
            + self.probe_count
            + sum(w.request_count for w in self._watches.values())
        )

    async def close(self) -> None:
        clients = list(self._clients.values())
        self._clients.clear()
        for client, _ in clients:
            await client.close()

    # -- clients

    def _load_kubeconfig(self) -> KubeConfig:
        if self._kubeconfig is None:
            try:
                self._kubeconfig = kubeconfig_file.load(self._config.kubeconfig)
            except kubeconfig_file.KubeconfigUnreadable as error:
                raise SourceError(SourceName.KUBE, str(error), transient=False) from None
        return self._kubeconfig

    def _client(self, context: str | None) -> tuple[AsyncClient, SingleConfig, str]:
        """The client for a context (None: the kubeconfig's current one) and its name."""
        kubeconfig = self._load_kubeconfig()
        name = context or kubeconfig.current_context
        if not name:
            raise SourceError(
                SourceName.KUBE,
                "the kubeconfig names no current context; set kube_context in cockpit.toml",
                transient=False,
            )
        if name not in self._clients:
            try:
                single = kubeconfig.get(context_name=name)
                if single is None:
                    raise KubeConfigError(f"Context '{name}' not found")
                client = AsyncClient(config=single, timeout=httpx.Timeout(self._timeout))
            except KubeConfigError as error:
                known = shown(", ".join(sorted(kubeconfig.contexts)) or "none", 200)
                raise SourceError(
                    SourceName.KUBE,
                    f"kube context {shown(name, 60)!r} cannot be used: {shown(str(error), 120)} "
                    f"(contexts: {known})",
                    transient=False,
                ) from None
            except (KeyError, TypeError, ValueError, AttributeError, OSError) as error:
                # A context naming a missing cluster or user, a cluster entry of the wrong
                # shape, a certificate file that is not there: the kubeconfig's text is not
                # quoted (it holds credentials).
                raise SourceError(
                    SourceName.KUBE,
                    kubeconfig_file.problem(
                        str(self._config.kubeconfig or kubeconfig_file.DEFAULT_KUBECONFIG),
                        f"kube context {shown(name, 60)!r} cannot be used ({type(error).__name__})",
                    ),
                    transient=False,
                ) from None
            self._clients[name] = (client, single)
        client, single = self._clients[name]
        return client, single, name

    def namespace(self, context: str | None, namespace: str | None) -> str:
        """``namespace``, or the context's own namespace (``default`` when it names none)."""
        if namespace:
            return namespace
        return self._client(context)[1].namespace

    def _server(self, single: SingleConfig) -> str:
        return str(single.cluster.server)

    async def probe(self, context: str | None, *, timeout: float = PROBE_TIMEOUT) -> None:
        """One cheap request to a context's apiserver (``GET /version``): does it answer?

        Watches alone cannot tell: a hung apiserver keeps the stream open and silent, and
        a watch only fails after its read timeout (minutes). ``/version`` is readable by
        any client (the ``system:public-info-viewer`` role).
        """
        client, single, context_name = self._client(context)
        # lightkube's httpx.AsyncClient: auth, TLS, base URL.
        http = cast(httpx.AsyncClient, client._client._client)
        target = _Target(context_name, None, "version", "get")
        try:
            self.probe_count += 1
            started = time.monotonic()
            response = await http.get("/version", timeout=timeout)
            self.latency = time.monotonic() - started
        except httpx.HTTPError as error:
            raise transport_error(error, target, self._server(single), timeout) from None
        if not response.is_success:
            raise status_error(
                response.status_code, _status_body(response), target, response.headers
            )

    # -- watches

    def watch(
        self,
        context: str | None,
        namespace: str | None,
        kind: Kind,
        *,
        backoff: Callable[[int, SourceError], float] = default_backoff,
    ) -> KindWatch:
        """The one watch for (context, namespace, kind); created on first call."""
        _kind(kind)
        _, _, context_name = self._client(context)
        resolved = self.namespace(context, namespace)
        key = (context_name, resolved, kind)
        if key not in self._watches:
            self._watches[key] = KindWatch(self, context_name, resolved, kind, backoff=backoff)
        return self._watches[key]

    def _raw(self, watch: KindWatch) -> tuple[Any, SingleConfig]:
        client, single, _ = self._client(watch.context)
        return client._client, single  # lightkube's GenericAsyncClient: auth, TLS, base URL

    async def _list_raw(self, watch: KindWatch) -> tuple[list[dict[str, Any]], str | None]:
        generic, single = self._raw(watch)
        target = _Target(watch.context, watch.namespace, watch.kind, "list")
        items: list[dict[str, Any]] = []
        params: dict[str, Any] = {"limit": 500}
        version: str | None = None
        while True:
            request = generic.prepare_request(
                "list", res=_kind(watch.kind), namespace=watch.namespace, params=params
            )
            http_request = generic._client.build_request(
                request.method, request.url, params=request.params
            )
            try:
                watch.request_count += 1
                started = time.monotonic()
                response = await generic._client.send(http_request)
                self.latency = time.monotonic() - started
            except httpx.HTTPError as error:
                raise transport_error(error, target, self._server(single), self._timeout) from None
            body = _status_body(response)
            if not response.is_success or body is None:
                raise status_error(response.status_code, body, target, response.headers)
            items.extend(dict(item) for item in body.get("items") or ())
            metadata = body.get("metadata") or {}
            version = metadata.get("resourceVersion") or version
            if not metadata.get("continue"):
                return items, version
            params = {"limit": 500, "continue": metadata["continue"]}

    async def _watch_raw(self, watch: KindWatch) -> AsyncIterator[dict[str, Any]]:
        generic, single = self._raw(watch)
        target = _Target(watch.context, watch.namespace, watch.kind, "watch")
        params = {
            "resourceVersion": watch.resource_version,
            "allowWatchBookmarks": "true",
            "timeoutSeconds": watch._server_timeout,
        }
        request = generic.prepare_request(
            "list", res=_kind(watch.kind), namespace=watch.namespace, watch=True, params=params
        )
        timeout = httpx.Timeout(self._timeout, read=watch._server_timeout + 30.0)
        http_request = generic._client.build_request(
            request.method, request.url, params=request.params, timeout=timeout
        )
        try:
            watch.request_count += 1
            started = time.monotonic()
            response = await generic._client.send(http_request, stream=True)
            self.latency = time.monotonic() - started
        except httpx.HTTPError as error:
            raise transport_error(error, target, self._server(single), self._timeout) from None
        try:
            if response.status_code == 410:
                raise _Expired
            if not response.is_success:
                await response.aread()
                raise status_error(
                    response.status_code, _status_body(response), target, response.headers
                )
            if watch.error is not None or watch._announce:
                watch._announce = False
                # The server answers again: say so now, not at the next change (which may
                # not come for a long time on a calm cluster).
                yield {"type": RECONNECTED}
            async for line in response.aiter_lines():
                if not line.strip():
                    continue
                try:
                    event = json.loads(line)
                except ValueError:
                    raise SourceError(
                        SourceName.KUBE,
                        f"the watch of {target.resource} in {watch.namespace} sent a line that is "
                        "not JSON; reconnecting",
                        transient=True,
                    ) from None
                if isinstance(event, dict):
                    yield event
        except httpx.HTTPError as error:
            raise transport_error(error, target, self._server(single), self._timeout) from None
        finally:
            await response.aclose()

    # -- reads and writes

    async def _call(self, target: _Target, single: SingleConfig, operation: Any) -> Any:
        self._direct_requests += 1
        try:
            return await operation
        except ApiError as error:
            status = error.status
            body = {
                "code": status.code,
                "reason": status.reason,
                "message": status.message,
                "details": status.details.to_dict() if status.details is not None else None,
            }
            headers = error.response.headers if error.response is not None else None
            raise status_error(int(status.code or 500), body, target, headers) from None
        except httpx.HTTPStatusError as error:
            response = error.response
            raise status_error(
                response.status_code, _status_body(response), target, response.headers
            ) from None
        except httpx.HTTPError as error:
            raise transport_error(error, target, self._server(single), self._timeout) from None

    async def get(
        self, context: str | None, namespace: str | None, kind: Kind, name: str
    ) -> dict[str, Any]:
        client, single, context_name = self._client(context)
        namespace = self.namespace(context, namespace)
        target = _Target(context_name, namespace, kind, "get", name)
        obj = await self._call(target, single, client.get(_kind(kind), name, namespace=namespace))
        data: dict[str, Any] = obj.to_dict()
        return data

    async def list_replicasets(
        self, context: str | None, namespace: str | None, selector: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        """ReplicaSets matching a label selector (the undo targets of a Rollout or Deployment)."""
        client, single, context_name = self._client(context)
        namespace = self.namespace(context, namespace)
        target = _Target(context_name, namespace, "ReplicaSet", "list")

        async def collect() -> list[dict[str, Any]]:
            listing = client.list(ReplicaSet, namespace=namespace, labels=dict(selector))
            return [rs.to_dict() async for rs in listing]

        replicasets: list[dict[str, Any]] = await self._call(target, single, collect())
        return replicasets

    async def patch(
        self,
        context: str | None,
        namespace: str | None,
        kind: Kind,
        name: str,
        body: Any,
        *,
        patch_type: PatchKind = "merge",
        subresource: str | None = None,
    ) -> dict[str, Any]:
        """Send one patch; the object as the server returns it.

        ``patch_type`` is explicit: MERGE or JSON for Argo Rollouts (STRATEGIC is refused
        by CRDs); ``subresource="status"`` patches ``.../status``.
        """
        client, single, context_name = self._client(context)
        namespace = self.namespace(context, namespace)
        resource = _kind(kind)
        if subresource == "status":
            resource = resource.Status
        elif subresource is not None:
            raise ValueError(f"unsupported subresource {subresource!r}")
        target = _Target(context_name, namespace, kind, "patch", name, subresource)
        obj = await self._call(
            target,
            single,
            client.patch(
                resource,
                name,
                body,
                namespace=namespace,
                patch_type=PATCH_TYPES[patch_type][0],
            ),
        )
        patched: dict[str, Any] = obj.to_dict()
        return patched
