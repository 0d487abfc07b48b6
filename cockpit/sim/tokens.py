"""The credentials the simulated systems accept.

Each API has a read-write token and a read-only one (a GitLab Reporter, a Kubernetes
``view`` role): the read-only token reads everything and gets 403 on every write, so
tests can show how cockpit explains a refused write. GitLab also knows a third token:
the maintainer's, but with only the ``read_api`` scope (a token that may read and never
write, whatever its user's role; ``cockpit doctor`` names the missing ``api`` scope).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Tokens:
    gitlab: str = "glpat-cockpit-sim-maintainer"
    gitlab_read_only: str = "glpat-cockpit-sim-reporter"
    gitlab_read_api: str = "glpat-cockpit-sim-read-api"
    kube: str = "cockpit-sim-admin-token"
    kube_read_only: str = "cockpit-sim-viewer-token"
    #: The GitLab user each GitLab token belongs to (username, display name).
    gitlab_user: tuple[str, str] = ("oncall", "On-call Engineer")
    gitlab_read_only_user: tuple[str, str] = ("auditor", "Read-only Auditor")
