"""The configuration file: discovery order, every kind of mistake, and the simulator's file.

Each mistake must come back as one ConfigError that names the file, the dotted key, what
is wrong and an example fix; no message or repr may ever contain the GitLab token.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from cockpit import config
from cockpit.errors import ConfigError, UsageError
from cockpit.model import EnvKey
from cockpit.sim import scenario, statedir

TOKEN = "glpat-very-secret-token-value"

MINIMAL = """
[gitlab]
url = "https://gitlab.example.com"

[[service]]
name = "checkout"
gitlab_project = "shop/checkout"

  [[service.environment]]
  name = "production"
  namespace = "checkout"
  rollout = "checkout"
"""


def write(directory: Path, text: str, name: str = "cockpit.toml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def load_text(tmp_path: Path, text: str, **environ: str) -> config.Config:
    path = write(tmp_path, text)
    return config.load(path, environ={"GITLAB_TOKEN": TOKEN, **environ}, cwd=tmp_path)


def error_for(tmp_path: Path, text: str, **environ: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_text(tmp_path, text, **environ)
    message = str(caught.value)
    assert str(tmp_path / "cockpit.toml") in message, message
    assert TOKEN not in message
    return message


def kubeconfig(directory: Path, *contexts: str) -> Path:
    path = directory / "kubeconfig"
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:6443"}}],
                "users": [{"name": "u", "user": {"token": "kube-token"}}],
                "contexts": [
                    {"name": name, "context": {"cluster": "c", "user": "u"}} for name in contexts
                ],
                "current-context": contexts[0],
            }
        )
    )
    return path


# --------------------------------------------------------------------------- good files


def test_minimal_file_gets_documented_defaults(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, MINIMAL)
    assert loaded.read_only is False
    assert loaded.gitlab is not None
    assert loaded.gitlab.url == "https://gitlab.example.com"
    assert loaded.gitlab.host == "gitlab.example.com"
    assert loaded.gitlab.timeout == 10.0
    assert loaded.gitlab.token.reveal() == TOKEN
    assert loaded.prometheus is None
    assert loaded.kubernetes.kubeconfig is None
    assert loaded.poll == config.PollConfig()
    service = loaded.service("checkout")
    assert service.ref == "main"
    assert "**/db/migrate/*.rb" in service.migration_paths
    assert "**/prisma/migrations/*/migration.sql" in service.migration_paths
    env = service.environment("production")
    assert env.key == EnvKey("checkout", "production")
    assert env.gitlab_environment == "production"
    assert (env.workload_kind, env.workload_name) == ("Rollout", "checkout")
    assert env.kube_context is None
    assert env.threshold == 0.99
    assert env.guard_samples == 3
    assert (env.read_only, env.auto_abort) == (False, False)
    assert env.latency is None
    assert 'service="checkout",environment="production"' in env.success_rate
    assert "or vector(0)" in env.success_rate
    assert loaded.environments() == ((service, env),)


def test_readme_example_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = readme.split("## Configuration", 1)[1].split("```toml", 1)[1].split("```", 1)[0]
    kube = kubeconfig(tmp_path, "prod-eu")
    block = block.replace('kubeconfig = "~/.kube/config"', f'kubeconfig = "{kube}"')
    loaded = load_text(tmp_path, block)
    env = loaded.service("checkout").environment("production")
    assert env.kube_context == "prod-eu"
    assert env.success_rate.startswith("(sum(rate(http_requests_total")
    assert loaded.prometheus == config.PrometheusConfig("http://prometheus.monitoring:9090", 5.0)
    assert loaded.kubernetes.kubeconfig == kube


def test_deployment_workload_and_overrides(tmp_path: Path) -> None:
    text = MINIMAL.replace('rollout = "checkout"', 'deployment = "checkout-web"') + (
        "  threshold = 0.95\n  guard_samples = 5\n  read_only = true\n  auto_abort = true\n"
        '  gitlab_environment = "prod"\n'
    )
    env = load_text(tmp_path, text).service("checkout").environment("production")
    assert (env.workload_kind, env.workload_name) == ("Deployment", "checkout-web")
    assert (env.threshold, env.guard_samples, env.read_only, env.auto_abort) == (
        0.95,
        5,
        True,
        True,
    )
    assert env.gitlab_environment == "prod"


def test_token_file_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "token").write_text(f"  {TOKEN}\n")
    text = MINIMAL.replace(
        'url = "https://gitlab.example.com"',
        'url = "https://gitlab.example.com/"\ntoken_file = "secrets/token"',
    )
    loaded = config.load(write(tmp_path, text), environ={}, cwd=Path("/"))
    assert loaded.gitlab is not None
    assert loaded.gitlab.token.reveal() == TOKEN
    assert loaded.gitlab.url == "https://gitlab.example.com"


def test_simulator_generated_file_loads(tmp_path: Path) -> None:
    world = scenario.load("demo")
    (tmp_path / "kubeconfig").write_text(statedir.kubeconfig("http://127.0.0.1:1", "kube-t"))
    (tmp_path / "gitlab-token").write_text(TOKEN + "\n")
    text = statedir.cockpit_toml(
        world, gitlab_url="http://127.0.0.1:8080", prometheus_url="http://127.0.0.1:9090"
    )
    loaded = config.load(write(tmp_path, text), environ={}, cwd=tmp_path)
    assert {s.name for s in loaded.services} == {s.name for s in world.services}
    assert len(loaded.environments()) == len(world.envs())
    for spec in world.envs():
        env = loaded.service(spec.service).environment(spec.environment)
        assert env.kube_context == statedir.KUBE_CONTEXT
        assert env.namespace == spec.namespace
        assert (env.workload_kind, env.workload_name) == (spec.kind, spec.service)
        assert env.read_only == spec.read_only
    assert loaded.gitlab is not None and loaded.gitlab.token.reveal() == TOKEN
    assert loaded.kubernetes.kubeconfig == tmp_path / "kubeconfig"
    # Writes to the simulated world (cockpit demo, cockpit sim) are recorded beside it,
    # never in the person's real audit log.
    assert loaded.audit_log == tmp_path / "audit.jsonl"


def test_audit_log_is_relative_to_the_file_and_defaults_to_none(tmp_path: Path) -> None:
    assert load_text(tmp_path, MINIMAL).audit_log is None
    loaded = load_text(tmp_path, 'audit_log = "logs/writes.jsonl"\n' + MINIMAL)
    assert loaded.audit_log == tmp_path / "logs" / "writes.jsonl"


# --------------------------------------------------------------------------- discovery


def test_discovery_order(tmp_path: Path) -> None:
    explicit = write(tmp_path, MINIMAL, "explicit.toml")
    named = write(tmp_path, MINIMAL, "named.toml")
    cwd = tmp_path / "work"
    cwd.mkdir()
    local = write(cwd, MINIMAL)
    xdg = tmp_path / "xdg"
    (xdg / "cockpit").mkdir(parents=True)
    user = write(xdg / "cockpit", MINIMAL)
    env = {"GITLAB_TOKEN": TOKEN, "COCKPIT_CONFIG": str(named), "XDG_CONFIG_HOME": str(xdg)}

    assert config.load(explicit, environ=env, cwd=cwd).path == explicit
    assert config.load(None, environ=env, cwd=cwd).path == named
    del env["COCKPIT_CONFIG"]
    assert config.load(None, environ=env, cwd=cwd).path == local
    local.unlink()
    assert config.load(None, environ=env, cwd=cwd).path == user


def test_relative_config_path_is_taken_from_cwd(tmp_path: Path) -> None:
    write(tmp_path, MINIMAL, "mine.toml")
    loaded = config.load("mine.toml", environ={"GITLAB_TOKEN": TOKEN}, cwd=tmp_path)
    assert loaded.path == tmp_path / "mine.toml"


def test_no_file_found_names_the_places_and_how_to_start(tmp_path: Path) -> None:
    env = {"XDG_CONFIG_HOME": str(tmp_path / "xdg")}
    with pytest.raises(ConfigError) as caught:
        config.load(None, environ=env, cwd=tmp_path)
    message = str(caught.value)
    assert str(tmp_path / "cockpit.toml") in message
    assert str(tmp_path / "xdg" / "cockpit" / "cockpit.toml") in message
    assert "$COCKPIT_CONFIG" in message
    assert "cockpit demo" in message and "README" in message


def test_missing_explicit_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="given with --config"):
        config.load(tmp_path / "nope.toml", environ={}, cwd=tmp_path)
    with pytest.raises(ConfigError, match=r"named by \$COCKPIT_CONFIG"):
        config.load(None, environ={"COCKPIT_CONFIG": "gone.toml"}, cwd=tmp_path)


# --------------------------------------------------------------------------- mistakes


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL.replace('name = "production"', "name = production"))
    assert "not valid TOML" in message
    assert "line 10" in message and "column" in message


def test_missing_key(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL.replace('gitlab_project = "shop/checkout"\n', ""))
    assert "service[0].gitlab_project" in message
    assert "missing" in message
    assert 'gitlab_project = "shop/checkout"' in message
    assert 'service "checkout"' in message


def test_wrong_type(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL + '  threshold = "high"\n')
    assert "service[0].environment[0].threshold" in message
    assert "must be a number" in message and "a string" in message
    assert "threshold = 0.99" in message


def test_boolean_is_not_a_number(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL + "  guard_samples = true\n")
    assert "guard_samples" in message and "must be a whole number, got a boolean" in message


def test_unknown_key_suggests_the_closest(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL + "  treshold = 0.9\n")
    assert "service[0].environment[0].treshold" in message
    assert "did you mean 'threshold'?" in message
    top = error_for(tmp_path, "readonly = true\n" + MINIMAL)
    assert "readonly: unknown key; did you mean 'read_only'?" in top


def test_unknown_key_without_near_match_lists_valid_keys(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL.replace("[gitlab]", "[gitlab]\ncolour = 1"))
    assert "gitlab.colour" in message and "valid keys: url, token_env" in message


def test_missing_token_file(tmp_path: Path) -> None:
    text = MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_file = "missing-token"')
    message = error_for(tmp_path, text)
    assert "gitlab.token_file" in message
    assert f"{tmp_path / 'missing-token'} does not exist" in message
    assert "chmod 600" in message


def test_unreadable_token_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    token = tmp_path / "token"
    token.write_text(TOKEN)
    token.chmod(0)
    if os.geteuid() == 0:
        # Root reads a file whatever its mode (CI runs as root): the read fails as it
        # does for everyone else.
        read_text = Path.read_text

        def denied(path: Path, *args: Any, **kwargs: Any) -> str:
            if path == token:
                raise PermissionError(13, "Permission denied", str(path))
            return read_text(path, *args, **kwargs)

        monkeypatch.setattr(Path, "read_text", denied)
    message = error_for(tmp_path, MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_file = "token"'))
    assert f"gitlab.token_file: cannot read {token} (Permission denied)" in message
    assert TOKEN not in message


def test_token_file_that_is_a_directory(tmp_path: Path) -> None:
    (tmp_path / "token").mkdir()
    message = error_for(tmp_path, MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_file = "token"'))
    assert "gitlab.token_file: cannot read" in message


def test_empty_token_file(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("\n")
    message = error_for(tmp_path, MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_file = "token"'))
    assert "is empty" in message


def test_missing_token_variable(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_env = "MY_TOKEN"'))
    with pytest.raises(ConfigError) as caught:
        config.load(path, environ={"GITLAB_TOKEN": TOKEN}, cwd=tmp_path)
    message = str(caught.value)
    assert "gitlab.token_env" in message and "MY_TOKEN is not set" in message
    assert "never from the command line" in message
    assert TOKEN not in message


def test_token_env_and_file_together(tmp_path: Path) -> None:
    text = MINIMAL.replace("[gitlab]", '[gitlab]\ntoken_env = "X"\ntoken_file = "t"')
    assert "both set" in error_for(tmp_path, text)


def test_unknown_kube_context(tmp_path: Path) -> None:
    kube = kubeconfig(tmp_path, "prod-eu", "staging-eu")
    text = f'[kubernetes]\nkubeconfig = "{kube}"\n' + MINIMAL + '  kube_context = "prod-ue"\n'
    message = error_for(tmp_path, text)
    assert "service[0].environment[0].kube_context" in message
    assert "no context 'prod-ue'" in message
    assert "prod-eu, staging-eu" in message
    assert 'kube_context = "prod-eu"' in message


def test_kube_context_checked_against_kubeconfig_variable(tmp_path: Path) -> None:
    kube = kubeconfig(tmp_path, "dev")
    text = MINIMAL + '  kube_context = "dev"\n'
    env = load_text(tmp_path, text, KUBECONFIG=str(kube)).service("checkout").environments[0]
    assert env.kube_context == "dev"
    message = error_for(tmp_path, MINIMAL + '  kube_context = "prod"\n', KUBECONFIG=str(kube))
    assert "no context 'prod'" in message


def test_kube_context_without_any_kubeconfig(tmp_path: Path) -> None:
    text = MINIMAL + '  kube_context = "prod"\n'
    message = error_for(tmp_path, text, HOME=str(tmp_path / "nohome"))
    assert "there is no kubeconfig" in message


def test_missing_kubeconfig_file(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[kubernetes]\nkubeconfig = "nope"\n' + MINIMAL)
    assert "kubernetes.kubeconfig" in message and "does not exist" in message


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("gitlab.example.com", "has no scheme"),
        ("ftp://gitlab.example.com", "must start with http:// or https://"),
        ("https://", "has no host name"),
        ("https://gitlab.example.com:port", "invalid port"),
    ],
)
def test_bad_url(tmp_path: Path, url: str, problem: str) -> None:
    message = error_for(tmp_path, MINIMAL.replace("https://gitlab.example.com", url))
    assert "gitlab.url" in message and problem in message
    assert 'url = "https://gitlab.example.com"' in message


def test_bad_prometheus_url(tmp_path: Path) -> None:
    message = error_for(tmp_path, '[prometheus]\nurl = "prometheus:9090"\n' + MINIMAL)
    assert "prometheus.url" in message and "http://prometheus.monitoring:9090" in message


def test_rollout_and_deployment_both_set(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL + '  deployment = "checkout"\n')
    assert "service[0].environment[0].deployment" in message
    assert "both set" in message


@pytest.mark.parametrize("value", ["1.5", "-0.1", "99"])
def test_threshold_out_of_range(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, MINIMAL + f"  threshold = {value}\n")
    assert "service[0].environment[0].threshold" in message
    assert "between 0 and 1" in message and "threshold = 0.99" in message


def test_guard_samples_and_timeouts_must_be_positive(tmp_path: Path) -> None:
    assert "must be between 1 and 100, got 0" in error_for(
        tmp_path, MINIMAL + "  guard_samples = 0\n"
    )
    assert "poll.gitlab_idle: must be between 1 second and 86400" in error_for(
        tmp_path, MINIMAL + "\n[poll]\ngitlab_idle = 0\n"
    )


def test_duplicate_service_names(tmp_path: Path) -> None:
    message = error_for(tmp_path, MINIMAL + MINIMAL.split("[gitlab]", 1)[1].split("\n", 2)[2])
    assert "service[1].name" in message and "already the name of service[0]" in message


def test_duplicate_environment_names(tmp_path: Path) -> None:
    extra = '\n  [[service.environment]]\n  name = "production"\n'
    message = error_for(tmp_path, MINIMAL + extra)
    assert "service[0].environment[1].name" in message
    assert "already the name of environment[0]" in message


def test_environment_index_points_at_the_right_service(tmp_path: Path) -> None:
    second = (
        '\n[[service]]\nname = "cart"\ngitlab_project = "shop/cart"\n'
        '  [[service.environment]]\n  name = "staging"\n'
        '  [[service.environment]]\n  name = "production"\n  threshold = 2\n'
    )
    message = error_for(tmp_path, MINIMAL + second)
    assert "service[1].environment[1].threshold" in message
    assert 'service "cart", environment "production"' in message


def test_service_without_environment(tmp_path: Path) -> None:
    text = '[[service]]\nname = "checkout"\ngitlab_project = "shop/checkout"\n'
    assert "service[0].environment" in error_for(tmp_path, text)


def test_no_services(tmp_path: Path) -> None:
    assert "no services configured" in error_for(tmp_path, '[gitlab]\nurl = "https://g.example"\n')


def test_service_lookup_lists_names(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, MINIMAL)
    with pytest.raises(UsageError, match=r"no service named 'cart'.*checkout"):
        loaded.service("cart")


def test_token_never_in_repr(tmp_path: Path) -> None:
    loaded = load_text(tmp_path, MINIMAL)
    assert loaded.gitlab is not None
    for text in (repr(loaded), str(loaded), repr(loaded.gitlab), f"{loaded.gitlab.token}"):
        assert TOKEN not in text
    assert "***" in repr(loaded.gitlab)
