"""Answers of the wrong type become that source's error in one short line, never a traceback.

A GitLab whose pipeline id is not a number, a Prometheus whose value is not a number,
a Rollout whose status is not an object, and a poll that fails in a way nobody
foresaw: each is the row's source error (stale cells, the reason under the
``cockpit status`` table), and nothing is printed but the table.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from cockpit import cli
from cockpit.config import GitLabConfig, PrometheusConfig, Secret
from cockpit.model import LinkState, SourceName
from cockpit.sources.errors import SourceError
from cockpit.sources.gitlab import GitLabSource
from cockpit.sources.prometheus import PrometheusSource
from tests.helpers import eventually
from tests.unit.test_engine import rollout_obj, running_world

TOKEN = "glpat-very-secret-token-value"


class _Answer(BaseHTTPRequestHandler):
    """Every GET and POST gets the same JSON body (the server's ``body``)."""

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(self.server.body).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def gitlab_answering(body: Any) -> Iterator[str]:
    """A loopback server that answers every request with ``body``; its URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    server.body = body  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def gitlab_only_config(directory: Path, url: str) -> Path:
    path = directory / "cockpit.toml"
    path.write_text(
        f'[gitlab]\nurl = "{url}"\n\n[[service]]\nname = "checkout"\n'
        'gitlab_project = "shop/checkout"\n  [[service.environment]]\n  name = "production"\n'
    )
    return path


# --------------------------------------------------------------------------- GitLab


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ([{"id": "notanint"}], "ValueError: invalid literal for int() with base 10: 'notanint'"),
        ({"id": 1}, "KeyError"),  # an object where a list is expected
        ([["not", "an", "object"]], "TypeError"),
    ],
)
def test_status_shows_a_wrong_gitlab_answer_as_the_gitlab_error(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    body: Any,
    reason: str,
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    with gitlab_answering(body) as url:
        status = cli.main(["status", "--config", str(gitlab_only_config(tmp_path, url))])
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out + err and TOKEN not in out + err
    assert err == ""
    (line,) = [line for line in out.splitlines() if line.startswith("gitlab down")]
    assert line.startswith(
        "gitlab down on 1 of 1 rows: unexpected answer from GitLab while reading the latest "
        "pipeline of main: "
    )
    assert reason in line


async def test_a_write_answered_with_the_wrong_type_is_a_gitlab_error() -> None:
    with gitlab_answering({"id": "notanint", "status": "pending"}) as url:
        gitlab = GitLabSource(GitLabConfig(url=url, token=Secret(TOKEN)))
        try:
            with pytest.raises(SourceError) as caught:
                await gitlab.play_job("shop/checkout", 7)
        finally:
            await gitlab.close()
    assert caught.value.source is SourceName.GITLAB
    assert str(caught.value).startswith("unexpected answer from GitLab while playing job 7: ")


async def test_a_huge_wrong_answer_is_cut_short() -> None:
    with gitlab_answering([{"id": "9" * 3000 + "x"}]) as url:
        gitlab = GitLabSource(GitLabConfig(url=url, token=Secret(TOKEN)))
        try:
            with pytest.raises(SourceError) as caught:
                await gitlab.pipeline("shop/checkout", "main")
        finally:
            await gitlab.close()
    assert len(str(caught.value)) < 300
    assert "characters)" in str(caught.value)


# --------------------------------------------------------------------------- Prometheus


@pytest.mark.parametrize(
    "body",
    [
        {"status": "success", "data": []},
        {"status": "success", "data": {"resultType": "vector", "result": [5]}},
        {"status": "success", "data": {"resultType": "vector", "result": [{"value": "1"}]}},
        {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "x"]}]}},
        {"status": "success", "data": {"resultType": "matrix", "result": [{"values": 3}]}},
        {"status": "success", "data": {"resultType": "scalar", "result": None}},
    ],
)
async def test_a_prometheus_answer_of_the_wrong_type_is_a_prometheus_error(body: Any) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    prometheus = PrometheusSource(
        PrometheusConfig(url="http://prometheus.test"), transport=httpx.MockTransport(answer)
    )
    try:
        with pytest.raises(SourceError) as caught:
            await prometheus.query("sum(up)")
    finally:
        await prometheus.close()
    assert caught.value.source is SourceName.PROMETHEUS
    assert "\n" not in str(caught.value) and len(str(caught.value)) < 300


# --------------------------------------------------------------------------- Kubernetes


async def test_a_rollout_that_does_not_parse_is_that_rows_kube_error() -> None:
    async with running_world() as (engine, _gitlab, kube, _prometheus, _updates):
        checkout = next(k for k in engine.states if k.service == "checkout")
        cart = next(k for k in engine.states if k.service == "cart")
        await eventually(lambda: engine.states[checkout].rollout is not None, message="parsed")
        broken = rollout_obj("checkout", 20)
        broken["status"] = "not an object"
        kube.watches[(None, "production", "Rollout")].apply(broken)

        def kube_status(key: Any) -> Any:
            return next(s for s in engine.states[key].sources if s.source is SourceName.KUBE)

        await eventually(
            lambda: kube_status(checkout).state is not LinkState.OK, message="kube error"
        )
        assert kube_status(checkout).last_error == (
            "unexpected answer from Kubernetes for Rollout checkout: AttributeError: "
            "'str' object has no attribute 'get'"
        )
        assert kube_status(cart).state is LinkState.OK


# --------------------------------------------------------------------------- the unforeseen


async def test_any_other_exception_of_a_poll_is_the_sources_error_without_a_traceback(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="cockpit")
    async with running_world() as (engine, gitlab, _kube, _prometheus, _updates):
        gitlab.error = RuntimeError("x" * 10_000)  # type: ignore[assignment]
        key = next(iter(engine.states))

        def gitlab_status() -> Any:
            return next(s for s in engine.states[key].sources if s.source is SourceName.GITLAB)

        await eventually(lambda: gitlab_status().last_error is not None, message="gitlab error")
        error = gitlab_status().last_error
    assert error.startswith("internal error while reading gitlab: RuntimeError: xxx")
    assert len(error) < 200
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err and err == ""
    # Nothing at WARNING or above: logging's last-resort handler would print it (with its
    # traceback) on the terminal, under the table of cockpit status.
    records = [r for r in caplog.records if r.name.startswith("cockpit")]
    assert all(r.levelno < logging.WARNING for r in records)
