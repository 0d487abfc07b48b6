"""GitLab REST API v4 over HTTP (aiohttp), good enough for python-gitlab unchanged.

Routing reads ``request.raw_path`` (aiohttp decodes ``%2F`` in ``request.path``, and a
project path or file path is one URL-encoded segment). Each request is authenticated
(``PRIVATE-TOKEN`` or ``Authorization: Bearer``; the read-only token gets 403 on
writes), then answered from :class:`~cockpit.sim.gitlab.state.GitLabState` in GitLab's
shapes (:mod:`entities`) with GitLab's pagination headers. Faults switched on for
``gitlab`` answer first, in GitLab's error shapes.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlencode

from aiohttp import web

from cockpit.sim.clock import gitlab_time
from cockpit.sim.faults import FaultSet, fault_middleware
from cockpit.sim.gitlab import ci, entities, finders, trace
from cockpit.sim.gitlab.finders import BadRequest
from cockpit.sim.gitlab.flags import FeatureFlag, FlagError, merge_strategies, new_strategy
from cockpit.sim.gitlab.repository import Person
from cockpit.sim.gitlab.state import GitLabState, Project
from cockpit.sim.tokens import Tokens

if TYPE_CHECKING:
    from cockpit.sim.world import World

PREFIX = "/api/v4"
GITLAB_VERSION = {
    "version": "17.5.2-ee",
    "revision": "b1a2c3d4e5f",
    "kas": {"enabled": True, "externalUrl": None, "version": "17.5.2"},
    "enterprise": True,
}


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(str(body))
        self.status = status
        self.body = body


def not_found(what: str) -> ApiError:
    return ApiError(404, {"message": f"404 {what} Not Found"})


@dataclass(frozen=True)
class Caller:
    user: Person
    can_write: bool
    #: The token's scopes (docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes).
    scopes: tuple[str, ...] = ("api",)
    token_id: int = 1
    token_name: str = "cockpit"


@dataclass
class Call:
    """One request being answered: who asks, for what, and helpers to answer it."""

    request: web.Request
    caller: Caller
    params: dict[str, str]
    state: GitLabState
    world: World

    @property
    def base(self) -> str:
        return f"{self.request.scheme}://{self.request.host}"

    @property
    def query(self) -> Any:
        return self.request.rel_url.query

    @property
    def now(self) -> Any:
        return self.world.clock.now()

    @property
    def project(self) -> Project:
        project = self.state.project(self.params["project"])
        if project is None:
            raise not_found("Project")
        return project

    def paged(self, items: list[Any], render: Callable[[Any], Any]) -> web.Response:
        page = finders.paginate(items, self.query)
        response = web.json_response([render(item) for item in page.items], dumps=_dumps)
        _pagination_headers(response, self.request, page)
        return response


Handler = Callable[[Call], Awaitable[web.StreamResponse]]


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _json(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status, dumps=_dumps)


def _pagination_headers(response: web.Response, request: web.Request, page: finders.Page) -> None:
    path = request.raw_path.split("?", 1)[0]
    base = f"{request.scheme}://{request.host}{path}"
    others = [(k, v) for k, v in request.rel_url.query.items() if k not in ("page", "per_page")]

    def link(number: int) -> str:
        query = urlencode([*others, ("page", str(number)), ("per_page", str(page.per_page))])
        return f"{base}?{query}"

    links = []
    if page.prev_page:
        links.append(f'<{link(page.prev_page)}>; rel="prev"')
    if page.next_page:
        links.append(f'<{link(page.next_page)}>; rel="next"')
    links.append(f'<{link(1)}>; rel="first"')
    links.append(f'<{link(page.total_pages)}>; rel="last"')
    response.headers.update(
        {
            "Link": ", ".join(links),
            "X-Next-Page": str(page.next_page or ""),
            "X-Page": str(page.page),
            "X-Per-Page": str(page.per_page),
            "X-Prev-Page": str(page.prev_page or ""),
            "X-Total": str(page.total),
            "X-Total-Pages": str(page.total_pages),
        }
    )


# --------------------------------------------------------------------------- handlers


async def version(call: Call) -> web.StreamResponse:
    return _json(GITLAB_VERSION)


async def current_user(call: Call) -> web.StreamResponse:
    return _json(entities.current_user(call.caller.user, call.base))


async def token_self(call: Call) -> web.StreamResponse:
    """``GET /personal_access_tokens/self``: the token of the request itself
    (docs.gitlab.com/api/personal_access_tokens/#get-details-on-a-personal-access-token)."""
    return _json(
        {
            "id": call.caller.token_id,
            "name": call.caller.token_name,
            "revoked": False,
            "created_at": "2026-01-05T09:00:00.000Z",
            "description": "",
            "scopes": list(call.caller.scopes),
            "user_id": call.caller.user.id,
            "last_used_at": gitlab_time(call.now),
            "active": True,
            "expires_at": "2027-01-05",
        }
    )


async def list_projects(call: Call) -> web.StreamResponse:
    """``GET /projects``: newest first (GitLab orders by ``created_at`` desc), ``search``
    matching name or path, ``order_by=id|name|path`` and ``sort=asc|desc``."""
    search = (call.query.get("search") or "").lower()
    projects = [p for p in call.state.projects if search in p.path.lower()]
    order_by = call.query.get("order_by") or "created_at"
    if order_by not in ("id", "name", "path", "created_at"):
        raise ApiError(400, {"error": "order_by does not have a valid value"})
    sort = call.query.get("sort") or "desc"
    if sort not in ("asc", "desc"):
        raise ApiError(400, {"error": "sort does not have a valid value"})
    projects.sort(key=lambda p: (getattr(p, order_by), p.id), reverse=sort == "desc")
    return call.paged(projects, lambda p: entities.project(p, call.base))


#: The id of the simulated world's (single) group, as project entities name it.
GROUP_ID = 10


def _group_path(call: Call) -> str:
    """The group's full path: given as such, or by its id (the first group's is GROUP_ID)."""
    group = call.params["group"]
    if group.isdigit():
        groups = sorted({p.path.split("/", 1)[0] for p in call.state.projects})
        index = int(group) - GROUP_ID
        return groups[index] if 0 <= index < len(groups) else ""
    return group


def _group_projects(call: Call, subgroups: bool) -> list[Project]:
    """Projects of the group named by id or full path; 404 when there is no such group."""
    group = _group_path(call)
    inside = [p for p in call.state.projects if p.path.startswith(group + "/")]
    if not inside:
        raise ApiError(404, {"message": "404 Group Not Found"})
    if not subgroups:
        inside = [p for p in inside if "/" not in p.path[len(group) + 1 :]]
    return inside


async def get_group(call: Call) -> web.StreamResponse:
    """``GET /groups/:id`` (docs.gitlab.com/api/groups/#get-a-single-group), the basics."""
    _group_projects(call, True)
    path = _group_path(call)
    groups = sorted({p.path.split("/", 1)[0] for p in call.state.projects})
    return _json(
        {
            "id": GROUP_ID + groups.index(path.split("/", 1)[0]),
            "name": path.rsplit("/", 1)[-1],
            "path": path.rsplit("/", 1)[-1],
            "full_path": path,
            "full_name": path.replace("/", " / "),
            "parent_id": None,
            "visibility": "internal",
            "web_url": f"{call.base}/groups/{path}",
        }
    )


async def group_projects(call: Call) -> web.StreamResponse:
    """``GET /groups/:id/projects?include_subgroups=`` (docs.gitlab.com/api/groups/
    #list-projects): the group's projects, with its subgroups' when asked; by path."""
    subgroups = (call.query.get("include_subgroups") or "").lower() in ("true", "1")
    projects = sorted(_group_projects(call, subgroups), key=lambda p: (p.path, p.id))
    return call.paged(projects, lambda p: entities.project(p, call.base))


async def get_project(call: Call) -> web.StreamResponse:
    return _json(entities.project(call.project, call.base))


def _pipeline(call: Call) -> Any:
    pipeline = call.project.pipelines_by_id.get(_int(call.params["pipeline"]))
    if pipeline is None:
        raise not_found("Pipeline")
    return pipeline


def _job(call: Call) -> Any:
    job = call.project.jobs_by_id.get(_int(call.params["job"]))
    if job is None:
        raise not_found("Job")
    return job


def _int(text: str) -> int:
    return int(text) if text.isdigit() else -1


async def list_pipelines(call: Call) -> web.StreamResponse:
    project = call.project
    items = finders.pipelines(project.pipelines, call.query, lambda p: p.user.username)
    return call.paged(items, lambda p: entities.pipeline_basic(p, call.base, project.path))


async def latest_pipeline(call: Call) -> web.StreamResponse:
    project = call.project
    ref = call.query.get("ref") or project.repo.default_branch
    for pipeline in reversed(project.pipelines):
        if pipeline.ref == ref:
            return _json(entities.pipeline(pipeline, call.base, project.path, call.now))
    raise ApiError(404, {"message": "404 Not found"})


async def get_pipeline(call: Call) -> web.StreamResponse:
    return _json(entities.pipeline(_pipeline(call), call.base, call.project.path, call.now))


async def retry_pipeline(call: Call) -> web.StreamResponse:
    pipeline = _pipeline(call)
    call.state.retry_pipeline(call.project, pipeline, call.caller.user, call.now)
    return _json(entities.pipeline(pipeline, call.base, call.project.path, call.now), 201)


async def cancel_pipeline(call: Call) -> web.StreamResponse:
    pipeline = _pipeline(call)
    call.state.cancel_pipeline(pipeline, call.now)
    return _json(entities.pipeline(pipeline, call.base, call.project.path, call.now))


def _render_job(call: Call) -> Callable[[Any], Any]:
    path = call.project.path
    now = call.now
    return lambda job: entities.job(job, call.base, path, now, _trace_size(job, now, path))


def _trace_size(job: Any, now: Any, path: str) -> int:
    return len(trace.render(job, now, project_path=path).encode()) if job.started_at else 0


async def pipeline_jobs(call: Call) -> web.StreamResponse:
    pipeline = _pipeline(call)
    items = finders.jobs(
        pipeline.jobs, call.query, include_retried=finders.truthy(call.query.get("include_retried"))
    )
    return call.paged(items, _render_job(call))


async def pipeline_bridges(call: Call) -> web.StreamResponse:
    _pipeline(call)
    finders.job_scopes(call.query)
    return call.paged([], lambda item: item)


async def project_jobs(call: Call) -> web.StreamResponse:
    project = call.project
    items = finders.jobs(list(project.jobs_by_id.values()), call.query, include_retried=True)
    return call.paged(items, _render_job(call))


async def get_job(call: Call) -> web.StreamResponse:
    return _json(_render_job(call)(_job(call)))


async def play_job(call: Call) -> web.StreamResponse:
    job = _job(call)
    if not job.playable:
        raise ApiError(400, {"message": "400 Bad request - Unplayable Job"})
    call.state.play(job, call.caller.user, call.now)
    return _json(_render_job(call)(job))


async def retry_job(call: Call) -> web.StreamResponse:
    job = _job(call)
    if not job.retryable:
        raise ApiError(403, {"message": "403 Forbidden - Job is not retryable"})
    new = call.state.retry(call.project, job, call.caller.user, call.now)
    return _json(_render_job(call)(new), 201)


async def cancel_job(call: Call) -> web.StreamResponse:
    job = _job(call)
    call.state.cancel(job, call.now)
    return _json(_render_job(call)(job), 201)


async def job_trace(call: Call) -> web.StreamResponse:
    job = _job(call)
    text = trace.render(job, call.now, project_path=call.project.path)
    return web.Response(body=text.encode(), content_type="text/plain", charset="utf-8")


async def list_environments(call: Call) -> web.StreamResponse:
    project = call.project
    items = finders.environments(list(project.environments.values()), call.query)
    return call.paged(items, lambda e: entities.environment(e, call.base, project.path))


async def get_environment(call: Call) -> web.StreamResponse:
    project = call.project
    env = project.environment_by_id(_int(call.params["environment"]))
    if env is None:
        raise ApiError(404, {"message": "404 Not found"})
    return _json(entities.environment_with_last(env, call.base, project.path, call.now))


async def list_deployments(call: Call) -> web.StreamResponse:
    project = call.project
    items = finders.deployments(list(project.deployments.values()), call.query)
    now = call.now
    return call.paged(items, lambda d: entities.deployment(d, call.base, project.path, now))


async def get_deployment(call: Call) -> web.StreamResponse:
    project = call.project
    deployment = project.deployments.get(_int(call.params["deployment"]))
    if deployment is None:
        raise ApiError(404, {"message": "404 Not found"})
    return _json(entities.deployment(deployment, call.base, project.path, call.now))


def _required(call: Call, key: str) -> str:
    value = call.query.get(key)
    if not value:
        raise ApiError(400, {"error": f"{key} is missing"})
    return str(value)


async def compare(call: Call) -> web.StreamResponse:
    project = call.project
    repo = project.repo
    from_ref, to_ref = _required(call, "from"), _required(call, "to")
    base, target = repo.resolve(from_ref), repo.resolve(to_ref)
    if base is None or target is None:
        raise not_found("Ref")
    commits, diffs = repo.compare(base, target, straight=finders.truthy(call.query.get("straight")))
    head = commits[-1] if commits else None
    return _json(
        entities.compare(
            head,
            commits,
            diffs,
            same_ref=base.sha == target.sha,
            base=call.base,
            project_path=project.path,
            from_sha=from_ref,
            to_sha=to_ref,
        )
    )


def _stored_file(call: Call) -> tuple[Any, str, Any]:
    project = call.project
    ref = _required(call, "ref")
    commit = project.repo.resolve(ref)
    stored = None if commit is None else project.repo.file_at(call.params["file"], commit)
    if stored is None:
        raise not_found("File")
    return stored, ref, commit


async def repository_file(call: Call) -> web.StreamResponse:
    stored, ref, commit = _stored_file(call)
    return _json(entities.repository_file(stored, ref, commit))


async def repository_file_raw(call: Call) -> web.StreamResponse:
    stored, ref, commit = _stored_file(call)
    response = web.Response(
        body=stored.content.encode(), content_type="text/plain", charset="utf-8"
    )
    response.headers["X-Gitlab-File-Path"] = stored.path
    response.headers["X-Gitlab-Ref"] = ref
    response.headers["X-Gitlab-Commit-Id"] = commit.sha
    response.headers["X-Gitlab-Last-Commit-Id"] = stored.last_commit.sha
    return response


def _lint_body(result: ci.LintResult, include_jobs: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "valid": result.valid,
        "errors": list(result.errors),
        "warnings": list(result.warnings),
        "merged_yaml": result.merged_yaml,
        "includes": [],
    }
    if include_jobs:
        body["jobs"] = [_lint_job(job) for job in result.jobs]
    return body


def _lint_job(job: ci.JobDefinition) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "name": job.name,
        "stage": job.stage,
        "before_script": [],
        "script": list(job.script),
        "after_script": [],
        "tag_list": [],
        "environment": job.environment,
        "when": job.when,
        "allow_failure": job.allow_failure,
        "only": None,
        "except": None,
    }
    if job.needs is not None:
        entry["needs"] = [{"name": need} for need in job.needs]
    return entry


async def lint_project(call: Call) -> web.StreamResponse:
    project = call.project
    ref = call.query.get("content_ref") or call.query.get("ref") or project.repo.default_branch
    commit = project.repo.resolve(ref)
    stored = None if commit is None else project.repo.file_at(".gitlab-ci.yml", commit)
    if stored is None:
        raise not_found("File")
    include_jobs = finders.truthy(call.query.get("include_jobs"))
    return _json(_lint_body(ci.lint(stored.content), include_jobs))


async def lint_content(call: Call) -> web.StreamResponse:
    _ = call.project  # an unknown project is a 404 before the body is read
    body = await _body(call.request)
    content = body.get("content")
    if not content:
        raise ApiError(400, {"error": "content is missing"})
    return _json(
        _lint_body(ci.lint(str(content)), finders.truthy(str(body.get("include_jobs", ""))))
    )


async def _body(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except json.JSONDecodeError:
            raise ApiError(400, {"error": "body is not valid JSON"}) from None
        if not isinstance(data, dict):
            raise ApiError(400, {"error": "body must be a JSON object"})
        return data
    form = await request.post()
    return {k: v for k, v in form.items()}


def _flag(call: Call) -> FeatureFlag:
    flag = call.project.flags.get(call.params["flag"])
    if flag is None:
        raise not_found("Feature Flag")
    return flag


async def list_flags(call: Call) -> web.StreamResponse:
    scope = call.query.get("scope")
    if scope and scope not in ("enabled", "disabled"):
        raise ApiError(400, {"error": "scope does not have a valid value"})
    # GitLab's FeatureFlagsFinder lists by name (``Operations::FeatureFlag.ordered``),
    # whatever was changed last.
    items = sorted(
        (f for f in call.project.flags.values() if not scope or f.active == (scope == "enabled")),
        key=lambda f: f.name,
    )
    return call.paged(items, entities.feature_flag)


async def get_flag(call: Call) -> web.StreamResponse:
    return _json(entities.feature_flag(_flag(call)))


def _active(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return finders.truthy(str(value))


async def create_flag(call: Call) -> web.StreamResponse:
    project = call.project
    body = await _body(call.request)
    name = body.get("name")
    if not name:
        raise ApiError(400, {"error": "name is missing"})
    if name in project.flags:
        raise ApiError(400, {"message": {"name": ["has already been taken"]}})
    version = body.get("version", "new_version_flag")
    if version != "new_version_flag":
        raise ApiError(400, {"message": "Version is invalid"})
    state = call.state
    try:
        raw = body.get("strategies", [])
        strategies = tuple(
            new_strategy(s, lambda: state.next_id("strategy"), lambda: state.next_id("scope"))
            for s in raw
        )
    except FlagError as error:
        raise ApiError(400, {"message": str(error)}) from None
    now = call.now
    flag = FeatureFlag(
        str(name), body.get("description"), _active(body.get("active", True)), now, now, strategies
    )
    project.flags[flag.name] = flag
    return _json(entities.feature_flag(flag), 201)


async def update_flag(call: Call) -> web.StreamResponse:
    project = call.project
    flag = _flag(call)
    body = await _body(call.request)
    state = call.state
    strategies = flag.strategies
    if "strategies" in body:
        try:
            strategies = merge_strategies(
                flag.strategies,
                body["strategies"],
                lambda: state.next_id("strategy"),
                lambda: state.next_id("scope"),
            )
        except FlagError as error:
            raise ApiError(400, {"message": str(error)}) from None
    name = str(body.get("name") or flag.name)
    if name != flag.name and name in project.flags:
        raise ApiError(400, {"message": {"name": ["has already been taken"]}})
    updated = replace(
        flag,
        name=name,
        description=body.get("description", flag.description),
        active=_active(body["active"]) if "active" in body else flag.active,
        strategies=strategies,
        updated_at=call.now,
    )
    del project.flags[flag.name]
    project.flags[updated.name] = updated
    return _json(entities.feature_flag(updated))


async def delete_flag(call: Call) -> web.StreamResponse:
    flag = _flag(call)
    del call.project.flags[flag.name]
    return web.Response(status=204)


# --------------------------------------------------------------------------- routing

P = "{project}"
ROUTES: list[tuple[str, tuple[str, ...], Handler]] = [
    ("GET", ("version",), version),
    ("GET", ("user",), current_user),
    ("GET", ("personal_access_tokens", "self"), token_self),
    ("GET", ("projects",), list_projects),
    ("GET", ("groups", "{group}"), get_group),
    ("GET", ("groups", "{group}", "projects"), group_projects),
    ("GET", ("projects", P), get_project),
    ("GET", ("projects", P, "pipelines"), list_pipelines),
    ("GET", ("projects", P, "pipelines", "latest"), latest_pipeline),
    ("GET", ("projects", P, "pipelines", "{pipeline}"), get_pipeline),
    ("POST", ("projects", P, "pipelines", "{pipeline}", "retry"), retry_pipeline),
    ("POST", ("projects", P, "pipelines", "{pipeline}", "cancel"), cancel_pipeline),
    ("GET", ("projects", P, "pipelines", "{pipeline}", "jobs"), pipeline_jobs),
    ("GET", ("projects", P, "pipelines", "{pipeline}", "bridges"), pipeline_bridges),
    ("GET", ("projects", P, "jobs"), project_jobs),
    ("GET", ("projects", P, "jobs", "{job}"), get_job),
    ("POST", ("projects", P, "jobs", "{job}", "play"), play_job),
    ("POST", ("projects", P, "jobs", "{job}", "retry"), retry_job),
    ("POST", ("projects", P, "jobs", "{job}", "cancel"), cancel_job),
    ("GET", ("projects", P, "jobs", "{job}", "trace"), job_trace),
    ("GET", ("projects", P, "environments"), list_environments),
    ("GET", ("projects", P, "environments", "{environment}"), get_environment),
    ("GET", ("projects", P, "deployments"), list_deployments),
    ("GET", ("projects", P, "deployments", "{deployment}"), get_deployment),
    ("GET", ("projects", P, "repository", "compare"), compare),
    ("GET", ("projects", P, "repository", "files", "{file}"), repository_file),
    ("GET", ("projects", P, "repository", "files", "{file}", "raw"), repository_file_raw),
    ("GET", ("projects", P, "ci", "lint"), lint_project),
    ("POST", ("projects", P, "ci", "lint"), lint_content),
    ("GET", ("projects", P, "feature_flags"), list_flags),
    ("POST", ("projects", P, "feature_flags"), create_flag),
    ("GET", ("projects", P, "feature_flags", "{flag}"), get_flag),
    ("PUT", ("projects", P, "feature_flags", "{flag}"), update_flag),
    ("DELETE", ("projects", P, "feature_flags", "{flag}"), delete_flag),
]

#: Writes a read-only (Reporter) token may still make: linting changes nothing.
HARMLESS_POSTS = {lint_content}


def match(method: str, segments: list[str]) -> tuple[Handler, dict[str, str]] | None:
    """The handler for a method and decoded path segments; literal segments win."""
    best: tuple[int, Handler, dict[str, str]] | None = None
    for route_method, pattern, handler in ROUTES:
        if route_method != method and not (method == "HEAD" and route_method == "GET"):
            continue
        if len(pattern) != len(segments):
            continue
        params: dict[str, str] = {}
        literals = 0
        for expected, actual in zip(pattern, segments, strict=True):
            if expected.startswith("{"):
                params[expected[1:-1]] = actual
            elif expected == actual:
                literals += 1
            else:
                break
        else:
            if best is None or literals > best[0]:
                best = (literals, handler, params)
    return None if best is None else (best[1], best[2])


def _caller(request: web.Request, tokens: Tokens) -> Caller | None:
    token = request.headers.get("PRIVATE-TOKEN")
    if token is None:
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            token = value.strip()
    if token is None:
        token = request.rel_url.query.get("private_token") or request.rel_url.query.get(
            "access_token"
        )
    if token == tokens.gitlab:
        return Caller(Person(1, *tokens.gitlab_user), can_write=True)
    if token == tokens.gitlab_read_only:
        return Caller(Person(2, *tokens.gitlab_read_only_user), can_write=False, token_id=2)
    if token == tokens.gitlab_read_api:
        return Caller(
            Person(1, *tokens.gitlab_user),
            can_write=True,
            scopes=("read_api",),
            token_id=3,
            token_name="cockpit-read",
        )
    return None


def render_error(status: int, message: str, headers: dict[str, str]) -> web.StreamResponse:
    """Faults in GitLab's shapes: plain-text ``Retry later`` for 429, else ``{"message"}``."""
    if status == 429:
        retry_after = int(headers.get("Retry-After", "60"))
        reset = int(time.time()) + retry_after
        return web.Response(
            status=429,
            text="Retry later\n",
            content_type="text/plain",
            headers={
                **headers,
                "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": "2000",
                "RateLimit-Observed": "2001",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-ResetTime": email.utils.formatdate(reset, usegmt=True),
            },
        )
    return _json({"message": f"{status} {message}"}, status)


def create_app(world: World, faults: FaultSet, tokens: Tokens) -> web.Application:
    """The GitLab API for ``world`` (see the module docstring)."""
    state = world.gitlab

    async def dispatch(request: web.Request) -> web.StreamResponse:
        raw = request.raw_path.split("?", 1)[0]
        if not raw.startswith(PREFIX + "/"):
            return _json({"error": "404 Not Found"}, 404)
        segments = [unquote(s) for s in raw[len(PREFIX) + 1 :].rstrip("/").split("/")]
        found = match(request.method, segments)
        if found is None:
            return _json({"error": "404 Not Found"}, 404)
        handler, params = found
        caller = _caller(request, tokens)
        if caller is None:
            return _json({"message": "401 Unauthorized"}, 401)
        writes = request.method not in ("GET", "HEAD") and handler not in HARMLESS_POSTS
        if writes and "api" not in caller.scopes:
            # GitLab's answer to a token without the scope a request needs
            # (lib/api/api_guard.rb, Gitlab::Auth::InsufficientScopeError).
            return _json(
                {
                    "error": "insufficient_scope",
                    "error_description": "The request requires higher privileges than "
                    "provided by the access token.",
                    "scope": "api",
                },
                403,
            )
        if writes and not caller.can_write:
            return _json({"message": "403 Forbidden"}, 403)
        call = Call(request, caller, params, state, world)
        try:
            return await handler(call)
        except ApiError as error:
            return _json(error.body, error.status)
        except BadRequest as error:
            return _json(error.body, error.status)

    app = web.Application(middlewares=[fault_middleware(faults, "gitlab", render_error)])
    app.router.add_route("*", "/{tail:.*}", dispatch)
    return app
