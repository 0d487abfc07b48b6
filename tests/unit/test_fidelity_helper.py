"""The fidelity comparison used by contract tests must itself catch what it claims to."""

from __future__ import annotations

from tests.fidelity import differences


def test_identical_shapes_with_other_values_have_no_differences() -> None:
    real = {"kind": "Status", "code": 404, "details": {"name": "a"}, "items": [{"x": 1}]}
    ours = {
        "kind": "Status",
        "code": 409,
        "details": {"name": "b", "extra": 1},
        "items": [{"x": 2}],
    }
    assert differences(real, ours) == []


def test_missing_keys_and_wrong_types_are_reported() -> None:
    real = {"metadata": {"resourceVersion": "1", "uid": "u"}, "code": 410, "items": [{"a": 1}]}
    ours = {"metadata": {"resourceVersion": 1}, "code": "410", "items": []}
    assert differences(real, ours) == [
        "$.metadata.resourceVersion: real is string, ours is number",
        "$.metadata.uid: missing",
        "$.code: real is number, ours is string",
        "$.items: real has items, ours is empty",
    ]


def test_null_matches_anything_and_ignored_paths_are_skipped() -> None:
    real = {"lastProbeTime": None, "metadata": {"selfLink": "/x", "annotations": {"a": "1"}}}
    ours = {"lastProbeTime": "2026-11-26T03:00:00Z", "metadata": {"annotations": {}}}
    assert differences(real, ours, ignore=("$.metadata.selfLink", "$.metadata.annotations.*")) == []
