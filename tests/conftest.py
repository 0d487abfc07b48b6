"""Fixtures shared by every kind of test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.prometheus import PrometheusServer, start_prometheus


@pytest.fixture
def prometheus(tmp_path: Path) -> Iterator[Callable[..., PrometheusServer]]:
    """Start a real Prometheus: ``server = prometheus(["127.0.0.1:8000"])``; stopped afterwards.

    Skips when the binary is missing, except under ``CI=true`` where that fails.
    """
    servers: list[PrometheusServer] = []

    def start(targets: list[str], **kwargs: object) -> PrometheusServer:
        server = start_prometheus(tmp_path / f"prometheus-{len(servers)}", targets, **kwargs)  # type: ignore[arg-type]
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture(autouse=True)
def _isolated_user_dirs(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never read or write the real user's config, state (audit log) or kubeconfig."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / "state"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.delenv("COCKPIT_CONFIG", raising=False)
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("GITLAB_TOKEN", raising=False)
