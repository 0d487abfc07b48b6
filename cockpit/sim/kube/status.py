"""Kubernetes ``Status`` error objects, worded and shaped as a real apiserver sends them.

Every error the simulated apiserver answers is a ``meta/v1 Status`` with ``reason``,
``code``, ``details`` (``name``, ``group`` when not core, ``kind`` = the plural
resource name) and the apiserver's own message wording, because clients parse these:
kubectl prints ``Error from server (<reason>): <message>``, lightkube raises
``ApiError`` only when the ``Content-Type`` is exactly ``application/json``, and the
kubernetes client keys retries on ``code``.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from cockpit.sim.kube.store import ResourceType, StoreError

JSON = "application/json"

#: The reason a real apiserver gives for an HTTP status code it answers without a cause.
REASONS: dict[int, str] = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    406: "NotAcceptable",
    409: "Conflict",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    429: "TooManyRequests",
    500: "InternalError",
    503: "ServiceUnavailable",
    504: "Timeout",
}


class ApiStatus(Exception):
    """An apiserver answer in ``Status`` form; raise it from a handler to send it."""

    def __init__(
        self, code: int, reason: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details or {}

    def body(self) -> dict[str, Any]:
        status: dict[str, Any] = {
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
        }
        if self.details:
            status["details"] = self.details
        status["code"] = self.code
        return status

    def response(self, headers: dict[str, str] | None = None) -> web.Response:
        return json_response(self.body(), status=self.code, headers=headers)


def json_response(
    data: Any, *, status: int = 200, headers: dict[str, str] | None = None
) -> web.Response:
    """JSON with ``Content-Type: application/json`` exactly (no charset), as the apiserver sends."""
    response = web.Response(body=json.dumps(data).encode(), status=status, headers=headers)
    response.content_type = JSON
    return response


def qualified(rtype: ResourceType) -> str:
    """``deployments.apps``, ``rollouts.argoproj.io``, ``pods`` (core has no group suffix)."""
    return f"{rtype.plural}.{rtype.group}" if rtype.group else rtype.plural


def details(rtype: ResourceType | None, name: str | None) -> dict[str, Any]:
    if rtype is None:
        return {"name": name} if name else {}
    result: dict[str, Any] = {}
    if name:
        result["name"] = name
    if rtype.group:
        result["group"] = rtype.group
    result["kind"] = rtype.plural
    return result


def from_store_error(error: StoreError) -> ApiStatus:
    """The Status for an error the object store raised (its message is already apiserver wording)."""
    return ApiStatus(error.code, error.reason, error.message, details(error.rtype, error.name))


def bad_request(message: str) -> ApiStatus:
    return ApiStatus(400, "BadRequest", message)


def unauthorized() -> ApiStatus:
    return ApiStatus(401, "Unauthorized", "Unauthorized")


def forbidden(
    user: str,
    verb: str,
    rtype: ResourceType,
    *,
    namespace: str | None,
    name: str | None,
    subresource: str | None = None,
) -> ApiStatus:
    """RBAC's refusal: ``rollouts.argoproj.io "web" is forbidden: User "viewer" cannot patch ...``."""
    resource = f"{rtype.plural}/{subresource}" if subresource else rtype.plural
    scope = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    reason = (
        f'User "{user}" cannot {verb} resource "{resource}" in API group "{rtype.group}" {scope}'
    )
    subject = f'{qualified(rtype)} "{name}"' if name else qualified(rtype)
    return ApiStatus(403, "Forbidden", f"{subject} is forbidden: {reason}", details(rtype, name))


def not_found(rtype: ResourceType, name: str) -> ApiStatus:
    return ApiStatus(
        404, "NotFound", f'{qualified(rtype)} "{name}" not found', details(rtype, name)
    )


def no_such_resource() -> ApiStatus:
    """A path the apiserver does not serve (unknown group, version, resource or subresource)."""
    return ApiStatus(404, "NotFound", "the server could not find the requested resource")


def method_not_allowed() -> ApiStatus:
    return ApiStatus(
        405, "MethodNotAllowed", "the server does not allow this method on the requested resource"
    )


def unsupported_media_type(accepted: tuple[str, ...]) -> ApiStatus:
    return ApiStatus(
        415,
        "UnsupportedMediaType",
        "the body of the request was in an unknown format - accepted media types include: "
        + ", ".join(accepted),
    )


def invalid(rtype: ResourceType, name: str, causes: list[dict[str, str]]) -> ApiStatus:
    """422 with ``details.causes``, worded like field validation errors."""
    summary = ", ".join(f"{cause['field']}: {cause['message']}" for cause in causes)
    kind = f"{rtype.kind}.{rtype.group}" if rtype.group else rtype.kind
    if len(causes) > 1:
        summary = f"[{summary}]"
    return ApiStatus(
        422,
        "Invalid",
        f'{kind} "{name}" is invalid: {summary}',
        {**details(rtype, name), "kind": rtype.kind, "causes": causes},
    )


def patch_rejected(message: str) -> ApiStatus:
    """A well-formed patch that cannot be applied (a failed ``test``, a missing path)."""
    return ApiStatus(422, "Invalid", message)


def expired_list() -> ApiStatus:
    return ApiStatus(410, "Expired", "The resourceVersion for the provided list is too old.")


def expired_continue() -> ApiStatus:
    return ApiStatus(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter.",
    )


def too_large_resource_version(requested: int, current: int) -> ApiStatus:
    return ApiStatus(
        504,
        "Timeout",
        f"Too large resource version: {requested}, current: {current}",
        {
            "causes": [
                {
                    "reason": "ResourceVersionTooLarge",
                    "message": "Too large resource version",
                }
            ],
            "retryAfterSeconds": 1,
        },
    )


def internal_error(error: Exception) -> ApiStatus:
    message = f"Internal error occurred: {error}"
    return ApiStatus(500, "InternalError", message, {"causes": [{"message": str(error)}]})


def for_fault(code: int, message: str, headers: dict[str, str]) -> ApiStatus:
    """The Status a switched-on fault answers (429 carries ``details.retryAfterSeconds``)."""
    reason = REASONS.get(code, "InternalError" if code >= 500 else "BadRequest")
    if code == 429:
        retry_after = int(headers.get("Retry-After", "1"))
        return ApiStatus(
            429,
            reason,
            "Too many requests, please try again later.",
            {"retryAfterSeconds": retry_after},
        )
    if code == 401:
        return unauthorized()
    if code == 403:
        return ApiStatus(403, reason, "forbidden: simulated fault")
    return ApiStatus(code, reason, message)


def render_fault(code: int, message: str, headers: dict[str, str]) -> web.Response:
    """The renderer :func:`cockpit.sim.faults.fault_middleware` calls for the kube API."""
    return for_fault(code, message, headers).response(headers)
