"""Compare a payload's shape with a real one: same keys, same JSON types, recursively."""

from __future__ import annotations

from typing import Any


def shape_mismatches(expected: Any, actual: Any, path: str = "$") -> list[str]:
    """Where ``actual`` lacks a key ``expected`` has, or has another JSON type there.

    ``None`` in ``expected`` matches anything; lists are compared by their first item;
    ints and floats are both JSON numbers.
    """
    if expected is None:
        return []
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: {type(actual).__name__} instead of object"]
        problems = []
        for key, value in expected.items():
            if key not in actual:
                problems.append(f"{path}.{key}: missing")
            else:
                problems += shape_mismatches(value, actual[key], f"{path}.{key}")
        return problems
    if isinstance(expected, list):
        if not isinstance(actual, list):
            return [f"{path}: {type(actual).__name__} instead of array"]
        if not expected:
            return []
        if not actual:
            return [f"{path}: empty array"]
        return shape_mismatches(expected[0], actual[0], f"{path}[0]")
    numbers = (int, float)
    if isinstance(expected, numbers) and not isinstance(expected, bool):
        if isinstance(actual, numbers) and not isinstance(actual, bool):
            return []
    elif type(expected) is type(actual):
        return []
    return [f"{path}: {type(actual).__name__} instead of {type(expected).__name__}"]
