"""The shape comparison used by the fidelity tests finds what is missing or mistyped."""

from __future__ import annotations

from tests.fidelity import shape_differences


def test_identical_and_richer_shapes_pass() -> None:
    reference = {"id": 1, "user": {"name": "a"}, "tags": ["x"], "coverage": None}
    assert shape_differences(reference, reference) == []
    assert shape_differences(reference, {**reference, "extra": True, "coverage": 81.5}) == []


def test_missing_keys_and_wrong_types_are_reported_with_their_path() -> None:
    reference = {"id": 1, "user": {"name": "a", "id": 2}, "items": [{"size": 1}]}
    actual = {"id": "1", "user": {"name": "a"}, "items": [{"size": "big"}]}
    assert shape_differences(reference, actual) == [
        "$.id: expected number, found string",
        "$.items[].size: expected number, found string",
        "$.user.id: missing",
    ]


def test_numbers_match_and_booleans_are_not_numbers() -> None:
    assert shape_differences({"d": 1}, {"d": 0.5}) == []
    assert shape_differences({"d": 1}, {"d": True}) == ["$.d: expected number, found boolean"]


def test_a_null_we_send_where_the_real_api_sends_a_value_is_a_difference() -> None:
    assert shape_differences({"uid": "u"}, {"uid": None}) == ["$.uid: expected string, found null"]


def test_empty_arrays_cannot_prove_their_items_and_ignored_paths_are_skipped() -> None:
    assert shape_differences({"a": [{"x": 1}]}, {"a": []}) == [
        "$.a: empty, cannot compare with 1 reference item(s)"
    ]
    assert shape_differences({"a": [{"x": 1}], "b": 1}, {"a": []}, ignore={"$.a", "$.b"}) == []


def test_map_keys_that_hold_data_can_be_skipped_as_a_whole() -> None:
    real = {"metadata": {"selfLink": "/x", "annotations": {"a": "1"}}}
    ours = {"metadata": {"annotations": {}}}
    assert (
        shape_differences(real, ours, ignore=("$.metadata.selfLink", "$.metadata.annotations.*"))
        == []
    )
