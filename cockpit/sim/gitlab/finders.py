"""List endpoints' filters, sorting, validation and pagination, as GitLab's finders do them.

Pure functions over the state's objects. Bad parameters raise :class:`BadRequest` with
the body GitLab answers: Grape's parameter validation answers ``{"error": ...}``,
finders answer ``{"message": "400 Bad request - ..."}``.

The DeploymentsFinder rules are those of GitLab's ``app/finders/deployments_finder.rb``
(GitLab 14-16): ``finished_*`` filters and ``order_by=finished_at`` come together
and need ``status=success``; ``updated_*`` and ``finished_*`` do not mix; an
``updated_*`` filter silently orders by ``updated_at``. (Later GitLab also refuses
``updated_*`` without ``order_by=updated_at`` and lets ``order_by=finished_at`` go with
a finished status alone; a client that keeps to the rules above is fine with both.)
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from cockpit.sim.gitlab.pipeline import Deployment, Environment, Job, Pipeline

T = TypeVar("T")

STATUSES = (
    "created",
    "waiting_for_resource",
    "preparing",
    "waiting_for_callback",
    "pending",
    "running",
    "success",
    "failed",
    "canceling",
    "canceled",
    "skipped",
    "manual",
    "scheduled",
)
PIPELINE_SCOPES = ("running", "pending", "finished", "branches", "tags")
PIPELINE_ORDER = ("id", "status", "ref", "updated_at", "user_id")
DEPLOYMENT_STATUSES = ("created", "running", "success", "failed", "canceled", "skipped", "blocked")
DEPLOYMENT_ORDER = ("id", "iid", "created_at", "updated_at", "finished_at")
ENVIRONMENT_STATES = ("available", "stopping", "stopped")
MAX_PER_PAGE = 100


class BadRequest(Exception):
    """A 400 answer: ``body`` is the JSON GitLab sends."""

    def __init__(self, body: dict[str, Any], status: int = 400) -> None:
        super().__init__(str(body))
        self.body = body
        self.status = status


def invalid(param: str) -> BadRequest:
    return BadRequest({"error": f"{param} does not have a valid value"})


def bad_request(reason: str) -> BadRequest:
    return BadRequest({"message": f"400 Bad request - {reason}"})


Query = Mapping[str, str]


def _choice(
    query: Query, key: str, allowed: Sequence[str], default: str | None = None
) -> str | None:
    value = query.get(key)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise invalid(key)
    return value


def parse_time(query: Query, key: str) -> datetime | None:
    value = query.get(key)
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise BadRequest({"error": f"{key} is invalid"}) from None
    if moment.tzinfo is None:
        raise BadRequest({"error": f"{key} is invalid"})
    return moment


def truthy(value: str | None) -> bool:
    return (value or "").lower() in ("1", "true", "yes", "t")


# --------------------------------------------------------------------------- pagination


@dataclass(frozen=True)
class Page:
    items: list[Any]
    page: int
    per_page: int
    total: int

    @property
    def total_pages(self) -> int:
        return max(1, math.ceil(self.total / self.per_page))

    @property
    def next_page(self) -> int | None:
        return self.page + 1 if self.page < self.total_pages else None

    @property
    def prev_page(self) -> int | None:
        return self.page - 1 if self.page > 1 else None


def paginate(items: Sequence[T], query: Query) -> Page:
    """Offset pagination: ``page`` (from 1), ``per_page`` (default 20, at most 100)."""
    try:
        page = max(1, int(query.get("page") or 1))
        per_page = int(query.get("per_page") or 20)
    except ValueError:
        raise BadRequest({"error": "page is invalid, per_page is invalid"}) from None
    per_page = min(max(per_page, 1), MAX_PER_PAGE)
    start = (page - 1) * per_page
    return Page(list(items[start : start + per_page]), page, per_page, len(items))


# --------------------------------------------------------------------------- pipelines


def pipelines(
    items: Sequence[Pipeline], query: Query, username_of: Callable[[Pipeline], str]
) -> list[Pipeline]:
    scope = _choice(query, "scope", PIPELINE_SCOPES)
    status = _choice(query, "status", STATUSES)
    order_by = _choice(query, "order_by", PIPELINE_ORDER, "id") or "id"
    sort = _choice(query, "sort", ("asc", "desc"), "desc") or "desc"
    updated_after = parse_time(query, "updated_after")
    updated_before = parse_time(query, "updated_before")
    created_after = parse_time(query, "created_after")
    created_before = parse_time(query, "created_before")
    result = list(items)
    if scope == "running":
        result = [p for p in result if p.status == "running"]
    elif scope == "pending":
        result = [p for p in result if p.status == "pending"]
    elif scope == "finished":
        result = [p for p in result if p.status in ("success", "failed", "canceled", "skipped")]
    elif scope == "tags":
        result = []
    if status:
        result = [p for p in result if p.status == status]
    for key, get in (
        ("ref", lambda p: p.ref),
        ("sha", lambda p: p.sha),
        ("source", lambda p: p.source),
        ("name", lambda p: p.name),
    ):
        wanted = query.get(key)
        if wanted:
            result = [p for p in result if get(p) == wanted]
    if query.get("username"):
        result = [p for p in result if username_of(p) == query["username"]]
    if updated_after:
        result = [p for p in result if p.updated_at > updated_after]
    if updated_before:
        result = [p for p in result if p.updated_at < updated_before]
    if created_after:
        result = [p for p in result if p.created_at > created_after]
    if created_before:
        result = [p for p in result if p.created_at < created_before]
    keys: dict[str, Callable[[Pipeline], Any]] = {
        "id": lambda p: p.id,
        "status": lambda p: (p.status, p.id),
        "ref": lambda p: (p.ref, p.id),
        "updated_at": lambda p: (p.updated_at, p.id),
        "user_id": lambda p: (p.user.id, p.id),
    }
    result.sort(key=keys[order_by], reverse=sort == "desc")
    return result


# --------------------------------------------------------------------------- jobs


def job_scopes(query: Mapping[str, Any]) -> set[str] | None:
    """``scope`` / ``scope[]`` (one or many); unknown values → GitLab's 400."""
    getall = getattr(query, "getall", None)
    values: list[str] = []
    for key in ("scope", "scope[]"):
        if getall is not None:
            values += getall(key, [])
        elif key in query:
            values.append(query[key])
    if not values:
        return None
    if any(v not in STATUSES for v in values):
        raise BadRequest({"message": "Scope contains invalid value(s)"})
    return set(values)


def jobs(items: Sequence[Job], query: Mapping[str, Any], *, include_retried: bool) -> list[Job]:
    scopes = job_scopes(query)
    result = [j for j in items if include_retried or not j.retried]
    if scopes is not None:
        result = [j for j in result if j.status in scopes]
    result.sort(key=lambda j: j.id, reverse=True)
    return result


# --------------------------------------------------------------------------- environments


def environments(items: Sequence[Environment], query: Query) -> list[Environment]:
    name, search = query.get("name"), query.get("search")
    if name and search:
        raise BadRequest({"error": "name, search are mutually exclusive"})
    states = query.get("states")
    if states and states not in ENVIRONMENT_STATES:
        raise bad_request("Requested states are invalid")
    result = list(items)
    if name:
        result = [e for e in result if e.name == name]
    if search:
        if len(search) < 3:
            raise bad_request("Search query is less than 3 characters")
        result = [e for e in result if search in e.name]
    if states:
        result = [e for e in result if e.state == states]
    result.sort(key=lambda e: e.id)
    return result


# --------------------------------------------------------------------------- deployments


def deployments(items: Sequence[Deployment], query: Query) -> list[Deployment]:
    """``GET /projects/:id/deployments`` with DeploymentsFinder's validation and order."""
    order_by = _choice(query, "order_by", DEPLOYMENT_ORDER, "id") or "id"
    sort = _choice(query, "sort", ("asc", "desc"), "asc") or "asc"
    status = _choice(query, "status", DEPLOYMENT_STATUSES)
    updated_after = parse_time(query, "updated_after")
    updated_before = parse_time(query, "updated_before")
    finished_after = parse_time(query, "finished_after")
    finished_before = parse_time(query, "finished_before")
    by_updated = bool(updated_after or updated_before)
    by_finished = bool(finished_after or finished_before)
    if by_updated and by_finished:
        raise bad_request("Both `updated_at` filter and `finished_at` filter can not be specified")
    if by_finished != (order_by == "finished_at"):
        raise bad_request("`finished_at` filter and `finished_at` sorting must be paired")
    if by_finished and status != "success":
        raise bad_request("`finished_at` filter must be combined with `success` status filter.")
    result = list(items)
    if updated_after:
        result = [d for d in result if d.updated_at >= updated_after]
    if updated_before:
        result = [d for d in result if d.updated_at <= updated_before]
    if finished_after:
        result = [d for d in result if d.finished_at and d.finished_at >= finished_after]
    if finished_before:
        result = [d for d in result if d.finished_at and d.finished_at <= finished_before]
    environment = query.get("environment")
    if environment:
        result = [d for d in result if d.environment.name == environment]
    if status:
        result = [d for d in result if d.status == status]
    if by_updated:
        order_by = "updated_at"  # GitLab enforces this order when filtering on updated_at
    if order_by in ("created_at", "iid"):
        order_by = "id"  # GitLab sorts these by id: the same order
    keys: dict[str, Callable[[Deployment], Any]] = {
        "id": lambda d: d.id,
        "updated_at": lambda d: (d.updated_at, d.id),
        "finished_at": lambda d: (d.finished_at or d.updated_at, d.id),
    }
    result.sort(key=keys[order_by], reverse=sort == "desc")
    return result
