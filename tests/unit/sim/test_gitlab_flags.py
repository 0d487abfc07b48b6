"""Feature flag updates merge strategies the way GitLab's PUT does."""

from __future__ import annotations

import itertools

import pytest

from cockpit.sim.gitlab.flags import FlagError, Scope, Strategy, merge_strategies

EXISTING = (
    Strategy(1, "default", (), (Scope(10, "*"),)),
    Strategy(
        2,
        "gradualRolloutUserId",
        (("groupId", "default"), ("percentage", "25")),
        (Scope(11, "production"),),
    ),
)


def merge(updates: object) -> tuple[Strategy, ...]:
    strategy_ids = itertools.count(100)
    scope_ids = itertools.count(200)
    return merge_strategies(EXISTING, updates, lambda: next(strategy_ids), lambda: next(scope_ids))


def test_a_strategy_without_id_is_added_and_the_others_stay() -> None:
    result = merge(
        [
            {
                "name": "userWithId",
                "parameters": {"userIds": "alice,bob"},
                "scopes": [{"environment_scope": "staging"}],
            }
        ]
    )
    assert [s.id for s in result] == [1, 2, 100]
    added = result[-1]
    assert added.name == "userWithId" and dict(added.parameters) == {"userIds": "alice,bob"}
    assert added.scopes == (Scope(200, "staging"),)


def test_a_strategy_with_id_is_updated_in_place() -> None:
    result = merge([{"id": 2, "parameters": {"groupId": "default", "percentage": "50"}}])
    assert [s.id for s in result] == [1, 2]
    assert dict(result[1].parameters)["percentage"] == "50"
    assert result[1].scopes == EXISTING[1].scopes


def test_destroy_removes_a_strategy_and_a_scope() -> None:
    result = merge(
        [
            {"id": 1, "_destroy": True},
            {"id": 2, "scopes": [{"id": 11, "_destroy": True}, {"environment_scope": "staging"}]},
        ]
    )
    assert [s.id for s in result] == [2]
    assert result[0].scopes == (Scope(200, "staging"),)


@pytest.mark.parametrize(
    "updates",
    [
        [{"name": "nonsense"}],
        [{"id": 99, "name": "default"}],
        [{"name": "gradualRolloutUserId", "parameters": {"percentage": "10"}}],
        "not a list",
    ],
)
def test_bad_strategies_are_refused(updates: object) -> None:
    with pytest.raises(FlagError):
        merge(updates)
