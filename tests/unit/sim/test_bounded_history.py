"""What the simulated world remembers stays bounded however long it runs: after
thousands of changes it holds at most its limit, and the newest ones."""

from __future__ import annotations

import pytest

from cockpit.sim.clock import SimClock
from cockpit.sim.kube.store import NAMESPACE, SERVICE, WATCH_HISTORY, Expired, ObjectStore


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
