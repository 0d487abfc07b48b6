"""Test helpers: waiting on conditions with deadlines, free ports, the shared fixtures."""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import socket
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
#: Real payloads captured from GitLab, Kubernetes, Argo Rollouts and Prometheus.
SHARED_FIXTURES = REPO.parent / "shared" / "fixtures"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip when something the test needs is missing; in CI a missing need is a failure."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: this must not be skipped)")
    pytest.skip(reason)


def shared_fixtures() -> Path:
    require(SHARED_FIXTURES.is_dir(), f"shared fixtures not found at {SHARED_FIXTURES}")
    return SHARED_FIXTURES


def load_fixture(relative: str) -> Any:
    """A shared fixture: JSON parsed, YAML parsed (first document), or text."""
    path = shared_fixtures() / relative
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    if path.suffix in (".yaml", ".yml"):
        import yaml

        return yaml.safe_load(text)
    return text


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> Any:
    """Wait until ``check()`` returns a truthy value (sync or async); fail at the deadline.

    Returns that value. The last exception raised by ``check`` is reported on timeout.
    """
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    last_value: Any = None
    while True:
        try:
            value = check()
            if inspect.isawaitable(value):
                value = await value
            last_value = value
            if value:
                return value
        except AssertionError as error:
            last_error = error
        except Exception as error:  # the system under test may still be starting
            last_error = error
        if time.monotonic() > deadline:
            detail = (
                f"; last error: {last_error!r}" if last_error else f"; last value: {last_value!r}"
            )
            raise AssertionError(f"timed out after {timeout} s waiting for {message}{detail}")
        await asyncio.sleep(interval)


def wait_until(
    check: Callable[[], Any],
    *,
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str = "condition",
) -> Any:
    """Synchronous :func:`eventually`."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            value = check()
            if value:
                return value
        except Exception as error:
            last_error = error
        if time.monotonic() > deadline:
            raise AssertionError(
                f"timed out after {timeout} s waiting for {message}; last error: {last_error!r}"
            )
        time.sleep(interval)


def fixture_files(relative: str, pattern: str = "*") -> list[str]:
    """Shared fixture paths under ``relative`` matching ``pattern``, for ``parametrize``.

    Empty when the shared folder is absent; pair it with a test that calls
    :func:`shared_fixtures` so that CI fails instead of silently collecting nothing.
    """
    folder = SHARED_FIXTURES / relative
    return sorted(str(p.relative_to(SHARED_FIXTURES)) for p in folder.glob(pattern) if p.is_file())
