"""A small stand-in for :class:`cockpit.sim.world.World` to test one part of the simulator alone.

It has what a part may use from the world: the scenario, a manual clock, the version
book, seeded random streams (the same rule as ``World.rng``) and a cluster that only
records ``deploy()`` calls. It builds only the GitLab part.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime

from cockpit.sim import scenario as scenarios
from cockpit.sim.clock import SimClock
from cockpit.sim.gitlab.state import GitLabState
from cockpit.sim.world import VersionBook


@dataclass
class RecordingCluster:
    """Records what the deploy jobs ask of the cluster: (service, environment, sha, when)."""

    clock: SimClock
    deploys: list[tuple[str, str, str, datetime]] = field(default_factory=list)

    def deploy(self, service: str, environment: str, sha: str) -> None:
        self.deploys.append((service, environment, sha, self.clock.now()))


class FakeWorld:
    def __init__(
        self,
        scenario: str | scenarios.Scenario = "demo",
        *,
        seed: int = 7,
        clock: SimClock | None = None,
    ) -> None:
        self.scenario = scenarios.load(scenario) if isinstance(scenario, str) else scenario
        self.seed = seed
        self.clock = clock or SimClock(manual=True)
        self.versions = VersionBook(self.scenario.services[0].group)
        self.kube = RecordingCluster(self.clock)
        self.gitlab = GitLabState(self)

    def rng(self, *purpose: object) -> random.Random:
        return random.Random(":".join([str(self.seed), *map(str, purpose)]))

    def advance(self, seconds: float, *, step: float = 5.0) -> None:
        """Move the clock forward in steps, stepping GitLab each time (as the simulator does)."""
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.clock.advance(delta)
            self.gitlab.step(self.clock.now())
            remaining -= delta
