"""A small world for testing the cluster and traffic parts without the simulated GitLab.

It has what :class:`cockpit.sim.kube.cluster.Cluster` and
:class:`cockpit.sim.metrics.traffic.Traffic` read from a real ``World``: the scenario,
a manual clock, the version book, seeded random streams, and a GitLab stand-in whose
``deployed()`` lists made-up deployment histories (the last one the candidate when the
environment has one).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Iterable
from datetime import datetime

from cockpit.sim.clock import SimClock
from cockpit.sim.scenario import EnvSpec, Scenario, VersionProfile
from cockpit.sim.world import VersionBook


def sha_for(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()


class FakeGitLab:
    """``deployed()`` from a dict; ``step`` does nothing."""

    def __init__(self, deployed: dict[tuple[str, str], list[str]]) -> None:
        self.history = deployed

    def deployed(self, service: str, environment: str) -> list[str]:
        return list(self.history.get((service, environment), []))

    def step(self, now: datetime) -> None:
        return None


class ClusterWorld:
    """Scenario + manual clock + versions + GitLab stand-in; ``kube``/``traffic`` built on."""

    def __init__(
        self,
        scenario: Scenario,
        *,
        seed: int = 7,
        history: int = 6,
        clock: SimClock | None = None,
        build: bool = True,
    ) -> None:
        self.scenario = scenario
        self.seed = seed
        self.clock = clock or SimClock(manual=True)
        self.versions = VersionBook()
        deployed: dict[tuple[str, str], list[str]] = {}
        for env in scenario.envs():
            shas = [sha_for(env.service, "release", n) for n in range(history)]
            for sha in shas:
                self.versions.register(env.service, sha, env.stable)
            if env.candidate is not None:
                candidate = sha_for(env.service, env.environment, "candidate")
                self.versions.register(env.service, candidate, env.candidate)
                shas.append(candidate)
            deployed[env.key] = shas
        self.gitlab = FakeGitLab(deployed)
        if build:
            self.build()

    def build(self) -> None:
        from cockpit.sim.kube.cluster import Cluster
        from cockpit.sim.metrics.traffic import Traffic

        self.kube = Cluster(self)
        self.traffic = Traffic(self)
        self.step()

    def rng(self, *purpose: object) -> random.Random:
        return random.Random(":".join([str(self.seed), *map(str, purpose)]))

    def envs(self) -> tuple[EnvSpec, ...]:
        return self.scenario.envs()

    def env(self, service: str, environment: str) -> EnvSpec:
        return self.scenario.service(service).env(environment)

    def register(self, service: str, sha: str, profile: VersionProfile) -> str:
        self.versions.register(service, sha, profile)
        return sha

    def step(self) -> None:
        now = self.clock.now()
        self.kube.step(now)
        self.traffic.step(now)

    def advance(self, seconds: float, step: float = 1.0) -> None:
        """Move the manual clock in increments, stepping the world each time."""
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.clock.advance(delta)
            self.step()
            remaining -= delta


def only(scenario: Scenario, services: Iterable[str]) -> Scenario:
    """The scenario restricted to some services (smaller, faster worlds for tests)."""
    from dataclasses import replace

    wanted = set(services)
    return replace(scenario, services=tuple(s for s in scenario.services if s.name in wanted))
