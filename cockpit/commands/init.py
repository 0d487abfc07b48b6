"""``cockpit init``: discover the services of a GitLab group and write a configuration.

Connection settings come from flags or the variables ``cockpit sim`` writes to
``DIR/env``: ``GITLAB_URL``, ``GITLAB_TOKEN`` (only ever from the environment),
``KUBECONFIG`` and ``PROMETHEUS_URL``. It reads:

* GitLab: the group's projects, subgroups included (``GET /groups/:id/projects?
  include_subgroups=true``, docs.gitlab.com/api/groups/#list-projects), and each
  project's available environments (``GET /projects/:id/environments?states=available``,
  docs.gitlab.com/api/environments/);
* Kubernetes: Rollouts and Deployments in every namespace of every kube context;
* Prometheus: which label convention makes the success-rate query return data.

Then it matches (see :mod:`cockpit.discovery`), prints a summary on stderr and writes
the file (``--dry-run``: prints it on stdout). An existing file is kept unless
``--force``. It never asks a question.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

from cockpit import config as config_file
from cockpit import discovery
from cockpit import kubeconfig as kubeconfig_file
from cockpit.errors import CommandFailed, UsageError
from cockpit.redact import shown
from cockpit.sources.errors import scrub

# --------------------------------------------------------------------------- GitLab


async def _pages(client: httpx.AsyncClient, path: str, params: dict[str, str]) -> list[Any]:
    """Every page of a GitLab list (``X-Next-Page``, docs.gitlab.com/api/rest/#pagination)."""
    items: list[Any] = []
    page = "1"
    while page:
        response = await client.get(path, params={**params, "per_page": "100", "page": page})
        if response.status_code == 401:
            raise CommandFailed(
                "GitLab refused the token (401): it is wrong, expired or revoked; "
                "run 'cockpit doctor' after setting a valid one"
            )
        if response.status_code == 404:
            raise CommandFailed(f"GitLab has no {shown(path, 80)} (404) visible to this token")
        if response.status_code != 200:
            raise CommandFailed(f"GitLab answered {response.status_code} to GET {shown(path, 80)}")
        items += response.json()
        page = response.headers.get("X-Next-Page", "")
    return items


async def gitlab_environments(
    url: str, token: str, group: str
) -> tuple[list[str], list[discovery.GitLabEnvironment]]:
    async with httpx.AsyncClient(
        base_url=f"{url}/api/v4", headers={"PRIVATE-TOKEN": token}, timeout=30
    ) as client:
        try:
            projects = await _pages(
                client,
                f"/groups/{quote(group, safe='')}/projects",
                {"include_subgroups": "true", "archived": "false"},
            )
        except CommandFailed as error:
            if "(404)" in str(error):
                raise CommandFailed(
                    f"GitLab has no group {group!r} visible to this token; give its full "
                    "path as in its URL (e.g. --group shop or --group platform/shop)"
                ) from None
            raise
        paths = sorted(p["path_with_namespace"] for p in projects)
        found = await asyncio.gather(
            *(
                _pages(
                    client,
                    f"/projects/{quote(path, safe='')}/environments",
                    {"states": "available"},
                )
                for path in paths
            )
        )
    environments = [
        discovery.GitLabEnvironment(
            project=path,
            name=e["name"],
            slug=e.get("slug") or discovery.slug(e["name"]),
            namespace=e.get("kubernetes_namespace") or None,
        )
        for path, envs in zip(paths, found, strict=True)
        for e in envs
    ]
    return paths, environments


# --------------------------------------------------------------------------- Kubernetes


async def kube_workloads(
    kubeconfig: Path | None, only: list[str] | None
) -> tuple[list[discovery.Workload], list[str]]:
    from lightkube import ApiError, AsyncClient
    from lightkube.resources.apps_v1 import Deployment

    from cockpit.sources.kube import Rollout

    try:
        loaded = kubeconfig_file.load(kubeconfig)
    except kubeconfig_file.KubeconfigUnreadable as error:
        raise UsageError(str(error)) from None
    contexts = only or sorted(loaded.contexts)
    unknown = [c for c in contexts if c not in loaded.contexts]
    if unknown:
        raise UsageError(
            f"no kube context {unknown[0]!r} in the kubeconfig (it has: "
            f"{', '.join(sorted(loaded.contexts)) or 'none'})"
        )
    workloads: list[discovery.Workload] = []
    problems: list[str] = []
    for context in contexts:
        single = loaded.get(context_name=context)
        if single is None:
            continue
        client = AsyncClient(config=single, timeout=httpx.Timeout(20.0))
        try:
            for kind, resource in (("Rollout", Rollout), ("Deployment", Deployment)):
                try:
                    async for obj in client.list(resource, namespace="*"):
                        metadata = obj.metadata  # type: ignore[attr-defined]
                        workloads.append(
                            discovery.Workload(
                                context,
                                metadata.namespace or "",
                                kind,
                                metadata.name or "",
                                dict(metadata.annotations or {}),
                            )
                        )
                except ApiError as error:
                    code = error.status.code if error.status else None
                    if code == 404 and kind == "Rollout":
                        continue  # Argo Rollouts is not installed there
                    problems.append(f"context {context}: listing {kind}s answered {code}")
        except httpx.HTTPError as error:
            problems.append(f"context {context}: unreachable ({type(error).__name__})")
        finally:
            await client.close()
    return workloads, problems


# --------------------------------------------------------------------------- Prometheus


async def choose_queries(
    url: str, services: dict[str, str], matches: list[discovery.Match]
) -> tuple[str | None, str | None, str]:
    """The success-rate and latency templates of the label convention with data for the
    most matched environments, and a sentence saying which and why."""
    matched = [m for m in matches if m.outcome == "matched" and m.workload is not None]
    if not matched:
        return None, None, "no matched environment to try queries on"

    async with httpx.AsyncClient(base_url=url, timeout=15) as client:

        async def has_data(query: str) -> bool:
            try:
                response = await client.post("/api/v1/query", data={"query": query})
                body = response.json()
            except (httpx.HTTPError, ValueError):
                return False
            return body.get("status") == "success" and bool(body.get("data", {}).get("result"))

        def filled(template: str, m: discovery.Match) -> str:
            w = m.workload
            assert w is not None
            return discovery.fill(
                template, services[m.environment.project], m.environment.name, w.namespace, w.name
            )

        scores: list[tuple[int, int, str, str]] = []
        for index, (service_label, env_label, value) in enumerate(discovery.LABEL_CONVENTIONS):
            template = discovery.success_rate_template(service_label, env_label, value)
            answers = await asyncio.gather(*(has_data(filled(template, m)) for m in matched))
            scores.append((sum(answers), -index, service_label, env_label))
        best, _, service_label, env_label = max(scores)
        if best == 0:
            tried = ", ".join(f"{s}/{e}" for s, e, _ in discovery.LABEL_CONVENTIONS)
            return (
                None,
                None,
                f"no label convention returned data for http_requests_total (tried {tried}); "
                "success_rate left to its default — set it in [defaults.environment]",
            )
        value = "{namespace}" if env_label == "namespace" else "{environment}"
        success = discovery.success_rate_template(service_label, env_label, value)
        latency = discovery.latency_template(service_label, env_label, value)
        latency_data = await asyncio.gather(*(has_data(filled(latency, m)) for m in matched[:3]))
        reason = (
            f'chose {service_label}="{{service}}", {env_label}="{value}": data for {best} of '
            f"{len(matched)} matched environments"
        )
        return success, (latency if any(latency_data) else None), reason


# --------------------------------------------------------------------------- command


def _setting(flag: str | None, variable: str, what: str, flag_name: str) -> str:
    value = (flag or os.environ.get(variable, "")).strip()
    if not value:
        raise UsageError(f"no {what}: give {flag_name} or set ${variable}")
    return value.rstrip("/")


def run(args: argparse.Namespace) -> int:
    gitlab_url = _setting(args.gitlab_url, "GITLAB_URL", "GitLab address", "--gitlab-url")
    token = os.environ.get(args.token_env, "").strip()
    if not token:
        raise UsageError(
            f"${args.token_env} is not set; export {args.token_env}=<a GitLab access token "
            "with the api scope> (cockpit never takes a token on the command line)"
        )
    prometheus_url = (args.prometheus_url or os.environ.get("PROMETHEUS_URL", "")).strip()
    kube_name = args.kubeconfig or os.environ.get("KUBECONFIG", "").strip() or None
    kubeconfig = Path(kube_name).expanduser().resolve() if kube_name else None
    output = Path(args.output)
    if not args.dry_run and output.exists() and not args.force:
        raise UsageError(f"{output} already exists; use --force to overwrite it, or --output FILE")
    try:
        text, summary = asyncio.run(
            _discover(args, gitlab_url, token, kubeconfig, prometheus_url.rstrip("/"))
        )
    except httpx.HTTPError as error:
        raise CommandFailed(
            scrub(f"cannot reach a system ({type(error).__name__}); run 'cockpit doctor'", [token])
        ) from None
    for line in summary:
        print(f"cockpit init: {scrub(line, [token])}", file=sys.stderr)
    # What is written must load: check it as cockpit will read it.
    config_file.parse(text, output.resolve(), environ={**os.environ, args.token_env: token})
    if args.dry_run:
        sys.stdout.write(text)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_name(f".{output.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, output)
    print(
        f"cockpit init: wrote {output}; check it with: cockpit doctor --config {output}",
        file=sys.stderr,
    )
    return 0


async def _discover(
    args: argparse.Namespace,
    gitlab_url: str,
    token: str,
    kubeconfig: Path | None,
    prometheus_url: str,
) -> tuple[str, list[str]]:
    (projects, environments), (workloads, problems) = await asyncio.gather(
        gitlab_environments(gitlab_url, token, args.group),
        kube_workloads(kubeconfig, args.context),
    )
    if not projects:
        raise CommandFailed(f"the group {args.group!r} has no projects visible to this token")
    services = {p: discovery.service_name(p, projects) for p in projects}
    matches = [discovery.match(e, workloads) for e in environments]
    counted = {
        k: sum(m.outcome == k for m in matches) for k in ("matched", "unmatched", "ambiguous")
    }
    summary = [
        f"{len(projects)} projects in {args.group}, {len(environments)} environments, "
        f"{len(workloads)} workloads: {counted['matched']} matched, {counted['unmatched']} "
        f"unmatched, {counted['ambiguous']} ambiguous",
        *problems,
    ]
    for m in matches:
        where = f"{m.environment.project} {m.environment.name}"
        if m.outcome == "matched" and m.workload is not None:
            summary.append(f"matched    {where} → {m.workload.shown()} by {m.how}")
        else:
            summary.append(f"{m.outcome:<10} {where}: {m.how}")
            summary += [f"             candidate: {w.shown()}" for w in m.candidates]
    success = latency = None
    if prometheus_url:
        success, latency, reason = await choose_queries(prometheus_url, services, matches)
        summary.append(f"prometheus: {reason}")
    connections = discovery.Connections(
        gitlab_url, args.token_env, str(kubeconfig) if kubeconfig else None, prometheus_url or None
    )
    text = discovery.render(connections, args.group, matches, projects, success, latency)
    return text, summary
