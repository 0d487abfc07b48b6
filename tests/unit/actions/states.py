"""Rows in known states, built from the model, for the pure action tests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.model import (
    Deployment,
    EnvKey,
    FeatureFlag,
    FlagStrategy,
    Health,
    HealthStatus,
    Job,
    Revision,
    Rollout,
    RolloutStep,
    ServiceState,
    SourceName,
    SourceStatus,
    Strategy,
)

NOW = datetime(2026, 11, 26, 3, 0, tzinfo=UTC)
IMAGE = "registry.example.com/shop/checkout:{}"
STABLE_SHA = "b84ebddb0679715ea91e1383c72b0b574270e07a"
CANARY_SHA = "cbf8687d3d2b004b7bd6608f4cda337bb0a91b74"
OLDER_SHA = "097cacb93269b5538743091475076f319e0ded96"
KEY = EnvKey("checkout", "production")
CONFIG_PATH = Path("/etc/cockpit.toml")

STEPS = tuple(
    RolloutStep(i, kind, text, weight=weight, duration=duration)
    for i, (kind, text, weight, duration) in enumerate(
        [
            ("setWeight", "setWeight: 5", 5, None),
            ("pause", "pause: 2m", None, 120.0),
            ("setWeight", "setWeight: 20", 20, None),
            ("pause", "pause", None, None),
            ("setWeight", "setWeight: 50", 50, None),
            ("pause", "pause: 10m", None, 600.0),
            ("setWeight", "setWeight: 100", 100, None),
        ]
    )
)


def deployment(iid: int, sha: str, user: str, hours_ago: float, **fields: object) -> Deployment:
    at = NOW - timedelta(hours=hours_ago)
    values: dict[str, object] = {
        "id": 9000 + iid,
        "iid": iid,
        "status": "success",
        "ref": "main",
        "sha": sha,
        "created_at": at - timedelta(minutes=10),
        "environment": "production",
        "finished_at": at,
        "user": user,
        "job_id": 800000 + iid,
        "job_name": "deploy_production",
        "job_status": "success",
        "commit_title": f"change {iid}",
    }
    values.update(fields)
    return Deployment(**values)  # type: ignore[arg-type]


DEPLOYMENTS = (
    deployment(83, CANARY_SHA, "praman", 0.2),
    deployment(82, "aaffe04a08eb8f8db7659a9b56c7853fa0ae4983", "praman", 20, status="failed"),
    deployment(81, STABLE_SHA, "mgarcia", 36),
    deployment(79, OLDER_SHA, "mgarcia", 60),
)

REVISIONS = (
    Revision(34, "69bff77cfb", (IMAGE.format(CANARY_SHA[:8]),), NOW, 2, 2, "canary"),
    Revision(33, "84c5cbbc5", (IMAGE.format(STABLE_SHA[:8]),), NOW, 6, 6, "stable"),
    Revision(32, "5bd5d67f46", (IMAGE.format(OLDER_SHA[:8]),), NOW, 0, 0, "old"),
)


def canary(**fields: object) -> Rollout:
    rollout = Rollout(
        kind="Rollout",
        name="checkout",
        namespace="production",
        strategy=Strategy.CANARY,
        phase="Paused",
        message="CanaryPauseStep",
        step_index=3,
        steps=STEPS,
        set_weight=20,
        actual_weight=20,
        paused=True,
        pause_reasons=("CanaryPauseStep",),
        stable_hash="84c5cbbc5",
        current_hash="69bff77cfb",
        revision=34,
        images=REVISIONS[0].images,
        stable_images=REVISIONS[1].images,
        replicas=6,
        revisions=REVISIONS,
    )
    return replace(rollout, **fields)  # type: ignore[arg-type]


def finished(**fields: object) -> Rollout:
    """The canary promoted all the way: revision 34 is stable."""
    values: dict[str, object] = {
        "phase": "Healthy",
        "message": "",
        "step_index": 7,
        "set_weight": 100,
        "actual_weight": 100,
        "paused": False,
        "pause_reasons": (),
        "stable_hash": "69bff77cfb",
        "revisions": (
            replace(REVISIONS[0], role="stable", replicas=6),
            replace(REVISIONS[1], role="old", replicas=0),
            REVISIONS[2],
        ),
    }
    values.update(fields)
    return canary(**values)


def bad_health() -> Health:
    return Health(threshold=0.99, success_rate=0.9612, status=HealthStatus.BAD)


def state(**fields: object) -> ServiceState:
    values: dict[str, object] = {
        "key": KEY,
        "rollout": canary(),
        "deployments": DEPLOYMENTS,
        "sources": (
            SourceStatus(SourceName.GITLAB),
            SourceStatus(SourceName.KUBE),
        ),
    }
    values.update(fields)
    return ServiceState(**values)  # type: ignore[arg-type]


def env(**fields: object) -> EnvironmentConfig:
    values: dict[str, object] = {
        "service": "checkout",
        "name": "production",
        "gitlab_environment": "production",
        "kube_context": "prod-eu",
        "namespace": "production",
        "workload_kind": "Rollout",
        "workload_name": "checkout",
    }
    values.update(fields)
    return EnvironmentConfig(**values)  # type: ignore[arg-type]


def service(*envs: EnvironmentConfig) -> ServiceConfig:
    return ServiceConfig(
        name="checkout", gitlab_project="shop/checkout", environments=envs or (env(),)
    )


GATE = Job(
    id=804060,
    name="deploy_production",
    stage="deploy",
    status="manual",
    created_at=NOW - timedelta(minutes=42),
    environment="production",
)

FLAG = FeatureFlag(
    name="one-click-checkout",
    active=True,
    strategies=(FlagStrategy(7, "default", (), ("*",)),),
)
