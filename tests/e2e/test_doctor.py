"""``cockpit doctor`` against the simulator, as a person runs it.

All good with the simulator's own file; with a read-only Kubernetes user it names the
missing permission (patch on rollouts/status in a namespace) and exits 1; with a
``read_api`` GitLab token it names the missing ``api`` scope. No token in any output.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cockpit.sim.server import Simulator
from cockpit.sim.statedir import kubeconfig
from tests.helpers import REPO


def cockpit(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    env.pop("COCKPIT_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "cockpit", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def variant(directory: Path, tmp_path: Path, *, gitlab_token: str = "", kube: str = "") -> Path:
    """The simulator's configuration with another GitLab token or kubeconfig."""
    text = (directory / "cockpit.toml").read_text()
    token = directory / "gitlab-token"
    if gitlab_token:
        token = tmp_path / "token"
        token.write_text(gitlab_token + "\n")
        token.chmod(0o600)
    kube_file = directory / "kubeconfig"
    if kube:
        kube_file = tmp_path / "kubeconfig"
        kube_file.write_text(kube)
    text = text.replace('token_file = "gitlab-token"', f'token_file = "{token}"')
    text = text.replace('kubeconfig = "kubeconfig"', f'kubeconfig = "{kube_file}"')
    text = text.replace('audit_log = "audit.jsonl"', f'audit_log = "{tmp_path / "audit.jsonl"}"')
    path = tmp_path / "cockpit.toml"
    path.write_text(text)
    return path


def no_secrets(sim: Simulator, *texts: str) -> None:
    tokens = sim.tokens
    for secret in (tokens.gitlab, tokens.gitlab_read_api, tokens.kube, tokens.kube_read_only):
        for text in texts:
            assert secret not in text


def test_doctor_passes_against_the_simulator(world: tuple[Simulator, Path]) -> None:
    sim, directory = world
    done = cockpit("doctor", "--config", str(directory / "cockpit.toml"))
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[-1] == "all checks passed"
    assert any("token scopes: api" in line for line in lines)
    assert any("namespace production: permissions: may" in line for line in lines)
    assert any("success rate of checkout/production: returns data" in line for line in lines)
    assert any("clock: within" in line for line in lines)
    no_secrets(sim, done.stdout, done.stderr)

    as_json = cockpit("doctor", "--json", "--config", str(directory / "cockpit.toml"))
    body = json.loads(as_json.stdout)
    assert as_json.returncode == 0 and body["ok"] is True
    assert {c["source"] for c in body["checks"]} == {"gitlab", "kubernetes", "prometheus"}


def test_doctor_names_the_permission_a_read_only_kube_user_lacks(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    sim, directory = world
    assert sim.urls is not None and sim.kube_certificate is not None
    viewer = kubeconfig(
        sim.urls.kube, sim.tokens.kube_read_only, certificate_authority=sim.kube_certificate.pem
    )
    done = cockpit("doctor", "--config", str(variant(directory, tmp_path, kube=viewer)))
    assert done.returncode == 1, done.stdout + done.stderr
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert any(
        "may not patch rollouts/status (argoproj.io) in namespace staging" in line
        for line in failing
    ), done.stdout
    assert any("namespace production" in line for line in failing)
    assert "fix: grant it with a Role in staging" in done.stdout
    assert not any("get" in line.split(":", 2)[-1].split("(")[0] for line in failing)
    no_secrets(sim, done.stdout, done.stderr)


def test_doctor_names_the_missing_api_scope_of_a_read_api_token(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    sim, directory = world
    config = variant(directory, tmp_path, gitlab_token=sim.tokens.gitlab_read_api)
    done = cockpit("doctor", "--config", str(config))
    assert done.returncode == 1, done.stdout + done.stderr
    (failing,) = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert "token scopes: read_api" in failing and "not write" in failing
    assert "fix: create a token with the api scope" in done.stdout
    no_secrets(sim, done.stdout, done.stderr)

    # The same token is enough for a read-only cockpit.
    config.write_text("read_only = true\n" + config.read_text())
    assert cockpit("doctor", "--config", str(config)).returncode == 0


def test_doctor_unreachable_gitlab_is_one_failing_line_with_a_fix(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    _, directory = world
    config = variant(directory, tmp_path)
    text = config.read_text()
    start = text.index('url = "http://127.0.0.1:')
    end = text.index("\n", start)
    config.write_text(text[:start] + 'url = "http://127.0.0.1:9"' + text[end:])
    done = cockpit("doctor", "--config", str(config))
    assert done.returncode == 1
    gitlab = [line for line in done.stdout.splitlines() if " gitlab " in line]
    assert len(gitlab) == 1 and gitlab[0].startswith("FAIL") and "cannot connect" in gitlab[0]


def test_doctor_names_an_untrusted_certificate_and_a_refused_token(
    world: tuple[Simulator, Path], tmp_path: Path
) -> None:
    sim, directory = world
    assert sim.urls is not None
    untrusted = kubeconfig(sim.urls.kube, sim.tokens.kube)  # no certificate authority
    config = variant(directory, tmp_path, gitlab_token="glpat-not-a-real-one", kube=untrusted)
    done = cockpit("doctor", "--config", str(config))
    assert done.returncode == 1
    failing = [line for line in done.stdout.splitlines() if line.startswith("FAIL")]
    assert len(failing) == 2, done.stdout
    assert "the token was refused (401)" in failing[0]
    assert "TLS: the server's certificate is not trusted" in failing[1]
    assert "fix: set certificate-authority(-data) of context cockpit-sim's cluster" in done.stdout
    assert "glpat-not-a-real-one" not in done.stdout + done.stderr
