"""A simulated world (manual clock) with the engine and an action context over real HTTP.

``async with rig(tmp_path, "bad-canary", rows=[("checkout", "production")]) as r:``
starts the simulator, writes its state directory, loads the generated configuration
(restricted to ``rows``, optionally edited by ``configure``), starts the engine and
waits until every source has answered once. ``r.plan(...)`` is plan + enrich,
``r.writes()`` the writes the servers received since the last ``r.mark()``.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from cockpit.actions import ActionContext, ActionPlan, AuditLog, NoAction, enrich
from cockpit.actions.context import secrets_of
from cockpit.config import Config, load
from cockpit.engine import Engine
from cockpit.model import EnvKey, ServiceState
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import RecordedRequest
from cockpit.sim.kube.store import DEPLOYMENT, ROLLOUT
from cockpit.sim.server import Simulator, simulate
from cockpit.sim.statedir import kubeconfig
from tests.helpers import eventually


@dataclass
class Rig:
    sim: Simulator
    engine: Engine
    ctx: ActionContext
    config: Config
    directory: Path
    _mark: int = 0

    def state(self, service: str, environment: str) -> ServiceState:
        return self.engine.states[EnvKey(service, environment)]

    async def plan(self, service: str, environment: str, intent: str, **kwargs: Any) -> ActionPlan:
        outcome = self.ctx.plan(self.state(service, environment), intent, **kwargs)
        assert not isinstance(outcome, NoAction), outcome.reason
        return await enrich(outcome, self.ctx)

    def mark(self) -> None:
        self._mark = len(self.sim.faults.request_log)

    def writes(self) -> list[RecordedRequest]:
        """GitLab and Kubernetes writes received since the last mark."""
        log = list(self.sim.faults.request_log)[self._mark :]
        return [r for r in log if r.is_write]

    def rollout(self, namespace: str, name: str) -> dict[str, Any]:
        return self.sim.world.kube.store.get(ROLLOUT, namespace, name)

    def deployment(self, namespace: str, name: str) -> dict[str, Any]:
        return self.sim.world.kube.store.get(DEPLOYMENT, namespace, name)

    def project(self, service: str) -> Any:
        return self.sim.world.gitlab.project_by_name(service)

    async def until(self, check: Callable[[], Any], message: str) -> Any:
        """Move simulated time a second at a time until ``check()`` holds."""

        async def stepped() -> Any:
            await self.sim.advance(1)
            return check()

        return await eventually(stepped, timeout=10, interval=0.01, message=message)

    def audit_text(self) -> str:
        return self.ctx.audit.path.read_text() if self.ctx.audit.path.exists() else ""

    def audit_records(self) -> list[dict[str, Any]]:
        """One record per write, as ``cockpit audit --json`` prints them (a pending record
        and its outcome are one write)."""
        from cockpit.actions.audit import read_audit

        return [json.loads(r.to_json()) for r in read_audit(self.ctx.audit.path).records]


def only(config: Config, rows: Iterable[tuple[str, str]]) -> Config:
    wanted = set(rows)
    services = []
    for service in config.services:
        envs = tuple(e for e in service.environments if (service.name, e.name) in wanted)
        if envs:
            services.append(replace(service, environments=envs))
    return replace(config, services=tuple(services))


def read_only_tokens(sim: Simulator, directory: Path) -> None:
    """Point the state directory's configuration at the read-only GitLab and kube tokens."""
    assert sim.urls is not None and sim.kube_certificate is not None
    (directory / "gitlab-token").write_text(sim.tokens.gitlab_read_only + "\n")
    (directory / "kubeconfig").write_text(
        kubeconfig(
            sim.urls.kube,
            sim.tokens.kube_read_only,
            certificate_authority=sim.kube_certificate.pem,
        )
    )


@contextlib.asynccontextmanager
async def rig(
    tmp_path: Path,
    scenario: str,
    *,
    rows: Iterable[tuple[str, str]],
    configure: Callable[[Config], Config] | None = None,
    read_only_credentials: bool = False,
    read_only: bool = False,
) -> AsyncIterator[Rig]:
    directory = tmp_path / "sim"
    async with simulate(scenario, clock=SimClock(manual=True), state_dir=directory) as sim:
        if read_only_credentials:
            read_only_tokens(sim, directory)
        config = only(load(directory / "cockpit.toml", environ={}), rows)
        if configure is not None:
            config = configure(config)
        engine = Engine(config)
        audit = AuditLog(tmp_path / "state" / "audit.jsonl", secrets=secrets_of(config))
        ctx = ActionContext(engine=engine, audit=audit, read_only=read_only, local_user="alice")
        await engine.start()
        try:
            assert await engine.wait_ready(20), "the engine never heard from every source"
            assert await engine.wait_settled(20), "the follow-up reads never completed"
            r = Rig(sim, engine, ctx, config, directory)
            r.mark()
            yield r
        finally:
            await engine.stop()


def edit_env(config: Config, service: str, environment: str, **fields: Any) -> Config:
    services = []
    for s in config.services:
        envs = tuple(
            replace(e, **fields) if (s.name, e.name) == (service, environment) else e
            for e in s.environments
        )
        services.append(replace(s, environments=envs))
    return replace(config, services=tuple(services))
