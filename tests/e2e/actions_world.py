"""``cockpit sim --scenario bad-canary`` as a separate process, and cockpit commands run
as a person runs them (``python -m cockpit ...``) with their own XDG state directory."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers import REPO, wait_until


@dataclass
class SimProcess:
    directory: Path
    state_home: Path

    @property
    def config(self) -> str:
        return str(self.directory / "cockpit.toml")

    def environ(self) -> dict[str, str]:
        env = dict(os.environ)
        env["XDG_STATE_HOME"] = str(self.state_home)
        env.pop("COCKPIT_CONFIG", None)
        return env

    def admin(self, method: str, path: str, body: Any = None) -> Any:
        """The simulator's admin API (``$COCKPIT_SIM_ADMIN/...``): faults, the requests it received."""
        import httpx

        env = dict(
            line.split("=", 1)
            for line in (self.directory / "env").read_text().splitlines()
            if "=" in line
        )
        answer = httpx.request(
            method, env["COCKPIT_SIM_ADMIN"].rstrip("/") + path, json=body, timeout=10
        )
        answer.raise_for_status()
        return answer.json()

    def writes_received(self) -> list[dict[str, Any]]:
        return self.admin("GET", "/requests?writes=1")

    def start_cockpit(self, *args: str) -> subprocess.Popen[str]:
        """A cockpit command left running (the test signals it)."""
        return subprocess.Popen(
            [sys.executable, "-m", "cockpit", *args],
            cwd=REPO,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def cockpit(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cockpit", *args],
            cwd=REPO,
            env=self.environ(),
            capture_output=True,
            text=True,
            timeout=120,
            stdin=subprocess.DEVNULL,
        )

    def rollout(self) -> dict[str, Any]:
        done = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(self.directory / "kubeconfig"),
                "get",
                "rollouts.argoproj.io",
                "checkout",
                "-n",
                "production",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return json.loads(done.stdout)

    def aborted(self) -> dict[str, Any]:
        """The rollout's status once the controller has reacted to an abort (kubectl's view)."""

        def reacted() -> dict[str, Any] | None:
            status = self.rollout()["status"]
            weight = ((status.get("canary") or {}).get("weights") or {}).get("canary") or {}
            return status if status.get("abortedAt") and weight.get("weight") == 0 else None

        return wait_until(reacted, timeout=30, message="the controller to abort the canary")

    def audit(self) -> list[dict[str, Any]]:
        done = self.cockpit("audit", "--json", "--config", self.config)
        assert done.returncode == 0, done.stderr
        return [json.loads(line) for line in done.stdout.splitlines()]


@contextmanager
def bad_canary(tmp_path: Path) -> Iterator[SimProcess]:
    world = SimProcess(tmp_path / "D", tmp_path / "state")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cockpit",
            "sim",
            "--scenario",
            "bad-canary",
            "--state-dir",
            str(world.directory),
        ],
        cwd=REPO,
        env=world.environ(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_until(
            lambda: (world.directory / "env").exists() or process.poll() is not None,
            timeout=60,
            message="cockpit sim to write its state directory",
        )
        assert process.poll() is None, process.stderr.read() if process.stderr else ""
        yield world
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
