"""Which rows need a person first: attention reasons and the overview's sort order.

Shared by the screen (rows needing attention sort first) and ``cockpit status`` (the
same reasons, in the same words). Pure functions over ``ServiceState``; no Textual.
"""

from __future__ import annotations

from cockpit.insights.health_guard import rate_percent, threshold_percent
from cockpit.model import HealthStatus, ServiceState, Strategy

#: How urgent each kind of reason is (lower sorts first).
HEALTH_BAD = 0
ROLLOUT_TROUBLE = 1
PIPELINE_FAILED = 2
WAITING_FOR_HUMAN = 3
CALM = 9


def _reasons(state: ServiceState) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    health = state.health
    if health is not None and health.status is HealthStatus.BAD and health.success_rate is not None:
        found.append(
            (
                HEALTH_BAD,
                f"success rate {rate_percent(health.success_rate, health.threshold)} "
                f"under {threshold_percent(health.threshold)}",
            )
        )
    rollout = state.rollout
    if rollout is not None:
        if rollout.aborted:
            found.append((ROLLOUT_TROUBLE, "rollout aborted"))
        elif rollout.phase == "Degraded":
            found.append((ROLLOUT_TROUBLE, "rollout degraded"))
        elif rollout.preview_ready:
            found.append((WAITING_FOR_HUMAN, "preview ready: waiting for promote"))
        elif (
            rollout.paused
            and rollout.strategy is Strategy.CANARY
            and rollout.in_progress
            and rollout.pause_ends_at is None
        ):
            found.append(
                (
                    WAITING_FOR_HUMAN,
                    f"canary paused at step {rollout.step_index}/{rollout.step_count}: "
                    "waiting for promote",
                )
            )
    pipeline = state.pipeline
    if pipeline is not None and pipeline.status == "failed":
        found.append((PIPELINE_FAILED, f"pipeline #{pipeline.id} failed"))
    if state.manual_gate is not None:
        found.append((WAITING_FOR_HUMAN, f"manual gate waiting: {state.manual_gate.name}"))
    return found


def attention(state: ServiceState) -> tuple[str, ...]:
    """Why this row needs a person now, most urgent first; empty when all is calm."""
    return tuple(reason for _, reason in sorted(_reasons(state), key=lambda item: item[0]))


def urgency(state: ServiceState) -> int:
    """The rank of the most urgent reason (``CALM`` when there is none)."""
    return min((rank for rank, _ in _reasons(state)), default=CALM)


def sort_key(state: ServiceState) -> tuple[int, str, str]:
    """Rows needing attention first (most urgent first), then a stable service/env order."""
    return (urgency(state), state.key.service, state.key.environment)
