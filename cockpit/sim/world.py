"""The simulated world: one scenario's GitLab, cluster and traffic, moving in simulated time.

``World`` owns the three parts and the links between them:

* ``gitlab`` (:class:`cockpit.sim.gitlab.state.GitLabState`): projects, commits,
  pipelines and jobs that progress in time, environments and deployments, files,
  feature flags. A deploy job that runs calls ``world.kube.deploy(...)``, as a real
  ``kubectl set image`` in a deploy script would.
* ``kube`` (:class:`cockpit.sim.kube.cluster.Cluster`): the object store plus the
  Argo Rollouts and Deployment controllers; it tells the traffic model which version
  serves which share of the requests (``traffic_split``).
* ``traffic`` (:class:`cockpit.sim.metrics.traffic.Traffic`): request counters and
  latency histograms per service × environment × version, from each version's
  :class:`~cockpit.sim.scenario.VersionProfile` and the current traffic split.

Build order matters: GitLab history first (it decides which commits were deployed
where), then the cluster (its ReplicaSets are those deployments), then traffic.
``step()`` moves all three to the clock's current time; it is the only thing that
changes the world besides API writes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from cockpit.sim.clock import SimClock
from cockpit.sim.scenario import EnvSpec, Scenario, ServiceSpec, VersionProfile

REGISTRY = "registry.example.com"


@dataclass(frozen=True)
class Version:
    """A build of a service: the commit it came from and how it behaves."""

    service: str
    sha: str
    profile: VersionProfile

    @property
    def tag(self) -> str:
        return self.sha[:8]


class VersionBook:
    """Every build the world knows: sha → behaviour, and image names both ways."""

    def __init__(self, group: str = "shop") -> None:
        self.group = group
        self._by_sha: dict[tuple[str, str], Version] = {}
        self._by_tag: dict[tuple[str, str], Version] = {}
        self._per_environment: dict[tuple[str, str, str], Version] = {}

    def register(
        self, service: str, sha: str, profile: VersionProfile, *, environment: str | None = None
    ) -> Version:
        """Record a build; with ``environment``, how it behaves there only.

        A bug can show only under one environment's traffic: the bad canary's build
        also ran in staging, where its few requests looked fine.
        """
        version = Version(service, sha, profile)
        if environment is not None:
            self._per_environment[(service, sha, environment)] = version
            return version
        self._by_sha[(service, sha)] = version
        self._by_tag[(service, version.tag)] = version
        return version

    def get(self, service: str, sha: str, environment: str | None = None) -> Version | None:
        if environment is not None:
            specific = self._per_environment.get((service, sha, environment))
            if specific is not None:
                return specific
        return self._by_sha.get((service, sha))

    def image(self, service: str, sha: str) -> str:
        return f"{REGISTRY}/{self.group}/{service}:{sha[:8]}"

    def from_image(self, service: str, image: str) -> Version | None:
        """The build an image reference points at (None for an image we never built)."""
        _, _, tag = image.rpartition(":")
        return self._by_tag.get((service, tag))


class World:
    """A scenario brought to life: see the module docstring."""

    def __init__(self, scenario: Scenario, *, seed: int, clock: SimClock) -> None:
        # Imported here so that each part's module can import World for typing.
        from cockpit.sim.gitlab.state import GitLabState
        from cockpit.sim.kube.cluster import Cluster
        from cockpit.sim.metrics.traffic import Traffic

        self.scenario = scenario
        self.seed = seed
        self.clock = clock
        self.versions = VersionBook(scenario.services[0].group if scenario.services else "shop")
        self.gitlab = GitLabState(self)
        self.kube = Cluster(self)
        self.traffic = Traffic(self)
        self.step()

    def rng(self, *purpose: object) -> random.Random:
        """A random generator that depends only on the seed and the purpose given.

        Each part draws from its own stream (``world.rng("history", "checkout")``), so
        adding randomness in one place never changes what happens in another.
        """
        return random.Random(":".join([str(self.seed), *map(str, purpose)]))

    def service(self, name: str) -> ServiceSpec:
        return self.scenario.service(name)

    def env(self, service: str, environment: str) -> EnvSpec:
        return self.scenario.service(service).env(environment)

    def envs(self) -> tuple[EnvSpec, ...]:
        return self.scenario.envs()

    def step(self) -> None:
        """Bring every part up to the clock's current time."""
        now = self.clock.now()
        self.gitlab.step(now)
        self.kube.step(now)
        self.traffic.step(now)
