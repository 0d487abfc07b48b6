"""The simulated Kubernetes apiserver's HTTP API, served from the cluster's object store.

``create_app(world, faults, tokens)`` answers what kubectl, lightkube and the official
kubernetes client send for the resource types of
:data:`cockpit.sim.kube.store.RESOURCE_TYPES`:

* discovery (``/version``, ``/api``, ``/apis``, ``/api/v1``, ``/apis/<g>/<v>``);
* get, list (label and field selectors, ``limit`` + ``continue``, ``resourceVersion``
  and ``resourceVersionMatch``), watch (``?watch=true`` or ``/watch/`` paths; see
  :mod:`cockpit.sim.kube.watch`), all-namespaces and cluster-scoped collections;
* create, update (optimistic concurrency on ``metadata.resourceVersion``), patch
  (JSON, merge, strategic for built-in kinds, and apply), delete and deletecollection,
  with ``dryRun=All`` honoured and ``fieldManager`` accepted;
* the ``status`` subresource (writes change only status; main writes keep it) and the
  ``scale`` subresource (``autoscaling/v1 Scale``);
* ``meta.k8s.io/v1 Table`` answers when the client asks ``as=Table`` (``kubectl get``).

Server-side apply is simplified: the applied configuration is merged into the live
object (created when absent), but field ownership is not tracked, so fields dropped
from a later apply stay and no apply conflicts are reported.

Errors are ``Status`` objects (:mod:`cockpit.sim.kube.status`); bearer tokens decide who
may do what (:mod:`cockpit.sim.kube.auth`); faults switched on in the
:class:`~cockpit.sim.faults.FaultSet` answer in the same shape.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import yaml
from aiohttp import web

from cockpit.sim.clock import SimClock
from cockpit.sim.faults import FaultSet, fault_middleware
from cockpit.sim.kube import access, discovery, paths, status, tables
from cockpit.sim.kube import patch as patches
from cockpit.sim.kube import watch as watches
from cockpit.sim.kube.auth import User, bearer_token, request_verb, users
from cockpit.sim.kube.scale import to_scale, with_scale
from cockpit.sim.kube.store import (
    NAMESPACE,
    RESOURCE_TYPES,
    Invalid,
    Obj,
    ObjectStore,
    ResourceType,
    StoreError,
)
from cockpit.sim.tokens import Tokens

log = logging.getLogger(__name__)

#: Where the authenticated user is kept on each request.
USER = web.RequestKey("user", User)

#: How often a watch that allows bookmarks gets one (real seconds).
BOOKMARK_INTERVAL_SECONDS = 60.0

#: Letters the apiserver uses for ``generateName`` suffixes.
_NAME_SUFFIX_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"

_BUILTIN_PATCH_TYPES = (
    patches.JSON_PATCH,
    patches.MERGE_PATCH,
    patches.STRATEGIC_MERGE_PATCH,
    patches.APPLY_PATCH,
)
_CUSTOM_PATCH_TYPES = (patches.JSON_PATCH, patches.MERGE_PATCH, patches.APPLY_PATCH)
_BODY_TYPES = ("application/json", "application/yaml")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Cluster(Protocol):
    @property
    def store(self) -> ObjectStore: ...


class KubeWorld(Protocol):
    """What the API needs from the world: the cluster's store and the clock."""

    @property
    def kube(self) -> Cluster: ...

    @property
    def clock(self) -> SimClock: ...


def create_app(
    world: KubeWorld,
    faults: FaultSet,
    tokens: Tokens,
    *,
    bookmark_interval: float = BOOKMARK_INTERVAL_SECONDS,
) -> web.Application:
    """The apiserver as an aiohttp application (serve it with an ``AppRunner``)."""
    api = KubeApi(
        world.kube.store,
        world.clock,
        bookmark_interval=bookmark_interval,
        hold=lambda: faults.thawed("kube"),
    )
    app = web.Application(
        middlewares=[
            fault_middleware(faults, "kube", status.render_fault),
            _status_errors,
            _authenticate(users(tokens)),
        ]
    )
    app.add_routes(
        [
            web.get("/version", api.version),
            web.get("/api", api.core_versions),
            web.get("/api/v1", api.core_resources),
            web.get("/apis", api.groups),
            web.get("/apis/{group}", api.group),
            web.get("/apis/{group}/{version}", api.group_resources),
            web.post(access.PATH, access.handler(USER)),
            web.route("*", "/{path:.*}", api.resource),
        ]
    )
    return app


# --------------------------------------------------------------------------- middlewares


@web.middleware
async def _status_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every failure leaves as a ``Status`` object."""
    try:
        return await handler(request)
    except status.ApiStatus as error:
        return error.response()
    except StoreError as error:
        return status.from_store_error(error).response()
    except web.HTTPException:
        raise
    except Exception as error:
        # A bug in the simulator: answer like an apiserver would, and keep the trace.
        log.exception("kube API: %s %s failed", request.method, request.path)
        return status.internal_error(error).response()


def _authenticate(
    known: dict[str, User],
) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        token = bearer_token(request.headers.get("Authorization"))
        user = known.get(token) if token else None
        if user is None:
            raise status.unauthorized()
        request[USER] = user
        return await handler(request)

    return middleware


# --------------------------------------------------------------------------- request parsing


def _flag(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")


def _dry_run(request: web.Request) -> bool:
    values = request.query.getall("dryRun", [])
    for value in values:
        if value != "All":
            raise status.bad_request(f"Invalid dry run value {value!r}: valid values are 'All'")
    return bool(values)


def _int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise status.bad_request(f"invalid value for {name}: {raw!r}") from None
    if value < 0:
        raise status.bad_request(f"{name} must be a non-negative integer, got {value}")
    return value


def _include_object(request: web.Request) -> str:
    value = request.query.get("includeObject", "Metadata") or "Metadata"
    if value not in tables.INCLUDE_OBJECT:
        raise status.bad_request(f"includeObject: unsupported value {value!r}")
    return value


async def _body(request: web.Request) -> Any:
    raw = await request.read()
    content_type = request.content_type if "Content-Type" in request.headers else ""
    try:
        if content_type in ("application/yaml", patches.APPLY_PATCH):
            return yaml.safe_load(raw.decode())
        return json.loads(raw)
    except (ValueError, yaml.YAMLError) as error:
        raise status.bad_request(f"couldn't decode the request body: {error}") from None


def _metadata(obj: Any) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise status.bad_request("the request body must be a JSON object")
    metadata = obj.setdefault("metadata", {})
    if not isinstance(metadata, dict):
        raise status.bad_request("metadata must be an object")
    return metadata


def _check_kind(rtype: ResourceType, obj: dict[str, Any]) -> None:
    api_version = obj.get("apiVersion")
    if api_version and api_version != rtype.api_version:
        raise status.bad_request(
            f"the API version in the data ({api_version}) does not match the expected API "
            f"version ({rtype.api_version})"
        )
    kind = obj.get("kind")
    if kind and kind != rtype.kind:
        raise status.bad_request(
            f"the kind in the data ({kind}) does not match the expected kind ({rtype.kind})"
        )


def _check_identity(target: paths.ResourcePath, obj: dict[str, Any]) -> None:
    metadata = _metadata(obj)
    name = metadata.get("name")
    if target.name is not None and name and name != target.name:
        raise status.bad_request(
            f"the name of the object ({name}) does not match the name on the URL ({target.name})"
        )
    namespace = metadata.get("namespace")
    if target.namespace is not None and namespace and namespace != target.namespace:
        raise status.bad_request(
            "the namespace of the provided object does not match the namespace sent on the request"
        )


# --------------------------------------------------------------------------- continue tokens


def encode_continue(resource_version: str, namespace: str, name: str) -> str:
    token = json.dumps({"rv": resource_version, "start": [namespace, name]})
    return base64.urlsafe_b64encode(token.encode()).decode()


def decode_continue(token: str) -> tuple[str, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        namespace, name = data["start"]
        return str(int(data["rv"])), (str(namespace), str(name))
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise status.bad_request(f"continue key is not valid: {error}") from None


# --------------------------------------------------------------------------- the API


class KubeApi:
    """Request handlers over one object store."""

    def __init__(
        self,
        store: ObjectStore,
        clock: SimClock,
        *,
        bookmark_interval: float,
        hold: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        #: Awaited before a watch stream sends anything (a frozen apiserver is silent).
        self.hold = hold
        self.store = store
        self.clock = clock
        self.bookmark_interval = bookmark_interval

    # ------------------------------------------------------------------ discovery

    async def version(self, request: web.Request) -> web.Response:
        return status.json_response(discovery.VERSION)

    async def core_versions(self, request: web.Request) -> web.Response:
        return status.json_response(discovery.core_versions(request.host))

    async def core_resources(self, request: web.Request) -> web.Response:
        return status.json_response(discovery.resource_list("", "v1"))

    async def groups(self, request: web.Request) -> web.Response:
        return status.json_response(discovery.group_list())

    async def group(self, request: web.Request) -> web.Response:
        found = discovery.group(request.match_info["group"])
        if found is None:
            raise status.no_such_resource()
        return status.json_response(found)

    async def group_resources(self, request: web.Request) -> web.Response:
        found = discovery.resource_list(request.match_info["group"], request.match_info["version"])
        if found is None:
            raise status.no_such_resource()
        return status.json_response(found)

    # ------------------------------------------------------------------ dispatch

    async def resource(self, request: web.Request) -> web.StreamResponse:
        try:
            target = paths.parse(request.path)
        except paths.UnknownPath:
            raise status.no_such_resource() from None
        watching = target.watch or _flag(request, "watch")
        verb = request_verb(request.method, named=target.name is not None, watch=watching)
        user = request[USER]
        if not user.may(verb):
            raise status.forbidden(
                user.name,
                verb,
                target.rtype,
                namespace=target.namespace,
                name=target.name,
                subresource=target.subresource,
            )
        method = request.method
        if method == "GET":
            if watching:
                return await self.watch(request, target)
            if target.is_collection:
                return self.list(request, target)
            return self.get(request, target)
        if (
            method == "POST"
            and target.is_collection
            and (target.namespace is not None or not target.rtype.namespaced)
        ):
            return await self.create(request, target)
        if method == "PUT" and not target.is_collection:
            return await self.update(request, target)
        if method == "PATCH" and not target.is_collection:
            return await self.patch(request, target)
        if method == "DELETE" and target.subresource is None:
            if target.is_collection:
                return self.delete_collection(request, target)
            return await self.delete(request, target)
        raise status.method_not_allowed()

    # ------------------------------------------------------------------ reads

    def _render(self, request: web.Request, rtype: ResourceType, obj: Obj) -> web.Response:
        if tables.wants_table(request.headers.get("Accept", "")):
            body = tables.table(
                rtype,
                [obj],
                self.clock.now(),
                include_object=_include_object(request),
                metadata={"resourceVersion": obj["metadata"].get("resourceVersion", "")},
            )
            return status.json_response(body)
        return status.json_response(obj)

    def get(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        assert target.name is not None
        obj = self.store.get(target.rtype, target.namespace or "", target.name)
        if target.subresource == "scale":
            return status.json_response(to_scale(target.rtype, obj))
        return self._render(request, target.rtype, obj)

    def list(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        rtype = target.rtype
        limit = _int_param(request, "limit")
        token = request.query.get("continue")
        requested_rv = request.query.get("resourceVersion", "")
        match = request.query.get("resourceVersionMatch", "")
        if match and not requested_rv:
            raise status.bad_request(
                "resourceVersionMatch is forbidden unless resourceVersion is provided"
            )
        if token and requested_rv not in ("", "0"):
            raise status.bad_request(
                "specifying resource version is not allowed when using continue"
            )
        try:
            # Only read and serialised below: no copies of what may be thousands of objects.
            items, list_rv = self.store.list(
                rtype,
                target.namespace,
                label_selector=request.query.get("labelSelector"),
                field_selector=request.query.get("fieldSelector"),
                copies=False,
            )
        except Invalid as error:
            raise status.bad_request(error.message) from None
        self._check_list_resource_version(requested_rv, match, exact=bool(limit))
        if token:
            list_rv, start = decode_continue(token)
            if int(list_rv) < self.store.oldest_resource_version:
                raise status.expired_continue()
            items = [item for item in items if _key(item) > start]
        metadata: dict[str, Any] = {"resourceVersion": list_rv}
        if limit and len(items) > limit:
            remaining = len(items) - limit
            items = items[:limit]
            metadata["continue"] = encode_continue(list_rv, *_key(items[-1]))
            metadata["remainingItemCount"] = remaining
        if tables.wants_table(request.headers.get("Accept", "")):
            body = tables.table(
                rtype,
                items,
                self.clock.now(),
                include_object=_include_object(request),
                metadata=metadata,
            )
            return status.json_response(body)
        if not rtype.custom:
            # Built-in kinds' list items carry no kind/apiVersion, as the apiserver sends them.
            items = [
                {key: value for key, value in item.items() if key not in ("kind", "apiVersion")}
                for item in items
            ]
        return status.json_response(
            {
                "kind": rtype.list_kind,
                "apiVersion": rtype.api_version,
                "metadata": metadata,
                "items": items,
            }
        )

    def _check_list_resource_version(self, requested: str, match: str, *, exact: bool) -> None:
        if requested in ("", "0"):
            return
        try:
            wanted = int(requested)
        except ValueError:
            raise status.bad_request(f"invalid resource version {requested!r}") from None
        current = int(self.store.resource_version)
        if wanted > current:
            raise status.too_large_resource_version(wanted, current)
        if (match == "Exact" or (exact and not match)) and wanted != current:
            raise status.expired_list()

    async def watch(self, request: web.Request, target: paths.ResourcePath) -> web.StreamResponse:
        field_selector = request.query.get("fieldSelector")
        if target.name is not None:
            by_name = f"metadata.name={target.name}"
            field_selector = f"{field_selector},{by_name}" if field_selector else by_name
        timeout = _int_param(request, "timeoutSeconds")
        as_table = tables.wants_table(request.headers.get("Accept", ""))
        include_object = _include_object(request)
        rtype = target.rtype

        def encode(obj: Obj, first: bool) -> Any:
            if as_table:
                return tables.table(
                    rtype, [obj], self.clock.now(), include_object=include_object, headers=first
                )
            return obj

        return await watches.serve(
            request,
            self.store,
            watches.WatchRequest(
                rtype=rtype,
                namespace=target.namespace,
                resource_version=request.query.get("resourceVersion") or None,
                label_selector=request.query.get("labelSelector"),
                field_selector=field_selector,
                timeout_seconds=float(timeout) if timeout else None,
                bookmarks=_flag(request, "allowWatchBookmarks"),
                initial_events=_flag(request, "sendInitialEvents"),
            ),
            encode,
            bookmark_interval=self.bookmark_interval,
            hold=self.hold,
        )

    # ------------------------------------------------------------------ writes

    async def _object_body(
        self, request: web.Request, target: paths.ResourcePath
    ) -> dict[str, Any]:
        if request.content_type not in _BODY_TYPES and request.headers.get("Content-Type"):
            raise status.unsupported_media_type(_BODY_TYPES)
        obj = await _body(request)
        _metadata(obj)
        _check_identity(target, obj)
        return obj

    async def create(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        rtype = target.rtype
        obj = await self._object_body(request, target)
        _check_kind(rtype, obj)
        metadata = obj["metadata"]
        if target.namespace is not None:
            metadata["namespace"] = target.namespace
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + self._name_suffix()
        for server_set in ("resourceVersion", "uid", "creationTimestamp", "generation"):
            metadata.pop(server_set, None)
        if "status" in rtype.subresources:
            obj.pop("status", None)  # status is the controllers' to write
        created = self.store.create(rtype, obj, dry_run=_dry_run(request))
        return status.json_response(created, status=201)

    def _name_suffix(self) -> str:
        chooser = random.Random(f"generateName:{self.store.resource_version}")
        return "".join(chooser.choice(_NAME_SUFFIX_ALPHABET) for _ in range(5))

    async def update(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        assert target.name is not None
        rtype = target.rtype
        obj = await self._object_body(request, target)
        namespace = target.namespace or ""
        dry_run = _dry_run(request)
        expected = obj["metadata"].get("resourceVersion") or None
        if target.subresource == "scale":
            current = self.store.get(rtype, namespace, target.name)
            updated = self.store.replace(
                rtype, self._scaled(rtype, current, obj), expected_rv=expected, dry_run=dry_run
            )
            return status.json_response(to_scale(rtype, updated))
        _check_kind(rtype, obj)
        if rtype.custom and not expected:
            raise status.invalid(
                rtype,
                target.name,
                [
                    {
                        "reason": "FieldValueInvalid",
                        "message": "Invalid value: 0x0: must be specified for an update",
                        "field": "metadata.resourceVersion",
                    }
                ],
            )
        obj["metadata"].setdefault("name", target.name)
        if target.namespace is not None:
            obj["metadata"]["namespace"] = target.namespace
        updated = self.store.replace(
            rtype, obj, subresource=target.subresource, expected_rv=expected, dry_run=dry_run
        )
        return self._render(request, rtype, updated)

    @staticmethod
    def _scaled(rtype: ResourceType, current: Obj, scale: dict[str, Any]) -> Obj:
        try:
            return with_scale(current, scale)
        except ValueError as error:
            raise status.invalid(
                rtype,
                current["metadata"]["name"],
                [{"reason": "FieldValueInvalid", "message": str(error), "field": "spec.replicas"}],
            ) from None

    async def patch(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        assert target.name is not None
        rtype = target.rtype
        accepted = _CUSTOM_PATCH_TYPES if rtype.custom else _BUILTIN_PATCH_TYPES
        patch_type = request.content_type
        if patch_type not in accepted:
            raise status.unsupported_media_type(accepted)
        body = await _body(request)
        dry_run = _dry_run(request)
        namespace = target.namespace or ""
        if patch_type == patches.APPLY_PATCH:
            return self._apply(request, target, body, dry_run=dry_run)
        current = self.store.get(rtype, namespace, target.name)
        if target.subresource == "scale":
            scale = _patched(patch_type, to_scale(rtype, current), body)
            updated = self.store.replace(
                rtype,
                self._scaled(rtype, current, scale),
                expected_rv=(scale.get("metadata") or {}).get("resourceVersion"),
                dry_run=dry_run,
            )
            return status.json_response(to_scale(rtype, updated))
        patched = _patched(patch_type, current, body)
        self._check_unchanged_identity(rtype, current, patched)
        expected = (patched.get("metadata") or {}).get("resourceVersion") or None
        updated = self.store.replace(
            rtype, patched, subresource=target.subresource, expected_rv=expected, dry_run=dry_run
        )
        return self._render(request, rtype, updated)

    @staticmethod
    def _check_unchanged_identity(rtype: ResourceType, current: Obj, patched: Any) -> None:
        if not isinstance(patched, dict) or not isinstance(patched.get("metadata"), dict):
            raise status.patch_rejected(
                "the server rejected our request due to an error in our request"
            )
        for field in ("name", "namespace"):
            before = current["metadata"].get(field)
            after = patched["metadata"].get(field)
            if after != before:
                raise status.invalid(
                    rtype,
                    current["metadata"]["name"],
                    [
                        {
                            "reason": "FieldValueInvalid",
                            "message": f"Invalid value: {json.dumps(after)}: field is immutable",
                            "field": f"metadata.{field}",
                        }
                    ],
                )

    def _apply(
        self, request: web.Request, target: paths.ResourcePath, body: Any, *, dry_run: bool
    ) -> web.Response:
        assert target.name is not None
        rtype = target.rtype
        if not request.query.get("fieldManager"):
            raise status.ApiStatus(
                422,
                "Invalid",
                'PatchOptions.meta.k8s.io "" is invalid: fieldManager: Required value: '
                "is required for apply patch",
            )
        if not isinstance(body, dict):
            raise status.bad_request("an apply patch must be a YAML or JSON object")
        _check_identity(target, body)
        _check_kind(rtype, body)
        body["metadata"].setdefault("name", target.name)
        if target.namespace is not None:
            body["metadata"]["namespace"] = target.namespace
        current = self.store.find(rtype, target.namespace or "", target.name)
        if current is None:
            if target.subresource is not None:
                raise status.not_found(rtype, target.name)
            if "status" in rtype.subresources:
                body.pop("status", None)
            created = self.store.create(rtype, body, dry_run=dry_run)
            return status.json_response(created, status=201)
        merge = patches.merge_patch if rtype.custom else patches.strategic_merge_patch
        applied = merge(current, body)
        updated = self.store.replace(
            rtype, applied, subresource=target.subresource, dry_run=dry_run
        )
        return self._render(request, rtype, updated)

    async def delete(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        assert target.name is not None
        rtype = target.rtype
        namespace = target.namespace or ""
        options = (await _body(request) if request.body_exists else None) or {}
        if not isinstance(options, dict):
            raise status.bad_request("the body of a delete must be DeleteOptions (an object)")
        current = self.store.get(rtype, namespace, target.name)
        _check_preconditions(rtype, current, options.get("preconditions") or {})
        dry_run = _dry_run(request)
        deleted = self.store.delete(rtype, namespace, target.name, dry_run=dry_run)
        if rtype == NAMESPACE and not dry_run:
            self._delete_contents(target.name)
        return status.json_response(
            {
                "kind": "Status",
                "apiVersion": "v1",
                "metadata": {},
                "status": "Success",
                "details": {
                    **status.details(rtype, target.name),
                    "uid": deleted["metadata"].get("uid", ""),
                },
            }
        )

    def _delete_contents(self, namespace: str) -> None:
        """What the namespace controller does once a namespace is deleted."""
        for rtype in RESOURCE_TYPES:
            if rtype.namespaced:
                for obj in self.store.list(rtype, namespace)[0]:
                    self.store.delete(rtype, namespace, obj["metadata"]["name"])

    def delete_collection(self, request: web.Request, target: paths.ResourcePath) -> web.Response:
        rtype = target.rtype
        dry_run = _dry_run(request)
        try:
            items, _ = self.store.list(
                rtype,
                target.namespace,
                label_selector=request.query.get("labelSelector"),
                field_selector=request.query.get("fieldSelector"),
            )
        except Invalid as error:
            raise status.bad_request(error.message) from None
        deleted = [
            self.store.delete(
                rtype,
                item["metadata"].get("namespace", ""),
                item["metadata"]["name"],
                dry_run=dry_run,
            )
            for item in items
        ]
        if rtype == NAMESPACE and not dry_run:
            for namespace in deleted:
                self._delete_contents(namespace["metadata"]["name"])
        return status.json_response(
            {
                "kind": rtype.list_kind,
                "apiVersion": rtype.api_version,
                "metadata": {"resourceVersion": self.store.resource_version},
                "items": deleted,
            }
        )


def _key(obj: Obj) -> tuple[str, str]:
    metadata = obj["metadata"]
    return metadata.get("namespace", ""), metadata["name"]


def _patched(patch_type: str, current: Any, body: Any) -> Any:
    """``current`` with the patch applied; patch errors become the apiserver's answers."""
    try:
        if patch_type == patches.JSON_PATCH:
            return patches.json_patch(current, body)
        if patch_type == patches.MERGE_PATCH:
            if not isinstance(body, dict):
                raise patches.MalformedPatch("a merge patch must be a JSON object")
            return patches.merge_patch(current, body)
        return patches.strategic_merge_patch(current, body)
    except patches.MalformedPatch as error:
        raise status.bad_request(str(error)) from None
    except patches.PatchFailed:
        # The apiserver does not say why a JSON patch did not apply; neither do we.
        raise status.patch_rejected(
            "the server rejected our request due to an error in our request"
        ) from None


def _check_preconditions(rtype: ResourceType, current: Obj, preconditions: dict[str, Any]) -> None:
    metadata = current["metadata"]
    for field, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
        wanted = preconditions.get(field)
        if wanted and wanted != metadata.get(field):
            raise status.ApiStatus(
                409,
                "Conflict",
                f'Operation cannot be fulfilled on {status.qualified(rtype)} "{metadata["name"]}": '
                f"Precondition failed: {label} in precondition: {wanted}, "
                f"{label} in object meta: {metadata.get(field)}",
                status.details(rtype, metadata["name"]),
            )
