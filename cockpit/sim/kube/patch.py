"""The three patch formats the apiserver accepts, as pure functions on JSON documents.

* :func:`merge_patch`: JSON merge patch (RFC 7386): maps merge, ``null`` deletes,
  lists are replaced whole.
* :func:`json_patch`: JSON patch (RFC 6902): ``add``, ``remove``, ``replace``,
  ``move``, ``copy``, ``test`` on JSON pointers (RFC 6901); all or nothing.
* :func:`strategic_merge_patch`: Kubernetes' strategic merge patch for built-in kinds:
  lists of objects merge item by item on their patch merge key (``name`` for
  containers and env, ``containerPort`` for container ports, ``type`` for
  conditions, ...), plus the ``$patch``, ``$retainKeys``, ``$setElementOrder/<list>``
  and ``$deleteFromPrimitiveList/<list>`` directives that kubectl sends.

None of them mutates its arguments. A patch whose body is the wrong shape raises
:class:`MalformedPatch` (the apiserver answers 400); a well-formed patch that does not
apply to the document raises :class:`PatchFailed` (422).
"""

from __future__ import annotations

import copy
from typing import Any

JSONValue = Any

#: Content types for PATCH, as the apiserver names them.
JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"


class PatchError(Exception):
    """A patch that cannot be used."""


class MalformedPatch(PatchError):
    """The patch body itself is not a valid patch of its type."""


class PatchFailed(PatchError):
    """A valid patch that does not apply to this document."""


# --------------------------------------------------------------------------- RFC 7386


def merge_patch(target: JSONValue, patch: JSONValue) -> JSONValue:
    """Apply a JSON merge patch: returns the patched copy of ``target``."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --------------------------------------------------------------------------- RFC 6902


def json_equal(left: JSONValue, right: JSONValue) -> bool:
    """Equality as JSON sees it: ``1 == 1.0`` but ``true != 1`` and ``[1] != (1,)``."""
    if isinstance(left, bool) or isinstance(right, bool):
        return isinstance(left, bool) and isinstance(right, bool) and left == right
    if isinstance(left, int | float) and isinstance(right, int | float):
        return left == right
    if isinstance(left, dict) and isinstance(right, dict):
        return left.keys() == right.keys() and all(json_equal(left[k], right[k]) for k in left)
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(map(json_equal, left, right))
    return type(left) is type(right) and left == right


def parse_pointer(pointer: str) -> list[str]:
    """RFC 6901: ``"/a/b~1c"`` → ``["a", "b/c"]``; ``""`` is the whole document."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise MalformedPatch(f"JSON pointer must be empty or start with '/': {pointer!r}")
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def _array_index(token: str, length: int, *, for_insert: bool, pointer: str) -> int:
    if for_insert and token == "-":
        return length
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchFailed(f"invalid array index {token!r} in {pointer}")
    index = int(token)
    limit = length if for_insert else length - 1
    if index > limit:
        raise PatchFailed(f"array index {index} out of bounds in {pointer}")
    return index


def _parent(document: JSONValue, tokens: list[str], pointer: str) -> JSONValue:
    """The container that holds the last token of ``pointer`` (which must exist)."""
    current = document
    for token in tokens[:-1]:
        if isinstance(current, dict):
            if token not in current:
                raise PatchFailed(f"doc is missing path: {pointer}")
            current = current[token]
        elif isinstance(current, list):
            current = current[_array_index(token, len(current), for_insert=False, pointer=pointer)]
        else:
            raise PatchFailed(f"doc is missing path: {pointer}")
    return current


def _get(document: JSONValue, pointer: str) -> JSONValue:
    tokens = parse_pointer(pointer)
    if not tokens:
        return document
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchFailed(f"doc is missing path: {pointer}")
        return parent[last]
    if isinstance(parent, list):
        return parent[_array_index(last, len(parent), for_insert=False, pointer=pointer)]
    raise PatchFailed(f"doc is missing path: {pointer}")


def _add(document: JSONValue, pointer: str, value: JSONValue) -> JSONValue:
    tokens = parse_pointer(pointer)
    if not tokens:
        return value
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_array_index(last, len(parent), for_insert=True, pointer=pointer), value)
    else:
        raise PatchFailed(f"doc is missing path: {pointer}")
    return document


def _remove(document: JSONValue, pointer: str) -> tuple[JSONValue, JSONValue]:
    """Remove what ``pointer`` names; returns (document, removed value)."""
    tokens = parse_pointer(pointer)
    if not tokens:
        raise PatchFailed("cannot remove the whole document")
    parent = _parent(document, tokens, pointer)
    last = tokens[-1]
    if isinstance(parent, dict):
        if last not in parent:
            raise PatchFailed(f"doc is missing path: {pointer}")
        return document, parent.pop(last)
    if isinstance(parent, list):
        return document, parent.pop(
            _array_index(last, len(parent), for_insert=False, pointer=pointer)
        )
    raise PatchFailed(f"doc is missing path: {pointer}")


def _operation_field(operation: dict[str, Any], name: str) -> Any:
    if name not in operation:
        raise MalformedPatch(f"operation {operation.get('op')!r} is missing {name!r}")
    return operation[name]


def json_patch(document: JSONValue, operations: JSONValue) -> JSONValue:
    """Apply a JSON patch (a list of operations) to a copy of ``document``; all or nothing."""
    if not isinstance(operations, list):
        raise MalformedPatch("a JSON patch must be a list of operations")
    result = copy.deepcopy(document)
    for operation in operations:
        if not isinstance(operation, dict) or not isinstance(operation.get("op"), str):
            raise MalformedPatch(f"not a JSON patch operation: {operation!r}")
        op = operation["op"]
        path = _operation_field(operation, "path")
        if not isinstance(path, str):
            raise MalformedPatch(f"operation path must be a string: {path!r}")
        if op == "add":
            result = _add(result, path, copy.deepcopy(_operation_field(operation, "value")))
        elif op == "remove":
            result, _ = _remove(result, path)
        elif op == "replace":
            value = copy.deepcopy(_operation_field(operation, "value"))
            _get(result, path)  # must exist
            if parse_pointer(path):
                result, _ = _remove(result, path)
            result = _add(result, path, value)
        elif op in ("move", "copy"):
            source = _operation_field(operation, "from")
            if not isinstance(source, str):
                raise MalformedPatch(f"operation from must be a string: {source!r}")
            if op == "move":
                if path != source and path.startswith(source + "/"):
                    raise PatchFailed(f"cannot move {source} into its own child {path}")
                result, value = _remove(result, source)
            else:
                value = copy.deepcopy(_get(result, source))
            result = _add(result, path, value)
        elif op == "test":
            expected = _operation_field(operation, "value")
            if not json_equal(_get(result, path), expected):
                raise PatchFailed(f"testing value {path} failed")
        else:
            raise MalformedPatch(f"unknown JSON patch operation {op!r}")
    return result


# --------------------------------------------------------------------------- strategic merge

#: Patch merge keys of the built-in kinds' lists of objects (Go struct tag ``patchMergeKey``).
_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
    "topologySpreadConstraints": "topologyKey",
    "resourceClaims": "name",
}
_CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")
#: Lists of scalars with ``patchStrategy:"merge"`` (a union, not a replacement).
_MERGED_SCALAR_LISTS = frozenset({"finalizers"})

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_ORDER_PREFIX = "$setElementOrder/"
_DELETE_FROM_PREFIX = "$deleteFromPrimitiveList/"


def merge_key(path: tuple[str, ...]) -> str | None:
    """The patch merge key of the list at ``path`` (map keys from the root; list items add none)."""
    if not path:
        return None
    field = path[-1]
    if field == "ports":
        return "containerPort" if len(path) > 1 and path[-2] in _CONTAINER_LISTS else "port"
    return _MERGE_KEYS.get(field)


class _Delete:
    """Marks a map that a ``$patch: delete`` directive removes."""


_DELETED = _Delete()


def strategic_merge_patch(original: JSONValue, patch: JSONValue) -> JSONValue:
    """Apply a strategic merge patch to a copy of a built-in kind's object."""
    if not isinstance(patch, dict):
        raise MalformedPatch("a strategic merge patch must be a JSON object")
    merged = _merge_map(copy.deepcopy(original) if isinstance(original, dict) else {}, patch, ())
    return {} if merged is _DELETED else merged


def _merge_map(original: dict[str, Any], patch: dict[str, Any], path: tuple[str, ...]) -> Any:
    directive = patch.get(_DIRECTIVE)
    if directive == "replace":
        return _strip_directives(patch)
    if directive == "delete":
        return _DELETED
    if directive is not None:
        raise MalformedPatch(f"unknown patch directive {directive!r}")
    result = original
    orders: dict[str, list[Any]] = {}
    retain = patch.get(_RETAIN_KEYS)
    for key, value in patch.items():
        if key in (_DIRECTIVE, _RETAIN_KEYS):
            continue
        if key.startswith(_ORDER_PREFIX):
            orders[key[len(_ORDER_PREFIX) :]] = value
            continue
        if key.startswith(_DELETE_FROM_PREFIX):
            field = key[len(_DELETE_FROM_PREFIX) :]
            if isinstance(result.get(field), list):
                doomed = value if isinstance(value, list) else [value]
                result[field] = [item for item in result[field] if item not in doomed]
            continue
        if value is None:
            result.pop(key, None)
        elif isinstance(value, dict) and isinstance(result.get(key), dict):
            merged = _merge_map(result[key], value, (*path, key))
            if merged is _DELETED:
                result.pop(key, None)
            else:
                result[key] = merged
        elif isinstance(value, dict):
            merged = _merge_map({}, value, (*path, key))
            if merged is not _DELETED:
                result[key] = merged
        elif isinstance(value, list):
            result[key] = _merge_list(result.get(key), value, (*path, key))
        else:
            result[key] = copy.deepcopy(value)
    for field, order in orders.items():
        if isinstance(result.get(field), list) and isinstance(order, list):
            result[field] = _ordered(result[field], order, merge_key((*path, field)))
    if isinstance(retain, list):
        result = {key: value for key, value in result.items() if key in retain}
    return result


def _merge_list(original: Any, patch: list[Any], path: tuple[str, ...]) -> list[Any]:
    key = merge_key(path)
    if key is not None and all(isinstance(item, dict) for item in patch):
        return _merge_keyed_list(original if isinstance(original, list) else [], patch, key, path)
    if path[-1] in _MERGED_SCALAR_LISTS and isinstance(original, list):
        return original + [item for item in patch if item not in original]
    return [_strip_directives(item) for item in patch]


def _merge_keyed_list(
    original: list[Any], patch: list[dict[str, Any]], key: str, path: tuple[str, ...]
) -> list[Any]:
    if any(item.get(_DIRECTIVE) == "replace" and len(item) == 1 for item in patch):
        return [_strip_directives(item) for item in patch if item.get(_DIRECTIVE) != "replace"]
    result = [copy.deepcopy(item) for item in original]
    for item in patch:
        if key not in item:
            raise MalformedPatch(f"map in list {'.'.join(path)} has no merge key {key!r}")
        index = next(
            (
                i
                for i, current in enumerate(result)
                if isinstance(current, dict) and current.get(key) == item[key]
            ),
            None,
        )
        if item.get(_DIRECTIVE) == "delete":
            if index is not None:
                del result[index]
            continue
        if index is None:
            result.append(_strip_directives(item))
        else:
            merged = _merge_map(result[index], item, path)
            if merged is _DELETED:
                del result[index]
            else:
                result[index] = merged
    return result


def _ordered(items: list[Any], order: list[Any], key: str | None) -> list[Any]:
    def identity(item: Any) -> Any:
        return item.get(key) if key is not None and isinstance(item, dict) else item

    wanted = [identity(entry) for entry in order]
    rank = {value: position for position, value in enumerate(wanted) if _hashable(value)}
    listed = [item for item in items if _hashable(identity(item)) and identity(item) in rank]
    others = [item for item in items if item not in listed]
    return sorted(listed, key=lambda item: rank[identity(item)]) + others


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _strip_directives(value: Any) -> Any:
    """A patch fragment as plain data (directives dropped, ``null`` members removed)."""
    if isinstance(value, dict):
        return {
            key: _strip_directives(item)
            for key, item in value.items()
            if not key.startswith("$") and item is not None
        }
    if isinstance(value, list):
        return [_strip_directives(item) for item in value]
    return value
