"""Compare the shape of our JSON with a real payload: every field it has, with the same JSON type.

Used by the contract tests that hold the simulator to captured payloads. Values are not
compared, only shapes: objects must have every key the reference has (recursively),
with the same JSON type. ``null`` in the reference matches anything (the capture only
says the field exists); numbers match numbers (JSON has no int/float). Array items of
the reference are each compared with our first item, enough for lists of like items.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


def shape_differences(
    reference: Any, actual: Any, *, ignore: Iterable[str] = (), path: str = "$"
) -> list[str]:
    """Where ``actual`` lacks a field of ``reference`` or has it with another JSON type.

    ``ignore`` holds paths a test deliberately leaves out (``$.deployable.runner``; say
    why there), or ``$.metadata.annotations.*`` to skip the keys of a map that holds
    data rather than fields.
    """
    ignored = frozenset(ignore)
    if path in ignored:
        return []
    expected, found = json_type(reference), json_type(actual)
    if expected == "null":
        return []
    if expected != found:
        return [f"{path}: expected {expected}, found {found}"]
    problems: list[str] = []
    if expected == "object":
        if f"{path}.*" in ignored:
            return []
        for key, value in reference.items():
            child = f"{path}.{key}"
            if child in ignored:
                continue
            if key not in actual:
                problems.append(f"{child}: missing")
                continue
            problems += shape_differences(value, actual[key], ignore=ignored, path=child)
    elif expected == "array" and reference:
        if not actual:
            return [f"{path}: empty, cannot compare with {len(reference)} reference item(s)"]
        for item in reference:
            problems += shape_differences(item, actual[0], ignore=ignored, path=f"{path}[]")
    return sorted(set(problems))
