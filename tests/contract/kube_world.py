"""A small seeded cluster served by the simulated apiserver, for the contract tests.

``serve_kube_world(tmp_path)`` fills an :class:`ObjectStore` with what the real
clients are tested against, serves ``create_app`` on a free loopback port and writes a
kubeconfig per token. Contents (namespaces ``staging`` and ``production``):

* Deployment ``production/checkout`` with two ReplicaSets (revisions 1 and 2, owned
  through a controller ownerReference) and two Pods; Service ``checkout``;
* Deployment ``production/solo`` with a single ReplicaSet (no rollout history);
* canary Rollout ``production/web`` paused at step 1 with a stable and a canary
  ReplicaSet and a running AnalysisRun; Rollout ``staging/web``, fully promoted.

The objects are shaped like the captured Argo Rollouts and Kubernetes payloads in the
shared fixtures.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import ssl
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from cockpit.sim.clock import SimClock
from cockpit.sim.faults import FaultSet
from cockpit.sim.kube.api import create_app
from cockpit.sim.kube.store import (
    ANALYSIS_RUN,
    DEPLOYMENT,
    NAMESPACE,
    POD,
    REPLICASET,
    ROLLOUT,
    SERVICE,
    ObjectStore,
)
from cockpit.sim.kube.tls import self_signed
from cockpit.sim.statedir import kubeconfig
from cockpit.sim.tokens import Tokens

KUBECTL = "/usr/bin/kubectl"
IMAGE = "registry.example.com/shop/{service}:{tag}"


# --------------------------------------------------------------------------- seed objects


def pod_template(app: str, tag: str, hash_label: tuple[str, str] | None = None) -> dict[str, Any]:
    labels = {"app": app}
    if hash_label:
        labels[hash_label[0]] = hash_label[1]
    return {
        "metadata": {"creationTimestamp": None, "labels": labels},
        "spec": {
            "containers": [
                {
                    "name": app,
                    "image": IMAGE.format(service=app, tag=tag),
                    "imagePullPolicy": "IfNotPresent",
                    "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
                    "env": [{"name": "VERSION", "value": tag}],
                    "resources": {"requests": {"cpu": "5m", "memory": "32Mi"}},
                    "terminationMessagePath": "/dev/termination-log",
                    "terminationMessagePolicy": "File",
                }
            ],
            "dnsPolicy": "ClusterFirst",
            "restartPolicy": "Always",
            "schedulerName": "default-scheduler",
            "securityContext": {},
            "terminationGracePeriodSeconds": 30,
        },
    }


def owner(kind: str, api_version: str, obj: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "blockOwnerDeletion": True,
        "controller": True,
        "kind": kind,
        "name": obj["metadata"]["name"],
        "uid": obj["metadata"]["uid"],
    }


def deployment(name: str, namespace: str, tag: str, revision: int) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "labels": {"app": name},
            "annotations": {
                "deployment.kubernetes.io/revision": str(revision),
                "team": "payments",
            },
        },
        "spec": {
            "progressDeadlineSeconds": 600,
            "replicas": 2,
            "revisionHistoryLimit": 10,
            "selector": {"matchLabels": {"app": name}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"},
            },
            "template": pod_template(name, tag),
        },
        "status": {
            "availableReplicas": 2,
            "observedGeneration": 1,
            "readyReplicas": 2,
            "replicas": 2,
            "updatedReplicas": 2,
            "conditions": [
                {
                    "type": "Available",
                    "status": "True",
                    "reason": "MinimumReplicasAvailable",
                    "message": "Deployment has minimum availability.",
                    "lastTransitionTime": "2026-11-25T03:00:00Z",
                    "lastUpdateTime": "2026-11-25T03:00:00Z",
                },
                {
                    "type": "Progressing",
                    "status": "True",
                    "reason": "NewReplicaSetAvailable",
                    "message": f'ReplicaSet "{name}" has successfully progressed.',
                    "lastTransitionTime": "2026-11-25T03:00:00Z",
                    "lastUpdateTime": "2026-11-25T03:00:00Z",
                },
            ],
        },
    }


def deployment_replicaset(
    owner_obj: dict[str, Any],
    pod_hash: str,
    tag: str,
    revision: int,
    replicas: int,
    annotations: dict[str, str] | None = None,
) -> dict[str, Any]:
    name = owner_obj["metadata"]["name"]
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"{name}-{pod_hash}",
            "namespace": owner_obj["metadata"]["namespace"],
            "labels": {"app": name, "pod-template-hash": pod_hash},
            "annotations": {
                "deployment.kubernetes.io/desired-replicas": "2",
                "deployment.kubernetes.io/max-replicas": "3",
                "deployment.kubernetes.io/revision": str(revision),
                **(annotations or {}),
            },
            "ownerReferences": [owner("Deployment", "apps/v1", owner_obj)],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": name, "pod-template-hash": pod_hash}},
            "template": pod_template(name, tag, ("pod-template-hash", pod_hash)),
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def pod(replicaset: dict[str, Any], suffix: str, ready: bool = True) -> dict[str, Any]:
    template = copy.deepcopy(replicaset["spec"]["template"])
    rs_name = replicaset["metadata"]["name"]
    container = template["spec"]["containers"][0]
    state: dict[str, Any] = (
        {"running": {"startedAt": "2026-11-25T03:00:05Z"}}
        if ready
        else {"waiting": {"reason": "ImagePullBackOff", "message": "Back-off pulling image"}}
    )
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{rs_name}-{suffix}",
            "generateName": f"{rs_name}-",
            "namespace": replicaset["metadata"]["namespace"],
            "labels": template["metadata"]["labels"],
            "ownerReferences": [owner("ReplicaSet", "apps/v1", replicaset)],
        },
        "spec": {**template["spec"], "nodeName": "sim-node-1"},
        "status": {
            "phase": "Running" if ready else "Pending",
            "podIP": "10.16.0.12",
            "hostIP": "10.168.0.23",
            "qosClass": "Burstable",
            "startTime": "2026-11-25T03:00:00Z",
            "containerStatuses": [
                {
                    "name": container["name"],
                    "image": container["image"],
                    "imageID": "",
                    "lastState": {},
                    "ready": ready,
                    "restartCount": 0,
                    "state": state,
                }
            ],
        },
    }


CANARY_STEPS = [
    {"setWeight": 20},
    {"pause": {}},
    {"setWeight": 40},
    {"pause": {"duration": "10m"}},
    {"analysis": {"templates": [{"templateName": "success-rate"}]}},
]


def rollout(namespace: str, tag: str, status: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {
            "name": "web",
            "namespace": namespace,
            "labels": {"app": "web"},
            "annotations": {"rollout.argoproj.io/revision": "2"},
        },
        "spec": {
            "replicas": 5,
            "revisionHistoryLimit": 3,
            "selector": {"matchLabels": {"app": "web"}},
            "strategy": {
                "canary": {
                    "canaryService": "web-canary",
                    "stableService": "web-stable",
                    "steps": CANARY_STEPS,
                }
            },
            "template": pod_template("web", tag),
        },
        "status": status,
    }


PAUSED_CANARY_STATUS: dict[str, Any] = {
    "HPAReplicas": 6,
    "availableReplicas": 6,
    "blueGreen": {},
    "canary": {},
    "conditions": [
        {
            "type": "Paused",
            "status": "True",
            "reason": "RolloutPaused",
            "message": "Rollout is paused",
            "lastTransitionTime": "2026-11-26T02:55:00Z",
            "lastUpdateTime": "2026-11-26T02:55:00Z",
        }
    ],
    "controllerPause": True,
    "currentPodHash": "5f8b7d9c6",
    "currentStepHash": "7d5979db69",
    "currentStepIndex": 1,
    "message": "CanaryPauseStep",
    "observedGeneration": "1",
    "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-26T02:55:00Z"}],
    "phase": "Paused",
    "readyReplicas": 6,
    "replicas": 6,
    "selector": "app=web",
    "stableRS": "7c9d5b8f4d",
    "updatedReplicas": 1,
}

HEALTHY_STATUS: dict[str, Any] = {
    "HPAReplicas": 5,
    "availableReplicas": 5,
    "blueGreen": {},
    "canary": {},
    "currentPodHash": "5f8b7d9c6",
    "currentStepHash": "7d5979db69",
    "currentStepIndex": 5,
    "observedGeneration": "1",
    "phase": "Healthy",
    "readyReplicas": 5,
    "replicas": 5,
    "selector": "app=web",
    "stableRS": "5f8b7d9c6",
    "updatedReplicas": 5,
}


def rollout_replicaset(
    owner_obj: dict[str, Any], pod_hash: str, tag: str, revision: int, replicas: int
) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": f"web-{pod_hash}",
            "namespace": owner_obj["metadata"]["namespace"],
            "labels": {"app": "web", "rollouts-pod-template-hash": pod_hash},
            "annotations": {
                "rollout.argoproj.io/desired-replicas": "5",
                "rollout.argoproj.io/revision": str(revision),
            },
            "ownerReferences": [owner("Rollout", "argoproj.io/v1alpha1", owner_obj)],
        },
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web", "rollouts-pod-template-hash": pod_hash}},
            "template": pod_template("web", tag, ("rollouts-pod-template-hash", pod_hash)),
        },
        "status": {
            "replicas": replicas,
            "fullyLabeledReplicas": replicas,
            "readyReplicas": replicas,
            "availableReplicas": replicas,
            "observedGeneration": 1,
        },
    }


def analysis_run(owner_obj: dict[str, Any], pod_hash: str) -> dict[str, Any]:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": f"web-{pod_hash}-2-4",
            "namespace": owner_obj["metadata"]["namespace"],
            "annotations": {"rollout.argoproj.io/revision": "2"},
            "labels": {
                "rollout-type": "Step",
                "step-index": "4",
                "rollouts-pod-template-hash": pod_hash,
            },
            "ownerReferences": [owner("Rollout", "argoproj.io/v1alpha1", owner_obj)],
        },
        "spec": {
            "args": [{"name": "service-name", "value": "web"}],
            "metrics": [
                {
                    "name": "success-rate",
                    "interval": "1m",
                    "count": 5,
                    "failureLimit": 1,
                    "successCondition": "len(result) == 0 || isNaN(result[0]) || result[0] >= 0.95",
                    "provider": {
                        "prometheus": {
                            "address": "http://prometheus.monitoring:9090",
                            "query": 'sum(rate(http_requests_total{service="web"}[5m]))',
                        }
                    },
                }
            ],
        },
        "status": {
            "phase": "Running",
            "startedAt": "2026-11-26T02:58:00Z",
            "metricResults": [
                {
                    "name": "success-rate",
                    "phase": "Running",
                    "count": 2,
                    "successful": 2,
                    "measurements": [
                        {
                            "phase": "Successful",
                            "value": "[0.991]",
                            "startedAt": "2026-11-26T02:58:00Z",
                            "finishedAt": "2026-11-26T02:58:00Z",
                        },
                        {
                            "phase": "Successful",
                            "value": "[0.987]",
                            "startedAt": "2026-11-26T02:59:00Z",
                            "finishedAt": "2026-11-26T02:59:00Z",
                        },
                    ],
                }
            ],
        },
    }


def service(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": namespace, "labels": {"app": name}},
        "spec": {
            "type": "ClusterIP",
            "clusterIP": "10.96.12.34",
            "ports": [{"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080}],
            "selector": {"app": name},
        },
    }


def seed(store: ObjectStore) -> None:
    """Fill ``store`` with the cluster described in the module docstring."""
    for namespace in ("staging", "production"):
        store.create(NAMESPACE, {"metadata": {"name": namespace}, "status": {"phase": "Active"}})

    checkout = store.create(DEPLOYMENT, deployment("checkout", "production", "v2", revision=2))
    store.create(
        REPLICASET,
        deployment_replicaset(
            checkout,
            "6d4b9c7f8",
            "v1",
            revision=1,
            replicas=0,
            annotations={"kubernetes.io/change-cause": "deploy v1"},
        ),
    )
    current = store.create(
        REPLICASET, deployment_replicaset(checkout, "7f9c8d6b5", "v2", revision=2, replicas=2)
    )
    for suffix in ("x7k2p", "m4n8q"):
        store.create(POD, pod(current, suffix))
    store.create(SERVICE, service("checkout", "production"))

    solo = store.create(DEPLOYMENT, deployment("solo", "production", "v1", revision=1))
    store.create(REPLICASET, deployment_replicaset(solo, "5c6d7e8f9", "v1", revision=1, replicas=2))

    web = store.create(ROLLOUT, rollout("production", "v2", PAUSED_CANARY_STATUS))
    stable = store.create(REPLICASET, rollout_replicaset(web, "7c9d5b8f4d", "v1", 1, replicas=5))
    canary = store.create(REPLICASET, rollout_replicaset(web, "5f8b7d9c6", "v2", 2, replicas=1))
    store.create(POD, pod(stable, "a1b2c"))
    store.create(POD, pod(canary, "d3e4f", ready=False))
    store.create(ANALYSIS_RUN, analysis_run(web, "5f8b7d9c6"))

    staged = store.create(ROLLOUT, rollout("staging", "v2", HEALTHY_STATUS))
    store.create(REPLICASET, rollout_replicaset(staged, "5f8b7d9c6", "v2", 2, replicas=5))


# --------------------------------------------------------------------------- serving


@dataclass
class Cluster:
    store: ObjectStore


@dataclass
class KubeWorld:
    """The two things ``create_app`` reads from a world."""

    kube: Cluster
    clock: SimClock


@dataclass
class RunningKube:
    store: ObjectStore
    clock: SimClock
    url: str
    tokens: Tokens
    faults: FaultSet
    #: kubeconfig files for the admin, read-only and an unknown token.
    kubeconfig: Path
    read_only_kubeconfig: Path
    bad_kubeconfig: Path
    cache_dir: Path
    #: The certificate authority that signed the server's certificate.
    certificate: Path

    def http(self, token: str | None = None) -> httpx.AsyncClient:
        """A raw HTTPS client for the apiserver, with the admin token unless told otherwise."""
        return httpx.AsyncClient(
            base_url=self.url,
            verify=ssl.create_default_context(cafile=str(self.certificate)),
            headers={"Authorization": f"Bearer {token or self.tokens.kube}"},
            timeout=10.0,
        )

    async def kubectl(
        self, *args: str, kubeconfig: Path | None = None, timeout: float = 20.0
    ) -> KubectlResult:
        """Run the real kubectl against the simulated apiserver (without blocking the loop)."""
        process = await asyncio.create_subprocess_exec(
            *self.kubectl_command(*args, kubeconfig=kubeconfig),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=kubectl_env(self.cache_dir),
        )
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        assert process.returncode is not None
        return KubectlResult(process.returncode, stdout.decode(), stderr.decode())

    def kubectl_command(self, *args: str, kubeconfig: Path | None = None) -> list[str]:
        return [
            KUBECTL,
            f"--kubeconfig={kubeconfig or self.kubeconfig}",
            f"--cache-dir={self.cache_dir}",
            *args,
        ]


@dataclass(frozen=True)
class KubectlResult:
    returncode: int
    stdout: str
    stderr: str


def kubectl_env(home: Path) -> dict[str, str]:
    """A clean environment: no user kubeconfig, no proxies, a private HOME."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home)}


def _write_kubeconfig(path: Path, url: str, token: str, authority: bytes) -> Path:
    path.write_text(kubeconfig(url, token, certificate_authority=authority), encoding="utf-8")
    path.chmod(0o600)
    return path


@contextlib.asynccontextmanager
async def serve_kube_world(
    directory: Path, *, bookmark_interval: float = 60.0, seeded: bool = True
) -> AsyncIterator[RunningKube]:
    """Serve a seeded store over HTTPS on 127.0.0.1 for the duration of the block.

    HTTPS because kubectl sends a kubeconfig's token only over TLS.
    """
    clock = SimClock(manual=True)
    store = ObjectStore(clock)
    if seeded:
        seed(store)
    clock.advance(timedelta(hours=2).total_seconds())  # objects are two hours old
    tokens = Tokens()
    faults = FaultSet()
    app = create_app(
        KubeWorld(Cluster(store), clock), faults, tokens, bookmark_interval=bookmark_interval
    )
    runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
    await runner.setup()
    certificate = self_signed(directory / "tls")
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=certificate.ssl_context())
    await site.start()
    host, port = runner.addresses[0][:2]
    url = f"https://{host}:{port}"
    authority = certificate.pem
    cache = directory / "kube-cache"
    cache.mkdir(parents=True, exist_ok=True)
    try:
        yield RunningKube(
            store=store,
            clock=clock,
            url=url,
            tokens=tokens,
            faults=faults,
            kubeconfig=_write_kubeconfig(directory / "kubeconfig", url, tokens.kube, authority),
            read_only_kubeconfig=_write_kubeconfig(
                directory / "kubeconfig-viewer", url, tokens.kube_read_only, authority
            ),
            bad_kubeconfig=_write_kubeconfig(
                directory / "kubeconfig-bad", url, "not-a-valid-token", authority
            ),
            cache_dir=cache,
            certificate=certificate.authority,
        )
    finally:
        store.drop_watches()
        await runner.cleanup()
