"""The files ``cockpit sim --state-dir DIR`` writes so that real tools can find the world.

* ``kubeconfig``: one context, ``cockpit-sim``, pointing at the simulated apiserver
  with a bearer token (kubectl, lightkube and the kubernetes client all read it).
* ``gitlab-token``: the read-write GitLab token (mode 0600).
* ``cockpit.toml``: a complete cockpit configuration for every simulated service.
* ``env``: shell lines (``GITLAB_URL=…``, ``GITLAB_TOKEN=…``, ``KUBECONFIG=…``,
  ``PROMETHEUS_URL=…``, ``COCKPIT_SIM_ADMIN=…``) for ``set -a; . DIR/env``.

Files are written to a temporary name and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from cockpit.sim.scenario import Scenario, ServiceSpec

KUBE_CONTEXT = "cockpit-sim"


def success_rate_query(service: str, environment: str) -> str:
    """The article's success-rate query, guarded so that all-failing reads 0, not "no data"."""
    selector = f'service="{service}",environment="{environment}"'
    return (
        f'(sum(rate(http_requests_total{{{selector},status=~"2.."}}[5m])) or vector(0))'
        f" / sum(rate(http_requests_total{{{selector}}}[5m]))"
    )


def latency_query(service: str, environment: str, quantile: float = 0.99) -> str:
    selector = f'service="{service}",environment="{environment}"'
    return (
        f"histogram_quantile({quantile}, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{selector}}}[5m])))"
    )


def kubeconfig(server: str, token: str, *, certificate_authority: bytes | None = None) -> str:
    """A kubeconfig (JSON is valid YAML) with one context and a bearer token.

    For an ``https://`` server give the PEM of its ``certificate_authority``. (kubectl
    sends the token only over TLS; against ``http://`` it sends no credentials.)
    """
    cluster: dict[str, str] = {"server": server}
    if certificate_authority is not None:
        cluster["certificate-authority-data"] = base64.b64encode(certificate_authority).decode()
    return json.dumps(
        {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": KUBE_CONTEXT, "cluster": cluster}],
            "users": [{"name": f"{KUBE_CONTEXT}-admin", "user": {"token": token}}],
            "contexts": [
                {
                    "name": KUBE_CONTEXT,
                    "context": {
                        "cluster": KUBE_CONTEXT,
                        "user": f"{KUBE_CONTEXT}-admin",
                        "namespace": "production",
                    },
                }
            ],
            "current-context": KUBE_CONTEXT,
            "preferences": {},
        },
        indent=2,
    )


def _toml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _toml_literal(value: str) -> str:
    """A TOML literal string (no escapes: PromQL's quotes stay readable) when it can be one."""
    if "'" in value or "\n" in value:
        return _toml_string(value)
    return f"'{value}'"


def _inline(values: dict[str, object]) -> str:
    """A TOML inline table of strings and booleans, keys in the given order."""
    parts = [
        f"{key} = {'true' if value is True else _toml_string(str(value))}"
        for key, value in values.items()
    ]
    return "{ " + ", ".join(parts) + " }"


def _service_line(service: ServiceSpec, shared: tuple[str, ...], group: str | None) -> str:
    """One service as an inline table: only what the shared defaults do not say."""
    values: dict[str, object] = {"name": service.name}
    if group is None:
        values["gitlab_project"] = service.project_path
    names = tuple(env.environment for env in service.environments)
    if names != shared:
        values["environments"] = "[...]"  # replaced below: a list, not a string
    kinds = {env.kind for env in service.environments}
    if kinds == {"Deployment"}:
        values["deployment"] = "{service}"
    line = _inline(values)
    if names != shared:
        line = line.replace('"[...]"', "[" + ", ".join(_toml_string(n) for n in names) + "]")
    overrides = []
    for env in service.environments:
        own: dict[str, object] = {"name": env.environment}
        if env.namespace != env.environment:
            own["namespace"] = env.namespace
        if len(kinds) > 1 and env.kind == "Deployment":
            own["deployment"] = "{service}"
        if env.read_only:
            own["read_only"] = True
        if len(own) > 1:
            overrides.append(_inline(own))
    if overrides:
        line = line[: -len(" }")] + ", environment = [" + ", ".join(overrides) + "] }"
    return line


#: cockpit's default polling intervals (seconds of real time), as its config documents them.
DEFAULT_POLL = {
    "gitlab_active": 3.0,
    "gitlab_idle": 30.0,
    "prometheus": 30.0,
    "prometheus_active": 5.0,
    "history": 300.0,
    "flags": 300.0,
}


def poll_for_time_scale(scale: float) -> dict[str, float] | None:
    """Polling intervals for a world sped up ``scale`` times (None: the defaults suit it).

    A five-minute pause that takes ten seconds deserves a screen that looks more often,
    but never more than once a second per poller.
    """
    if scale <= 1:
        return None
    factor = min(scale, 10.0)
    return {key: round(max(1.0, value / factor), 1) for key, value in DEFAULT_POLL.items()}


def cockpit_toml(
    scenario: Scenario,
    *,
    gitlab_url: str,
    prometheus_url: str,
    token_file: str = "gitlab-token",
    kubeconfig_file: str = "kubeconfig",
    poll: dict[str, float] | None = None,
) -> str:
    lines = [
        f"# cockpit configuration for the simulated world (scenario {scenario.name!r}).",
        "# Written by `cockpit sim`; paths are relative to this file.",
        "",
        "# Writes to the simulated world are recorded here, never in your real audit log.",
        'audit_log = "audit.jsonl"',
        "",
        "[gitlab]",
        f"url = {_toml_string(gitlab_url)}",
        f"token_file = {_toml_string(token_file)}",
        "",
        "[kubernetes]",
        f"kubeconfig = {_toml_string(kubeconfig_file)}",
        "",
        "[prometheus]",
        f"url = {_toml_string(prometheus_url)}",
        "",
    ]
    if poll:
        lines += ["[poll]", *(f"{key} = {value}" for key, value in poll.items()), ""]
    groups = {service.group for service in scenario.services}
    group = groups.pop() if len(groups) == 1 else None
    first = scenario.services[0].environments if scenario.services else ()
    shared = tuple(env.environment for env in first)
    lines[5:5] = [
        "",
        "# Each service takes what it does not say from [defaults] below.",
        "service = [",
        *(f"  {_service_line(service, shared, group)}," for service in scenario.services),
        "]",
    ]
    lines += ["[defaults]"]
    if group is not None:
        lines.append(f"gitlab_project = {_toml_string(group + '/{service}')}")
    lines += [
        "environments = [" + ", ".join(_toml_string(n) for n in shared) + "]",
        "",
        "[defaults.environment]",
        f"kube_context = {_toml_string(KUBE_CONTEXT)}",
        'namespace = "{environment}"',
        'rollout = "{service}"',
        f"success_rate = {_toml_literal(success_rate_query('{service}', '{environment}'))}",
        f"latency = {_toml_literal(latency_query('{service}', '{environment}'))}",
        "threshold = 0.99",
    ]
    return "\n".join(lines)


def env_file(
    *,
    gitlab_url: str,
    gitlab_token: str,
    kubeconfig_path: Path,
    prometheus_url: str,
    admin_url: str,
) -> str:
    return (
        f"GITLAB_URL={gitlab_url}\n"
        f"GITLAB_TOKEN={gitlab_token}\n"
        f"KUBECONFIG={kubeconfig_path}\n"
        f"PROMETHEUS_URL={prometheus_url}\n"
        f"COCKPIT_SIM_ADMIN={admin_url}\n"
    )


def _write(path: Path, text: str, mode: int = 0o644) -> None:
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.chmod(temporary, mode)
    os.replace(temporary, path)


def write_state_dir(
    directory: Path,
    scenario: Scenario,
    *,
    gitlab_url: str,
    kube_url: str,
    prometheus_url: str,
    admin_url: str,
    gitlab_token: str,
    kube_token: str,
    kube_certificate_authority: bytes | None = None,
    poll: dict[str, float] | None = None,
) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    directory = directory.resolve()
    _write(
        directory / "kubeconfig",
        kubeconfig(kube_url, kube_token, certificate_authority=kube_certificate_authority),
        0o600,
    )
    _write(directory / "gitlab-token", gitlab_token + "\n", 0o600)
    _write(
        directory / "cockpit.toml",
        cockpit_toml(scenario, gitlab_url=gitlab_url, prometheus_url=prometheus_url, poll=poll),
    )
    # env last: its presence says the others are complete.
    _write(
        directory / "env",
        env_file(
            gitlab_url=gitlab_url,
            gitlab_token=gitlab_token,
            kubeconfig_path=directory / "kubeconfig",
            prometheus_url=prometheus_url,
            admin_url=admin_url,
        ),
        0o600,
    )
