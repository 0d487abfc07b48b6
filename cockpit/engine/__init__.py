"""The engine: keeps every service × environment's state current, cheaply and honestly.

It is a composition of feeds, one per source, writing into one row store:

* :mod:`.gitlab_feed` — one GitLab poller per project (pipeline, then deployments and
  flags when needed), fast while a pipeline or rollout moves, slow when all is calm;
* :mod:`.kube_feed` — one Kubernetes list+watch per (context, namespace, kind), not per
  service, and the owner index that maps an event to the rows it affects;
* :mod:`.health_feed` — one Prometheus poller per environment (its success-rate and
  latency queries), faster while that environment's rollout is in flight;
* :mod:`.polling` — pollers that never overlap, back off with jitter, never ask sooner
  than ``Retry-After`` says, and can be woken early;
* :mod:`.store` — the rows, their per-source freshness, and publishing: listeners
  receive one :class:`StateUpdate` per burst of changes;
* :mod:`.protocols` — what the engine needs from each source, and what a feed offers;
* :mod:`.core` — :class:`Engine`, the composition, and the API the screen uses.
"""

from cockpit.engine.core import Engine, HeaderInfo, utcnow
from cockpit.engine.gitlab_feed import Project, deploy_jobs_moved, gate_from
from cockpit.engine.health_feed import HEALTH_STEP, HEALTH_WINDOW, binned, merge_history
from cockpit.engine.kube_feed import parse_workload
from cockpit.engine.polling import (
    ERROR_LIMIT,
    Poller,
    PollerGroup,
    degraded_after,
    down_after,
    unexpected,
)
from cockpit.engine.protocols import Feed, GitLabReads, KubeReads, PrometheusReads
from cockpit.engine.store import Listener, Row, RowStore, StateUpdate

__all__ = [
    "ERROR_LIMIT",
    "HEALTH_STEP",
    "HEALTH_WINDOW",
    "Engine",
    "Feed",
    "GitLabReads",
    "HeaderInfo",
    "KubeReads",
    "Listener",
    "Poller",
    "PollerGroup",
    "Project",
    "PrometheusReads",
    "Row",
    "RowStore",
    "StateUpdate",
    "binned",
    "degraded_after",
    "deploy_jobs_moved",
    "down_after",
    "gate_from",
    "merge_history",
    "parse_workload",
    "unexpected",
    "utcnow",
]
