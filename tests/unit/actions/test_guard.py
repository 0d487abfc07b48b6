"""Which samples the health guard judges: only those taken since the canary began."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from cockpit.actions.guard import canary_in_flight, canary_samples
from cockpit.model import Health, Sample
from tests.unit.actions.states import NOW, canary, finished, state


def test_samples_from_before_the_canary_do_not_count() -> None:
    rollout = canary(
        revisions=tuple(
            replace(r, created_at=NOW - timedelta(minutes=10)) for r in canary().revisions
        )
    )
    old = Sample(NOW - timedelta(minutes=20), 0.5)
    new = Sample(NOW - timedelta(minutes=2), 0.98)
    row = state(rollout=rollout, health=Health(threshold=0.99, history=(old, new)))
    assert canary_samples(row) == (new,)


def test_only_a_canary_in_flight_is_guarded() -> None:
    assert canary_in_flight(canary())
    assert not canary_in_flight(canary(aborted=True))
    assert not canary_in_flight(finished())
    assert not canary_in_flight(None)
