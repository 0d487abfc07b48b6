"""Server-side printing: the columns and cells kubectl shows for the simulated cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from cockpit.sim.kube.labels import selector_string
from cockpit.sim.kube.store import DEPLOYMENT, POD, ROLLOUT
from cockpit.sim.kube.tables import human_duration, pod_status, row, table, wants_table

NOW = datetime(2026, 11, 26, 3, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (0, "0s"),
        (119, "119s"),
        (120, "2m"),
        (125, "2m5s"),
        (600, "10m"),
        (7200, "120m"),
        (3 * 3600, "3h"),
        (3 * 3600 + 300, "3h5m"),
        (8 * 3600 + 300, "8h"),
        (48 * 3600, "2d"),
        (53 * 3600, "2d5h"),
        (8 * 86400 + 3600, "8d"),
        (400 * 86400, "400d"),
        (730 * 86400, "2y"),
        (740 * 86400, "2y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_like_kubectl_prints_them(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


def pod(*containers: dict[str, Any], phase: str = "Running", **metadata: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "p", "creationTimestamp": "2026-11-26T02:00:00Z", **metadata},
        "spec": {"containers": [{"name": str(i)} for i, _ in enumerate(containers)]},
        "status": {"phase": phase, "containerStatuses": list(containers)},
    }


RUNNING = {"ready": True, "restartCount": 0, "state": {"running": {}}}


@pytest.mark.parametrize(
    ("subject", "status"),
    [
        (pod(RUNNING), "Running"),
        (pod(phase="Pending"), "Pending"),
        (
            pod(
                {"ready": False, "state": {"waiting": {"reason": "ImagePullBackOff"}}},
                phase="Pending",
            ),
            "ImagePullBackOff",
        ),
        (pod({"state": {"terminated": {"reason": "Completed"}}}, RUNNING), "Running"),
        (pod({"state": {"terminated": {"exitCode": 137}}}), "ExitCode:137"),
        (pod({"state": {"terminated": {"signal": 9}}}), "Signal:9"),
        (pod(RUNNING, deletionTimestamp="2026-11-26T02:59:00Z"), "Terminating"),
    ],
)
def test_pod_status_column(subject: dict[str, Any], status: str) -> None:
    assert pod_status(subject) == status


def test_pod_row_counts_ready_containers_and_recent_restarts() -> None:
    restarted = {
        "ready": True,
        "restartCount": 3,
        "state": {"running": {}},
        "lastState": {"terminated": {"finishedAt": "2026-11-26T02:55:00Z"}},
    }
    waiting = {
        "ready": False,
        "restartCount": 0,
        "state": {"waiting": {"reason": "CrashLoopBackOff"}},
    }
    cells = row(POD, pod(restarted, waiting), NOW, "Metadata")["cells"]
    assert cells[:5] == ["p", "1/2", "CrashLoopBackOff", "3 (5m ago)", "60m"]


def test_deployment_table_with_wide_columns() -> None:
    deployment = {
        "metadata": {
            "name": "api",
            "namespace": "prod",
            "creationTimestamp": "2026-11-24T03:00:00Z",
        },
        "spec": {
            "replicas": 3,
            "selector": {"matchLabels": {"app": "api"}},
            "template": {"spec": {"containers": [{"name": "api", "image": "api:v2"}]}},
        },
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2},
    }
    printed = table(DEPLOYMENT, [deployment], NOW, include_object="None")
    assert [(c["name"], c["priority"]) for c in printed["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    assert printed["rows"] == [
        {"cells": ["api", "2/3", 3, 2, "2d", "api", "api:v2", "app=api"], "object": None}
    ]


def test_rollout_columns_are_the_crds_and_missing_status_is_null() -> None:
    fresh = {
        "metadata": {"name": "web", "creationTimestamp": "2026-11-26T02:59:00Z"},
        "spec": {"replicas": 5},
    }
    assert row(ROLLOUT, fresh, NOW, "Object")["cells"] == ["web", 5, None, None, None, "60s"]
    assert row(ROLLOUT, fresh, NOW, "Object")["object"] is fresh


@pytest.mark.parametrize(
    ("accept", "table_wanted"),
    [
        (
            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json",
            True,
        ),
        ("application/json;as=Table;v=v1beta1;g=meta.k8s.io", True),
        ("application/json", False),
        ("application/vnd.kubernetes.protobuf,application/json", False),
        ("", False),
    ],
)
def test_table_is_served_only_when_asked_for(accept: str, table_wanted: bool) -> None:
    assert wants_table(accept) is table_wanted


def test_selectors_print_sorted_like_the_apiserver() -> None:
    assert (
        selector_string(
            {
                "matchLabels": {"tier": "web", "app": "shop"},
                "matchExpressions": [
                    {"key": "env", "operator": "In", "values": ["prod", "canary"]},
                    {"key": "beta", "operator": "DoesNotExist"},
                ],
            }
        )
        == "app=shop,!beta,env in (canary,prod),tier=web"
    )
    assert selector_string({}) == ""
