"""GitLab over REST with python-gitlab: pipelines, deployments, flags, job actions (GitLab's REST API v4, doc/api/ in the GitLab repository).

python-gitlab is synchronous, so every call runs in a worker thread
(:func:`asyncio.to_thread`) and the event loop never blocks. The client is built with an
explicit timeout and with python-gitlab's own retries off (no 429 sleeping, no transient
retries): the engine owns retries and backoff, and reads ``SourceError.retry_after``
(from ``Retry-After`` / ``RateLimit-Reset``, captured by a response hook on the session).

Writes are described first as a :class:`~cockpit.sources.writes.WriteRequest` by the
pure ``*_request`` functions below, and the source sends exactly that request, so a dry
run shows what would really be sent. Projects are addressed by path (``shop/checkout``);
their numeric ids are looked up once and cached.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import gitlab
import gitlab.exceptions
import requests

from cockpit.config import GitLabConfig
from cockpit.model import (
    ACTIVE_STATUSES,
    CiLint,
    Comparison,
    Deployment,
    FeatureFlag,
    GroupProject,
    Job,
    Pipeline,
    SourceName,
)
from cockpit.redact import shown
from cockpit.sources.errors import (
    RateLimit,
    SourceError,
    connection_refused,
    rate_limit_from,
    retry_after_seconds,
    scrub,
    seconds,
)
from cockpit.sources.gitlab_parse import (
    group_stages,
    manual_gate,
    parse_ci_lint,
    parse_comparison,
    parse_deployment,
    parse_deployments,
    parse_feature_flag,
    parse_file_content,
    parse_job,
    parse_pipeline,
)
from cockpit.sources.writes import WriteRequest

T = TypeVar("T")
API_PREFIX = "/api/v4"


# --------------------------------------------------------------------------- writes, described


def _bind(call: Callable[[str], T], project: Mapping[str, Any]) -> Callable[[], T]:
    return lambda: call(str(project["path_with_namespace"]))


def _project(project: str) -> str:
    return f"{API_PREFIX}/projects/{quote(project, safe='')}"


def _project_path(project: str) -> str:
    """The project's path below the API prefix, as python-gitlab's http_* methods take it."""
    return f"/projects/{quote(project, safe='')}"


def job_action_request(
    project: str, job_id: int, action: Literal["play", "retry", "cancel"]
) -> WriteRequest:
    """``POST /projects/:id/jobs/:job_id/{play,retry,cancel}`` (GitLab API, doc/api/jobs.md)."""
    return WriteRequest(SourceName.GITLAB, "POST", f"{_project(project)}/jobs/{job_id}/{action}")


def pipeline_action_request(
    project: str, pipeline_id: int, action: Literal["retry", "cancel"]
) -> WriteRequest:
    """``POST /projects/:id/pipelines/:pipeline_id/{retry,cancel}`` (GitLab API, doc/api/pipelines.md)."""
    path = f"{_project(project)}/pipelines/{pipeline_id}/{action}"
    return WriteRequest(SourceName.GITLAB, "POST", path)


def feature_flag_request(project: str, name: str, active: bool) -> WriteRequest:
    """``PUT /projects/:id/feature_flags/:name`` with ``{"active": …}`` (GitLab API, doc/api/feature_flags.md)."""
    path = f"{_project(project)}/feature_flags/{quote(name, safe='')}"
    return WriteRequest(
        SourceName.GITLAB, "PUT", path, {"active": active}, content_type="application/json"
    )


def redeploy_request(project: str, deployment: Deployment) -> WriteRequest:
    """Re-deploy (or roll back to) a deployment: retry its deployable job (GitLab API, doc/api/deployments.md; the UI's "Rollback environment" does the same)."""
    if deployment.job_id is None:
        raise SourceError(
            SourceName.GITLAB,
            f"deployment #{deployment.iid} of {project} has no deploy job to retry",
            transient=False,
        )
    return job_action_request(project, deployment.job_id, "retry")


# --------------------------------------------------------------------------- errors


def _body_field(body: Any, name: str) -> str | None:
    if isinstance(body, bytes):
        try:
            body = json.loads(body.decode("utf-8", errors="replace"))
        except ValueError:
            return None
    if isinstance(body, Mapping) and body.get(name):
        return str(body[name])
    return None


def _gitlab_words(message: Any) -> str:
    """GitLab's own error text, tidied: ``403 Forbidden - Job is not retryable`` → the reason."""
    if isinstance(message, bytes):
        message = message.decode("utf-8", errors="replace")
    if isinstance(message, Mapping):
        return "; ".join(f"{k} {', '.join(map(str, v))}" for k, v in message.items())
    text = str(message or "").strip()
    for prefix in ("400 Bad request - ", "403 Forbidden - ", "404 ", "409 "):
        if text.startswith(prefix) and len(text) > len(prefix):
            return text[len(prefix) :]
    return text


def http_error(
    status: int,
    error_message: Any,
    body: Any,
    headers: Mapping[str, str],
    *,
    project: str | None,
    action: str,
    now: float | None = None,
) -> SourceError:
    """The words for a GitLab HTTP failure (pure: used by the source and by tests)."""
    where = f" on {project}" if project else ""
    detail = _gitlab_words(error_message)
    retry_after = retry_after_seconds(headers, now=now)
    if status == 401:
        message = (
            "GitLab rejected the token (401): it is missing, expired or revoked — set a valid "
            "token in $GITLAB_TOKEN (or the file named by token_file)"
        )
    elif status == 403:
        if _body_field(body, "error") == "insufficient_scope":
            scope = _body_field(body, "scope") or "api"
            message = f"GitLab refused {action} (403): the token lacks the {scope} scope"
        elif detail and detail not in ("403 Forbidden", "Forbidden"):
            message = f"GitLab refused {action} (403): {detail}"
        else:
            message = (
                f"GitLab refused {action} (403): the token lacks the api scope or the "
                f"Developer role{where}"
            )
    elif status == 404:
        if project and "Project Not Found" in str(error_message):
            message = f"404: project {project} not found, or the token cannot see it"
        elif not (_body_field(body, "message") or _body_field(body, "error")):
            # GitLab's 404s are always JSON with a message or error: this is another server.
            message = (
                f"not GitLab: the server answered {action} with a 404 page; check that "
                "gitlab.url is GitLab's root URL (https://gitlab.example.com, no /api/v4)"
            )
        else:
            message = f"GitLab found nothing for {action}{where} (404)"
    elif status == 429:
        wait = f"retrying in {seconds(retry_after)}" if retry_after is not None else "retrying"
        message = f"rate limited by GitLab while {action}, {wait}"
    elif status >= 500:
        message = f"GitLab failed while {action} ({status})" + (f": {detail}" if detail else "")
    else:
        message = f"GitLab refused {action} ({status})" + (f": {detail}" if detail else "")
    return SourceError(SourceName.GITLAB, message, status=status, retry_after=retry_after)


def connection_error(error: Exception, *, url: str, timeout: float, action: str) -> SourceError:
    """The words for a request that never got an HTTP answer."""
    text = str(error)
    if isinstance(error, requests.Timeout):
        message = f"timed out after {seconds(timeout)} while {action} (GitLab at {url})"
    elif isinstance(error, requests.exceptions.SSLError):
        message = f"TLS handshake with GitLab at {url} failed: check its certificate"
    elif connection_refused(error):
        message = f"connection refused: is GitLab at {url} reachable?"
    elif "Name or service not known" in text or "nodename nor servname" in text:
        message = f"cannot resolve the host of {url}: check gitlab.url"
    else:
        message = f"cannot reach GitLab at {url} while {action}: {type(error).__name__}"
    return SourceError(SourceName.GITLAB, message, transient=True)


# --------------------------------------------------------------------------- the source


#: Threads (and pooled connections) for python-gitlab calls.
THREADS = 16


#: What a parser raises on an answer of the wrong shape: a string where a number should
#: be, a list where an object should be, a missing key.
_WRONG_SHAPE = (TypeError, ValueError, KeyError, AttributeError, IndexError)


def unexpected_answer(action: str, error: Exception) -> SourceError:
    """An answer cockpit cannot read, as one short line (no payload dump)."""
    return SourceError(
        SourceName.GITLAB,
        f"unexpected answer from GitLab while {shown(action)}: {type(error).__name__}: "
        f"{shown(error)}",
        transient=False,
    )


class _NoRetryGitlab(gitlab.Gitlab):
    """python-gitlab with its own 429 and transient retries off: it must never sleep."""

    def http_request(self, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs["obey_rate_limit"] = False
        kwargs["retry_transient_errors"] = False
        return super().http_request(*args, **kwargs)


class GitLabSource:
    """Reads and writes one GitLab instance; every method is async and thread-backed."""

    def __init__(self, config: GitLabConfig, *, session: requests.Session | None = None) -> None:
        self._config = config
        # python-gitlab is synchronous: its calls run in these threads, never on the event
        # loop. They mostly wait on the network, so there are more of them than cores, and
        # our own session keeps as many connections open for reuse.
        self._threads = ThreadPoolExecutor(THREADS, thread_name_prefix="cockpit-gitlab")
        if session is None:
            session = requests.Session()
            adapter = requests.adapters.HTTPAdapter(pool_connections=THREADS, pool_maxsize=THREADS)
            session.mount("http://", adapter)
            session.mount("https://", adapter)
        self._session = session
        self._session.hooks["response"].append(self._on_response)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._requests = 0
        self._gl = _NoRetryGitlab(
            config.url,
            private_token=config.token.reveal(),
            timeout=config.timeout,
            retry_transient_errors=False,
            session=self._session,
            per_page=100,
        )
        #: The quota GitLab's ``RateLimit-*`` headers last reported (None: it sends none).
        self.rate_limit: RateLimit | None = None
        #: Seconds GitLab took to answer the last request (until its headers arrived).
        self.latency: float | None = None

    @property
    def request_count(self) -> int:
        """HTTP requests answered so far (for the engine's requests-per-minute accounting)."""
        return self._requests

    async def close(self) -> None:
        await asyncio.to_thread(self._session.close)
        self._threads.shutdown(wait=False, cancel_futures=True)

    # -- plumbing

    def _on_response(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        with self._lock:
            self._requests += 1
            quota = rate_limit_from(response.headers)
            if quota is not None:
                self.rate_limit = quota
            self.latency = response.elapsed.total_seconds()
        self._local.headers = response.headers

    def _scrub(self, error: SourceError) -> SourceError:
        error.message = scrub(error.message, [self._config.token.reveal()])
        error.args = (error.message,)
        return error

    def _run(self, action: str, project: str | None, call: Callable[[], T]) -> T:
        self._local.headers = {}
        try:
            return call()
        except SourceError as error:
            raise self._scrub(error) from None
        except gitlab.exceptions.GitlabError as error:
            status = error.response_code
            if status is None:
                raise self._scrub(
                    SourceError(SourceName.GITLAB, f"GitLab failed while {action}: {error}")
                ) from None
            mapped = http_error(
                status,
                error.error_message,
                error.response_body,
                self._local.headers or {},
                project=project,
                action=action,
            )
            raise self._scrub(mapped) from None
        except requests.RequestException as error:
            mapped = connection_error(
                error, url=self._config.url, timeout=self._config.timeout, action=action
            )
            raise self._scrub(mapped) from None
        except _WRONG_SHAPE as error:
            raise self._scrub(unexpected_answer(action, error)) from None

    def _parsed(self, action: str, parse: Callable[[Any], T], answer: Any) -> T:
        """A write's answer through its parser; a wrong shape is GitLab's error."""
        try:
            return parse(answer)
        except _WRONG_SHAPE as error:
            raise self._scrub(unexpected_answer(action, error)) from None

    async def _call(self, action: str, project: str | None, call: Callable[[], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._threads, self._run, action, project, call)

    def _project(self, path: str) -> Any:
        """A lazy python-gitlab project addressed by its path (no request).

        GitLab accepts the URL-encoded path wherever it takes a project id, and objects
        listed under it (pipelines) carry their numeric ``project_id`` for deeper URLs.
        """
        return self._gl.projects.get(path, lazy=True)

    def _list(self, path: str, params: dict[str, Any], *, all_pages: bool = False) -> list[Any]:
        """A list endpoint's JSON items through python-gitlab's own HTTP layer.

        Hot reads skip python-gitlab's REST objects (each listed item would build its own
        managers): same auth, pagination and errors, a fraction of the CPU.
        """
        result = self._gl.http_list(path, query_data=params, get_all=all_pages, iterator=False)
        return list(result)

    def _send(self, request: WriteRequest) -> Any:
        url = f"{self._config.url}{request.path}"
        if request.method == "POST":
            return self._gl.http_post(url, post_data=request.body)
        if request.method == "PUT":
            return self._gl.http_put(url, post_data=request.body)
        raise ValueError(f"unsupported write method {request.method}")

    # -- reads

    async def probe(self) -> None:
        """One cheap request (``GET /version``): does GitLab answer at all?

        Sent while GitLab is failing, to notice the first moment it answers again
        (``/version`` needs a token like every other read, so a 401 still fails it).
        """
        await self._call(
            "checking that GitLab answers", None, lambda: self._gl.http_get("/version")
        )

    async def pipeline(
        self,
        project: str,
        ref: str,
        *,
        stage_order: tuple[str, ...] = (),
        previous: Pipeline | None = None,
    ) -> Pipeline | None:
        """The latest pipeline for ``ref`` with its jobs, or None if there is none.

        Two requests at most: the latest pipeline as GitLab lists it, and its jobs. With
        ``previous`` (what the last call returned) a finished pipeline that is still the
        latest costs one request, and what only :meth:`pipeline_details` reads (the
        pipeline's user, times and duration, its bridges) carries over while the pipeline
        stays the same.
        """

        def call() -> Pipeline | None:
            base = _project_path(project)
            latest = self._list(
                f"{base}/pipelines",
                {"ref": ref, "order_by": "id", "sort": "desc", "per_page": 1},
            )
            if not latest:
                return None
            item = latest[0]
            listed = parse_pipeline(item, stage_order=stage_order)
            # The previous call's pipeline, while it is still the latest.
            before = previous if previous is not None and previous.id == listed.id else None
            if (
                before is not None
                and before.status == listed.status
                and before.updated_at == listed.updated_at
                and listed.status not in ACTIVE_STATUSES
            ):
                return before
            jobs = [
                parse_job(job, is_bridge=False)
                for job in self._list(
                    f"{base}/pipelines/{listed.id}/jobs", {"per_page": 100}, all_pages=True
                )
            ]
            if before is None:
                return replace(
                    listed, stages=group_stages(jobs, stage_order or item.get("stages") or ())
                )
            bridges = [job for job in before.jobs if job.is_bridge]
            return replace(
                listed,
                iid=listed.iid if listed.iid is not None else before.iid,
                source=listed.source or before.source,
                started_at=before.started_at,
                finished_at=before.finished_at,
                duration=before.duration,
                user=before.user,
                web_url=listed.web_url or before.web_url,
                stages=group_stages([*jobs, *bridges], stage_order or item.get("stages") or ()),
            )

        return await self._call(f"reading the latest pipeline of {ref}", project, call)

    async def pipeline_details(
        self, project: str, pipeline: Pipeline, *, stage_order: tuple[str, ...] = ()
    ) -> Pipeline:
        """``pipeline`` completed with what the list leaves out: who ran it, its times and
        duration (the single-pipeline GET), and its bridges (trigger jobs)."""

        def call() -> Pipeline:
            base = _project_path(project)
            answer = self._gl.http_get(f"{base}/pipelines/{pipeline.id}")
            if not isinstance(answer, Mapping):
                raise TypeError(f"pipeline {pipeline.id}: not an object")
            full = parse_pipeline(answer)
            bridges = [
                parse_job(bridge, is_bridge=True)
                for bridge in self._list(
                    f"{base}/pipelines/{pipeline.id}/bridges", {"per_page": 100}, all_pages=True
                )
            ]
            jobs = [job for job in pipeline.jobs if not job.is_bridge]
            return replace(
                full,
                stages=group_stages(
                    [*jobs, *bridges], stage_order or tuple(stage.name for stage in pipeline.stages)
                ),
            )

        return await self._call(f"reading pipeline #{pipeline.id}", project, call)

    async def manual_gate(self, project: str, environment: str) -> Job | None:
        """The manual deploy job waiting for ``environment`` (level-3 gate), if any."""

        def call() -> Job | None:
            p = self._project(project)
            for status in ("created", "blocked"):
                listed = p.deployments.list(
                    environment=environment,
                    status=status,
                    order_by="id",
                    sort="desc",
                    per_page=5,
                    get_all=False,
                )
                raw = [d.attributes for d in listed]
                parsed = [parse_deployment(d, environment=environment) for d in raw]
                job_id = manual_gate(parsed)
                if job_id is not None:
                    deployable = next(
                        d["deployable"] for d in raw if d["deployable"]["id"] == job_id
                    )
                    return replace(parse_job(deployable), environment=environment)
            return None

        return await self._call(f"looking for a manual gate to {environment}", project, call)

    async def deployments(
        self,
        project: str,
        environment: str | None,
        *,
        limit: int = 20,
        updated_after: datetime | None = None,
    ) -> tuple[Deployment, ...]:
        """The environment's deployments, newest first, rollbacks marked.

        ``environment=None``: the project's deployments to any environment (one request
        for all of them; rollbacks are then marked per environment).

        With ``updated_after`` GitLab requires ``order_by=updated_at`` (its
        DeploymentsFinder refuses the filter with any other sort).
        """

        def call() -> tuple[Deployment, ...]:
            params: dict[str, Any] = {"sort": "desc"}
            if environment is not None:
                params["environment"] = environment
            if updated_after is not None:
                params |= {"updated_after": updated_after.isoformat(), "order_by": "updated_at"}
            else:
                params["order_by"] = "id"
            listed = self._list(
                f"{_project_path(project)}/deployments", {**params, "per_page": min(limit, 100)}
            )
            return parse_deployments(listed, environment=environment)

        where = f"to {environment}" if environment else "of the project"
        return await self._call(f"reading deployments {where}", project, call)

    async def feature_flags(self, project: str) -> tuple[FeatureFlag, ...]:
        def call() -> tuple[FeatureFlag, ...]:
            flags = self._list(
                f"{_project_path(project)}/feature_flags", {"per_page": 100}, all_pages=True
            )
            return tuple(parse_feature_flag(flag) for flag in flags)

        return await self._call("reading feature flags", project, call)

    async def job_trace(self, project: str, job_id: int) -> str:
        """The whole job log (GitLab has no offset): ANSI codes and section markers included."""

        def call() -> str:
            data: bytes = self._project(project).jobs.get(job_id, lazy=True).trace()
            return data.decode("utf-8", errors="replace")

        return await self._call(f"reading the log of job {job_id}", project, call)

    async def compare(self, project: str, from_sha: str, to_sha: str) -> Comparison:
        def call() -> Comparison:
            raw = self._project(project).repository_compare(from_sha, to_sha)
            return parse_comparison(raw, from_sha=from_sha, to_sha=to_sha)

        return await self._call(f"comparing {from_sha[:8]}..{to_sha[:8]}", project, call)

    async def file(self, project: str, path: str, ref: str) -> str | None:
        """A repository file's text at ``ref``; None when it does not exist there."""

        def call() -> str | None:
            files = self._project(project).files
            try:
                found = files.get(file_path=path, ref=ref)
            except gitlab.exceptions.GitlabGetError as error:
                if error.response_code == 404:
                    return None
                raise
            return parse_file_content(found.attributes)

        return await self._call(f"reading {path} at {ref}", project, call)

    async def ci_lint(self, project: str, ref: str) -> CiLint:
        """The project's own CI configuration at ``ref``, merged and validated by GitLab."""

        def call() -> CiLint:
            result = self._project(project).ci_lint.get(content_ref=ref)
            return parse_ci_lint(result.attributes)

        return await self._call("linting the CI configuration", project, call)

    async def group_projects(self, group: str) -> tuple[GroupProject, ...]:
        """The group's projects, subgroups included, not archived, by path, each with its
        available environments (``GET /groups/:id/projects?include_subgroups=true``,
        docs.gitlab.com/api/groups/#list-projects; ``GET /projects/:id/environments``,
        docs.gitlab.com/api/environments/)."""

        def listing() -> list[Any]:
            found = self._gl.groups.get(group, lazy=True).projects.list(
                include_subgroups=True, archived=False, iterator=True
            )
            return sorted((p.attributes for p in found), key=lambda a: a["path_with_namespace"])

        projects = await self._call(f"listing the projects of {group}", None, listing)

        def environments(path: str) -> tuple[str, ...]:
            found = self._project(path).environments.list(states="available", iterator=True)
            return tuple(str(e.attributes["name"]) for e in found)

        names = await asyncio.gather(
            *(
                self._call("listing environments", p["path_with_namespace"], _bind(environments, p))
                for p in projects
            )
        )
        return tuple(
            GroupProject(
                path=str(p["path_with_namespace"]),
                default_branch=p.get("default_branch"),
                environments=envs,
            )
            for p, envs in zip(projects, names, strict=True)
        )

    async def current_user(self) -> str:
        """The token owner's username (for the audit log)."""

        def call() -> str:
            user = self._gl.http_get("/user")
            if not isinstance(user, Mapping) or not user.get("username"):
                raise SourceError(SourceName.GITLAB, "GitLab did not say who owns the token")
            return str(user["username"])

        return await self._call("asking who owns the token", None, call)

    # -- writes

    async def send(self, request: WriteRequest, *, project: str, action: str) -> Any:
        """Send one described write exactly as described; the parsed JSON answer."""
        return await self._call(action, project, lambda: self._send(request))

    async def play_job(self, project: str, job_id: int) -> Job:
        request = job_action_request(project, job_id, "play")
        action = f"playing job {job_id}"
        return self._parsed(
            action, parse_job, await self.send(request, project=project, action=action)
        )

    async def retry_job(self, project: str, job_id: int) -> Job:
        """Retry a job; GitLab answers with the NEW job (a new id)."""
        request = job_action_request(project, job_id, "retry")
        action = f"retrying job {job_id}"
        return self._parsed(
            action, parse_job, await self.send(request, project=project, action=action)
        )

    async def cancel_job(self, project: str, job_id: int) -> Job:
        request = job_action_request(project, job_id, "cancel")
        action = f"canceling job {job_id}"
        return self._parsed(
            action, parse_job, await self.send(request, project=project, action=action)
        )

    async def retry_pipeline(self, project: str, pipeline_id: int) -> Pipeline:
        request = pipeline_action_request(project, pipeline_id, "retry")
        action = f"retrying pipeline {pipeline_id}"
        answer = await self.send(request, project=project, action=action)
        return self._parsed(action, parse_pipeline, answer)

    async def cancel_pipeline(self, project: str, pipeline_id: int) -> Pipeline:
        request = pipeline_action_request(project, pipeline_id, "cancel")
        action = f"canceling pipeline {pipeline_id}"
        answer = await self.send(request, project=project, action=action)
        return self._parsed(action, parse_pipeline, answer)

    async def set_feature_flag(self, project: str, name: str, active: bool) -> FeatureFlag:
        request = feature_flag_request(project, name, active)
        verb = "turning on" if active else "turning off"
        action = f"{verb} flag {name}"
        answer = await self.send(request, project=project, action=action)
        return self._parsed(action, parse_feature_flag, answer)

    async def redeploy(self, project: str, deployment: Deployment) -> Job:
        """Re-deploy a deployment's commit by retrying its deploy job; the new job."""
        request = redeploy_request(project, deployment)
        action = f"re-deploying deployment #{deployment.iid}"
        answer = await self.send(request, project=project, action=action)
        return self._parsed(action, parse_job, answer)
