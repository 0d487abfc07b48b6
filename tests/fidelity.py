"""Field-set comparison between a real API payload and what a simulator serves.

``differences(real, ours)`` lists every place where ``ours`` lacks a key that ``real``
has, or holds it with another JSON type. ``null`` on either side matches anything (a
real payload's ``null`` says only that the field exists). Arrays are compared element
by element against our first element, which is enough to check the shape of lists of
like items. Values are not compared: a simulator's data is its own.
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


def differences(real: Any, ours: Any, *, ignore: Iterable[str] = (), path: str = "$") -> list[str]:
    """Where ``ours`` departs from the field set of ``real``; empty when it does not.

    ``ignore`` holds paths to skip (``$.metadata.selfLink``) or whose children to skip
    (``$.metadata.annotations.*``: the keys of a map that holds data, not fields).
    """
    ignored = tuple(ignore)
    if path in ignored:
        return []
    if real is None or ours is None:
        return []
    if json_type(real) != json_type(ours):
        return [f"{path}: real is {json_type(real)}, ours is {json_type(ours)}"]
    if isinstance(real, dict):
        if f"{path}.*" in ignored:
            return []
        found: list[str] = []
        for key, value in real.items():
            child = f"{path}.{key}"
            if child in ignored:
                continue
            if key not in ours:
                found.append(f"{child}: missing")
            else:
                found += differences(value, ours[key], ignore=ignored, path=child)
        return found
    if isinstance(real, list) and real:
        if not ours:
            return [f"{path}: real has items, ours is empty"]
        found = []
        for index, item in enumerate(real):
            found += differences(item, ours[0], ignore=ignored, path=f"{path}[{index}]")
        return found
    return []
