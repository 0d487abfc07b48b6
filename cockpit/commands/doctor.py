"""``cockpit doctor``: a checklist of what cockpit needs from each system, and the fixes.

For the configuration it loads, it asks:

* GitLab: reachable (TLS, authentication) at ``GET /api/v4/version``; the token's scopes
  from ``GET /api/v4/personal_access_tokens/self`` (docs.gitlab.com/api/personal_access_tokens/
  "Get details on a personal access token"): ``api`` reads and writes, ``read_api`` only
  reads (docs.gitlab.com/user/profile/personal_access_tokens/#personal-access-token-scopes);
  every configured project and environment visible to the token.
* Kubernetes, per kube context and namespace: every permission cockpit uses, with a
  ``SelfSubjectAccessReview`` each (``POST /apis/authorization.k8s.io/v1/
  selfsubjectaccessreviews``; kubernetes.io/docs/reference/access-authn-authz/
  authorization/#checking-api-access).
* Prometheus: reachable, and each configured success-rate query returns data.
* Clocks: each server's ``Date`` header (RFC 9110 §6.6.1) against the local clock.

Each line is ``ok`` or ``FAIL`` with what was found and, when failing, the fix. Exit 0
when all pass, 1 when any fails; ``--json`` prints the same as one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import ssl
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from cockpit import config as config_file
from cockpit import kubeconfig as kubeconfig_file
from cockpit.redact import shown
from cockpit.sources.errors import scrub

#: More than this between a server's clock and ours makes every "age" on screen wrong.
SKEW_LIMIT = 10.0

#: What cockpit reads in each namespace: (group, resource) — get, list and watch each.
READS = (
    ("argoproj.io", "rollouts"),
    ("apps", "replicasets"),
    ("apps", "deployments"),
    ("argoproj.io", "analysisruns"),
)
#: What promote, abort and undo write: (group, resource, subresource).
WRITES = (
    ("argoproj.io", "rollouts", None),
    ("argoproj.io", "rollouts", "status"),
)


@dataclass(frozen=True)
class Check:
    source: str
    what: str
    ok: bool
    detail: str
    fix: str = ""
    #: Passed, but worth a look (a query with no data while others have some).
    warning: bool = False


def _tls_problem(error: BaseException) -> str | None:
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS: the server's certificate is not trusted ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS: {shown(str(seen), 120)}"
        seen = seen.__cause__ or seen.__context__
    return None


def _connection_check(source: str, url: str, error: BaseException, ca_fix: str) -> Check:
    tls = _tls_problem(error)
    if tls is not None:
        return Check(source, f"reach {url}", False, tls, ca_fix)
    if isinstance(error, httpx.TimeoutException):
        detail = "no answer in time"
    elif isinstance(error, httpx.ConnectError):
        detail = "cannot connect (refused, unknown host or no route)"
    else:
        detail = f"the request failed ({type(error).__name__})"
    return Check(
        source, f"reach {url}", False, detail, f"check the URL and that {url} is reachable"
    )


def _skew(source: str, response: httpx.Response, sent: float, received: float) -> Check | None:
    header = response.headers.get("Date")
    if not header:
        return None
    try:
        server = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None
    # Date has one-second resolution; the middle of the request is our best guess of "now".
    skew = server - (sent + received) / 2
    if abs(skew) <= SKEW_LIMIT:
        return Check(source, "clock", True, f"within {max(abs(skew), 1):.0f} s of this machine")
    direction = "ahead of" if skew > 0 else "behind"
    return Check(
        source,
        "clock",
        False,
        f"the server's clock is {abs(skew):.0f} s {direction} this machine's; ages and "
        "staleness on screen would be wrong",
        "synchronise this machine's clock (e.g. timedatectl set-ntp true, or chronyc makestep)",
    )


# --------------------------------------------------------------------------- GitLab


async def gitlab_checks(config: config_file.Config) -> list[Check]:
    gitlab = config.gitlab
    if gitlab is None:
        return [Check("gitlab", "configured", False, "no [gitlab] table", '[gitlab] url = "..."')]
    token = gitlab.token.reveal()
    checks: list[Check] = []
    ca_fix = "point SSL_CERT_FILE at your organisation's CA bundle"
    async with httpx.AsyncClient(
        base_url=f"{gitlab.url}/api/v4",
        timeout=gitlab.timeout,
        headers={"PRIVATE-TOKEN": token},
    ) as client:
        sent = time.time()
        try:
            response = await client.get("/version")
        except httpx.HTTPError as error:
            return [_connection_check("gitlab", gitlab.url, error, ca_fix)]
        received = time.time()
        if response.status_code == 401:
            return [
                Check(
                    "gitlab",
                    f"sign in to {gitlab.url}",
                    False,
                    "the token was refused (401): it is wrong, expired or revoked",
                    "create a personal access token with the api scope (User settings > "
                    "Access tokens) and put it where [gitlab] token_env/token_file says",
                )
            ]
        if response.status_code != 200:
            return [
                Check(
                    "gitlab",
                    f"reach {gitlab.url}",
                    False,
                    f"GET /api/v4/version answered {response.status_code}",
                    "check [gitlab] url: it is the address of the GitLab instance",
                )
            ]
        version = _field(response, "version") or "unknown version"
        checks.append(Check("gitlab", f"reach {gitlab.url}", True, f"GitLab {version}, signed in"))
        skew = _skew("gitlab", response, sent, received)
        if skew is not None:
            checks.append(skew)
        checks.append(await _scopes(client, config.read_only))
        checks += await asyncio.gather(*(_project(client, s) for s in config.services))
    return [_scrubbed(c, token) for c in checks]


def _field(response: httpx.Response, name: str) -> Any:
    try:
        body = response.json()
    except ValueError:
        return None
    return body.get(name) if isinstance(body, dict) else None


async def _scopes(client: httpx.AsyncClient, read_only: bool) -> Check:
    try:
        response = await client.get("/personal_access_tokens/self")
    except httpx.HTTPError as error:
        return Check("gitlab", "token scopes", False, f"cannot ask ({type(error).__name__})")
    if response.status_code != 200:
        # Before GitLab 15.5, and for OAuth or job tokens, there is no such endpoint.
        return Check(
            "gitlab",
            "token scopes",
            True,
            f"GitLab does not say (personal_access_tokens/self answered {response.status_code}); "
            "writes will show whether the token may make them",
        )
    scopes = _field(response, "scopes") or []
    listed = ", ".join(str(s) for s in scopes) or "none"
    if "api" in scopes:
        return Check(
            "gitlab",
            "token scopes",
            True,
            f"{listed}: reads, and writes (play, retry, cancel, re-deploy, flags)",
        )
    if "read_api" in scopes:
        if read_only:
            return Check("gitlab", "token scopes", True, f"{listed}: reads (read_only = true)")
        return Check(
            "gitlab",
            "token scopes",
            False,
            f"{listed}: the token may read but not write: promote (play), retry, cancel, "
            "re-deploy and flag toggles would be refused (insufficient_scope)",
            "create a token with the api scope, or set read_only = true in the configuration",
        )
    return Check(
        "gitlab",
        "token scopes",
        False,
        f"{listed}: neither api nor read_api, so cockpit cannot read pipelines",
        "create a personal access token with the api scope (or read_api to only read)",
    )


async def _project(client: httpx.AsyncClient, service: config_file.ServiceConfig) -> Check:
    what = f"project {service.gitlab_project}"
    path = quote(service.gitlab_project, safe="")
    try:
        response = await client.get(f"/projects/{path}")
        if response.status_code == 200:
            names = {e.gitlab_environment for e in service.environments}
            found = await client.get(f"/projects/{path}/environments", params={"per_page": 100})
            known = {e.get("name") for e in found.json()} if found.status_code == 200 else names
    except (httpx.HTTPError, ValueError, AttributeError) as error:
        return Check("gitlab", what, False, f"cannot ask ({type(error).__name__})")
    if response.status_code != 200:
        return Check(
            "gitlab",
            what,
            False,
            f"not found ({response.status_code}) — or the token's user is not a member",
            f"check gitlab_project of service {service.name!r} (group/project, as in the URL), "
            "and that the token's user has at least the Reporter role there",
        )
    missing = sorted(names - known)
    if missing:
        return Check(
            "gitlab",
            what,
            False,
            f"no environment named {', '.join(missing)} (it has: {', '.join(sorted(known))})",
            f"set gitlab_environment for service {service.name!r} to one of those names",
        )
    return Check("gitlab", what, True, f"visible, environments {', '.join(sorted(names))} found")


def _scrubbed(check: Check, token: str) -> Check:
    return Check(
        check.source, check.what, check.ok, scrub(check.detail, [token]), scrub(check.fix, [token])
    )


# --------------------------------------------------------------------------- Kubernetes


async def kube_checks(config: config_file.Config) -> list[Check]:
    from lightkube import ApiError, AsyncClient
    from lightkube.config.kubeconfig import KubeConfig
    from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
    from lightkube.resources.authorization_v1 import SelfSubjectAccessReview

    try:
        kubeconfig: KubeConfig = kubeconfig_file.load(config.kubernetes.kubeconfig)
    except kubeconfig_file.KubeconfigUnreadable as error:
        return [Check("kubernetes", "kubeconfig", False, str(error), "")]
    by_context: dict[str, set[str]] = {}
    for _, env in config.environments():
        context = env.kube_context or kubeconfig.current_context or ""
        single = kubeconfig.get(context_name=context) if context else None
        namespace = env.namespace or (single.namespace if single else "default")
        by_context.setdefault(context, set()).add(namespace)
    checks: list[Check] = []
    for context, namespaces in by_context.items():
        label = f"context {context}"
        try:
            single = kubeconfig.get(context_name=context)
            if single is None:
                raise KeyError(context)
            client = AsyncClient(config=single, timeout=httpx.Timeout(10.0))
        except Exception as error:  # a kubeconfig can fail in many ways
            checks.append(
                Check(
                    "kubernetes",
                    label,
                    False,
                    f"cannot be used ({type(error).__name__})",
                    "check the context, its cluster and user in the kubeconfig "
                    "(kubectl config get-contexts)",
                )
            )
            continue
        server = str(single.cluster.server)

        async def allowed(
            namespace: str,
            verb: str,
            group: str,
            resource: str,
            subresource: str | None,
            client: Any = client,
        ) -> bool:
            review = SelfSubjectAccessReview(
                spec=SelfSubjectAccessReviewSpec(
                    resourceAttributes=ResourceAttributes(
                        namespace=namespace,
                        verb=verb,
                        group=group,
                        resource=resource,
                        subresource=subresource,
                    )
                )
            )
            answer = await client.create(review)
            return bool(answer.status and answer.status.allowed)

        try:
            sent = time.time()
            reachable = await _kube_date(client)
            checks.append(Check("kubernetes", f"{label}: reach {server}", True, "signed in"))
            if reachable is not None:
                skew = _skew("kubernetes", reachable, sent, time.time())
                if skew is not None:
                    checks.append(
                        Check(skew.source, f"{label}: clock", skew.ok, skew.detail, skew.fix)
                    )
            for namespace in sorted(namespaces):
                checks += await _permissions(allowed, label, namespace, config.read_only)
        except ApiError as error:
            code = error.status.code if error.status else None
            if code == 401:
                checks.append(
                    Check(
                        "kubernetes",
                        f"{label}: sign in to {server}",
                        False,
                        "the credentials were refused (401): expired or wrong token",
                        f"renew the credentials of context {context} (e.g. your cloud's "
                        "'get-credentials' command), then kubectl --context "
                        f"{context} get ns to try them",
                    )
                )
            else:
                checks.append(
                    Check(
                        "kubernetes",
                        f"{label}: reach {server}",
                        False,
                        f"the apiserver answered {code}: {shown(error.status.message if error.status else '', 120)}",
                        "check the context's cluster in the kubeconfig",
                    )
                )
        except httpx.HTTPError as error:
            checks.append(
                _connection_check(
                    "kubernetes",
                    server,
                    error,
                    f"set certificate-authority(-data) of context {context}'s cluster",
                )
            )
        finally:
            await client.close()
    return checks


async def _kube_date(client: Any) -> httpx.Response | None:
    """``GET /version`` through lightkube's own HTTP client (its TLS and credentials), for
    the reachability and the ``Date`` header; None when that client is not reachable."""
    inner = getattr(getattr(client, "_client", None), "_client", None)
    if not isinstance(inner, httpx.AsyncClient):
        return None
    response = await inner.get("/version")
    if response.status_code == 401:
        from lightkube import ApiError

        raise ApiError(request=response.request, response=response)
    return response


async def _permissions(
    allowed: Callable[..., Awaitable[bool]], label: str, namespace: str, read_only: bool
) -> list[Check]:
    wanted: list[tuple[str, str, str, str | None]] = [
        (verb, g, r, None) for g, r in READS for verb in ("get", "list", "watch")
    ]
    if not read_only:
        wanted += [("patch", g, r, sub) for g, r, sub in WRITES]
    answers = await asyncio.gather(*(allowed(namespace, *w) for w in wanted))
    missing = [w for w, ok in zip(wanted, answers, strict=True) if not ok]
    what = f"{label}, namespace {namespace}: permissions"
    if not missing:
        scope = "get/list/watch" + ("" if read_only else ", patch rollouts and rollouts/status")
        return [Check("kubernetes", what, True, f"may {scope}")]
    checks = []
    for verb, group, resource, sub in missing:
        name = f"{resource}/{sub}" if sub else resource
        does = (
            "promote, abort and undo would be refused"
            if verb == "patch"
            else "cockpit cannot show it"
        )
        checks.append(
            Check(
                "kubernetes",
                what,
                False,
                f"may not {verb} {name} ({group}) in namespace {namespace}: {does}",
                f"grant it with a Role in {namespace}: apiGroups [{group}], resources [{name}], "
                f"verbs [{verb}]"
                + (", or set read_only = true in the configuration" if verb == "patch" else ""),
            )
        )
    return checks


# --------------------------------------------------------------------------- Prometheus


async def prometheus_checks(config: config_file.Config) -> list[Check]:
    prometheus = config.prometheus
    if prometheus is None:
        return [
            Check(
                "prometheus",
                "configured",
                False,
                "no [prometheus] table: health stays unknown",
                '[prometheus] url = "http://prometheus.monitoring:9090"',
            )
        ]
    checks: list[Check] = []
    async with httpx.AsyncClient(base_url=prometheus.url, timeout=prometheus.timeout) as client:
        sent = time.time()
        try:
            response = await client.post("/api/v1/query", data={"query": "vector(1)"})
        except httpx.HTTPError as error:
            return [_connection_check("prometheus", prometheus.url, error, "set SSL_CERT_FILE")]
        received = time.time()
        if response.status_code != 200 or _field(response, "status") != "success":
            return [
                Check(
                    "prometheus",
                    f"reach {prometheus.url}",
                    False,
                    f"/api/v1/query answered {response.status_code}, not Prometheus' JSON",
                    "check [prometheus] url: the base address of a Prometheus-compatible API",
                )
            ]
        checks.append(Check("prometheus", f"reach {prometheus.url}", True, "answers queries"))
        skew = _skew("prometheus", response, sent, received)
        if skew is not None:
            checks.append(skew)
        queries = [(s.name, e) for s, e in config.environments()]
        answers = await asyncio.gather(*(_query(client, s, e) for s, e in queries))
        if any(a.ok for a in answers):
            # Others answer: an environment without data most likely has no traffic yet.
            answers = [
                Check(a.source, a.what, True, NO_DATA + NO_DATA_SOME, NO_DATA_FIX, warning=True)
                if a.detail == NO_DATA
                else a
                for a in answers
            ]
        checks += answers
    return checks


NO_DATA = "the query returns no data"
NO_DATA_SOME = " (other environments' do: no traffic here yet, or labels that differ)"
NO_DATA_FIX = (
    "check the label names of success_rate (service= or app=, environment= or "
    "namespace=); 'cockpit init' tries the common ones"
)


async def _query(
    client: httpx.AsyncClient, service: str, env: config_file.EnvironmentConfig
) -> Check:
    what = f"success rate of {service}/{env.name}"
    try:
        response = await client.post("/api/v1/query", data={"query": env.success_rate})
        body = response.json()
    except (httpx.HTTPError, ValueError) as error:
        return Check("prometheus", what, False, f"cannot ask ({type(error).__name__})")
    if body.get("status") != "success":
        return Check(
            "prometheus",
            what,
            False,
            f"the query is refused: {shown(body.get('error', response.status_code), 120)}",
            "fix success_rate (try it in Prometheus' own page first)",
        )
    result = body.get("data", {}).get("result")
    if not result:
        return Check("prometheus", what, False, NO_DATA, NO_DATA_FIX)
    try:
        value = float(result[0]["value"][1]) if isinstance(result, list) else float(result[1])
    except (KeyError, IndexError, TypeError, ValueError):
        value = math.nan
    shown_value = "no traffic now" if math.isnan(value) else f"{value:.4f}"
    return Check("prometheus", what, True, f"returns data ({shown_value})")


# --------------------------------------------------------------------------- command


async def diagnose(config: config_file.Config) -> list[Check]:
    parts = await asyncio.gather(
        gitlab_checks(config), kube_checks(config), prometheus_checks(config)
    )
    return [check for part in parts for check in part]


def render(checks: list[Check]) -> str:
    lines = []
    for check in checks:
        mark = "FAIL" if not check.ok else "warn" if check.warning else "ok  "
        lines.append(f"{mark}  {check.source:<10}  {check.what}: {check.detail}")
        if (not check.ok or check.warning) and check.fix:
            lines.append(f"      {'':<10}  fix: {check.fix}")
    failed = sum(not c.ok for c in checks)
    lines.append("all checks passed" if not failed else f"{failed} of {len(checks)} checks failed")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    config = config_file.load(getattr(args, "config", None))
    config_file.print_warnings(config)
    checks = asyncio.run(diagnose(config))
    if args.json:
        body = {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}
        print(json.dumps(body, indent=2))
    else:
        print(render(checks))
    sys.stdout.flush()
    return 0 if all(c.ok for c in checks) else 1
