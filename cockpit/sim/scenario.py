"""Scenarios as data: the demo company's services and the situations each scenario sets up.

``scenarios/world.toml`` describes the twelve services (each with staging and
production, one GitLab project each) in a calm state. Each other file in
``scenarios/`` is a named scenario: a description plus ``[[situation]]`` tables that
change one service × environment (a canary in flight, a failing pipeline, a manual
gate…). The ``demo`` scenario includes all the others. Nothing here is a code path per
scenario: the world builder interprets the same fields for every service.

The fields of a situation are documented on :class:`Situation`; unknown fields are an
error, so a typo in a scenario file fails loudly.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from importlib import resources
from typing import Any

ENVIRONMENTS = ("staging", "production")


class ScenarioError(ValueError):
    """A scenario file is missing or malformed."""


@dataclass(frozen=True)
class StepSpec:
    """One canary step: exactly one of the fields is set (as in the Rollout spec)."""

    set_weight: int | None = None
    #: Pause: ``None`` means no pause step; ``""`` an indefinite pause; else a duration ("5m").
    pause: str | None = None
    analysis: bool = False

    def to_kube(self) -> dict[str, Any]:
        if self.set_weight is not None:
            return {"setWeight": self.set_weight}
        if self.pause is not None:
            return {"pause": {"duration": self.pause} if self.pause else {}}
        return {"analysis": {"templates": [{"templateName": "success-rate"}]}}


@dataclass(frozen=True)
class VersionProfile:
    """How a version of a service behaves under traffic."""

    success_rate: float = 0.9995
    latency_ms: float = 120.0


@dataclass(frozen=True)
class EnvSpec:
    """One service × environment as the world starts it."""

    service: str
    environment: str
    namespace: str
    kind: str  # "Rollout" | "Deployment"
    strategy: str  # canary | bluegreen | rolling
    replicas: int
    steps: tuple[StepSpec, ...]
    #: Background analysis on the success rate from this step index on (negative: none).
    analysis_from_step: int
    #: Requests per second reaching this environment (0: no traffic at all).
    rps: float
    stable: VersionProfile
    #: A new version already on its way when the world starts (None: all calm).
    candidate: VersionProfile | None = None
    #: Where that candidate's rollout stands: the canary step index it has reached, or
    #: for blue-green, "preview" (preview up, waiting for the switch).
    candidate_step: int | str | None = None
    #: Carried into the generated cockpit.toml for this environment.
    read_only: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.environment)


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    group: str
    description: str
    #: CI template the project's .gitlab-ci.yml is built from (see sim/gitlab/ci.py):
    #: "level4" deploys production automatically on main; "level3" waits on a manual
    #: job; "lean" deploys like level4 with no contract or end-to-end tests.
    ci: str
    #: Deployments per week over the generated history (for DORA).
    deploys_per_week: float
    #: Share of history deployments that fail.
    failure_ratio: float
    history_days: int
    #: Migration files the repository gains over its history, oldest first: (path, kind)
    #: where kind is "expand" or "contract". The last ``recent_migrations`` of them
    #: shipped after the previous production deployment.
    migrations: tuple[tuple[str, str], ...]
    recent_migrations: int
    #: Feature flags: (name, active).
    flags: tuple[tuple[str, bool], ...]
    environments: tuple[EnvSpec, ...]
    #: The latest pipeline on the default branch, when it should not simply be green:
    #: "failed" (``failing_job`` fails), "running", or "manual" (waiting at the manual
    #: production deploy job, which needs ``ci = "level3"``).
    pipeline: str | None = None
    failing_job: str | None = None
    #: At least this many production deploys of the history fail (each then rolled
    #: back), whatever day the world starts on: DORA's change failure rate and time to
    #: restore always have something to measure for this service.
    incidents: int = 0

    @property
    def project_path(self) -> str:
        return f"{self.group}/{self.name}"

    def env(self, name: str) -> EnvSpec:
        for env in self.environments:
            if env.environment == name:
                return env
        raise KeyError(name)


@dataclass(frozen=True)
class Situation:
    """A change to one service × environment that a scenario applies to the calm world."""

    service: str
    environment: str
    values: tuple[tuple[str, Any], ...]
    #: Service-level changes (ci, migrations, recent_migrations, flags…).
    service_values: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    services: tuple[ServiceSpec, ...]
    situations: tuple[Situation, ...] = field(default=())

    def service(self, name: str) -> ServiceSpec:
        for service in self.services:
            if service.name == name:
                return service
        raise KeyError(name)

    def envs(self) -> tuple[EnvSpec, ...]:
        return tuple(env for service in self.services for env in service.environments)


# --------------------------------------------------------------------------- loading

_ENV_FIELDS = {f.name for f in fields(EnvSpec)} - {"service", "environment"}
_SERVICE_FIELDS = {f.name for f in fields(ServiceSpec)} - {"name", "environments"}


def available() -> list[str]:
    """Names of the scenarios shipped with cockpit (``world`` is the base, not a scenario)."""
    names = []
    for entry in resources.files(__package__).joinpath("scenarios").iterdir():
        if entry.name.endswith(".toml") and entry.name != "world.toml":
            names.append(entry.name.removesuffix(".toml"))
    return sorted(names)


def _read(name: str) -> dict[str, Any]:
    path = resources.files(__package__).joinpath("scenarios").joinpath(f"{name}.toml")
    if not path.is_file():
        raise ScenarioError(f"unknown scenario {name!r}; choose one of: {', '.join(available())}")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ScenarioError(f"scenario {name!r}: {error}") from error


def _steps(raw: list[dict[str, Any]]) -> tuple[StepSpec, ...]:
    steps = []
    for item in raw:
        if "setWeight" in item:
            steps.append(StepSpec(set_weight=int(item["setWeight"])))
        elif "pause" in item:
            steps.append(StepSpec(pause=str(item["pause"])))
        elif "analysis" in item:
            steps.append(StepSpec(analysis=True))
        else:
            raise ScenarioError(f"unknown step {item!r}")
    return tuple(steps)


def _profile(raw: dict[str, Any] | None) -> VersionProfile | None:
    if raw is None:
        return None
    unknown = set(raw) - {"success_rate", "latency_ms"}
    if unknown:
        raise ScenarioError(f"unknown version profile keys {sorted(unknown)}")
    return VersionProfile(**raw)


def _env_values(raw: dict[str, Any], where: str) -> dict[str, Any]:
    unknown = set(raw) - _ENV_FIELDS
    if unknown:
        raise ScenarioError(f"{where}: unknown keys {sorted(unknown)}")
    values = dict(raw)
    if "steps" in values:
        values["steps"] = _steps(values["steps"])
    for key in ("stable", "candidate"):
        if key in values:
            values[key] = _profile(values[key])
    return values


def _build_world(raw: dict[str, Any]) -> tuple[ServiceSpec, ...]:
    defaults = raw.get("defaults", {})
    env_defaults = defaults.get("environment", {})
    services = []
    for item in raw["service"]:
        item = dict(item)
        name = item.pop("name")
        envs_raw = item.pop("environment", {})
        service_values = {
            key: value
            for key, value in defaults.items()
            if key not in ("environment",) and key in _SERVICE_FIELDS
        }
        unknown = set(item) - _SERVICE_FIELDS
        if unknown:
            raise ScenarioError(f"world.toml service {name}: unknown keys {sorted(unknown)}")
        service_values.update(item)
        environments = []
        for env_name in ENVIRONMENTS:
            values = _env_values(env_defaults.get("all", {}), "defaults.environment.all")
            values.update(_env_values(env_defaults.get(env_name, {}), f"defaults.{env_name}"))
            values.update(_env_values(envs_raw.get(env_name, {}), f"{name}.{env_name}"))
            values.setdefault("namespace", env_name)
            environments.append(EnvSpec(service=name, environment=env_name, **values))
        service_values["migrations"] = tuple(
            tuple(pair) for pair in service_values.get("migrations", ())
        )
        service_values["flags"] = tuple(tuple(pair) for pair in service_values.get("flags", ()))
        services.append(ServiceSpec(name=name, environments=tuple(environments), **service_values))
    return tuple(services)


def _situations(raw: dict[str, Any], name: str) -> list[Situation]:
    situations = []
    for item in raw.get("situation", []):
        item = dict(item)
        service = item.pop("service")
        environment = item.pop("environment")
        service_raw = item.pop("service_values", {})
        unknown = set(service_raw) - _SERVICE_FIELDS
        if unknown:
            raise ScenarioError(f"scenario {name}: unknown service keys {sorted(unknown)}")
        values = _env_values(item, f"scenario {name} situation {service}/{environment}")
        situations.append(
            Situation(
                service=service,
                environment=environment,
                values=tuple(values.items()),
                service_values=tuple(service_raw.items()),
            )
        )
    return situations


def _apply(services: tuple[ServiceSpec, ...], situation: Situation) -> tuple[ServiceSpec, ...]:
    result = []
    found = False
    for service in services:
        if service.name != situation.service:
            result.append(service)
            continue
        envs = []
        for env in service.environments:
            if env.environment == situation.environment:
                found = True
                env = replace(env, **dict(situation.values))
            envs.append(env)
        service_values = dict(situation.service_values)
        for key in ("migrations", "flags"):
            if key in service_values:
                service_values[key] = tuple(tuple(pair) for pair in service_values[key])
        result.append(replace(service, environments=tuple(envs), **service_values))
    if not found:
        raise ScenarioError(
            f"situation for unknown service/environment {situation.service}/{situation.environment}"
        )
    return tuple(result)


def load(name: str) -> Scenario:
    """Load a named scenario on top of the calm world."""
    world = _build_world(_read("world"))
    raw = _read(name)
    situations: list[Situation] = []
    for included in raw.get("include", []):
        situations.extend(_situations(_read(included), included))
    situations.extend(_situations(raw, name))
    services = world
    for situation in situations:
        services = _apply(services, situation)
    return Scenario(
        name=name,
        description=raw.get("description", ""),
        services=services,
        situations=tuple(situations),
    )


def scaled(scenario: Scenario, count: int) -> Scenario:
    """The scenario with ``count`` services: the twelve, then numbered copies (benchmarks)."""
    base = scenario.services
    services = list(base[:count])
    index = 0
    while len(services) < count:
        template = base[index % len(base)]
        name = f"{template.name}-{len(services):03d}"
        services.append(
            replace(
                template,
                name=name,
                environments=tuple(replace(env, service=name) for env in template.environments),
            )
        )
        index += 1
    return replace(scenario, services=tuple(services))
