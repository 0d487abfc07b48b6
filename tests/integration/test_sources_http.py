"""The three sources against small local HTTP servers that replay real payloads.

Each server is an aiohttp app on a loopback port, scripted per test: status codes and
headers (Retry-After, RateLimit-Reset), chunked watch streams with blank lines, an
in-stream 410 followed by a re-list. Nothing here sleeps to wait: watches are consumed
step by step and errors back off for 0 s.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from cockpit.config import GitLabConfig, KubernetesConfig, PrometheusConfig, Secret
from cockpit.model import SourceName
from cockpit.sources.errors import SourceError
from cockpit.sources.gitlab import GitLabSource
from cockpit.sources.kube import KindWatch, KubeSource, WatchChange, patch_request
from cockpit.sources.prometheus import PrometheusSource
from tests.helpers import free_port, load_fixture

TOKEN = "glpat-integration-secret"
KUBE_TOKEN = "kube-integration-secret"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    """Start a catch-all aiohttp server for a handler; its base URL. Stopped afterwards."""
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", handler)
        runner = web.AppRunner(app, shutdown_timeout=0.1)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"http://127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


def no_wait(failures: int, error: SourceError) -> float:
    return 0.0


async def take(watch: KindWatch, count: int) -> list[WatchChange]:
    """The next ``count`` changes of a watch (with a deadline, never a sleep)."""
    changes: list[WatchChange] = []
    iterator = watch.changes()

    async def collect() -> None:
        async for change in iterator:
            changes.append(change)
            if len(changes) == count:
                return

    try:
        await asyncio.wait_for(collect(), timeout=10)
    finally:
        await iterator.aclose()  # type: ignore[attr-defined]
    return changes


# --------------------------------------------------------------------------- Kubernetes


def write_kubeconfig(directory: Path, server: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "test", "cluster": {"server": server}}],
                "users": [{"name": "test", "user": {"token": KUBE_TOKEN}}],
                "contexts": [
                    {
                        "name": "test",
                        "context": {"cluster": "test", "user": "test", "namespace": "prod"},
                    }
                ],
                "current-context": "test",
            }
        )
    )
    return path


class FakeApiserver:
    """Scripted answers: each list and each watch request takes the next scripted reply."""

    def __init__(self) -> None:
        self.lists: list[Any] = []
        self.watches: list[Any] = []
        self.requests: list[web.Request] = []
        self.patches: list[tuple[str, str, Any]] = []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append(request)
        assert request.headers.get("Authorization") == f"Bearer {KUBE_TOKEN}"
        if request.method == "PATCH":
            body = await request.json()
            self.patches.append((request.path, request.headers["Content-Type"], body))
            if "forbidden" in request.path:
                return web.json_response(
                    {
                        "kind": "Status",
                        "apiVersion": "v1",
                        "status": "Failure",
                        "reason": "Forbidden",
                        "code": 403,
                        "message": 'rollouts.argoproj.io "forbidden" is forbidden: User '
                        '"system:serviceaccount:ops:cockpit" cannot patch resource '
                        '"rollouts/status" in API group "argoproj.io" in the namespace "prod"',
                    },
                    status=403,
                )
            return web.json_response(
                {
                    "apiVersion": "argoproj.io/v1alpha1",
                    "kind": "Rollout",
                    "metadata": {"name": "web"},
                    "status": body.get("status") if isinstance(body, dict) else None,
                }
            )
        watching = request.query.get("watch") == "true"
        reply = self.watches.pop(0) if watching else self.lists.pop(0)
        if isinstance(reply, web.StreamResponse):
            return reply
        if isinstance(reply, tuple):  # (status, body)
            return web.json_response(reply[1], status=reply[0])
        if isinstance(reply, str):
            response = web.StreamResponse(headers={"Content-Type": "application/json"})
            response.enable_chunked_encoding()
            await response.prepare(request)
            for chunk in (reply[: len(reply) // 2], reply[len(reply) // 2 :]):
                await response.write(chunk.encode())
            await response.write_eof()
            return response
        return web.json_response(reply)


def item_list(version: str, *items: tuple[str, str]) -> dict[str, Any]:
    return {
        "kind": "RolloutList",
        "apiVersion": "argoproj.io/v1alpha1",
        "metadata": {"resourceVersion": version},
        "items": [{"metadata": {"name": n, "resourceVersion": rv}} for n, rv in items],
    }


def event(kind: str, name: str, version: str) -> str:
    return json.dumps(
        {"type": kind, "object": {"metadata": {"name": name, "resourceVersion": version}}}
    )


@pytest.fixture
async def apiserver(
    serve: Callable[[Handler], Awaitable[str]], tmp_path: Path
) -> AsyncIterator[tuple[FakeApiserver, KubeSource, str]]:
    fake = FakeApiserver()
    url = await serve(fake.handle)
    source = KubeSource(KubernetesConfig(write_kubeconfig(tmp_path, url)), timeout=5)
    yield fake, source, url
    await source.close()


async def test_watch_reads_a_chunked_stream_with_blank_lines(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    fake.lists.append(item_list("0"))
    fake.watches.append(load_fixture("kubernetes/watch-stream-chunked-blank-lines.txt"))
    watch = source.watch(None, None, "ReplicaSet", backoff=no_wait)
    changes = await take(watch, 4)
    assert changes[0].relisted and changes[0].names == frozenset()
    assert [c.names for c in changes[1:]] == [{"test1"}, {"test2"}, {"test3"}]
    assert set(watch.objects) == {"test1", "test2", "test3"}
    assert watch.resource_version == "3"
    assert watch.namespace == "prod" and watch.context == "test"
    watch_request = fake.requests[1]
    assert watch_request.path == "/apis/apps/v1/namespaces/prod/replicasets"
    assert watch_request.query["resourceVersion"] == "0"
    assert watch_request.query["allowWatchBookmarks"] == "true"
    assert watch.request_count == 2 and source.request_count == 2


async def test_in_stream_410_relists_then_watches_from_the_new_version(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    expired = load_fixture("kubernetes/watch-stream-pods.ndjson").strip().splitlines()[-1]
    fake.lists += [item_list("10", ("web", "9")), item_list("20", ("web", "11"), ("api", "15"))]
    fake.watches += [
        "\n".join([event("MODIFIED", "web", "11"), expired]) + "\n",
        event("ADDED", "cart", "21") + "\n",
    ]
    watch = source.watch("test", "prod", "Rollout", backoff=no_wait)
    changes = await take(watch, 4)
    assert [(c.relisted, set(c.names)) for c in changes] == [
        (True, {"web"}),
        (False, {"web"}),
        (True, {"api"}),  # web is unchanged at 11; api is new
        (False, {"cart"}),
    ]
    assert set(watch.objects) == {"web", "api", "cart"}
    assert watch.relists == 2 and watch.error is None
    watch_requests = [r for r in fake.requests if r.query.get("watch") == "true"]
    assert [r.query["resourceVersion"] for r in watch_requests] == ["10", "20"]


async def test_gone_error_event_and_http_410_both_relist(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    gone = json.dumps(load_fixture("kubernetes/watch-event-error-410-gone-recorded.json"))
    fake.lists += [item_list("1"), item_list("2"), item_list("3")]
    fake.watches += [gone + "\n", (410, load_fixture("kubernetes/status-410-expired-list.json"))]
    watch = source.watch(None, "prod", "Deployment", backoff=no_wait)
    changes = await take(watch, 3)
    assert all(c.relisted for c in changes)
    assert watch.resource_version == "3"


async def test_normal_close_reconnects_from_the_last_version_and_bookmarks_count(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    bookmark = json.dumps(
        {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "12746"}}}
    )
    fake.lists.append(item_list("100"))
    fake.watches += [
        event("ADDED", "web", "101") + "\n" + bookmark + "\n",
        event("DELETED", "web", "12800") + "\n",
    ]
    watch = source.watch(None, None, "Rollout", backoff=no_wait)
    changes = await take(watch, 3)
    assert [set(c.names) for c in changes[1:]] == [{"web"}, {"web"}]
    assert watch.objects == {}
    watch_requests = [r for r in fake.requests if r.query.get("watch") == "true"]
    assert [r.query["resourceVersion"] for r in watch_requests] == ["100", "12746"]


async def test_watch_reports_errors_and_recovers(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    forbidden = {
        "kind": "Status",
        "status": "Failure",
        "reason": "Forbidden",
        "code": 403,
        "message": 'rollouts.argoproj.io is forbidden: User "alice" cannot list resource '
        '"rollouts" in API group "argoproj.io" in the namespace "prod"',
    }
    fake.lists += [
        (403, forbidden),
        (500, {"message": "etcd leader changed"}),
        item_list("5", ("web", "5")),
    ]
    fake.watches.append(event("MODIFIED", "web", "6") + "\n")
    watch = source.watch(None, None, "Rollout", backoff=no_wait)
    changes = await take(watch, 4)
    first, second = changes[0].error, changes[1].error
    assert first is not None and second is not None
    assert first.message == "Kubernetes: user alice cannot list rollouts in prod (RBAC)"
    assert first.source is SourceName.KUBE and not first.transient
    assert second.transient and "failed (500)" in second.message
    assert changes[2].relisted and watch.error is None
    assert changes[3].names == {"web"}


async def test_patch_sends_a_merge_patch_to_the_status_subresource(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    fake, source, _ = apiserver
    answer = await source.patch(
        None, None, "Rollout", "web", {"status": {"abort": True}}, subresource="status"
    )
    assert answer["status"] == {"abort": True}
    assert fake.patches == [
        (
            "/apis/argoproj.io/v1alpha1/namespaces/prod/rollouts/web/status",
            "application/merge-patch+json",
            {"status": {"abort": True}},
        )
    ]
    described = patch_request(
        "prod", "Rollout", "web", {"status": {"abort": True}}, subresource="status"
    )
    assert fake.patches[0] == (described.path, described.content_type, described.body)
    await source.patch(
        None,
        "prod",
        "Rollout",
        "web",
        [{"op": "replace", "path": "/spec/template", "value": {}}],
        patch_type="json",
    )
    assert fake.patches[-1][1] == "application/json-patch+json"


async def test_forbidden_patch_names_the_permission(
    apiserver: tuple[FakeApiserver, KubeSource, str],
) -> None:
    _, source, _ = apiserver
    with pytest.raises(SourceError) as caught:
        await source.patch(
            None, None, "Rollout", "forbidden", {"status": {"abort": True}}, subresource="status"
        )
    assert caught.value.message == (
        "Kubernetes: user system:serviceaccount:ops:cockpit cannot patch rollouts/status in prod (RBAC)"
    )
    assert caught.value.status == 403


async def test_apiserver_not_reachable(tmp_path: Path) -> None:
    server = f"http://127.0.0.1:{free_port()}"
    source = KubeSource(KubernetesConfig(write_kubeconfig(tmp_path, server)), timeout=2)
    try:
        with pytest.raises(SourceError) as caught:
            await source.get(None, None, "Rollout", "web")
        assert (
            caught.value.message == f"connection refused: is the apiserver at {server} reachable?"
        )
        assert caught.value.transient
        watch = source.watch(None, None, "Rollout", backoff=no_wait)
        (change,) = await take(watch, 1)
        assert change.error is not None and "connection refused" in change.error.message
    finally:
        await source.close()


async def test_unknown_context(tmp_path: Path) -> None:
    source = KubeSource(KubernetesConfig(write_kubeconfig(tmp_path, "http://127.0.0.1:1")))
    with pytest.raises(SourceError, match=r"kube context 'prod-eu' cannot be used.*contexts: test"):
        await source.get("prod-eu", None, "Rollout", "web")


# --------------------------------------------------------------------------- GitLab


class FakeGitLab:
    """Routes by raw path (``shop%2Fcheckout`` stays encoded); records every request."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Any] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []

    def route(self, method: str, path: str, reply: Any) -> None:
        self.routes[(method, f"/api/v4{path}")] = reply

    async def handle(self, request: web.Request) -> web.StreamResponse:
        path = request.raw_path.split("?", 1)[0]
        self.requests.append((request.method, request.raw_path, dict(request.headers)))
        reply = self.routes.get((request.method, path))
        if reply is None:
            return web.json_response({"error": "404 Not Found"}, status=404)
        if callable(reply):
            return await reply(request)
        status, body, headers = reply if isinstance(reply, tuple) else (200, reply, {})
        if isinstance(body, str):
            return web.Response(status=status, text=body, headers=headers)
        return web.json_response(body, status=status, headers=headers)


@pytest.fixture
async def gitlab_server(
    serve: Callable[[Handler], Awaitable[str]],
) -> AsyncIterator[tuple[FakeGitLab, GitLabSource]]:
    fake = FakeGitLab()
    url = await serve(fake.handle)
    source = GitLabSource(GitLabConfig(url=url, token=Secret(TOKEN), timeout=0.5, host="127.0.0.1"))
    yield fake, source
    await source.close()


async def test_latest_pipeline_with_jobs_and_bridges(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    single = dict(load_fixture("gitlab/pipeline-single-success.json"), id=47, project_id=1)
    # The list item agrees with the pipeline it lists (the two doc examples do not).
    item = dict(
        load_fixture("gitlab/pipelines-list.json")[0],
        status=single["status"],
        updated_at=single["updated_at"],
    )
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines", [item])
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines/47", single)
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/pipelines/47/jobs",
        load_fixture("gitlab/pipeline-jobs-list.json"),
    )
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/pipelines/47/bridges",
        load_fixture("gitlab/pipeline-bridges-list.json"),
    )
    listed = await source.pipeline("shop/checkout", "main")
    assert listed is not None and (listed.id, listed.status) == (47, "success")
    assert [j.name for j in listed.jobs] == ["rspec:other", "teaspoon"]
    methods_paths = [(m, p) for m, p, _ in fake.requests]
    listing = methods_paths[0][1]  # no project lookup first: GitLab takes the path
    assert listing.startswith("/api/v4/projects/shop%2Fcheckout/pipelines?")
    for part in ("ref=main", "order_by=id", "sort=desc", "per_page=1"):
        assert part in listing
    assert len(fake.requests) == 2  # the list and the jobs: enough for the overview
    pipeline = await source.pipeline_details("shop/checkout", listed)
    assert [j.name for j in pipeline.jobs] == ["rspec:other", "teaspoon", "teaspoon"]
    assert [j.is_bridge for j in pipeline.jobs] == [False, False, True]
    assert pipeline.user == "root" and pipeline.duration is not None
    assert len(fake.requests) == 4  # + the pipeline itself and its bridges
    assert all(h.get("PRIVATE-TOKEN") == TOKEN for _, _, h in fake.requests)
    assert source.request_count == len(fake.requests)
    # Told what it returned last time, a finished pipeline still latest costs one request.
    again = await source.pipeline("shop/checkout", "main", previous=pipeline)
    assert again == pipeline
    assert len(fake.requests) == 5


async def test_a_running_pipeline_is_followed_by_its_jobs_alone(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    running = dict(load_fixture("gitlab/pipelines-list.json")[0], status="running")
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines", [running])
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/pipelines/47",
        dict(
            load_fixture("gitlab/pipeline-single-success.json"),
            id=47,
            project_id=1,
            status="running",
        ),
    )
    jobs = load_fixture("gitlab/pipeline-jobs-list.json")
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines/47/jobs", jobs)
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/pipelines/47/bridges",
        load_fixture("gitlab/pipeline-bridges-list.json"),
    )
    first = await source.pipeline_details(
        "shop/checkout", await source.pipeline("shop/checkout", "main")
    )
    assert first is not None and first.user is not None
    fake.requests.clear()
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/pipelines/47/jobs",
        [dict(jobs[0], status="running"), jobs[1]],
    )
    second = await source.pipeline("shop/checkout", "main", previous=first)
    paths = [p.split("?")[0] for _, p, _ in fake.requests]
    assert paths == [
        "/api/v4/projects/shop%2Fcheckout/pipelines",
        "/api/v4/projects/shop%2Fcheckout/pipelines/47/jobs",
    ]
    assert second.user == first.user  # details kept from the first read
    assert [j.is_bridge for j in second.jobs].count(True) == [
        j.is_bridge for j in first.jobs
    ].count(True)
    assert second.jobs != first.jobs


async def test_no_pipeline_yet(gitlab_server: tuple[FakeGitLab, GitLabSource]) -> None:
    fake, source = gitlab_server
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines", [])
    assert await source.pipeline("shop/checkout", "main") is None


async def test_the_rate_limit_quota_gitlab_reports_is_remembered(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    quota = {
        "RateLimit-Limit": "2000",
        "RateLimit-Remaining": "12",
        "RateLimit-Reset": "1800000000",
    }
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines", (200, [], quota))
    assert source.rate_limit is None
    await source.pipeline("shop/checkout", "main")
    assert source.rate_limit is not None
    assert (source.rate_limit.limit, source.rate_limit.remaining) == (2000, 12)
    assert source.rate_limit.reset_at == 1_800_000_000


async def test_deployments_and_the_manual_gate(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    waiting = load_fixture("gitlab/deployments-list.json")
    waiting[1]["deployable"]["status"] = "manual"
    fake.route("GET", "/projects/shop%2Fcheckout/deployments", waiting)
    deployments = await source.deployments("shop/checkout", "production", limit=5)
    assert [d.id for d in deployments] == [42, 41]
    gate = await source.manual_gate("shop/checkout", "production")
    assert gate is not None and gate.id == 664 and gate.playable
    assert gate.environment == "production"
    listing = [p for _, p, _ in fake.requests if "/deployments?" in p]
    assert "order_by=id" in listing[0] and "environment=production" in listing[0]
    assert "status=created" in listing[1]


async def test_deployments_updated_after_sort_by_updated_at(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    from datetime import UTC, datetime

    fake, source = gitlab_server
    fake.route("GET", "/projects/shop%2Fcheckout/deployments", [])
    await source.deployments(
        "shop/checkout", "production", updated_after=datetime(2026, 1, 1, tzinfo=UTC)
    )
    (listing,) = [p for _, p, _ in fake.requests if "/deployments?" in p]
    assert "order_by=updated_at" in listing and "updated_after=2026-01-01" in listing


async def test_play_sends_exactly_the_described_request(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    fake.route(
        "POST",
        "/projects/shop%2Fcheckout/jobs/1/play",
        load_fixture("gitlab/job-play-response.json"),
    )
    fake.route(
        "POST",
        "/projects/shop%2Fcheckout/jobs/1/retry",
        (201, dict(load_fixture("gitlab/job-retry-response.json"), id=2), {}),
    )
    job = await source.play_job("shop/checkout", 1)
    assert (job.id, job.status) == (1, "pending")
    retried = await source.retry_job("shop/checkout", 1)
    assert retried.id == 2  # the NEW job
    assert [(m, p) for m, p, _ in fake.requests] == [
        ("POST", "/api/v4/projects/shop%2Fcheckout/jobs/1/play"),
        ("POST", "/api/v4/projects/shop%2Fcheckout/jobs/1/retry"),
    ]


async def test_feature_flag_toggle_and_reads(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
) -> None:
    fake, source = gitlab_server
    flag = load_fixture("gitlab/feature-flag-update-gradual-rollout.json")

    async def update(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response(dict(flag, active=body["active"]))

    fake.route("PUT", "/projects/shop%2Fcheckout/feature_flags/awesome_feature", update)
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/feature_flags",
        load_fixture("gitlab/feature-flags-list.json"),
    )
    fake.route(
        "GET", "/projects/shop%2Fcheckout/jobs/7/trace", "\x1b[32mok\x1b[0m\r\nsection_end:1:x\r\n"
    )
    fake.route(
        "GET",
        "/projects/shop%2Fcheckout/repository/files/README.md",
        load_fixture("gitlab/repository-file.json"),
    )
    fake.route("GET", "/user", {"username": "alice"})
    updated = await source.set_feature_flag("shop/checkout", "awesome_feature", False)
    assert updated.active is False
    assert [f.name for f in await source.feature_flags("shop/checkout")] == [
        "merge_train",
        "new_live_trace",
        "user_list",
    ]
    assert "ok" in await source.job_trace("shop/checkout", 7)
    assert await source.file("shop/checkout", "README.md", "main") == "This is a *README*!"
    assert await source.file("shop/checkout", "db/migrate/x.rb", "main") is None
    assert await source.current_user() == "alice"


@pytest.mark.parametrize(
    ("status", "body", "headers", "words", "transient"),
    [
        (
            401,
            {"message": "401 Unauthorized"},
            {},
            "GitLab rejected the token (401): it is missing, expired or revoked",
            False,
        ),
        (
            403,
            {"message": "403 Forbidden"},
            {},
            "the token lacks the api scope or the Developer role on shop/checkout",
            False,
        ),
        (
            403,
            {"error": "insufficient_scope", "scope": "api"},
            {},
            "the token lacks the api scope",
            False,
        ),
        (
            404,
            {"message": "404 Project Not Found"},
            {},
            "404: project shop/checkout not found, or the token cannot see it",
            False,
        ),
        (
            429,
            "Retry later",
            {"Retry-After": "12"},
            "rate limited by GitLab while reading the latest pipeline of main, retrying in 12 s",
            True,
        ),
        (
            502,
            "<html>Bad Gateway</html>",
            {},
            "GitLab failed while reading the latest pipeline of main (502)",
            True,
        ),
    ],
)
async def test_gitlab_failures_become_words_without_the_token(
    gitlab_server: tuple[FakeGitLab, GitLabSource],
    status: int,
    body: Any,
    headers: dict[str, str],
    words: str,
    transient: bool,
) -> None:
    fake, source = gitlab_server
    fake.route("GET", "/projects/shop%2Fcheckout/pipelines", (status, body, headers))
    with pytest.raises(SourceError) as caught:
        await source.pipeline("shop/checkout", "main")
    error = caught.value
    assert words in error.message
    assert (error.status, error.transient) == (status, transient)
    if status == 429:
        assert error.retry_after == 12.0
        assert len([p for _, p, _ in fake.requests if "/pipelines" in p]) == 1  # no retry
    for text in (str(error), repr(error), error.message):
        assert TOKEN not in text


async def test_gitlab_timeout_and_refused(serve: Callable[[Handler], Awaitable[str]]) -> None:
    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(3)
        return web.json_response({})

    url = await serve(slow)
    source = GitLabSource(GitLabConfig(url=url, token=Secret(TOKEN), timeout=0.2, host="x"))
    with pytest.raises(SourceError) as caught:
        await source.current_user()
    assert caught.value.message.startswith("timed out after 0.2 s while asking who owns the token")
    assert caught.value.transient
    await source.close()
    closed = f"http://127.0.0.1:{free_port()}"
    refused = GitLabSource(GitLabConfig(url=closed, token=Secret(TOKEN), timeout=1, host="x"))
    with pytest.raises(SourceError) as caught:
        await refused.current_user()
    assert caught.value.message == f"connection refused: is GitLab at {closed} reachable?"
    await refused.close()


# --------------------------------------------------------------------------- Prometheus


async def test_prometheus_queries(serve: Callable[[Handler], Awaitable[str]]) -> None:
    seen: list[dict[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        form = dict(await request.post())
        seen.append({"path": request.path, **{k: str(v) for k, v in form.items()}})
        query = str(form["query"])
        if request.path == "/api/v1/query_range":
            body = load_fixture("prometheus/query-range-matrix-nan.json")
            body["data"]["result"] = body["data"]["result"][:1]
            return web.json_response(body)
        if query == "nan":
            return web.json_response(load_fixture("prometheus/query-instant-vector-nan.json"))
        if query == "empty":
            return web.json_response(load_fixture("prometheus/query-empty-vector.json"))
        if query == "broken(":
            return web.json_response(
                {
                    "status": "error",
                    "errorType": "bad_data",
                    "error": 'invalid parameter "query": 1:8: parse error: unclosed left parenthesis',
                },
                status=400,
            )
        if query == "proxy":
            return web.Response(
                status=502, text="<html>bad gateway</html>", content_type="text/html"
            )
        return web.json_response(
            {
                "status": "success",
                "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1, "0.995"]}]},
            }
        )

    from datetime import UTC, datetime

    source = PrometheusSource(PrometheusConfig(await serve(handle), timeout=2))
    try:
        assert await source.query("ok") == 0.995
        assert await source.query("nan") is None
        assert await source.query("empty") is None
        samples = await source.query_range(
            "rate",
            start=datetime(2024, 4, 29, tzinfo=UTC),
            end=datetime(2024, 4, 30, tzinfo=UTC),
            step=15,
        )
        assert len(samples) == 4 and {s.value for s in samples} == {None}
        with pytest.raises(SourceError) as bad:
            await source.query("broken(")
        assert (
            "rejected the query (bad_data)" in bad.value.message
            and "unclosed left parenthesis" in bad.value.message
        )
        with pytest.raises(SourceError) as proxy:
            await source.query("proxy")
        assert "not its API (HTTP 502)" in proxy.value.message and proxy.value.transient
        assert seen[3]["step"] == "15" and seen[3]["path"] == "/api/v1/query_range"
        assert source.request_count == 6
    finally:
        await source.close()


async def test_prometheus_unreachable() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    source = PrometheusSource(PrometheusConfig(url, timeout=1))
    with pytest.raises(SourceError) as caught:
        await source.query("up")
    assert caught.value.message == f"connection refused: is Prometheus at {url} reachable?"
    await source.close()
