"""A stand-in for the GitLab source the maturity and dora commands read through.

It answers with what a test gives it, records each call, and raises the sources layer's
``SourceError`` when told to. Until the sources layer is merged, ``source_error_class``
registers a minimal ``cockpit.sources.errors`` for the duration of a test.
"""

from __future__ import annotations

import asyncio
import sys
import types
from dataclasses import dataclass, field
from typing import Any

import pytest

from cockpit.model import CiLint, Deployment, FeatureFlag


def source_error_class(monkeypatch: pytest.MonkeyPatch) -> type[Exception]:
    """The real ``SourceError`` if the sources layer is there, else a registered stand-in."""
    try:
        from cockpit.sources.errors import SourceError
    except ImportError:
        module = types.ModuleType("cockpit.sources.errors")

        class SourceError(Exception):  # type: ignore[no-redef]
            def __init__(self, message: str) -> None:
                super().__init__(message)
                self.message = message

        module.SourceError = SourceError  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, "cockpit.sources.errors", module)
    return SourceError


def refusal(error_class: type[Exception], message: str) -> Exception:
    """An instance of the sources layer's error carrying ``message`` for people."""

    class Refused(error_class):  # type: ignore[valid-type,misc]
        def __init__(self) -> None:
            Exception.__init__(self, message)
            self.message = message

    return Refused()


@dataclass
class Environment:
    name: str
    gitlab_environment: str
    success_rate: str | None = 'sum(rate(http_requests_total{status=~"2.."}[5m]))'


@dataclass
class Service:
    name: str = "checkout"
    gitlab_project: str = "shop/checkout"
    ref: str = "main"
    environments: tuple[Environment, ...] = (
        Environment("staging", "staging"),
        Environment("production", "production"),
    )


@dataclass
class StandInGitLab:
    files: dict[str, str | None] = field(default_factory=dict)
    lint: CiLint | None = None
    history: tuple[Deployment, ...] = ()
    flags: tuple[FeatureFlag, ...] = ()
    #: Method name → exception to raise instead of answering.
    failures: dict[str, Exception] = field(default_factory=dict)
    calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = field(default_factory=list)
    events: list[str] = field(default_factory=list)

    async def _answer(self, name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        self.calls.append((name, args, kwargs))
        self.events.append(f"start {name}")
        await asyncio.sleep(0)
        self.events.append(f"end {name}")
        if name in self.failures:
            raise self.failures[name]
        return value

    async def file(self, project: str, path: str, ref: str) -> str | None:
        return await self._answer("file", self.files.get(path), project, path, ref)

    async def ci_lint(self, project: str, ref: str) -> CiLint:
        return await self._answer("ci_lint", self.lint, project, ref)

    async def deployments(
        self, project: str, environment: str, *, limit: int = 20, updated_after: Any = None
    ) -> tuple[Deployment, ...]:
        return await self._answer(
            "deployments",
            self.history,
            project,
            environment,
            limit=limit,
            updated_after=updated_after,
        )

    async def feature_flags(self, project: str) -> tuple[FeatureFlag, ...]:
        return await self._answer("feature_flags", self.flags, project)

    def called(self, name: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for call, args, kwargs in self.calls if call == name]
