"""``SelfSubjectAccessReview``: "may I?" asked of the simulated apiserver.

``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews`` with
``spec.resourceAttributes {namespace, verb, group, resource, subresource, name}``
answers 201 with the review and ``status.allowed`` (and ``reason`` when allowed), as
``kubectl auth can-i`` reads it
(kubernetes.io/docs/reference/access-authn-authz/authorization/#checking-api-access).
The rules are the simulator's users' (:mod:`cockpit.sim.kube.auth`): the admin may do
everything, the viewer get, list and watch.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from cockpit.sim.kube import status
from cockpit.sim.kube.auth import User

PATH = "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"


def review(user: User, body: Any) -> dict[str, Any]:
    """The answered review for ``body`` (a SelfSubjectAccessReview) asked by ``user``."""
    if not isinstance(body, dict) or body.get("kind", "SelfSubjectAccessReview") != (
        "SelfSubjectAccessReview"
    ):
        raise status.ApiStatus(400, "BadRequest", "the body must be a SelfSubjectAccessReview")
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise status.ApiStatus(400, "BadRequest", "spec: Required value")
    attributes = spec.get("resourceAttributes") or spec.get("nonResourceAttributes")
    if not isinstance(attributes, dict):
        raise status.ApiStatus(
            422,
            "Invalid",
            "SelfSubjectAccessReview.authorization.k8s.io is invalid: "
            "spec.resourceAttributes: Invalid value: "
            '"null": exactly one of nonResourceAttributes or resourceAttributes must be specified',
        )
    verb = str(attributes.get("verb", ""))
    allowed = user.may(verb)
    answer: dict[str, Any] = {"allowed": allowed}
    if allowed:
        answer["reason"] = f'RBAC: allowed by ClusterRoleBinding of user "{user.name}"'
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": answer,
    }


#: The prefix of a Kubernetes protobuf body (k8s.io/apimachinery runtime/serializer/protobuf).
PROTOBUF_MAGIC = b"k8s\x00"
#: Field numbers of k8s.io/api/authorization/v1 generated.proto.
_RESOURCE_FIELDS = {
    1: "namespace",
    2: "verb",
    3: "group",
    4: "version",
    5: "resource",
    6: "subresource",
    7: "name",
}
_NON_RESOURCE_FIELDS = {1: "path", 2: "verb"}


def _fields(data: bytes) -> dict[int, bytes]:
    """The length-delimited fields of a protobuf message (others skipped), by number."""
    found: dict[int, bytes] = {}
    index = 0

    def varint() -> int:
        nonlocal index
        value = shift = 0
        while True:
            byte = data[index]
            index += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if not byte & 0x80:
                return value

    while index < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        if wire == 0:
            varint()
        elif wire == 2:
            length = varint()
            found[number] = data[index : index + length]
            index += length
        elif wire == 1:
            index += 8
        elif wire == 5:
            index += 4
        else:
            raise ValueError(f"wire type {wire}")
    return found


def from_protobuf(body: bytes) -> dict[str, Any]:
    """The review kubectl sends (``auth can-i`` posts protobuf): runtime.Unknown{raw:
    SelfSubjectAccessReview{spec: {resourceAttributes | nonResourceAttributes}}}."""
    raw = _fields(body[len(PROTOBUF_MAGIC) :]).get(2, b"")
    spec = _fields(_fields(raw).get(2, b""))
    out: dict[str, Any] = {}
    for number, key, names in (
        (1, "resourceAttributes", _RESOURCE_FIELDS),
        (2, "nonResourceAttributes", _NON_RESOURCE_FIELDS),
    ):
        if number in spec:
            values = _fields(spec[number])
            out[key] = {names[n]: v.decode() for n, v in values.items() if n in names}
    return {"kind": "SelfSubjectAccessReview", "spec": out}


def handler(user_key: web.RequestKey[User]) -> Any:
    async def create(request: web.Request) -> web.Response:
        data = await request.read()
        try:
            if data.startswith(PROTOBUF_MAGIC):
                body = from_protobuf(data)
            else:
                body = json.loads(data or b"null")
        except (ValueError, IndexError, UnicodeDecodeError):
            raise status.ApiStatus(400, "BadRequest", "the body is not a review") from None
        # Answered in JSON, which kubectl accepts beside protobuf (its Accept header).
        return web.json_response(review(request[user_key], body), status=201)

    return create
