"""Whatever a configuration file or a server says, cockpit answers in one short line.

Property-based (hypothesis): malformed configuration files (values of the wrong type,
huge strings, non-finite numbers, integers too large for a float, control characters,
invalid UTF-8, a token where a variable name belongs) go through ``cockpit status
--config FILE`` in-process, and malformed payloads through the GitLab and Prometheus
sources and the engine's Kubernetes parse. The properties: exactly one error line (or
a source error), no traceback, no secret, and a line of bounded length.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import json
import math
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit import cli, kubeconfig
from cockpit.config import GitLabConfig, PrometheusConfig, Secret
from cockpit.engine import parse_workload
from cockpit.model import SourceName
from cockpit.sources.errors import SourceError
from cockpit.sources.gitlab import GitLabSource
from cockpit.sources.prometheus import PrometheusSource
from tests.unit.test_engine import deployment_obj, rollout_obj

SECRET = "glpat-Zq9-secret-token-0042"
#: The longest line any of these errors may print (the file's path included).
LINE_LIMIT = 800
FEW = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


# --------------------------------------------------------------------------- values

#: Strings that make trouble: huge, multi-line, terminal escapes, a secret.
nasty_text = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=20).map(lambda t: t * 5000),
    st.sampled_from(
        [
            "",
            " ",
            "\x1b[2J\x1b[H",
            "line one\nline two",
            "http://[::1",
            "https://user:" + SECRET + "@gitlab.example.com",
            "ftp://user:" + SECRET + "@gitlab.example.com",
            "~nobody-such-user/token",
            "a\x00b",
            SECRET,
        ]
    ),
)
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.integers(min_value=2**64, max_value=2**2000),
    st.sampled_from([0, -1, 1e-9, 1e308, 10**400, 601, 86_401]),
)
scalars = st.one_of(numbers, nasty_text, st.booleans())
toml_values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(["a", "url", "x"]), inner)
    ),
    max_leaves=6,
)


def toml(value: Any) -> str:
    """A value as TOML text (inline tables and arrays), as a person might write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)  # JSON string escapes are TOML basic-string escapes
    if isinstance(value, list):
        return "[" + ", ".join(toml(item) for item in value) + "]"
    return "{" + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + "}"


#: Every key a file may set: (table, key); "" is the top level.
KEYS = [
    ("", "read_only"),
    ("gitlab", "url"),
    ("gitlab", "timeout"),
    ("gitlab", "token_env"),
    ("gitlab", "token_file"),
    ("kubernetes", "kubeconfig"),
    ("prometheus", "url"),
    ("prometheus", "timeout"),
    ("poll", "gitlab_active"),
    ("poll", "gitlab_idle"),
    ("poll", "prometheus"),
    ("poll", "history"),
    ("poll", "flags"),
    ("service", "name"),
    ("service", "gitlab_project"),
    ("service", "ref"),
    ("service", "migration_paths"),
    ("environment", "name"),
    ("environment", "threshold"),
    ("environment", "guard_samples"),
    ("environment", "read_only"),
    ("environment", "rollout"),
    ("environment", "namespace"),
    ("environment", "success_rate"),
    ("environment", "kube_context"),
    ("environment", "unknown_key"),
]


def config_text(changes: dict[tuple[str, str], Any]) -> str:
    """A configuration that would load, with ``changes`` written over it."""
    tables: dict[str, dict[str, str]] = {
        "": {},
        "gitlab": {"url": '"https://gitlab.example.com"', "token_file": '"token"'},
        "kubernetes": {},
        "prometheus": {"url": '"http://prometheus:9090"'},
        "poll": {},
        "service": {"name": '"checkout"', "gitlab_project": '"shop/checkout"'},
        "environment": {"name": '"production"', "rollout": '"checkout"'},
    }
    for (table, key), value in changes.items():
        tables[table][key] = toml(value)
        if (table, key) == ("gitlab", "token_env"):
            tables["gitlab"].pop("token_file", None)
    lines = [f"{k} = {v}" for k, v in tables[""].items()]
    for name in ("gitlab", "kubernetes", "prometheus", "poll"):
        lines += [f"[{name}]", *(f"{k} = {v}" for k, v in tables[name].items())]
    lines += ["[[service]]", *(f"{k} = {v}" for k, v in tables["service"].items())]
    lines += ["[[service.environment]]", *(f"{k} = {v}" for k, v in tables["environment"].items())]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def directory() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="cockpit-bad-input-") as name:
        path = Path(name)
        token = path / "token"
        token.write_text(SECRET + "\n")
        token.chmod(0o600)
        yield path


def status_output(path: Path) -> tuple[int, str, str]:
    """``cockpit status --config PATH --env nowhere`` in-process: exit status, out, err.

    ``--env nowhere``: a file that loads stops there too, before any network.
    """
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["status", "--config", str(path), "--env", "nowhere"])
    return status, out.getvalue(), err.getvalue()


def assert_one_clear_line(status: int, out: str, err: str) -> None:
    assert status == cli.EXIT_USAGE
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith("cockpit: error: ")
    assert "Traceback" not in line
    assert SECRET not in line
    assert len(line) <= LINE_LIMIT, len(line)
    assert "\x1b" not in line


# --------------------------------------------------------------------------- configuration


@FEW
@given(changes=st.dictionaries(st.sampled_from(KEYS), toml_values, min_size=1, max_size=3))
def test_any_bad_value_is_one_clear_line(directory: Path, changes: dict) -> None:
    path = directory / "cockpit.toml"
    path.write_text(config_text(changes), encoding="utf-8")
    assert_one_clear_line(*status_output(path))


@FEW
@given(
    position=st.floats(min_value=0, max_value=1),
    garbage=st.binary(min_size=1, max_size=4).filter(lambda b: not _is_utf8(b)),
)
def test_invalid_utf8_anywhere_is_one_clear_line(
    directory: Path, position: float, garbage: bytes
) -> None:
    data = config_text({}).encode()
    at = int(position * len(data))
    path = directory / "cockpit.toml"
    path.write_bytes(data[:at] + garbage + data[at:])
    status, out, err = status_output(path)
    assert_one_clear_line(status, out, err)
    assert "is not valid UTF-8 (byte 0x" in err


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --------------------------------------------------------------------------- payloads

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=20),
        st.sampled_from(["notanint", "x" * 5000, SECRET, "2026-13-45T99:00:00Z"]),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["id", "status", "name", "stage", "value", "values", "spec"]), inner
        ),
    ),
    max_leaves=8,
)

PIPELINE = {
    "id": 42,
    "iid": 7,
    "status": "running",
    "ref": "main",
    "sha": "a" * 40,
    "source": "push",
    "updated_at": "2026-11-26T03:00:00Z",
    "web_url": "https://gitlab.example.com/shop/checkout/-/pipelines/42",
}


def mutated(base: Any, data: st.DataObject) -> Any:
    """``base`` with one value somewhere inside it replaced by a random JSON value."""
    copied = copy.deepcopy(base)
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        items = node.items() if isinstance(node, dict) else enumerate(node)
        for key, value in items:
            paths.append((node, key))
            if isinstance(value, dict | list) and value:
                walk(value)

    walk(copied)
    node, key = data.draw(st.sampled_from(paths))
    node[key] = data.draw(json_values)
    return copied


class _Answer(requests.adapters.BaseAdapter):
    """A requests transport: every request gets ``body`` as JSON, with GitLab's headers."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.body = body

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(self.body).encode()
        response.url = request.url or ""
        response.request = request
        return response

    def close(self) -> None:
        pass


def gitlab_answering(body: Any) -> GitLabSource:
    session = requests.Session()
    session.mount("https://", _Answer(body))
    return GitLabSource(
        GitLabConfig(url="https://gitlab.example.com", token=Secret(SECRET)), session=session
    )


def assert_short_source_error(error: SourceError, source: SourceName) -> None:
    """One line of bounded length; for GitLab, never the token (the other systems do not
    know it: what they say is theirs to say)."""
    text = str(error)
    assert error.source is source
    assert "\n" not in text and "Traceback" not in text
    assert source is not SourceName.GITLAB or SECRET not in text
    assert len(text) <= LINE_LIMIT, len(text)


async def _gitlab_reads(body: Any) -> None:
    gitlab = gitlab_answering(body)
    try:
        for read in (
            lambda: gitlab.pipeline("shop/checkout", "main"),
            lambda: gitlab.deployments("shop/checkout", "production"),
            lambda: gitlab.feature_flags("shop/checkout"),
            lambda: gitlab.play_job("shop/checkout", 7),
        ):
            try:
                await read()
            except SourceError as error:
                assert_short_source_error(error, SourceName.GITLAB)
    finally:
        await gitlab.close()


@FEW
@given(data=st.data())
def test_any_gitlab_answer_is_read_or_is_a_short_gitlab_error(data: st.DataObject) -> None:
    body = data.draw(
        st.one_of(
            json_values,
            st.builds(lambda: [PIPELINE]).map(lambda listed: mutated(listed, data)),
        )
    )
    asyncio.run(_gitlab_reads(body))


async def _prometheus_query(body: Any) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    prometheus = PrometheusSource(
        PrometheusConfig(url="http://prometheus.test"), transport=httpx.MockTransport(answer)
    )
    try:
        try:
            await prometheus.query("sum(rate(http_requests_total[5m]))")
        except SourceError as error:
            assert_short_source_error(error, SourceName.PROMETHEUS)
    finally:
        await prometheus.close()


VECTOR = {
    "status": "success",
    "data": {"resultType": "vector", "result": [{"metric": {}, "value": [1764126000, "0.99"]}]},
}


@FEW
@given(data=st.data())
def test_any_prometheus_answer_is_a_number_or_a_short_prometheus_error(
    data: st.DataObject,
) -> None:
    body = data.draw(st.one_of(json_values, st.just(VECTOR).map(lambda v: mutated(v, data))))
    asyncio.run(_prometheus_query(body))


@FEW
@given(data=st.data(), kind=st.sampled_from(["Rollout", "Deployment"]))
def test_any_workload_object_parses_or_is_a_short_kube_error(
    data: st.DataObject, kind: str
) -> None:
    base = rollout_obj("checkout", 20) if kind == "Rollout" else deployment_obj("checkout")
    obj = mutated(base, data)
    try:
        parse_workload(kind, "checkout", obj, [], [])
    except SourceError as error:
        assert_short_source_error(error, SourceName.KUBE)


KUBECONFIG_LINES = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c",
    "  cluster: {server: https://127.0.0.1:6443}",
    "users:",
    "- name: u",
    f"  user: {{token: {SECRET}}}",
    f"    token: {SECRET}",
    "contexts: [unclosed",
    "contexts: 5",
    "current-context: c",
    "\tindented: with a tab",
    ": :",
    "- - -",
    '"unclosed',
    "&anchor *alias",
]


@FEW
@given(lines=st.lists(st.sampled_from(KUBECONFIG_LINES), max_size=12))
def test_any_kubeconfig_loads_or_is_one_line_without_its_contents(
    directory: Path, lines: list[str]
) -> None:
    path = directory / "kubeconfig"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        kubeconfig.load(path)
    except kubeconfig.KubeconfigUnreadable as error:
        text = str(error)
        assert text.startswith(f"kubeconfig {path}: ")
        assert text.endswith("; fix the file or point [kubernetes] kubeconfig at another")
        assert "\n" not in text and SECRET not in text
        assert len(text) <= LINE_LIMIT
