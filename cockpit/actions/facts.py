"""What must still be true when a confirmed action is sent: the live re-check.

A plan is made from the snapshot on screen; the write leaves seconds or minutes later.
Before writing, the action layer reads the workload again and compares the facts that
the action depends on (:data:`RELEVANT`): a promote confirmed at step 3 must not
promote step 5, an abort must not hit a rollout someone else already aborted, an undo
must still go back to the revision the dialog named. :func:`what_changed` says in words
what moved, or None. Pure functions.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.model import Rollout


@dataclass(frozen=True)
class WorkloadFacts:
    """The state of a Rollout or Deployment that actions depend on."""

    current_hash: str | None = None
    stable_hash: str | None = None
    step_index: int | None = None
    step_count: int = 0
    paused: bool = False
    aborted: bool = False
    revision: int | None = None
    preview_selector: str | None = None
    active_selector: str | None = None

    @classmethod
    def of(cls, rollout: Rollout) -> WorkloadFacts:
        return cls(
            current_hash=rollout.current_hash,
            stable_hash=rollout.stable_hash,
            step_index=rollout.step_index,
            step_count=rollout.step_count,
            paused=rollout.paused,
            aborted=rollout.aborted,
            revision=rollout.revision,
            preview_selector=rollout.preview_selector,
            active_selector=rollout.active_selector,
        )

    @property
    def in_flight(self) -> bool:
        return (
            not self.aborted
            and self.current_hash is not None
            and self.current_hash != self.stable_hash
        )


#: The facts each operation depends on (others may move without harm).
RELEVANT: dict[str, tuple[str, ...]] = {
    "promote": ("current_hash", "aborted", "paused", "step_index"),
    "switch": ("current_hash", "aborted", "paused", "preview_selector", "active_selector"),
    "promote-full": ("current_hash", "aborted"),
    "abort": ("current_hash", "stable_hash", "aborted"),
    "retry": ("current_hash", "aborted"),
    "undo": ("revision",),
}


def _step(facts: WorkloadFacts) -> str:
    if facts.step_index is None:
        return "no step"
    return f"step {facts.step_index}/{facts.step_count}"


def what_changed(operation: str, before: WorkloadFacts, after: WorkloadFacts) -> str | None:
    """Words for the first relevant difference, or None when the action still applies."""
    for name in RELEVANT.get(operation, ()):
        old, new = getattr(before, name), getattr(after, name)
        if old == new or (name == "current_hash" and (old is None or new is None)):
            continue
        if name == "current_hash":
            return f"a different version is rolling out now (pod hash {new}, was {old})"
        if name == "stable_hash":
            return f"the stable version changed (pod hash {new}, was {old})"
        if name == "aborted":
            return "it was aborted meanwhile" if new else "it is no longer aborted (retried)"
        if name == "paused":
            return (
                f"it is no longer paused (now at {_step(after)})"
                if not new
                else f"it is paused now (at {_step(after)})"
            )
        if name == "step_index":
            return f"the canary moved from {_step(before)} to {_step(after)}"
        if name == "revision":
            return f"its revision is {new} now, not {old}"
        return f"the {name.replace('_', ' ')} changed from {old} to {new}"
    return None
