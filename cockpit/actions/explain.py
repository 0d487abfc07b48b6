"""A refused or failed write, in words a person can act on. Pure.

The sources already say which system failed and how (:class:`SourceError`); here the
action adds what it means for this write: which permission is missing (403), that the
object is gone or invisible (404), that it changed meanwhile (409), and whether
anything was changed at all.
"""

from __future__ import annotations

from cockpit.actions.plans import ActionPlan
from cockpit.actions.requests import Write
from cockpit.model import SourceName
from cockpit.sources.errors import SourceError

#: What each GitLab write needs: GitLab's permissions page (doc/user/permissions.md), the
#: jobs API, protected environments (doc/ci/environments/protected_environments.md) and
#: the feature flags API (Developer role).
_GITLAB_NEEDS = {
    "play-gate": "the Developer role on {project} and, if {environment} is a protected "
    "environment, permission to deploy to it",
    "redeploy": "the Developer role on {project} and, if {environment} is a protected "
    "environment, permission to deploy to it",
    "job-play": "the Developer role on {project} (and deploy permission for a protected "
    "environment)",
    "job-retry": "the Developer role on {project}",
    "job-cancel": "the Developer role on {project}",
    "flag-toggle": "the Developer role on {project} (feature flags need it)",
}


def _kube_needs(write: Write | None) -> str:
    if write is None or write.kube is None:
        return "patch permission on the workload"
    target = write.kube
    if target.kind == "Rollout":
        resource = "rollouts/status" if write.subresource == "status" else "rollouts"
        return (
            f"patch on {resource} (argoproj.io) in namespace {target.namespace} — the "
            "aggregated edit role grants it"
        )
    return f"patch on deployments (apps) in namespace {target.namespace} — the edit role grants it"


def explain(
    error: SourceError,
    plan: ActionPlan,
    write: Write | None = None,
    *,
    project: str | None = None,
    sent_before: int = 0,
) -> str:
    """The message for a failed read or write of ``plan`` (``write``: the one that failed)."""
    base = error.message.rstrip(".")
    nothing = (
        "nothing was changed"
        if sent_before == 0
        else f"the first {sent_before} request(s) were accepted, the rest not: look at the "
        "row before trying again"
    )
    status = error.status
    if error.source is SourceName.KUBE:
        if status == 403:
            return f"{base}; it needs {_kube_needs(write)}; {nothing}"
        if status == 401:
            return f"{base}; {nothing}"
        if status == 404:
            name = plan.workload or "the workload"
            return f"{base}: {name} no longer exists, or this kube context cannot see it; {nothing}"
        if status == 409:
            return f"{base}: someone changed it meanwhile; {nothing} — look again and retry"
    if error.source is SourceName.GITLAB:
        needs = _GITLAB_NEEDS.get(plan.operation)
        if status == 403 and needs:
            detail = needs.format(
                project=project or "the project", environment=plan.key.environment
            )
            return f"{base}; it needs {detail}; {nothing}"
        if status == 400 and plan.job_id is not None:
            return (
                f"{base}: job #{plan.job_id} changed meanwhile (played, retried or finished by "
                f"someone else?); {nothing} — look again"
            )
        if status == 404:
            return f"{base}: it no longer exists, or the token cannot see it; {nothing}"
        if status == 409:
            return f"{base}: it changed meanwhile; {nothing} — look again and retry"
    if status is None or status >= 500 or status == 408:
        system = "the cluster" if error.source is SourceName.KUBE else "GitLab"
        return (
            f"{base}; it may or may not have applied: {system} did not answer clearly; "
            "cockpit does not send it again by itself: look at the row before trying again"
        )
    return f"{base}; {nothing}"
