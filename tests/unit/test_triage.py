"""Which rows need a person first, and in what words (shared by the screen and `cockpit status`)."""

from __future__ import annotations

from dataclasses import replace

from cockpit import triage
from cockpit.model import EnvKey, Health, HealthStatus, ServiceState
from tests.ui.fake_engine import (
    cart_production,
    checkout_production,
    checkout_staging,
    demo_states,
    payments_production,
    search_production,
    users_production,
)


def test_a_calm_row_needs_nobody() -> None:
    assert triage.attention(checkout_staging()) == ()
    assert triage.attention(users_production()) == ()


def test_falling_success_rate_is_said_in_numbers_first() -> None:
    reasons = triage.attention(checkout_production())
    assert reasons[0] == "success rate 97.1 % under 99.0 %"


def test_each_kind_of_trouble_has_its_words() -> None:
    assert "pipeline #5120 failed" in triage.attention(cart_production())
    assert "manual gate waiting: deploy-production" in triage.attention(payments_production())
    assert "preview ready: waiting for promote" in triage.attention(search_production())
    rollout = checkout_staging().rollout
    assert rollout is not None
    aborted = replace(checkout_staging(), rollout=replace(rollout, aborted=True))
    assert triage.attention(aborted) == ("rollout aborted",)


def test_an_indefinite_canary_pause_waits_for_a_person_but_a_timed_one_does_not() -> None:
    state = checkout_production()
    calm_health = replace(
        state, health=Health(threshold=0.99, success_rate=1.0, status=HealthStatus.OK)
    )
    assert triage.attention(calm_health) == ()  # timed pause: the controller moves on
    assert calm_health.rollout is not None
    waiting = replace(calm_health, rollout=replace(calm_health.rollout, pause_ends_at=None))
    assert triage.attention(waiting) == ("canary paused at step 1/6: waiting for promote",)


def test_rows_needing_attention_sort_first_most_urgent_first_then_stable() -> None:
    ordered = [s.key for s in sorted(demo_states(), key=triage.sort_key)]
    assert ordered[:4] == [
        EnvKey("checkout", "production"),  # health bad
        EnvKey("cart", "production"),  # pipeline failed
        EnvKey("payments", "production"),  # gate waiting
        EnvKey("search", "production"),  # preview waiting
    ]
    # The calm rest keeps a stable service/environment order.
    assert ordered[4:] == sorted(ordered[4:])


def test_sort_order_does_not_depend_on_input_order() -> None:
    states = list(demo_states())
    forward = sorted(states, key=triage.sort_key)
    backward = sorted(reversed(states), key=triage.sort_key)
    assert [s.key for s in forward] == [s.key for s in backward]


def test_an_empty_row_is_calm() -> None:
    assert triage.attention(ServiceState(key=EnvKey("new", "dev"))) == ()
    assert triage.sort_key(ServiceState(key=EnvKey("new", "dev")))[0] == triage.CALM
