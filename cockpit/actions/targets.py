"""Naming an action's exact target: revision, image, commit, who deployed it and when.

A revision of a Rollout or Deployment knows only its images; GitLab's deployment history
knows the commit, its title, who deployed it and when. :func:`deployment_for_images`
joins the two by the image tag (a commit sha or its prefix, as CI pipelines tag builds,
or the deployment's ref for version tags). Pure functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from cockpit.model import Deployment, Revision

_HEX = re.compile(r"[0-9a-f]{7,40}")


def image_tag(image: str) -> str | None:
    """The tag of ``registry/group/app:tag`` (None for an untagged or digest-only image)."""
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    if ":" not in last:
        return None
    return last.rsplit(":", 1)[1] or None


def deployment_for_images(
    images: Iterable[str], deployments: Sequence[Deployment]
) -> Deployment | None:
    """The newest successful (else any) deployment whose commit built one of ``images``."""
    tags = [tag for tag in (image_tag(i) for i in images) if tag]
    if not tags:
        return None

    def built(deployment: Deployment) -> bool:
        for tag in tags:
            lowered = tag.lower()
            if _HEX.fullmatch(lowered) and deployment.sha.lower().startswith(lowered):
                return True
            if tag == deployment.ref:
                return True
        return False

    matching = [d for d in deployments if built(d)]
    return next((d for d in matching if d.status == "success"), matching[0] if matching else None)


def ago(moment: datetime, now: datetime) -> str:
    """``3 min ago``, ``2 h 5 min ago``, ``1 d 4 h ago`` (``just now`` under a minute)."""
    seconds = int((now - moment).total_seconds())
    if seconds < 0:
        return "in the future"
    if seconds < 60:
        return "just now"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min ago"
    if days == 0:
        rest = minutes % 60
        return f"{hours} h {rest} min ago" if rest else f"{hours} h ago"
    rest = hours % 24
    return f"{days} d {rest} h ago" if rest else f"{days} d ago"


def when(moment: datetime, now: datetime) -> str:
    """``2026-11-24 15:03 UTC (1 d 12 h ago)``."""
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({ago(moment, now)})"


def short_sha(sha: str) -> str:
    return sha[:8]


def deployment_line(deployment: Deployment, now: datetime) -> str:
    """``deployment #81: commit b84ebddb "Emit logs", by mgarcia 2026-11-24 15:03 UTC (…)``."""
    title = f' "{deployment.commit_title}"' if deployment.commit_title else ""
    who = f" by {deployment.user}" if deployment.user else ""
    moment = deployment.finished_at or deployment.created_at
    return (
        f"deployment #{deployment.iid}: commit {short_sha(deployment.sha)}{title},"
        f" deployed{who} {when(moment, now)}"
    )


def revision_lines(
    label: str, revision: Revision, deployments: Sequence[Deployment], now: datetime
) -> tuple[str, ...]:
    """Two lines: ``<label> revision N: image`` and where that image came from."""
    images = ", ".join(revision.images) or "no image"
    first = f"{label} revision {revision.number}: {images}"
    deployment = deployment_for_images(revision.images, deployments)
    if deployment is None:
        return (first, "commit unknown: no GitLab deployment in the recent history built it")
    return (first, deployment_line(deployment, now))


def revision_by_hash(revisions: Sequence[Revision], pod_hash: str | None) -> Revision | None:
    if pod_hash is None:
        return None
    return next((r for r in revisions if r.pod_hash == pod_hash), None)


def previous_revision(revisions: Sequence[Revision]) -> Revision | None:
    """The undo target the plugin and kubectl pick: the second-highest revision number."""
    ranked = sorted({r.number: r for r in revisions}.values(), key=lambda r: -r.number)
    if len(ranked) < 2:
        return None
    return ranked[1]
