"""What ``cockpit init`` found, matched and will write: pure functions, no network.

GitLab environments (per project of a group) are matched to Kubernetes workloads
(Argo Rollouts and Deployments of every kube context) in this order:

1. the annotations GitLab's deploy boards read, ``app.gitlab.com/app`` =
   ``$CI_PROJECT_PATH_SLUG`` and ``app.gitlab.com/env`` = ``$CI_ENVIRONMENT_SLUG``
   (docs.gitlab.com/user/project/deploy_boards/#enabling-deploy-boards);
2. the environment's ``kubernetes_namespace`` (Environments API): the workload named like
   the project there, or the only workload there;
3. names: a workload named like the project in a namespace named like the environment,
   or the only workload of that name.

A workload annotated for another project or environment is never matched by name. Each
match says how it was made; an environment with no candidate is unmatched, one with
several is ambiguous, and both say why. :func:`render` writes a short configuration
(``[defaults]`` and placeholders, see README "Short configurations").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

APP_ANNOTATION = "app.gitlab.com/app"
ENV_ANNOTATION = "app.gitlab.com/env"

#: Label conventions tried for the success-rate query: (service label, environment
#: label, the placeholder the environment label takes).
LABEL_CONVENTIONS: tuple[tuple[str, str, str], ...] = tuple(
    (service, env, "{namespace}" if env == "namespace" else "{environment}")
    for service in ("service", "app", "job")
    for env in ("environment", "namespace")
)


def slug(text: str) -> str:
    """GitLab's slug (``CI_PROJECT_PATH_SLUG``, ``CI_ENVIRONMENT_SLUG``; docs.gitlab.com/
    ci/variables/predefined_variables/): lower case, runs of anything but a-z0-9 → '-',
    at most 63 characters, no '-' at either end."""
    out = "".join(c if c.isascii() and c.isalnum() else "-" for c in text.lower())
    return out[:63].strip("-")


@dataclass(frozen=True)
class GitLabEnvironment:
    project: str  # path with namespace: shop/checkout
    name: str
    slug: str
    namespace: str | None = None  # kubernetes_namespace


@dataclass(frozen=True)
class Workload:
    context: str
    namespace: str
    kind: str  # Rollout | Deployment
    name: str
    annotations: dict[str, str] = field(default_factory=dict, hash=False, compare=False)

    def shown(self) -> str:
        return f"{self.kind} {self.namespace}/{self.name} (context {self.context})"


@dataclass(frozen=True)
class Match:
    environment: GitLabEnvironment
    #: matched | unmatched | ambiguous
    outcome: str
    workload: Workload | None = None
    how: str = ""
    candidates: tuple[Workload, ...] = ()


def service_name(project: str, all_projects: Sequence[str]) -> str:
    """The project's own name, or its path with '-' when two projects share that name."""
    base = project.rsplit("/", 1)[-1]
    if sum(p.rsplit("/", 1)[-1] == base for p in all_projects) > 1:
        return project.replace("/", "-")
    return base


def match(environment: GitLabEnvironment, workloads: Sequence[Workload]) -> Match:
    base = environment.project.rsplit("/", 1)[-1]
    app = slug(environment.project)
    annotated = [
        w
        for w in workloads
        if w.annotations.get(APP_ANNOTATION) == app
        and w.annotations.get(ENV_ANNOTATION) in (environment.slug, environment.name)
    ]
    if annotated:
        return _decide(environment, annotated, "app.gitlab.com annotations")
    # Not annotated for something else: annotated workloads belong to what they say.
    free = [w for w in workloads if APP_ANNOTATION not in w.annotations]
    if environment.namespace:
        there = [w for w in free if w.namespace == environment.namespace]
        named = [w for w in there if w.name == base]
        if named:
            return _decide(environment, named, "the environment's namespace and the name")
        if len(there) == 1:
            return _decide(environment, there, "the environment's namespace (its only workload)")
    named = [w for w in free if w.name == base]
    in_env = [w for w in named if w.namespace in (environment.name, environment.slug)]
    if in_env:
        return _decide(environment, in_env, "the name, in a namespace named like the environment")
    if len(named) == 1:
        return _decide(environment, named, "the name (the only workload called so)")
    if named:
        return Match(
            environment,
            "ambiguous",
            how=f"{len(named)} workloads are named {base} and none carries app.gitlab.com "
            "annotations or sits in the environment's namespace",
            candidates=tuple(named),
        )
    where = f" (namespace {environment.namespace})" if environment.namespace else ""
    return Match(
        environment,
        "unmatched",
        how=f"no Rollout or Deployment is annotated app.gitlab.com/app={app}, "
        f"app.gitlab.com/env={environment.slug}{where}, or named {base}",
    )


def _decide(environment: GitLabEnvironment, found: list[Workload], how: str) -> Match:
    if len(found) == 1:
        return Match(environment, "matched", found[0], how)
    return Match(
        environment,
        "ambiguous",
        how=f"{len(found)} workloads match by {how}",
        candidates=tuple(found),
    )


def success_rate_template(service_label: str, env_label: str, env_value: str) -> str:
    """The article's success-rate query with these labels (guarded: all-failing reads 0)."""
    selector = f'{service_label}="{{service}}",{env_label}="{env_value}"'
    return (
        f'(sum(rate(http_requests_total{{{selector},status=~"2.."}}[5m])) or vector(0))'
        f" / sum(rate(http_requests_total{{{selector}}}[5m]))"
    )


def latency_template(service_label: str, env_label: str, env_value: str) -> str:
    selector = f'{service_label}="{{service}}",{env_label}="{env_value}"'
    return (
        "histogram_quantile(0.99, sum by (le) "
        f"(rate(http_request_duration_seconds_bucket{{{selector}}}[5m])))"
    )


def fill(template: str, service: str, environment: str, namespace: str, rollout: str) -> str:
    values = {
        "{service}": service,
        "{environment}": environment,
        "{namespace}": namespace,
        "{rollout}": rollout,
    }
    for key, value in values.items():
        template = template.replace(key, value)
    return template


# --------------------------------------------------------------------------- the file


@dataclass
class Connections:
    gitlab_url: str
    token_env: str
    kubeconfig: str | None
    prometheus_url: str | None


def _q(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def _literal(value: str) -> str:
    return f"'{value}'" if "'" not in value and "\n" not in value else _q(value)


def _common(values: Iterable[str]) -> str | None:
    counted = Counter(values).most_common(1)
    return counted[0][0] if counted else None


def render(
    connections: Connections,
    group: str,
    matches: Sequence[Match],
    projects: Sequence[str],
    success_rate: str | None,
    latency: str | None,
    note: Sequence[str] = (),
) -> str:
    """A short cockpit.toml for the matched environments (the others in comments)."""
    matched = [m for m in matches if m.outcome == "matched" and m.workload is not None]
    by_project: dict[str, list[Match]] = {}
    for m in matched:
        by_project.setdefault(m.environment.project, []).append(m)
    names = {p: service_name(p, projects) for p in projects}
    context = _common(m.workload.context for m in matched if m.workload)
    env_lists = Counter(tuple(m.environment.name for m in ms) for ms in by_project.values())
    shared = env_lists.most_common(1)[0][0] if env_lists else ()
    namespace_is_env = sum(
        1 for m in matched if m.workload and m.workload.namespace == m.environment.name
    )
    namespace_template = "{environment}" if namespace_is_env * 2 >= len(matched) else None
    kind = _common(m.workload.kind for m in matched if m.workload) or "Rollout"
    workload_key = "rollout" if kind == "Rollout" else "deployment"
    simple_project = all(p == f"{group}/{p.rsplit('/', 1)[-1]}" for p in by_project)

    lines = [
        f"# cockpit configuration written by `cockpit init --group {group}`.",
        "# Check it with `cockpit doctor`; README.md (Configuration) documents every key.",
        *(f"# {line}" for line in note),
        "",
        "[gitlab]",
        f"url = {_q(connections.gitlab_url)}",
        f"token_env = {_q(connections.token_env)}",
        "",
    ]
    if connections.kubeconfig:
        lines += ["[kubernetes]", f"kubeconfig = {_q(connections.kubeconfig)}", ""]
    if connections.prometheus_url:
        lines += ["[prometheus]", f"url = {_q(connections.prometheus_url)}", ""]
    lines.append("[defaults]")
    if simple_project:
        lines.append(f"gitlab_project = {_q(group + '/{service}')}")
    lines += [
        "environments = [" + ", ".join(_q(n) for n in shared) + "]",
        "",
        "[defaults.environment]",
    ]
    if context:
        lines.append(f"kube_context = {_q(context)}")
    if namespace_template:
        lines.append(f"namespace = {_q(namespace_template)}")
    lines.append(f'{workload_key} = "{{service}}"')
    if success_rate:
        lines.append(f"success_rate = {_literal(success_rate)}")
    if latency:
        lines.append(f"latency = {_literal(latency)}")
    lines += ["threshold = 0.99", ""]

    for project, ms in by_project.items():
        name = names[project]
        lines += ["[[service]]", f"name = {_q(name)}"]
        if not simple_project or name != project.rsplit("/", 1)[-1]:
            lines.append(f"gitlab_project = {_q(project)}")
        env_names = tuple(m.environment.name for m in ms)
        if env_names != shared:
            lines.append("environments = [" + ", ".join(_q(n) for n in env_names) + "]")
        overrides: list[list[str]] = []
        for m in ms:
            w = m.workload
            assert w is not None
            own: list[str] = []
            if w.context != context:
                own.append(f"kube_context = {_q(w.context)}")
            expected_ns = m.environment.name if namespace_template else None
            if w.namespace != expected_ns:
                own.append(f"namespace = {_q(w.namespace)}")
            if w.kind != kind or w.name != name:
                key = "rollout" if w.kind == "Rollout" else "deployment"
                value = '"{service}"' if w.name == name else _q(w.name)
                own.append(f"{key} = {value}")
            overrides.append(own)
        # What every environment of the service says is said once, for the service.
        common = [line for line in overrides[0] if all(line in o for o in overrides)]
        lines += common
        for m, own in zip(ms, overrides, strict=True):
            rest = [line for line in own if line not in common]
            if rest:
                lines += [
                    "  [[service.environment]]",
                    f"  name = {_q(m.environment.name)}",
                    *(f"  {line}" for line in rest),
                ]
        lines.append("")
    left = [m for m in matches if m.outcome != "matched"]
    if left:
        lines.append("# Not configured (see `cockpit init`'s summary):")
        lines += [f"#   {m.environment.project} {m.environment.name}: {m.how}" for m in left]
    return "\n".join(lines).rstrip("\n") + "\n"
