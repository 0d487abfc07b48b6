"""A real Prometheus server (the Debian binary) for integration tests."""

from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import yaml

from tests.helpers import free_port, require


@dataclass
class PrometheusServer:
    url: str
    config_path: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    targets: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-4000:]


def prometheus_binary() -> str:
    binary = shutil.which("prometheus")
    require(
        binary is not None, "the prometheus binary is not installed (apt-get install -y prometheus)"
    )
    assert binary is not None
    return binary


def write_config(
    path: Path, targets: list[str], *, metrics_path: str = "/metrics", interval: str = "1s"
) -> None:
    config = {
        "global": {"scrape_interval": interval, "evaluation_interval": interval},
        "scrape_configs": [
            {
                "job_name": "cockpit-test",
                "metrics_path": metrics_path,
                "scrape_interval": interval,
                "static_configs": [{"targets": targets}],
            }
        ],
    }
    path.write_text(yaml.safe_dump(config))


def start_prometheus(
    workdir: Path,
    targets: list[str],
    *,
    metrics_path: str = "/metrics",
    interval: str = "1s",
    ready_timeout: float = 60.0,
) -> PrometheusServer:
    """Start Prometheus on a free loopback port scraping ``targets`` (``host:port``)."""
    binary = prometheus_binary()
    workdir.mkdir(parents=True, exist_ok=True)
    config_path = workdir / "prometheus.yml"
    write_config(config_path, targets, metrics_path=metrics_path, interval=interval)
    data_dir = workdir / "data"
    data_dir.mkdir(exist_ok=True)
    port = free_port()
    log_path = workdir / "prometheus.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_path}",
            f"--storage.tsdb.path={data_dir}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--web.enable-lifecycle",
            "--storage.tsdb.retention.time=1h",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = PrometheusServer(
        f"http://127.0.0.1:{port}", config_path, process, log_path, list(targets)
    )
    deadline = time.monotonic() + ready_timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"prometheus exited with {process.returncode}:\n{server.log()}")
        try:
            if httpx.get(f"{server.url}/-/ready", timeout=1.0).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            server.stop()
            raise RuntimeError(f"prometheus not ready after {ready_timeout} s:\n{server.log()}")
        time.sleep(0.1)
