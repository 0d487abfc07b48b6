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


def handler(user_key: web.RequestKey[User]) -> Any:
    async def create(request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.read() or b"null")
        except ValueError:
            raise status.ApiStatus(400, "BadRequest", "the body is not JSON") from None
        return web.json_response(review(request[user_key], body), status=201)

    return create
