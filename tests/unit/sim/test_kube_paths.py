"""Which resource an apiserver URL names."""

from __future__ import annotations

import pytest

from cockpit.sim.kube.paths import ResourcePath, UnknownPath, parse
from cockpit.sim.kube.store import DEPLOYMENT, NAMESPACE, POD, ROLLOUT


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/web/status",
            ResourcePath(ROLLOUT, "production", "web", "status"),
        ),
        ("/apis/argoproj.io/v1alpha1/rollouts", ResourcePath(ROLLOUT, None)),
        ("/apis/apps/v1/namespaces/staging/deployments", ResourcePath(DEPLOYMENT, "staging")),
        ("/api/v1/namespaces", ResourcePath(NAMESPACE, None)),
        ("/api/v1/namespaces/production", ResourcePath(NAMESPACE, None, "production")),
        (
            "/api/v1/watch/namespaces/production/pods",
            ResourcePath(POD, "production", watch=True),
        ),
        (
            "/apis/apps/v1/namespaces/production/deployments/api/scale",
            ResourcePath(DEPLOYMENT, "production", "api", "scale"),
        ),
    ],
)
def test_paths_name_resources(path: str, expected: ResourcePath) -> None:
    assert parse(path) == expected


@pytest.mark.parametrize(
    "path",
    [
        "/healthz",
        "/apis/apps/v1",
        "/apis/apps/v2/deployments",
        "/apis/apps/v1/statefulsets",
        "/apis/apps/v1/deployments/api",
        "/apis/apps/v1/namespaces/production/deployments/api/exec",
        "/api/v1/namespaces/production/namespaces/x",
        "/apis/apps/v1/namespaces/production/deployments/api/status/extra",
    ],
)
def test_paths_that_name_nothing(path: str) -> None:
    with pytest.raises(UnknownPath):
        parse(path)
