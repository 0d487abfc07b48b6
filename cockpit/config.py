"""The configuration file: where it is found, what it may say, and typed objects for it.

``load()`` finds ``cockpit.toml`` (``--config``, ``$COCKPIT_CONFIG``, ``./cockpit.toml``,
then the XDG config directory), parses it with :mod:`tomllib` and validates it into the
frozen dataclasses below. Every mistake is a :class:`~cockpit.errors.ConfigError` whose
message names the file, the key as a dotted path with indexes
(``service[2].environment[0].threshold``), what is wrong, and an example of the fix.

The file must be UTF-8 and every number finite and within its bounds (polls 1 s to a
day, timeouts up to ten minutes); a value quoted in a message goes through
:func:`cockpit.redact.shown` (one short line, secrets masked).

The GitLab token is read here, from an environment variable or a file, and kept in a
:class:`Secret` whose ``repr`` and ``str`` never show it. What deserves a word but
does not stop cockpit (a token file others can read) is in ``Config.warnings``.
README.md documents the schema.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
import stat
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal, TextIO
from urllib.parse import urlsplit

from cockpit import locations
from cockpit.errors import ConfigError, UsageError
from cockpit.model import DEFAULT_MIGRATION_PATHS, EnvKey
from cockpit.redact import quoted, shown

WorkloadKind = Literal["Rollout", "Deployment"]

CONFIG_ENV = "COCKPIT_CONFIG"
CONFIG_NAME = "cockpit.toml"
DEFAULT_TOKEN_ENV = "GITLAB_TOKEN"

#: Bounds of the numbers the file may set, in seconds. A poll faster than once a second
#: would hammer the servers for no visible gain; one rarer than once a day is not live.
#: A request that has not answered in ten minutes will not answer.
POLL_MIN, POLL_MAX = 1.0, 86_400.0
TIMEOUT_MAX = 600.0
#: How many consecutive bad health samples the guard waits for at most.
GUARD_SAMPLES_MAX = 100


def default_success_rate_query(service: str, environment: str) -> str:
    """The article's success-rate query, guarded so that all-failing reads 0, not "no data"."""
    selector = f'service="{service}",environment="{environment}"'
    return (
        f'(sum(rate(http_requests_total{{{selector},status=~"2.."}}[5m])) or vector(0))'
        f" / sum(rate(http_requests_total{{{selector}}}[5m]))"
    )


# --------------------------------------------------------------------------- types


class Secret:
    """A value that must never be printed: ``repr`` and ``str`` hide it; ``reveal()`` gives it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    def __str__(self) -> str:
        return "***"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


@dataclass(frozen=True)
class GitLabConfig:
    url: str
    token: Secret
    timeout: float = 10.0
    #: The host name of ``url`` (for messages and the audit log).
    host: str = ""


@dataclass(frozen=True)
class KubernetesConfig:
    #: None: lightkube's own discovery (in-cluster, ``$KUBECONFIG``, ``~/.kube/config``).
    kubeconfig: Path | None = None


@dataclass(frozen=True)
class PrometheusConfig:
    url: str
    timeout: float = 5.0


@dataclass(frozen=True)
class PollConfig:
    """How often the engine asks each system, in seconds.

    The defaults follow what moves: a pipeline or a canary changes within seconds and is
    looked at every few seconds while it moves; a calm service is looked at twice a minute
    (once per typical Prometheus scrape interval), and what only a person or a new
    pipeline changes (deployment history, flags) every five minutes. Kubernetes is
    watched, not polled.
    """

    #: GitLab while a pipeline or rollout moves, and when everything is calm.
    gitlab_active: float = 3.0
    gitlab_idle: float = 30.0
    #: The success-rate query of a calm environment, and of one whose rollout moves.
    prometheus: float = 30.0
    prometheus_active: float = 5.0
    #: Deployment history (beyond what a new pipeline triggers) and the latency chart.
    history: float = 300.0
    #: Feature flags of each service.
    flags: float = 300.0


@dataclass(frozen=True)
class EnvironmentConfig:
    service: str
    name: str
    gitlab_environment: str
    #: None: the kubeconfig's current context.
    kube_context: str | None = None
    #: None: the context's namespace (``default`` when it names none).
    namespace: str | None = None
    workload_kind: WorkloadKind | None = None
    workload_name: str | None = None
    success_rate: str = ""
    latency: str | None = None
    threshold: float = 0.99
    read_only: bool = False
    auto_abort: bool = False
    guard_samples: int = 3

    @property
    def key(self) -> EnvKey:
        return EnvKey(self.service, self.name)


@dataclass(frozen=True)
class ServiceConfig:
    name: str
    gitlab_project: str
    ref: str = "main"
    migration_paths: tuple[str, ...] = DEFAULT_MIGRATION_PATHS
    environments: tuple[EnvironmentConfig, ...] = ()

    def environment(self, name: str) -> EnvironmentConfig:
        for env in self.environments:
            if env.name == name:
                return env
        names = ", ".join(e.name for e in self.environments)
        raise UsageError(f"service {self.name!r} has no environment {name!r} (it has: {names})")


@dataclass(frozen=True)
class Config:
    path: Path
    read_only: bool = False
    #: Where writes are recorded (default: the XDG state directory's ``audit.jsonl``).
    audit_log: Path | None = None
    gitlab: GitLabConfig | None = None
    kubernetes: KubernetesConfig = field(default_factory=KubernetesConfig)
    prometheus: PrometheusConfig | None = None
    poll: PollConfig = field(default_factory=PollConfig)
    services: tuple[ServiceConfig, ...] = ()
    #: What is worth saying but does not stop cockpit (a token file others can read):
    #: one line each, printed by the commands on stderr and shown by the screen at start.
    warnings: tuple[str, ...] = ()

    def service(self, name: str) -> ServiceConfig:
        for service in self.services:
            if service.name == name:
                return service
        names = ", ".join(s.name for s in self.services) or "none"
        raise UsageError(f"no service named {name!r} in {self.path} (configured: {names})")

    def environments(self) -> tuple[tuple[ServiceConfig, EnvironmentConfig], ...]:
        return tuple((s, e) for s in self.services for e in s.environments)


# --------------------------------------------------------------------------- discovery


def find(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Path:
    """The configuration file to read, in README order; ConfigError when there is none."""
    cwd = cwd if cwd is not None else Path.cwd()
    if path is not None:
        explicit = _resolve_path(Path(path), cwd)
        if not _is_file(explicit):
            raise ConfigError(
                f"{_path_shown(explicit)}: no such configuration file (given with --config)"
            )
        return explicit
    from_env = environ.get(CONFIG_ENV, "").strip()
    if from_env:
        candidate = _resolve_path(Path(from_env), cwd)
        if not _is_file(candidate):
            raise ConfigError(
                f"{_path_shown(candidate)}: no such configuration file (named by ${CONFIG_ENV})"
            )
        return candidate
    searched = [cwd / CONFIG_NAME, _xdg_config_dir(environ) / CONFIG_NAME]
    for candidate in searched:
        if _is_file(candidate):
            return candidate
    places = ", ".join(str(p) for p in searched)
    raise ConfigError(
        f"no configuration file found (looked for --config, ${CONFIG_ENV}, {places}). "
        "To try cockpit without one, run 'cockpit demo'; to set it up, copy the example "
        f"from README.md (Configuration) to {searched[-1]}"
    )


def _xdg_config_dir(environ: Mapping[str, str]) -> Path:
    xdg = environ.get("XDG_CONFIG_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        return Path(xdg) / locations.APP_NAME
    return locations.config_dir()


def _resolve_path(path: Path, base: Path) -> Path:
    # ~user of an unknown user: left as written, then reported as missing.
    with contextlib.suppress(RuntimeError):
        path = path.expanduser()
    return path if path.is_absolute() else base / path


def load(
    path: str | os.PathLike[str] | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    cwd: Path | None = None,
) -> Config:
    """Find, read and validate the configuration (see the module docstring)."""
    file = find(path, environ=environ, cwd=cwd)
    try:
        raw_bytes = file.read_bytes()
    except OSError as error:
        raise ConfigError(f"{file}: cannot read it ({error.strerror or error})") from None
    return parse(raw_bytes, file, environ=environ)


def print_warnings(config: Config, stream: TextIO | None = None) -> None:
    """The configuration's warnings on stderr, one line each (for the commands)."""
    for warning in config.warnings:
        print(f"cockpit: {warning}", file=stream or sys.stderr)


def parse(data: bytes | str, path: Path, *, environ: Mapping[str, str] = os.environ) -> Config:
    """Validate configuration text that came from ``path`` (relative paths are relative to it)."""
    text = _decoded(data, path) if isinstance(data, bytes) else data
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(
            f"{path}: not valid TOML: {error}. Check quotes, brackets and '=' on that line; "
            'strings need quotes, e.g. url = "https://gitlab.example.com"'
        ) from None
    return _Validator(path, environ).config(raw)


def _decoded(data: bytes, path: Path) -> str:
    """The file's text; TOML is UTF-8 (toml.io, "Spec"), so anything else is refused."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(
            f"{path} is not valid UTF-8 (byte 0x{data[error.start]:02x} at offset "
            f"{error.start}); save it as UTF-8, e.g. iconv -f latin1 -t utf-8"
        ) from None


# --------------------------------------------------------------------------- validation

_TOP_KEYS = (
    "read_only",
    "audit_log",
    "gitlab",
    "kubernetes",
    "prometheus",
    "poll",
    "defaults",
    "service",
)
_GITLAB_KEYS = ("url", "token_env", "token_file", "timeout")
_KUBERNETES_KEYS = ("kubeconfig",)
_PROMETHEUS_KEYS = ("url", "timeout")
_POLL_KEYS = tuple(f.name for f in fields(PollConfig))
_SERVICE_KEYS = ("name", "gitlab_project", "ref", "migration_paths", "environment")
_ENV_KEYS = (
    "name",
    "gitlab_environment",
    "kube_context",
    "namespace",
    "rollout",
    "deployment",
    "success_rate",
    "latency",
    "threshold",
    "read_only",
    "auto_abort",
    "guard_samples",
)
#: Environment keys a service (for all its environments) or [defaults.environment] may set.
_SHARED_ENV_KEYS = tuple(k for k in _ENV_KEYS if k != "name")
#: Keys of [defaults]: what every service inherits unless it says otherwise.
_DEFAULTS_KEYS = ("gitlab_project", "ref", "migration_paths", "environments", "environment")
_SERVICE_ALL_KEYS = (*_SERVICE_KEYS, "environments", *_SHARED_ENV_KEYS)
#: The placeholders a string of an environment may use, filled in for each environment.
_PLACEHOLDER = re.compile(r"\{(service|environment|namespace|rollout)\}")

#: A POSIX environment variable name (IEEE Std 1003.1, 8.1), short enough to print.
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")

_TYPE_NAMES = {str: "a string", bool: "true or false", float: "a number", int: "a whole number"}


def _toml_value(value: Any) -> str:
    """A value as it would be written in the file, cut short (see cockpit.redact)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else "inf" if value > 0 else "-inf"
    return quoted(value)


class _Validator:
    """Walks the parsed TOML, building typed objects and naming the first mistake."""

    def __init__(self, path: Path, environ: Mapping[str, str]) -> None:
        self.path = path
        self.environ = environ
        self.warnings: list[str] = []

    # -- reporting

    def fail(self, key: str, problem: str, example: str, context: str = "") -> ConfigError:
        where = f"{key} ({context})" if context else key
        return ConfigError(f"{self.path}: {where}: {problem}. Example: {example}")

    def check_keys(self, table: Mapping[str, Any], allowed: tuple[str, ...], prefix: str) -> None:
        for key in table:
            if key in allowed:
                continue
            close = difflib.get_close_matches(key[:100], allowed, n=1, cutoff=0.6)
            hint = f"did you mean {close[0]!r}?" if close else "valid keys: " + ", ".join(allowed)
            dotted = f"{prefix}.{shown(key, 40)}" if prefix else shown(key, 40)
            raise ConfigError(f"{self.path}: {dotted}: unknown key; {hint}")

    def table(self, parent: Mapping[str, Any], key: str, prefix: str) -> Mapping[str, Any] | None:
        value = parent.get(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            raise self.fail(
                _dotted(prefix, key),
                f"must be a table, got {_describe(value)}",
                f"[{_dotted(prefix, key)}] on its own line, with its keys below it",
            )
        return value

    def value(
        self,
        table: Mapping[str, Any],
        key: str,
        kind: type,
        prefix: str,
        *,
        default: Any = None,
        required: bool = False,
        example: Any = None,
        context: str = "",
    ) -> Any:
        dotted = _dotted(prefix, key)
        example_line = f"{key} = {_toml_value(example)}" if example is not None else key
        if key not in table:
            if required:
                raise self.fail(dotted, "missing (it is required)", example_line, context)
            return default
        value = table[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = _as_float(value), True
        if kind is float and ok and not math.isfinite(value):
            raise self.fail(
                dotted, f"must be a finite number, got {_toml_value(value)}", example_line, context
            )
        if not ok:
            raise self.fail(
                dotted,
                f"must be {_TYPE_NAMES[kind]}, got {_describe(value)}",
                example_line,
                context,
            )
        if kind is str and not value.strip():
            raise self.fail(dotted, "must not be empty", example_line, context)
        return value

    def timeout(self, table: Mapping[str, Any], prefix: str, default: float) -> float:
        """Seconds to wait for an answer: more than 0, at most TIMEOUT_MAX."""
        number: float = self.value(
            table, "timeout", float, prefix, default=default, example=default
        )
        if not 0 < number <= TIMEOUT_MAX:
            raise self.fail(
                _dotted(prefix, "timeout"),
                f"must be more than 0 and at most {TIMEOUT_MAX:g} seconds (10 minutes), "
                f"got {_toml_value(number)}",
                f"timeout = {_toml_value(default)}",
            )
        return number

    def interval(self, table: Mapping[str, Any], key: str, prefix: str, default: float) -> float:
        """Seconds between two polls: between POLL_MIN and POLL_MAX."""
        number: float = self.value(table, key, float, prefix, default=default, example=default)
        if not POLL_MIN <= number <= POLL_MAX:
            raise self.fail(
                _dotted(prefix, key),
                f"must be between {POLL_MIN:g} second and {POLL_MAX:g} seconds (a day), "
                f"got {_toml_value(number)}",
                f"{key} = {_toml_value(default)}",
            )
        return number

    # -- sections

    def config(self, raw: Mapping[str, Any]) -> Config:
        self.check_keys(raw, _TOP_KEYS, "")
        read_only = self.value(raw, "read_only", bool, "", default=False, example=True)
        audit_log = self.value(raw, "audit_log", str, "", example="~/cockpit-audit.jsonl")
        gitlab = self.gitlab(raw)
        kubernetes = self.kubernetes(raw)
        prometheus = self.prometheus(raw)
        poll = self.poll(raw)
        services = self.services(raw, kubernetes)
        return Config(
            path=self.path,
            read_only=read_only,
            audit_log=_resolve_path(Path(audit_log), self.path.parent) if audit_log else None,
            gitlab=gitlab,
            kubernetes=kubernetes,
            prometheus=prometheus,
            poll=poll,
            services=services,
            warnings=tuple(self.warnings),
        )

    def url(self, table: Mapping[str, Any], prefix: str, example: str) -> tuple[str, str]:
        url = self.value(table, "url", str, prefix, required=True, example=example).strip()
        try:
            parts = urlsplit(url)
        except ValueError:  # e.g. an unclosed "[" of an IPv6 address
            raise self.fail(
                f"{prefix}.url", f'is not a valid URL: "{shown(url)}"', f'url = "{example}"'
            ) from None
        if parts.scheme not in ("http", "https"):
            problem = (
                f'must start with http:// or https://, got "{shown(url)}"'
                if parts.scheme
                else f'has no scheme: "{shown(url)}"'
            )
            raise self.fail(f"{prefix}.url", problem, f'url = "{example}"')
        if not parts.hostname:
            raise self.fail(
                f"{prefix}.url",
                f'has no host name: "{shown(url)}"',
                f'url = "{example}"',
            )
        try:
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError:
            raise self.fail(
                f"{prefix}.url",
                f'has an invalid port: "{shown(url)}"',
                f'url = "{example}"',
            ) from None
        return url.rstrip("/"), parts.hostname

    def gitlab(self, raw: Mapping[str, Any]) -> GitLabConfig | None:
        table = self.table(raw, "gitlab", "")
        if table is None:
            return None
        self.check_keys(table, _GITLAB_KEYS, "gitlab")
        url, host = self.url(table, "gitlab", "https://gitlab.example.com")
        timeout = self.timeout(table, "gitlab", 10.0)
        return GitLabConfig(url=url, token=self.token(table), timeout=timeout, host=host)

    def token(self, table: Mapping[str, Any]) -> Secret:
        if "token_env" in table and "token_file" in table:
            raise self.fail(
                "gitlab.token_file",
                "token_env and token_file are both set; choose one",
                'token_env = "GITLAB_TOKEN" (and remove token_file)',
            )
        if "token_file" in table:
            name = self.value(
                table, "token_file", str, "gitlab", example="~/.config/cockpit/gitlab-token"
            )
            file = _resolve_path(Path(name), self.path.parent)
            where = _path_shown(file)
            example = f'echo "$GITLAB_TOKEN" > {where} && chmod 600 {where}'
            try:
                text = file.read_text(encoding="utf-8")
                mode = file.stat().st_mode
            except FileNotFoundError:
                raise self.fail("gitlab.token_file", f"{where} does not exist", example) from None
            except (OSError, ValueError) as error:  # ValueError: a NUL in the name, not UTF-8
                reason = getattr(error, "strerror", None) or type(error).__name__
                raise self.fail(
                    "gitlab.token_file", f"cannot read {where} ({reason})", example
                ) from None
            token = text.strip()
            if not token:
                raise self.fail("gitlab.token_file", f"{where} is empty", example)
            if "\n" in token:
                raise self.fail(
                    "gitlab.token_file",
                    f"{where} holds more than one line; it must hold only the token",
                    example,
                )
            if stat.S_ISREG(mode) and mode & 0o077:
                # As ssh says of a private key others can read (OpenSSH authfile.c,
                # sshkey_perm_ok); the token still serves: a warning, not a refusal.
                self.warnings.append(
                    f"WARNING: token file {where} is readable by others "
                    f"(mode {stat.S_IMODE(mode):04o}); run chmod 600 {where}"
                )
            return Secret(token)
        variable = self.value(
            table, "token_env", str, "gitlab", default=DEFAULT_TOKEN_ENV, example="GITLAB_TOKEN"
        )
        if not _ENV_NAME.fullmatch(variable):
            # Not echoed: what is written here instead of a variable's name is often the
            # token itself.
            raise self.fail(
                "gitlab.token_env",
                "must be the name of an environment variable (letters, digits and _), "
                "not the token itself",
                'token_env = "GITLAB_TOKEN", then export GITLAB_TOKEN=<your access token>',
            )
        token = self.environ.get(variable, "").strip()
        if not token:
            raise self.fail(
                "gitlab.token_env",
                f"the environment variable {variable} is not set or empty; cockpit reads the "
                "GitLab token from it (never from the command line)",
                f"export {variable}=<your access token>, or token_file = "
                '"~/.config/cockpit/gitlab-token"',
            )
        return Secret(token)

    def kubernetes(self, raw: Mapping[str, Any]) -> KubernetesConfig:
        table = self.table(raw, "kubernetes", "")
        if table is None:
            return KubernetesConfig()
        self.check_keys(table, _KUBERNETES_KEYS, "kubernetes")
        name = self.value(table, "kubeconfig", str, "kubernetes", example="~/.kube/config")
        if name is None:
            return KubernetesConfig()
        file = _resolve_path(Path(name), self.path.parent)
        if not _is_file(file):
            raise self.fail(
                "kubernetes.kubeconfig",
                f"{_path_shown(file)} does not exist",
                'kubeconfig = "~/.kube/config" (or remove the key to use $KUBECONFIG)',
            )
        return KubernetesConfig(kubeconfig=file)

    def prometheus(self, raw: Mapping[str, Any]) -> PrometheusConfig | None:
        table = self.table(raw, "prometheus", "")
        if table is None:
            return None
        self.check_keys(table, _PROMETHEUS_KEYS, "prometheus")
        url, _ = self.url(table, "prometheus", "http://prometheus.monitoring:9090")
        return PrometheusConfig(url=url, timeout=self.timeout(table, "prometheus", 5.0))

    def poll(self, raw: Mapping[str, Any]) -> PollConfig:
        table = self.table(raw, "poll", "")
        if table is None:
            return PollConfig()
        self.check_keys(table, _POLL_KEYS, "poll")
        defaults = PollConfig()
        values = {
            key: self.interval(table, key, "poll", getattr(defaults, key)) for key in _POLL_KEYS
        }
        return PollConfig(**values)

    def defaults(self, raw: Mapping[str, Any]) -> _Defaults:
        """``[defaults]``: what services inherit (see README, "Short configurations")."""
        table = self.table(raw, "defaults", "")
        if table is None:
            return _Defaults()
        self.check_keys(table, _DEFAULTS_KEYS, "defaults")
        project = self.value(table, "gitlab_project", str, "defaults", example="shop/{service}")
        ref = self.value(table, "ref", str, "defaults", example="main")
        migration_paths = (
            self.migration_paths(table, "defaults", "") if "migration_paths" in table else None
        )
        environments = self.environment_names(table, "defaults", "")
        env_table = self.table(table, "environment", "defaults") or {}
        common = {k: v for k, v in env_table.items() if not isinstance(v, dict)}
        self.env_layer(common, "defaults.environment", "all services")
        by_name: dict[str, Mapping[str, Any]] = {}
        for env_name, layer in env_table.items():
            if isinstance(layer, dict):
                prefix = f"defaults.environment.{shown(env_name, 40)}"
                self.env_layer(layer, prefix, f"all services, environment {quoted(env_name, 40)}")
                by_name[env_name] = layer
        return _Defaults(project, ref, migration_paths, environments, common, by_name)

    def environment_names(
        self, table: Mapping[str, Any], prefix: str, context: str
    ) -> tuple[str, ...] | None:
        if "environments" not in table:
            return None
        value = table["environments"]
        ok = isinstance(value, list) and all(isinstance(v, str) and v.strip() for v in value)
        if not ok or not value or len(set(value)) != len(value):
            raise self.fail(
                _dotted(prefix, "environments"),
                f"must be a list of distinct environment names, got {_describe(value)}",
                'environments = ["staging", "production"]',
                context,
            )
        return tuple(value)

    def env_layer(self, table: Mapping[str, Any], prefix: str, context: str) -> None:
        """Check the environment keys one level sets (their types and bounds), before merging."""
        self.check_keys(table, _SHARED_ENV_KEYS, prefix)
        probe = {k: v for k, v in table.items() if k in _SHARED_ENV_KEYS}
        self.environment({"name": "-", **probe}, prefix, context, None, context=context)

    def services(
        self, raw: Mapping[str, Any], kubernetes: KubernetesConfig
    ) -> tuple[ServiceConfig, ...]:
        defaults = self.defaults(raw)
        entries = raw.get("service", [])
        if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
            raise self.fail(
                "service",
                "must be an array of tables, written [[service]]",
                '[[service]] then name = "checkout" on the next line',
            )
        if not entries:
            raise self.fail(
                "service",
                "no services configured; add at least one [[service]] with an environment",
                '[[service]] name = "checkout" gitlab_project = "shop/checkout" '
                '[[service.environment]] name = "production"',
            )
        contexts = _KubeContexts(kubernetes, self.environ)
        # A context named in [defaults] is checked there, so a mistake names that key.
        layers = [("defaults.environment", defaults.environment)] + [
            (f"defaults.environment.{shown(n, 40)}", t) for n, t in defaults.by_name.items()
        ]
        for where, layer in layers:
            named = layer.get("kube_context")
            if isinstance(named, str) and not _PLACEHOLDER.search(named):
                contexts.check(named, self, f"{where}.kube_context", "all services")
        services: list[ServiceConfig] = []
        seen: dict[str, int] = {}
        for index, entry in enumerate(entries):
            service = self.service(entry, f"service[{index}]", contexts, defaults)
            if service.name in seen:
                raise self.fail(
                    f"service[{index}].name",
                    f"{quoted(service.name, 40)} is already the name of "
                    f"service[{seen[service.name]}]; service names must be unique",
                    f'name = "{shown(service.name, 40)}-2"',
                )
            seen[service.name] = index
            services.append(service)
        return tuple(services)

    def service(
        self,
        table: Mapping[str, Any],
        prefix: str,
        contexts: _KubeContexts,
        defaults: _Defaults | None = None,
    ) -> ServiceConfig:
        defaults = defaults or _Defaults()
        self.check_keys(table, _SERVICE_ALL_KEYS, prefix)
        name = self.value(table, "name", str, prefix, required=True, example="checkout")
        context = f"service {quoted(name, 40)}"
        project = self.value(
            table,
            "gitlab_project",
            str,
            prefix,
            required=defaults.gitlab_project is None,
            example="shop/checkout",
            context=context,
        )
        if project is None:
            project = _fill(defaults.gitlab_project or "", {"service": name})
        ref = self.value(
            table,
            "ref",
            str,
            prefix,
            default=defaults.ref or "main",
            example="main",
            context=context,
        )
        if "migration_paths" in table or defaults.migration_paths is None:
            migration_paths = self.migration_paths(table, prefix, context)
        else:
            migration_paths = defaults.migration_paths
        own = {k: v for k, v in table.items() if k in _SHARED_ENV_KEYS}
        self.env_layer(own, prefix, context)
        listed = self.environment_names(table, prefix, context)
        if listed is None:
            listed = defaults.environments or ()
        blocks = table.get("environment", [])
        if not isinstance(blocks, list) or not all(isinstance(e, dict) for e in blocks):
            raise self.fail(
                f"{prefix}.environment",
                "must be an array of tables, written [[service.environment]]",
                '[[service.environment]] then name = "production" on the next line',
                context,
            )
        by_name: dict[str, tuple[str, Mapping[str, Any]]] = {}
        for index, block in enumerate(blocks):
            where = f"{prefix}.environment[{index}]"
            self.check_keys(block, _ENV_KEYS, where)
            env_name = self.value(
                block, "name", str, where, required=True, example="production", context=context
            )
            if env_name in by_name:
                first = by_name[env_name][0].rsplit(".", 1)[-1]
                raise self.fail(
                    f"{where}.name",
                    f"{quoted(env_name, 40)} is already the name of {first} of this "
                    "service; environment names must be unique within a service",
                    'name = "production-eu"',
                    context,
                )
            self.env_layer(
                {k: v for k, v in block.items() if k != "name"},
                where,
                f"{context}, environment {quoted(env_name, 40)}",
            )
            by_name[env_name] = (where, block)
        names = [*listed, *(n for n in by_name if n not in listed)]
        if not names:
            raise self.fail(
                f"{prefix}.environment",
                "this service has no environment; add at least one [[service.environment]] "
                "(or environments = [...] here or in [defaults])",
                '[[service.environment]] name = "production" namespace = "checkout" '
                f"rollout = {quoted(name, 40)}",
                context,
            )
        envs: list[EnvironmentConfig] = []
        for env_name in names:
            where, block = by_name.get(env_name, (f"{prefix}.environments", {}))
            layers = (defaults.environment, defaults.by_name.get(env_name, {}), own, block)
            merged = self.expand(_merged(layers), name, env_name, where, context)
            envs.append(self.environment(merged, where, name, contexts))
        return ServiceConfig(
            name=name,
            gitlab_project=project.strip("/"),
            ref=ref,
            migration_paths=migration_paths,
            environments=tuple(envs),
        )

    def expand(
        self, table: dict[str, Any], service: str, environment: str, prefix: str, context: str
    ) -> dict[str, Any]:
        """Fill in ``{service}``, ``{environment}``, ``{namespace}`` and ``{rollout}``."""
        table["name"] = environment
        values = {"service": service, "environment": environment}
        order = ("gitlab_environment", "kube_context", "namespace", "rollout", "deployment")
        for key in (*order, *(k for k in table if k not in order)):
            value = table.get(key)
            if not isinstance(value, str) or key == "name":
                continue
            for placeholder in _PLACEHOLDER.findall(value):
                if placeholder not in values:
                    what = "namespace" if placeholder == "namespace" else "rollout or deployment"
                    raise self.fail(
                        f"{prefix}.{key}",
                        f"uses {{{placeholder}}} but this environment sets no {what}",
                        f'{"namespace" if placeholder == "namespace" else "rollout"} = "{{service}}"',
                        f"{context}, environment {quoted(environment, 40)}",
                    )
            table[key] = _fill(value, values)
            if key == "namespace":
                values["namespace"] = table[key]
            elif key in ("rollout", "deployment"):
                values["rollout"] = table[key]
        return table

    def migration_paths(
        self, table: Mapping[str, Any], prefix: str, context: str
    ) -> tuple[str, ...]:
        if "migration_paths" not in table:
            return DEFAULT_MIGRATION_PATHS
        value = table["migration_paths"]
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self.fail(
                f"{prefix}.migration_paths",
                f"must be a list of path globs, got {_describe(value)}",
                'migration_paths = ["db/migrate/**", "prisma/migrations/**"]',
                context,
            )
        return tuple(value)

    def environment(
        self,
        table: Mapping[str, Any],
        prefix: str,
        service: str,
        contexts: _KubeContexts | None,
        *,
        context: str = "",
    ) -> EnvironmentConfig:
        """One environment, all levels merged; ``contexts`` None: one level (not checked
        against the kubeconfig), ``context`` then names that level in messages."""
        self.check_keys(table, _ENV_KEYS, prefix)
        if not context:
            context = f"service {quoted(service, 40)}"
            name = self.value(
                table, "name", str, prefix, required=True, example="production", context=context
            )
            context = f"service {quoted(service, 40)}, environment {quoted(name, 40)}"
        else:
            name = table["name"]

        def get(key: str, kind: type, default: Any, example: Any) -> Any:
            return self.value(
                table, key, kind, prefix, default=default, example=example, context=context
            )

        gitlab_environment = get("gitlab_environment", str, name, name)
        kube_context = get("kube_context", str, None, "prod-eu")
        namespace = get("namespace", str, None, service)
        rollout = get("rollout", str, None, service)
        deployment = get("deployment", str, None, service)
        if rollout is not None and deployment is not None:
            raise self.fail(
                f"{prefix}.deployment",
                "rollout and deployment are both set; an environment runs one workload",
                f"rollout = {quoted(rollout, 40)} for an Argo Rollout, or deployment = "
                f"{quoted(deployment, 40)} for a Deployment (not both)",
                context,
            )
        kind: WorkloadKind | None = (
            "Rollout" if rollout is not None else "Deployment" if deployment is not None else None
        )
        if kube_context is not None and contexts is not None:
            contexts.check(kube_context, self, f"{prefix}.kube_context", context)
        success_rate = get("success_rate", str, None, "sum(rate(...)) / sum(rate(...))")
        latency = get("latency", str, None, "histogram_quantile(0.99, ...)")
        threshold = get("threshold", float, 0.99, 0.99)
        if not 0.0 <= threshold <= 1.0:
            raise self.fail(
                f"{prefix}.threshold",
                f"must be a success rate between 0 and 1, got {_toml_value(threshold)}",
                "threshold = 0.99 (for 99 %)",
                context,
            )
        guard_samples = get("guard_samples", int, 3, 3)
        if not 1 <= guard_samples <= GUARD_SAMPLES_MAX:
            raise self.fail(
                f"{prefix}.guard_samples",
                f"must be between 1 and {GUARD_SAMPLES_MAX}, got {_toml_value(guard_samples)}",
                "guard_samples = 3",
                context,
            )
        return EnvironmentConfig(
            service=service,
            name=name,
            gitlab_environment=gitlab_environment,
            kube_context=kube_context,
            namespace=namespace,
            workload_kind=kind,
            workload_name=rollout if rollout is not None else deployment,
            success_rate=success_rate or default_success_rate_query(service, name),
            latency=latency,
            threshold=threshold,
            read_only=get("read_only", bool, False, True),
            auto_abort=get("auto_abort", bool, False, True),
            guard_samples=guard_samples,
        )


@dataclass(frozen=True)
class _Defaults:
    """``[defaults]`` as read: what a service does not say, it takes from here."""

    gitlab_project: str | None = None
    ref: str | None = None
    migration_paths: tuple[str, ...] | None = None
    environments: tuple[str, ...] | None = None
    #: ``[defaults.environment]``'s own keys, and its tables per environment name.
    environment: Mapping[str, Any] = field(default_factory=dict)
    by_name: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


def _merged(layers: tuple[Mapping[str, Any], ...]) -> dict[str, Any]:
    """Environment keys, later levels winning; a level naming a rollout or a deployment
    replaces the workload of the levels before it (so a service may say deployment =
    where [defaults.environment] says rollout)."""
    merged: dict[str, Any] = {}
    for layer in layers:
        if "rollout" in layer or "deployment" in layer:
            merged.pop("rollout", None)
            merged.pop("deployment", None)
        merged.update({k: v for k, v in layer.items() if k != "name"})
    return merged


def _fill(text: str, values: Mapping[str, str]) -> str:
    """``text`` with its placeholders replaced; other braces (PromQL's) are left alone."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


class _KubeContexts:
    """The kubeconfig's context names, read once and only when a kube_context needs checking."""

    def __init__(self, kubernetes: KubernetesConfig, environ: Mapping[str, str]) -> None:
        self._kubernetes = kubernetes
        self._environ = environ
        self._names: frozenset[str] | None = None
        self._source = ""

    def _load(self, validator: _Validator, key: str, context: str) -> frozenset[str]:
        if self._names is not None:
            return self._names
        from cockpit import kubeconfig as kubeconfig_file  # deferred: only when needed

        if self._kubernetes.kubeconfig is not None:
            file = self._kubernetes.kubeconfig
        elif self._environ.get("KUBECONFIG", "").strip():
            file = Path(self._environ["KUBECONFIG"].strip()).expanduser()
        elif self._environ.get("KUBERNETES_SERVICE_HOST"):
            self._names, self._source = frozenset({"default"}), "the in-cluster configuration"
            return self._names
        else:
            file = Path(self._environ.get("HOME", str(Path.home()))) / ".kube" / "config"
        fix = '[kubernetes] kubeconfig = "~/.kube/config", or remove kube_context'
        if not _is_file(file):
            raise validator.fail(
                key,
                f"a kube context is named but there is no kubeconfig at {_path_shown(file)}",
                fix,
                context,
            )
        try:
            kubeconfig = kubeconfig_file.load(file)
        except kubeconfig_file.KubeconfigUnreadable as error:
            raise ConfigError(f"{validator.path}: {key}: {error}") from None
        self._names, self._source = frozenset(kubeconfig.contexts), _path_shown(file)
        return self._names

    def check(self, name: str, validator: _Validator, key: str, context: str) -> None:
        names = self._load(validator, key, context)
        if name in names:
            return
        close = difflib.get_close_matches(name[:100], sorted(names), n=1, cutoff=0.6)
        known = shown(", ".join(sorted(names)) or "none", 200)
        suggestion = close[0] if close else sorted(names)[0] if names else "my-context"
        raise validator.fail(
            key,
            f"no context {shown(name, 40)!r} in {self._source} (it has: {known})",
            f"kube_context = {quoted(suggestion, 40)}",
            context,
        )


def _path_shown(path: Path) -> str:
    return shown(str(path), 120)


def _is_file(path: Path) -> bool:
    """``path.is_file()``, False too for a name the system refuses (too long, a NUL)."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _as_float(value: int) -> float:
    """A TOML integer as a float; one too large for a float is infinite (and refused)."""
    try:
        return float(value)
    except OverflowError:
        return math.inf if value > 0 else -math.inf


def _dotted(prefix: str, key: str) -> str:
    return f"{prefix}.{key}" if prefix else key


def _describe(value: Any) -> str:
    names: dict[type, str] = {
        bool: "a boolean",
        int: "a whole number",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "a table",
    }
    label = names.get(type(value), type(value).__name__)
    if isinstance(value, dict | list):
        return label
    return f"{label} ({_toml_value(value)})"
