"""What the simulated world remembers stays bounded however long it runs: after
thousands of changes it holds at most its limit, and the newest ones."""

from __future__ import annotations

import pytest

from cockpit.sim.clock import SimClock
from cockpit.sim.gitlab import state as gitlab_state
from cockpit.sim.kube.store import NAMESPACE, SERVICE, WATCH_HISTORY, Expired, ObjectStore
from tests.fake_world import FakeWorld


def test_a_watch_resumes_only_within_the_last_events_the_store_keeps() -> None:
    store = ObjectStore(SimClock(manual=True))
    store.create(NAMESPACE, {"metadata": {"name": "production"}})
    store.create(SERVICE, {"metadata": {"name": "api", "namespace": "production"}})
    first = int(store.get(SERVICE, "production", "api")["metadata"]["resourceVersion"])
    for count in range(10_000):
        store.update(
            SERVICE,
            "production",
            "api",
            lambda obj, n=count: obj["metadata"].update(labels={"n": str(n)}),
        )
    newest = int(store.get(SERVICE, "production", "api")["metadata"]["resourceVersion"])
    # Resumable: only the last WATCH_HISTORY changes.
    assert newest - store.oldest_resource_version <= WATCH_HISTORY
    # The newest change is there to resume from: a watch from just before it sees it.
    _, replay = store.watch(SERVICE, "production", since=str(newest - 1))
    assert [e.object["metadata"]["labels"]["n"] for e in replay] == ["9999"]
    # The oldest is gone: resuming from it is 410 Gone, and the client lists again.
    with pytest.raises(Expired):
        store.watch(SERVICE, "production", since=str(first))


def test_a_project_keeps_its_newest_pipelines_and_the_deployments_environments_stand_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(gitlab_state, "PIPELINES_KEPT", 40)
    world = FakeWorld("demo")
    world.advance(10 * 24 * 3600, step=600)
    pushed = [p for p in world.gitlab.projects if p.next_pipeline_iid > 60]
    assert len(pushed) >= 3  # the living services pushed well past the limit
    for project in pushed:
        assert len(project.pipelines) <= 40
        assert project.pipelines[-1].iid == project.next_pipeline_iid - 1  # the newest
        assert set(project.pipelines_by_id.values()) == set(project.pipelines)
        kept_jobs = {job.id for p in project.pipelines for job in p.jobs}
        assert set(project.jobs_by_id) == kept_jobs
        for env in project.environments.values():
            assert set(env.deployments) <= set(project.deployments.values())
            # What each environment runs now is still on record.
            assert env.last_deployment is not None
            assert env.last_deployment.job.pipeline in project.pipelines
