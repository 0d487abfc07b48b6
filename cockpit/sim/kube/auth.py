"""Who is calling the simulated apiserver, and what they may do.

Bearer tokens from :class:`cockpit.sim.tokens.Tokens`: ``kube`` is a cluster admin,
``kube_read_only`` is bound to the ``view`` role (get, list and watch everything; every
write is refused with RBAC's 403). A missing or unknown token is 401, as on a server
with anonymous access switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.sim.tokens import Tokens

READ_VERBS = frozenset({"get", "list", "watch"})


@dataclass(frozen=True)
class User:
    name: str
    can_write: bool

    def may(self, verb: str) -> bool:
        return self.can_write or verb in READ_VERBS


def users(tokens: Tokens) -> dict[str, User]:
    """The users the simulated cluster knows, by bearer token."""
    return {
        tokens.kube: User("admin", can_write=True),
        tokens.kube_read_only: User("viewer", can_write=False),
    }


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (scheme case-insensitive)."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def request_verb(method: str, *, named: bool, watch: bool) -> str:
    """The RBAC verb of a resource request."""
    if method in ("GET", "HEAD"):
        if watch:
            return "watch"
        return "get" if named else "list"
    if method == "DELETE":
        return "delete" if named else "deletecollection"
    return {"POST": "create", "PUT": "update", "PATCH": "patch"}.get(method, method.lower())
