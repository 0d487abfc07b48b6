"""Scenarios are data: every named scenario loads, and each sets up what it promises."""

from __future__ import annotations

import pytest

from cockpit.sim import scenario as scenarios

SERVICES = {
    "api",
    "web",
    "checkout",
    "payments",
    "search",
    "auth",
    "cart",
    "catalog",
    "orders",
    "inventory",
    "reviews",
    "notifications",
}


@pytest.mark.parametrize("name", scenarios.available())
def test_every_scenario_has_twelve_services_in_two_environments(name: str) -> None:
    scenario = scenarios.load(name)
    assert {s.name for s in scenario.services} == SERVICES
    for service in scenario.services:
        assert [e.environment for e in service.environments] == ["staging", "production"]
    assert scenario.description


def test_named_scenarios_are_all_part_of_the_demo() -> None:
    demo = scenarios.load("demo")
    for name in (
        "bad-canary",
        "manual-gate",
        "blue-green",
        "migration-rollback",
        "failed-pipeline",
    ):
        for situation in scenarios.load(name).situations:
            assert situation in demo.situations, (name, situation)


def test_bad_canary_crosses_one_percent_errors_at_twenty_percent() -> None:
    env = scenarios.load("bad-canary").service("checkout").env("production")
    assert env.candidate is not None
    step = env.steps[env.candidate_step]
    assert step.pause == ""  # waits for a human at this step
    weight = max(s.set_weight for s in env.steps[: env.candidate_step] if s.set_weight is not None)
    assert weight == 20
    mixed = (1 - weight / 100) * env.stable.success_rate + weight / 100 * env.candidate.success_rate
    assert mixed < 0.99


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(scenarios.ScenarioError, match="bad-canary"):
        scenarios.load("no-such-scenario")


def test_scaled_scenario_has_unique_service_names() -> None:
    scenario = scenarios.scaled(scenarios.load("healthy"), 200)
    names = [s.name for s in scenario.services]
    assert len(names) == len(set(names)) == 200
