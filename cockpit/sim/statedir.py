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
from collections.abc import Iterable
from pathlib import Path

from cockpit.sim.scenario import EnvSpec, Scenario

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


def _environment_block(env: EnvSpec, project: str) -> Iterable[str]:
    workload_key = "rollout" if env.kind == "Rollout" else "deployment"
    yield "  [[service.environment]]"
    yield f"  name = {_toml_string(env.environment)}"
    yield f"  gitlab_environment = {_toml_string(env.environment)}"
    yield f"  kube_context = {_toml_string(KUBE_CONTEXT)}"
    yield f"  namespace = {_toml_string(env.namespace)}"
    yield f"  {workload_key} = {_toml_string(env.service)}"
    yield f"  success_rate = {_toml_string(success_rate_query(env.service, env.environment))}"
    yield f"  latency = {_toml_string(latency_query(env.service, env.environment))}"
    yield "  threshold = 0.99"
    if env.read_only:
        yield "  read_only = true"
    yield ""


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
    for service in scenario.services:
        lines += [
            "[[service]]",
            f"name = {_toml_string(service.name)}",
            f"gitlab_project = {_toml_string(service.project_path)}",
            "",
        ]
        for env in service.environments:
            lines += list(_environment_block(env, service.project_path))
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
