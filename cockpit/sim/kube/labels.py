"""Label selectors written out as text, the way the apiserver prints them.

``{"matchLabels": {"app": "web"}, "matchExpressions": [...]}`` becomes
``app=web,tier in (a,b)`` (requirements sorted by key, values sorted), as used by the
``Selector`` table column and by the ``scale`` subresource's ``status.selector``.
"""

from __future__ import annotations

from typing import Any


def selector_string(selector: dict[str, Any] | None) -> str:
    """The selector as text; ``""`` when it selects everything."""
    if not selector:
        return ""
    requirements: list[tuple[str, str]] = []
    for key, value in (selector.get("matchLabels") or {}).items():
        requirements.append((key, f"{key}={value}"))
    for expression in selector.get("matchExpressions") or []:
        key = expression.get("key", "")
        operator = expression.get("operator", "")
        values = ",".join(sorted(expression.get("values") or []))
        if operator == "In":
            requirements.append((key, f"{key} in ({values})"))
        elif operator == "NotIn":
            requirements.append((key, f"{key} notin ({values})"))
        elif operator == "Exists":
            requirements.append((key, key))
        elif operator == "DoesNotExist":
            requirements.append((key, f"!{key}"))
    return ",".join(text for _key, text in sorted(requirements))


def labels_string(labels: dict[str, str] | None) -> str:
    """A plain label map (a Service's selector) as ``a=1,b=2``; ``""`` when empty."""
    return ",".join(f"{key}={value}" for key, value in sorted((labels or {}).items()))
