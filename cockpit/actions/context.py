"""Everything an action needs to run: sources, configuration, read-only rules, user, audit log.

:class:`ActionContext` is built once per session, usually from the engine
(:meth:`ActionContext.from_engine`), and passed to ``enrich`` and ``execute``. It owns
the in-flight guard (one write at a time per row and action), the cached GitLab user
name for the audit log, and the engine's refresh callback. Its :meth:`plan` is
:func:`cockpit.actions.plan` bound to the row's configuration and read-only rules.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import os
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from cockpit.actions.audit import AuditLog
from cockpit.actions.planning import plan as make_plan
from cockpit.actions.plans import ActionPlan
from cockpit.config import Config, EnvironmentConfig, ServiceConfig
from cockpit.intents import Intent, NoAction
from cockpit.locations import audit_log_path
from cockpit.model import EnvKey, FeatureFlag, Job, ServiceState
from cockpit.sources.errors import SourceError

#: How long the audit record waits for GitLab to say who owns the token.
GITLAB_USER_WAIT = 3.0


def local_username() -> str:
    """The login name of the person running cockpit (``$USER`` as a last resort)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")


def secrets_of(config: Config) -> tuple[str, ...]:
    """Secrets the configuration holds (masked in the audit log whatever happens)."""
    return (config.gitlab.token.reveal(),) if config.gitlab is not None else ()


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _ignore(key: EnvKey) -> None:
    """The refresh callback when there is no engine to refresh."""


class ActionContext:
    """See the module docstring.

    Give the ``engine`` (its configuration, sources and refresh are used) or the parts
    one by one; ``audit`` defaults to the XDG audit log (or the configuration's ``audit_log``), masking the GitLab token.
    """

    def __init__(
        self,
        config: Config | None = None,
        *,
        engine: Any = None,
        gitlab: Any = None,
        kube: Any = None,
        audit: AuditLog | None = None,
        refresh: Callable[[EnvKey], None] | None = None,
        read_only: bool = False,
        local_user: str | None = None,
        clock: Callable[[], datetime] = _utcnow,
        wall_clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        if config is None:
            if engine is None:
                raise TypeError("ActionContext needs a config or an engine")
            config = engine.config
        self.config: Config = config
        self.gitlab = gitlab if gitlab is not None else getattr(engine, "gitlab", None)
        self.kube = kube if kube is not None else getattr(engine, "kube", None)
        self.audit = audit or AuditLog(
            config.audit_log or audit_log_path(), secrets=secrets_of(config)
        )
        self.refresh: Callable[[EnvKey], None] = (
            refresh if refresh is not None else getattr(engine, "refresh", _ignore)
        )
        #: ``--read-only`` (the configuration's own flags are read from ``config``).
        self.read_only = read_only
        self.local_user = local_user or local_username()
        #: World time: ages in plans ("deployed 3 h ago", "waiting since").
        self.clock = clock
        #: Wall time: when a person (or the guard) acted, for the audit log.
        self.wall_clock = wall_clock
        self._in_flight: set[tuple[EnvKey, str]] = set()
        self._gitlab_user: asyncio.Future[str] | None = None
        self._kube_servers: dict[str | None, str] = {}

    @classmethod
    def from_engine(
        cls,
        engine: Any,
        *,
        read_only: bool = False,
        audit: AuditLog | None = None,
        local_user: str | None = None,
    ) -> ActionContext:
        """Bound to the engine; plans date things (ages, "waiting since") by the engine's
        world clock, which is the wall clock except in a sped-up demo world; the audit
        log records when things were done by the wall clock, always."""
        return cls(
            engine=engine,
            read_only=read_only,
            audit=audit,
            local_user=local_user,
            clock=getattr(engine, "now", _utcnow),
            wall_clock=getattr(engine, "wall_now", _utcnow),
        )

    # ------------------------------------------------------------------ configuration

    def row(self, key: EnvKey) -> tuple[ServiceConfig, EnvironmentConfig]:
        """The service and environment configuration of a row (UsageError when unknown)."""
        service = self.config.service(key.service)
        return service, service.environment(key.environment)

    def read_only_reason(self, key: EnvKey) -> str | None:
        """Why writes to this row are refused, or None when they are allowed."""
        if self.read_only:
            return "read-only mode (--read-only): cockpit writes nothing"
        if self.config.read_only:
            return (
                f"read-only mode (read_only = true in {self.config.path}): cockpit writes nothing"
            )
        with contextlib.suppress(Exception):
            _, env = self.row(key)
            if env.read_only:
                return (
                    f"{key} is read-only (read_only = true for this environment in "
                    f"{self.config.path}): cockpit writes nothing there"
                )
        return None

    def plan(
        self,
        state: ServiceState,
        intent: Intent | str,
        *,
        job: Job | None = None,
        flag: FeatureFlag | None = None,
        read_only: bool = False,
        to_revision: int = 0,
    ) -> ActionPlan | NoAction:
        """:func:`cockpit.actions.plan` for this row's configuration and read-only rules."""
        service, env = self.row(state.key)
        refused = read_only or state.read_only or self.read_only_reason(state.key) is not None
        return make_plan(
            state,
            intent,
            read_only=refused,
            job=job,
            flag=flag,
            env=env,
            service=service,
            now=self.clock(),
            to_revision=to_revision,
        )

    # ------------------------------------------------------------------ the in-flight guard

    def claim(self, key: EnvKey, operation: str) -> bool:
        """Mark (row, operation) as being written; False when it already is."""
        if (key, operation) in self._in_flight:
            return False
        self._in_flight.add((key, operation))
        return True

    def release(self, key: EnvKey, operation: str) -> None:
        self._in_flight.discard((key, operation))

    # ------------------------------------------------------------------ who

    def look_up_gitlab_user(self) -> None:
        """Start asking GitLab who owns the token (once; the answer is kept)."""
        if self.gitlab is None:
            return
        task = self._gitlab_user
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            self._gitlab_user = asyncio.ensure_future(self.gitlab.current_user())

    def gitlab_user_now(self) -> str | None:
        """The GitLab user name if GitLab already said it, without waiting."""
        task = self._gitlab_user
        if task is None or not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    async def gitlab_user(self) -> str | None:
        """The GitLab user name of the token, or None when GitLab does not say in time."""
        self.look_up_gitlab_user()
        task = self._gitlab_user
        if task is None:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(task), GITLAB_USER_WAIT)
        except (TimeoutError, SourceError):
            return None

    # ------------------------------------------------------------------ where requests go

    def base_url(self, source: str, kube_context: str | None) -> str:
        """The server a request goes to: GitLab's URL, or the kube context's apiserver."""
        if source == "gitlab":
            return self.config.gitlab.url if self.config.gitlab is not None else ""
        if kube_context not in self._kube_servers:
            self._kube_servers[kube_context] = _kube_server(self.config, kube_context)
        return self._kube_servers[kube_context]


def _kube_server(config: Config, context: str | None) -> str:
    """The apiserver URL of a kube context ("" when the kubeconfig cannot say)."""
    from lightkube import KubeConfig

    try:
        if config.kubernetes.kubeconfig is not None:
            kubeconfig = KubeConfig.from_file(config.kubernetes.kubeconfig)
        else:
            kubeconfig = KubeConfig.from_env()
        single = kubeconfig.get(context_name=context or kubeconfig.current_context)
        return str(single.cluster.server).rstrip("/") if single else ""
    except Exception:  # the address is decoration: the write itself reports real trouble
        return ""
