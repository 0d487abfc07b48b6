"""Short configurations: [defaults], placeholders and shared environment lists.

A short file must load to exactly the configuration its long form spells out, and a
mistake in a default must still name the file, the key where it is written and a fix.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit import config
from cockpit.errors import ConfigError
from cockpit.sim import scenario, statedir

TOKEN = "glpat-very-secret-token-value"


def load(directory: Path, text: str) -> config.Config:
    path = directory / "cockpit.toml"
    path.write_text(text, encoding="utf-8")
    return config.load(path, environ={"GITLAB_TOKEN": TOKEN}, cwd=directory)


def error(directory: Path, text: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load(directory, text)
    message = str(caught.value)
    assert str(directory / "cockpit.toml") in message and TOKEN not in message
    return message


def long_form(world: scenario.Scenario, gitlab_url: str, prometheus_url: str) -> str:
    """The simulator's file as it was written before [defaults]: every environment spelled out."""
    q = json.dumps
    lines = [
        'audit_log = "audit.jsonl"',
        f"[gitlab]\nurl = {q(gitlab_url)}\ntoken_file = 'gitlab-token'",
        "[kubernetes]\nkubeconfig = 'kubeconfig'",
        f"[prometheus]\nurl = {q(prometheus_url)}",
    ]
    for service in world.services:
        lines += ["[[service]]", f"name = {q(service.name)}"]
        lines.append(f"gitlab_project = {q(service.project_path)}")
        for env in service.environments:
            workload = "rollout" if env.kind == "Rollout" else "deployment"
            lines += [
                "[[service.environment]]",
                f"name = {q(env.environment)}",
                f"gitlab_environment = {q(env.environment)}",
                f"kube_context = {q(statedir.KUBE_CONTEXT)}",
                f"namespace = {q(env.namespace)}",
                f"{workload} = {q(env.service)}",
                f"success_rate = {q(statedir.success_rate_query(env.service, env.environment))}",
                f"latency = {q(statedir.latency_query(env.service, env.environment))}",
                "threshold = 0.99",
            ]
    return "\n".join(lines) + "\n"


def test_simulator_file_is_short_and_loads_like_the_long_form(tmp_path: Path) -> None:
    world = scenario.load("demo")
    (tmp_path / "kubeconfig").write_text(statedir.kubeconfig("http://127.0.0.1:1", "kube-t"))
    (tmp_path / "gitlab-token").write_text(TOKEN + "\n")
    urls = {"gitlab_url": "http://127.0.0.1:8080", "prometheus_url": "http://127.0.0.1:9090"}
    short = statedir.cockpit_toml(world, **urls)

    assert len(short.splitlines()) < 50
    assert 'audit_log = "audit.jsonl"' in short.splitlines()
    assert len(world.services) == 12 and len(world.envs()) == 24
    assert load(tmp_path, short) == load(tmp_path, long_form(world, **urls))


def test_every_scenario_file_loads_like_its_long_form(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text(statedir.kubeconfig("http://127.0.0.1:1", "kube-t"))
    (tmp_path / "gitlab-token").write_text(TOKEN + "\n")
    urls = {"gitlab_url": "http://127.0.0.1:8080", "prometheus_url": "http://127.0.0.1:9090"}
    for name in scenario.available():
        world = scenario.load(name)
        short = statedir.cockpit_toml(world, **urls)
        assert load(tmp_path, short) == load(tmp_path, long_form(world, **urls)), name


BASE = """
[gitlab]
url = "https://gitlab.example.com"
"""


def test_defaults_placeholders_and_overrides(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        BASE
        + """
[defaults]
gitlab_project = "shop/{service}"
environments = ["staging", "production"]

[defaults.environment]
namespace = "{service}-{environment}"
rollout = "{service}"
success_rate = 'ok{job="{rollout}",namespace="{namespace}"}'
threshold = 0.99

[defaults.environment.production]
threshold = 0.995

[[service]]
name = "checkout"

[[service]]
name = "ledger"
gitlab_project = "finance/ledger"
deployment = "ledger-api"
environments = ["production"]

  [[service.environment]]
  name = "production"
  threshold = 0.9
  read_only = true

  [[service.environment]]
  name = "canary"
  namespace = "ledger-canary"
""",
    )
    checkout = loaded.service("checkout")
    assert checkout.gitlab_project == "shop/checkout"
    assert [e.name for e in checkout.environments] == ["staging", "production"]
    staging, production = checkout.environments
    assert staging.namespace == "checkout-staging"
    assert (staging.workload_kind, staging.workload_name) == ("Rollout", "checkout")
    assert staging.success_rate == 'ok{job="checkout",namespace="checkout-staging"}'
    assert (staging.threshold, production.threshold) == (0.99, 0.995)

    ledger = loaded.service("ledger")
    assert ledger.gitlab_project == "finance/ledger"
    assert [e.name for e in ledger.environments] == ["production", "canary"]
    prod, canary = ledger.environments
    # The service's deployment replaces the default rollout; its block wins over both.
    assert (prod.workload_kind, prod.workload_name) == ("Deployment", "ledger-api")
    assert (prod.threshold, prod.read_only) == (0.9, True)
    assert canary.namespace == "ledger-canary"
    assert canary.success_rate == 'ok{job="ledger-api",namespace="ledger-canary"}'


def test_existing_long_configs_are_unchanged(tmp_path: Path) -> None:
    loaded = load(
        tmp_path,
        BASE
        + """
[[service]]
name = "checkout"
gitlab_project = "shop/checkout"
  [[service.environment]]
  name = "production"
  namespace = "checkout"
  rollout = "checkout"
""",
    )
    (env,) = loaded.service("checkout").environments
    assert env.success_rate == config.default_success_rate_query("checkout", "production")
    assert (env.namespace, env.workload_name, env.threshold) == ("checkout", "checkout", 0.99)


@pytest.mark.parametrize(
    ("text", "key", "fix"),
    [
        (
            "[defaults.environment]\nthreshold = 7\n",
            "defaults.environment.threshold",
            "threshold = 0.99",
        ),
        (
            "[defaults.environment.production]\nthresold = 0.9\n",
            "defaults.environment.production.thresold",
            "did you mean 'threshold'?",
        ),
        ('[defaults]\nenvironments = "production"\n', "defaults.environments", "environments = ["),
        (
            '[defaults.environment]\nsuccess_rate = "x{namespace}"\n',
            "service[0].environments.success_rate",
            'namespace = "{service}"',
        ),
        ("[defaults]\nrefs = 1\n", "defaults.refs", "did you mean 'ref'?"),
    ],
)
def test_mistakes_in_defaults_name_key_and_fix(
    tmp_path: Path, text: str, key: str, fix: str
) -> None:
    service = '\n[[service]]\nname = "a"\ngitlab_project = "g/a"\nenvironments = ["production"]\n'
    message = error(tmp_path, BASE + service + text)
    assert key in message and fix in message, message


def test_a_service_without_project_or_environments_says_how(tmp_path: Path) -> None:
    message = error(tmp_path, BASE + '[[service]]\nname = "a"\n')
    assert "service[0].gitlab_project" in message
    message = error(tmp_path, BASE + '[[service]]\nname = "a"\ngitlab_project = "g/a"\n')
    assert "service[0].environment" in message and "environments = [...]" in message


def test_an_unknown_context_in_defaults_is_named_there(tmp_path: Path) -> None:
    (tmp_path / "kubeconfig").write_text(statedir.kubeconfig("http://127.0.0.1:1", "kube-t"))
    text = (
        BASE
        + '[kubernetes]\nkubeconfig = "kubeconfig"\n'
        + '[defaults.environment]\nkube_context = "cockpit-sin"\n'
        + '[[service]]\nname = "a"\ngitlab_project = "g/a"\nenvironments = ["production"]\n'
    )
    message = error(tmp_path, text)
    assert "defaults.environment.kube_context" in message
    assert 'kube_context = "cockpit-sim"' in message
