"""Bad values in the configuration: refused in one line that names the key, never a crash.

Numbers must be finite and sensible, the file must be UTF-8, a quoted value is cut
short and a secret is never quoted, a malformed kubeconfig is named by file and line
without its contents, and a token file others can read is used with a warning.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cockpit import cli, config
from cockpit.errors import ConfigError

TOKEN = "glpat-very-secret-token-value"
KUBE_TOKEN = "kube-bearer-secret-0123456789"

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


def write(directory: Path, data: str | bytes, name: str = "cockpit.toml") -> Path:
    path = directory / name
    if isinstance(data, bytes):
        path.write_bytes(data)
    else:
        path.write_text(data, encoding="utf-8")
    return path


def error_for(tmp_path: Path, data: str | bytes) -> str:
    path = write(tmp_path, data)
    with pytest.raises(ConfigError) as caught:
        config.load(path, environ={"GITLAB_TOKEN": TOKEN}, cwd=tmp_path)
    message = str(caught.value)
    assert str(path) in message, message
    assert TOKEN not in message
    assert "\n" not in message
    return message


def with_poll(key: str, value: str) -> str:
    return MINIMAL + f"\n[poll]\n{key} = {value}\n"


# --------------------------------------------------------------------------- numbers


@pytest.mark.parametrize("value", ["inf", "+inf", "-inf", "nan", "1e308", "999999999999"])
@pytest.mark.parametrize("table", ["gitlab", "prometheus"])
def test_timeouts_must_be_finite_and_at_most_ten_minutes(
    tmp_path: Path, table: str, value: str
) -> None:
    text = MINIMAL.replace(
        "[gitlab]", '[prometheus]\nurl = "http://prometheus:9090"\n[gitlab]'
    ).replace(f"[{table}]\n", f"[{table}]\ntimeout = {value}\n")
    message = error_for(tmp_path, text)
    assert f"{table}.timeout:" in message
    assert "Example: timeout = " in message


def test_a_ten_minute_timeout_is_the_longest_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("[gitlab]\n", "[gitlab]\ntimeout = 600\n"))
    loaded = config.load(path, environ={"GITLAB_TOKEN": TOKEN})
    assert loaded.gitlab is not None and loaded.gitlab.timeout == 600.0
    assert "at most 600 seconds" in error_for(
        tmp_path, MINIMAL.replace("[gitlab]\n", "[gitlab]\ntimeout = 600.5\n")
    )


@pytest.mark.parametrize("value", ["1e-9", "0.5", "0", "-3", "inf", "nan", "86401", "1e308"])
def test_poll_intervals_are_between_a_second_and_a_day(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, with_poll("gitlab_active", value))
    assert "poll.gitlab_active:" in message
    assert "Example: gitlab_active = 3.0" in message


def test_a_poll_of_one_second_is_accepted(tmp_path: Path) -> None:
    path = write(tmp_path, with_poll("gitlab_active", "1"))
    assert config.load(path, environ={"GITLAB_TOKEN": TOKEN}).poll.gitlab_active == 1.0


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_threshold_must_be_a_finite_rate(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, MINIMAL + f"  threshold = {value}\n")
    assert "service[0].environment[0].threshold (" in message
    assert "must be a finite number" in message


def test_an_integer_too_large_for_a_float_is_refused_not_a_crash(tmp_path: Path) -> None:
    message = error_for(tmp_path, with_poll("history", str(2**1100)))
    assert "poll.history: must be a finite number" in message


@pytest.mark.parametrize("value", ["0", "101", "9223372036854775807"])
def test_guard_samples_is_a_sane_count(tmp_path: Path, value: str) -> None:
    message = error_for(tmp_path, MINIMAL + f"  guard_samples = {value}\n")
    assert "guard_samples (" in message and "must be between 1 and 100" in message


# --------------------------------------------------------------------------- text


def test_invalid_utf8_is_named_with_the_byte_and_its_offset(tmp_path: Path) -> None:
    data = MINIMAL.encode() + b'  namespace2 = "caf\xe9"\n'
    offset = data.index(b"\xe9")
    message = error_for(tmp_path, data)
    assert f"is not valid UTF-8 (byte 0xe9 at offset {offset})" in message


def test_a_huge_value_is_cut_in_the_message(tmp_path: Path) -> None:
    huge = "x" * 5_000_000
    message = error_for(tmp_path, MINIMAL.replace("https://gitlab.example.com", huge))
    assert "gitlab.url: has no scheme" in message
    assert "(5000000 characters)" in message
    assert len(message) < 600


def test_a_huge_unknown_key_is_cut_in_the_message(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, MINIMAL.replace("[gitlab]\n", "[gitlab]\n" + "k" * 100_000 + " = 1\n")
    )
    assert "unknown key" in message and len(message) < 600


def test_a_password_in_a_url_is_not_quoted(tmp_path: Path) -> None:
    text = MINIMAL.replace("https://gitlab.example.com", "ftp://alice:hunter2@gitlab.example.com")
    message = error_for(tmp_path, text)
    assert "hunter2" not in message
    assert "alice:***@gitlab.example.com" in message


def test_a_token_written_as_token_env_is_not_quoted(tmp_path: Path) -> None:
    message = error_for(
        tmp_path, MINIMAL.replace("[gitlab]\n", f'[gitlab]\ntoken_env = "{TOKEN}-x"\n')
    )
    assert "gitlab.token_env: must be the name of an environment variable" in message
    assert "glpat" not in message


def test_control_characters_in_a_value_do_not_reach_the_terminal(tmp_path: Path) -> None:
    text = MINIMAL.replace("https://gitlab.example.com", "\\u001b[2Jnot a url")
    message = error_for(tmp_path, text)
    assert "\x1b" not in message


# --------------------------------------------------------------------------- kubeconfig

MALFORMED_KUBECONFIG = f"""apiVersion: v1
kind: Config
users:
- name: admin
  user:
    token: {KUBE_TOKEN}
  extra: [unclosed
contexts: x
"""


def test_a_malformed_kubeconfig_is_named_by_line_without_its_contents(tmp_path: Path) -> None:
    kube = write(tmp_path, MALFORMED_KUBECONFIG, "kubeconfig")
    text = f'[kubernetes]\nkubeconfig = "{kube}"\n' + MINIMAL + '  kube_context = "prod"\n'
    message = error_for(tmp_path, text)
    assert f"kubeconfig {kube}: not valid YAML at line 8, column 9" in message
    assert "service[0].environment[0].kube_context" in message
    assert KUBE_TOKEN not in message and "unclosed" not in message


def test_status_lists_a_malformed_kubeconfig_as_the_unreadable_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kube = write(tmp_path, MALFORMED_KUBECONFIG, "kubeconfig")
    text = f'[kubernetes]\nkubeconfig = "{kube}"\n' + MINIMAL.split("\n", 3)[3]
    path = write(tmp_path, text)
    status = cli.main(["status", "--config", str(path)])
    out, err = capsys.readouterr()
    assert status == 1
    assert "Traceback" not in out + err and KUBE_TOKEN not in out + err
    assert "checkout  production" in out
    expected = (
        f"kube down on 1 of 1 rows: kubeconfig {kube}: not valid YAML at line 8, column 9 "
        "(expected ',' or ']', but got ':'); fix the file or point [kubernetes] kubeconfig "
        "at another"
    )
    assert expected in out.splitlines()


def test_a_kubeconfig_of_the_wrong_shape_is_not_quoted(tmp_path: Path) -> None:
    kube = write(tmp_path, json.dumps([{"token": KUBE_TOKEN}]), "kubeconfig")
    text = f'[kubernetes]\nkubeconfig = "{kube}"\n' + MINIMAL + '  kube_context = "prod"\n'
    message = error_for(tmp_path, text)
    assert f"kubeconfig {kube}: not a kubeconfig" in message
    assert KUBE_TOKEN not in message


# --------------------------------------------------------------------------- token file


def token_config(tmp_path: Path, mode: int) -> Path:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    token.chmod(mode)
    return write(tmp_path, MINIMAL.replace("[gitlab]\n", '[gitlab]\ntoken_file = "token"\n'))


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604])
def test_a_token_file_others_can_read_is_used_with_a_warning(tmp_path: Path, mode: int) -> None:
    loaded = config.load(token_config(tmp_path, mode), environ={})
    assert loaded.gitlab is not None and loaded.gitlab.token.reveal() == TOKEN
    token = tmp_path / "token"
    assert loaded.warnings == (
        f"WARNING: token file {token} is readable by others (mode 0{mode:o}); "
        f"run chmod 600 {token}",
    )


def test_a_private_token_file_gets_no_warning(tmp_path: Path) -> None:
    assert config.load(token_config(tmp_path, 0o600), environ={}).warnings == ()


def test_status_prints_the_token_file_warning_once_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = token_config(tmp_path, 0o644)
    # An unknown environment: the command stops right after loading the configuration.
    assert cli.main(["status", "--config", str(path), "--env", "nowhere"]) == cli.EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("WARNING: token file") == 1
    assert "readable by others (mode 0644); run chmod 600" in err
    assert TOKEN not in err
