"""Patch semantics of the simulated apiserver: merge (RFC 7386), JSON (RFC 6902), strategic."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cockpit.sim.kube.patch import (
    MalformedPatch,
    PatchFailed,
    json_equal,
    json_patch,
    merge_key,
    merge_patch,
    strategic_merge_patch,
)

# --------------------------------------------------------------------------- merge patch

RFC7386_EXAMPLES = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "patch", "expected"), RFC7386_EXAMPLES)
def test_merge_patch_follows_the_rfc_examples(target: Any, patch: Any, expected: Any) -> None:
    assert merge_patch(target, patch) == expected


def test_merge_patch_pauses_a_rollout_and_clears_pause_conditions() -> None:
    rollout = {
        "spec": {"paused": False, "replicas": 5},
        "status": {"pauseConditions": [{"reason": "CanaryPauseStep"}], "currentStepIndex": 1},
    }
    before = copy.deepcopy(rollout)
    patched = merge_patch(rollout, {"spec": {"paused": True}, "status": {"pauseConditions": None}})
    assert patched == {
        "spec": {"paused": True, "replicas": 5},
        "status": {"currentStepIndex": 1},
    }
    assert rollout == before, "the target must not be mutated"


def merge_diff(source: Any, target: Any) -> Any:
    """The merge patch that turns ``source`` into ``target`` (test oracle)."""
    if not isinstance(source, dict) or not isinstance(target, dict):
        return target
    patch: dict[str, Any] = {key: None for key in source if key not in target}
    for key, value in target.items():
        if key not in source:
            patch[key] = value
        elif source[key] != value:
            patch[key] = merge_diff(source[key], value)
    return patch


JSON_SCALARS = st.one_of(
    st.booleans(), st.integers(-5, 5), st.text(max_size=3), st.floats(allow_nan=False)
)
JSON_WITHOUT_NULLS = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.text("abc", max_size=2), children, max_size=3)
    ),
    max_leaves=12,
)
JSON_OBJECTS = st.dictionaries(st.text("abc", max_size=2), JSON_WITHOUT_NULLS, max_size=4)
#: Generation can be slow on a loaded machine; that is not what these tests are about.
PROPERTY = settings(suppress_health_check=[HealthCheck.too_slow], deadline=None)


@PROPERTY
@given(JSON_OBJECTS, JSON_OBJECTS)
def test_merge_patch_of_a_diff_round_trips(source: dict[str, Any], target: dict[str, Any]) -> None:
    assert merge_patch(source, merge_diff(source, target)) == target


@PROPERTY
@given(JSON_OBJECTS)
def test_merge_patch_with_itself_changes_nothing(document: dict[str, Any]) -> None:
    assert merge_patch(document, document) == document


# --------------------------------------------------------------------------- JSON patch

RFC6902_EXAMPLES = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    (
        {"foo": ["bar", "baz"]},
        [{"op": "add", "path": "/foo/1", "value": "qux"}],
        {"foo": ["bar", "qux", "baz"]},
    ),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    (
        {"baz": "qux", "foo": "bar"},
        [{"op": "replace", "path": "/baz", "value": "boo"}],
        {"baz": "boo", "foo": "bar"},
    ),
    (
        {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
        [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
        {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}},
    ),
    (
        {"foo": ["all", "grass", "cows", "eat"]},
        [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
        {"foo": ["all", "cows", "eat", "grass"]},
    ),
    (
        {"baz": "qux", "foo": ["a", 2, "c"]},
        [
            {"op": "test", "path": "/baz", "value": "qux"},
            {"op": "test", "path": "/foo/1", "value": 2},
        ],
        {"baz": "qux", "foo": ["a", 2, "c"]},
    ),
    (
        {"foo": "bar"},
        [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
        {"foo": "bar", "child": {"grandchild": {}}},
    ),
    (
        {"/": 9, "~1": 10},
        [{"op": "test", "path": "/~01", "value": 10}],
        {"/": 9, "~1": 10},
    ),
    (
        {"foo": ["bar"]},
        [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
        {"foo": ["bar", ["abc", "def"]]},
    ),
    (
        {"foo": {"bar": 1}},
        [{"op": "copy", "from": "/foo", "path": "/baz"}],
        {"foo": {"bar": 1}, "baz": {"bar": 1}},
    ),
    ({"foo": 1}, [{"op": "replace", "path": "", "value": [1]}], [1]),
]


@pytest.mark.parametrize(("document", "operations", "expected"), RFC6902_EXAMPLES)
def test_json_patch_follows_the_rfc_examples(
    document: Any, operations: list[dict[str, Any]], expected: Any
) -> None:
    before = copy.deepcopy(document)
    assert json_patch(document, operations) == expected
    assert document == before, "the document must not be mutated"


@pytest.mark.parametrize(
    ("document", "operations"),
    [
        ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}]),
        ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}]),
        ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}]),
        ({"foo": "bar"}, [{"op": "remove", "path": "/missing"}]),
        ({"foo": "bar"}, [{"op": "replace", "path": "/missing", "value": 1}]),
        ({"foo": [1, 2]}, [{"op": "add", "path": "/foo/3", "value": 3}]),
        ({"foo": [1, 2]}, [{"op": "remove", "path": "/foo/01"}]),
        ({"foo": {"bar": 1}}, [{"op": "move", "from": "/foo", "path": "/foo/bar/x"}]),
        ({"flag": 1}, [{"op": "test", "path": "/flag", "value": True}]),
    ],
)
def test_json_patch_that_does_not_apply_fails(
    document: Any, operations: list[dict[str, Any]]
) -> None:
    with pytest.raises(PatchFailed):
        json_patch(document, operations)


@pytest.mark.parametrize(
    "operations",
    [
        {"op": "add", "path": "/a", "value": 1},
        [{"op": "frobnicate", "path": "/a"}],
        [{"op": "add", "path": "/a"}],
        [{"op": "move", "path": "/a"}],
        [{"op": "add", "path": "a", "value": 1}],
        ["not an operation"],
    ],
)
def test_malformed_json_patch_is_rejected_as_such(operations: Any) -> None:
    with pytest.raises(MalformedPatch):
        json_patch({"a": 0}, operations)


def test_json_patch_is_all_or_nothing() -> None:
    document = {"spec": {"replicas": 2}}
    with pytest.raises(PatchFailed):
        json_patch(
            document,
            [
                {"op": "replace", "path": "/spec/replicas", "value": 5},
                {"op": "test", "path": "/spec/replicas", "value": 2},
            ],
        )
    assert document == {"spec": {"replicas": 2}}


def test_json_patch_as_kubectl_rollout_undo_sends_it() -> None:
    deployment = {
        "metadata": {"annotations": {"team": "payments", "deployment.kubernetes.io/revision": "2"}},
        "spec": {"template": {"spec": {"containers": [{"name": "app", "image": "app:v2"}]}}},
    }
    old_template = {"spec": {"containers": [{"name": "app", "image": "app:v1"}]}}
    patched = json_patch(
        deployment,
        [
            {"op": "replace", "path": "/spec/template", "value": old_template},
            {
                "op": "replace",
                "path": "/metadata/annotations",
                "value": {"deployment.kubernetes.io/revision": "2"},
            },
        ],
    )
    assert patched["spec"]["template"] == old_template
    assert patched["metadata"]["annotations"] == {"deployment.kubernetes.io/revision": "2"}


@PROPERTY
@given(JSON_OBJECTS, st.text("abc", min_size=1, max_size=2), JSON_WITHOUT_NULLS)
def test_json_patch_add_then_remove_restores_the_document(
    document: dict[str, Any], key: str, value: Any
) -> None:
    if key in document:
        return
    pointer = "/" + key
    added = json_patch(document, [{"op": "add", "path": pointer, "value": value}])
    assert json_patch(added, [{"op": "test", "path": pointer, "value": value}]) == added
    assert json_patch(added, [{"op": "remove", "path": pointer}]) == document


def test_json_equality_tells_booleans_from_numbers() -> None:
    assert json_equal(1, 1.0)
    assert not json_equal(True, 1)
    assert not json_equal({"a": [1]}, {"a": [True]})
    assert json_equal({"a": [1, {"b": "c"}]}, {"a": [1.0, {"b": "c"}]})


# --------------------------------------------------------------------------- strategic merge


def pod_template(*containers: dict[str, Any]) -> dict[str, Any]:
    return {"spec": {"template": {"spec": {"containers": list(containers)}}}}


def test_strategic_patch_merges_containers_by_name() -> None:
    deployment = pod_template(
        {"name": "app", "image": "app:v1", "ports": [{"containerPort": 8080}]},
        {"name": "sidecar", "image": "proxy:v1"},
    )
    patched = strategic_merge_patch(deployment, pod_template({"name": "app", "image": "app:v2"}))
    assert patched["spec"]["template"]["spec"]["containers"] == [
        {"name": "app", "image": "app:v2", "ports": [{"containerPort": 8080}]},
        {"name": "sidecar", "image": "proxy:v1"},
    ]


def test_strategic_patch_adds_a_container_and_env_by_name() -> None:
    deployment = pod_template(
        {"name": "app", "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    )
    patched = strategic_merge_patch(
        deployment,
        pod_template(
            {"name": "app", "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}]},
            {"name": "sidecar", "image": "proxy:v1"},
        ),
    )
    containers = patched["spec"]["template"]["spec"]["containers"]
    assert containers[0]["env"] == [
        {"name": "A", "value": "1"},
        {"name": "B", "value": "3"},
        {"name": "C", "value": "4"},
    ]
    assert containers[1] == {"name": "sidecar", "image": "proxy:v1"}


def test_strategic_patch_as_kubectl_rollout_restart_sends_it() -> None:
    deployment = {
        "spec": {
            "template": {
                "metadata": {"labels": {"app": "web"}, "annotations": {"keep": "me"}},
                "spec": {"containers": [{"name": "web", "image": "web:v1"}]},
            }
        }
    }
    patched = strategic_merge_patch(
        deployment,
        {
            "spec": {
                "template": {
                    "metadata": {
                        "annotations": {"kubectl.kubernetes.io/restartedAt": "2026-11-26T03:00:00Z"}
                    }
                }
            }
        },
    )
    assert patched["spec"]["template"]["metadata"]["annotations"] == {
        "keep": "me",
        "kubectl.kubernetes.io/restartedAt": "2026-11-26T03:00:00Z",
    }
    assert patched["spec"]["template"]["spec"] == deployment["spec"]["template"]["spec"]


def test_strategic_patch_uses_the_right_key_for_container_and_service_ports() -> None:
    assert merge_key(("spec", "template", "spec", "containers", "ports")) == "containerPort"
    assert merge_key(("spec", "ports")) == "port"
    service = {"spec": {"ports": [{"port": 80, "targetPort": 8080}, {"port": 443}]}}
    patched = strategic_merge_patch(
        service, {"spec": {"ports": [{"port": 80, "targetPort": 9090}]}}
    )
    assert patched["spec"]["ports"] == [{"port": 80, "targetPort": 9090}, {"port": 443}]


def test_strategic_patch_deletes_list_items_and_keys() -> None:
    deployment = pod_template(
        {"name": "app", "image": "app:v1", "args": ["--a", "--b"]}, {"name": "sidecar"}
    )
    patched = strategic_merge_patch(
        deployment,
        pod_template(
            {"name": "sidecar", "$patch": "delete"},
            {"name": "app", "image": None, "args": ["--c"]},
        ),
    )
    assert patched["spec"]["template"]["spec"]["containers"] == [{"name": "app", "args": ["--c"]}]


def test_strategic_patch_replace_directives() -> None:
    deployment = {"spec": {"selector": {"matchLabels": {"a": "1", "b": "2"}}}}
    patched = strategic_merge_patch(
        deployment, {"spec": {"selector": {"$patch": "replace", "matchLabels": {"c": "3"}}}}
    )
    assert patched == {"spec": {"selector": {"matchLabels": {"c": "3"}}}}
    template = pod_template({"name": "a"}, {"name": "b"})
    replaced = strategic_merge_patch(
        template, pod_template({"$patch": "replace"}, {"name": "c", "image": "c:v1"})
    )
    assert replaced["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "c:v1"}]


def test_strategic_patch_set_element_order_and_retain_keys() -> None:
    deployment = {
        "spec": {
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": "25%"}},
            "template": {"spec": {"containers": [{"name": "a"}, {"name": "b"}]}},
        }
    }
    patched = strategic_merge_patch(
        deployment,
        {
            "spec": {
                "strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": None},
                "template": {
                    "spec": {
                        "$setElementOrder/containers": [{"name": "b"}, {"name": "a"}],
                        "containers": [{"name": "b", "image": "b:v2"}],
                    }
                },
            }
        },
    )
    assert patched["spec"]["strategy"] == {"type": "Recreate"}
    assert patched["spec"]["template"]["spec"]["containers"] == [
        {"name": "b", "image": "b:v2"},
        {"name": "a"},
    ]


def test_strategic_patch_merges_finalizers_and_deletes_from_them() -> None:
    obj = {"metadata": {"finalizers": ["a", "b"]}}
    assert strategic_merge_patch(obj, {"metadata": {"finalizers": ["b", "c"]}}) == {
        "metadata": {"finalizers": ["a", "b", "c"]}
    }
    assert strategic_merge_patch(
        obj, {"metadata": {"$deleteFromPrimitiveList/finalizers": ["a"]}}
    ) == {"metadata": {"finalizers": ["b"]}}


def test_strategic_patch_merges_status_conditions_by_type() -> None:
    status = {
        "status": {
            "conditions": [
                {"type": "Available", "status": "True"},
                {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"},
            ]
        }
    }
    patched = strategic_merge_patch(
        status,
        {"status": {"conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]}},
    )
    assert patched["status"]["conditions"][1] == {
        "type": "Progressing",
        "status": "True",
        "reason": "ProgressDeadlineExceeded",
    }


@pytest.mark.parametrize(
    "patch",
    [
        ["not", "an", "object"],
        pod_template({"image": "no-name:v1"}),
        {"spec": {"$patch": "explode"}},
    ],
)
def test_malformed_strategic_patch_is_rejected(patch: Any) -> None:
    with pytest.raises(MalformedPatch):
        strategic_merge_patch(pod_template({"name": "app"}), patch)
