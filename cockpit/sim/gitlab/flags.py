"""Feature flags (GitLab's Unleash-based ones): strategies, scopes, and how an update merges.

``PUT .../feature_flags/:name`` with ``strategies`` does not replace the list: an entry
without ``id`` is added, one with ``id`` updates that strategy, one with ``"_destroy":
true`` removes it, and strategies not mentioned stay. :func:`merge_strategies` is that
rule as a pure function; :class:`FlagError` carries GitLab's 400 messages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

STRATEGY_NAMES = (
    "default",
    "gradualRolloutUserId",
    "userWithId",
    "gitlabUserList",
    "flexibleRollout",
)


class FlagError(ValueError):
    """A 400 from the feature flags API (message as GitLab words it)."""


@dataclass(frozen=True)
class Scope:
    id: int
    environment_scope: str


@dataclass(frozen=True)
class Strategy:
    id: int
    name: str
    parameters: tuple[tuple[str, str], ...]
    scopes: tuple[Scope, ...]


@dataclass(frozen=True)
class FeatureFlag:
    name: str
    description: str | None
    active: bool
    created_at: datetime
    updated_at: datetime
    strategies: tuple[Strategy, ...]


#: Hands out the next id (strategies and scopes share GitLab's sequences per table).
IdSource = Callable[[], int]


def _parameters(name: str, raw: Any) -> tuple[tuple[str, str], ...]:
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise FlagError("strategies parameters must be an object")
    params = tuple((str(k), str(v)) for k, v in raw.items())
    keys = {k for k, _ in params}
    required = {
        "default": set(),
        "gradualRolloutUserId": {"groupId", "percentage"},
        "userWithId": {"userIds"},
        "gitlabUserList": set(),
        "flexibleRollout": {"groupId", "rollout", "stickiness"},
    }[name]
    if keys != required:
        raise FlagError(f"strategies parameters are invalid for {name}")
    return params


def _scopes(raw: Any, existing: tuple[Scope, ...], scope_ids: IdSource) -> tuple[Scope, ...]:
    if raw is None:
        return existing
    if not isinstance(raw, list):
        raise FlagError("strategies scopes must be an array")
    scopes = {s.id: s for s in existing}
    for item in raw:
        if not isinstance(item, dict):
            raise FlagError("strategies scopes must be objects")
        if "id" in item:
            sid = int(item["id"])
            if sid not in scopes:
                raise FlagError(f"scope {sid} not found")
            if item.get("_destroy"):
                del scopes[sid]
                continue
            scopes[sid] = replace(
                scopes[sid],
                environment_scope=str(item.get("environment_scope", scopes[sid].environment_scope)),
            )
        else:
            scope = Scope(scope_ids(), str(item.get("environment_scope", "*")))
            scopes[scope.id] = scope
    return tuple(scopes.values())


def new_strategy(raw: Any, strategy_ids: IdSource, scope_ids: IdSource) -> Strategy:
    if not isinstance(raw, dict):
        raise FlagError("strategies must be objects")
    name = str(raw.get("name", ""))
    if name not in STRATEGY_NAMES:
        raise FlagError(f"strategies name is invalid: {name!r}")
    return Strategy(
        id=strategy_ids(),
        name=name,
        parameters=_parameters(name, raw.get("parameters")),
        scopes=_scopes(raw.get("scopes", [{"environment_scope": "*"}]), (), scope_ids),
    )


def merge_strategies(
    existing: tuple[Strategy, ...], updates: Any, strategy_ids: IdSource, scope_ids: IdSource
) -> tuple[Strategy, ...]:
    """Apply a PUT's ``strategies`` to the current ones (see the module docstring)."""
    if not isinstance(updates, list):
        raise FlagError("strategies must be an array")
    strategies = {s.id: s for s in existing}
    for raw in updates:
        if not isinstance(raw, dict):
            raise FlagError("strategies must be objects")
        if "id" not in raw:
            strategy = new_strategy(raw, strategy_ids, scope_ids)
            strategies[strategy.id] = strategy
            continue
        sid = int(raw["id"])
        if sid not in strategies:
            raise FlagError(f"strategy {sid} not found")
        if raw.get("_destroy"):
            del strategies[sid]
            continue
        current = strategies[sid]
        name = str(raw.get("name", current.name))
        if name not in STRATEGY_NAMES:
            raise FlagError(f"strategies name is invalid: {name!r}")
        parameters = (
            _parameters(name, raw["parameters"])
            if "parameters" in raw
            else _parameters(name, dict(current.parameters))
        )
        strategies[sid] = Strategy(
            id=sid,
            name=name,
            parameters=parameters,
            scopes=_scopes(raw.get("scopes"), current.scopes, scope_ids),
        )
    return tuple(strategies.values())
