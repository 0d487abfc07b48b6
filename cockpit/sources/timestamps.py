"""Timestamps as the APIs write them, turned into timezone-aware UTC datetimes.

GitLab REST uses ISO 8601 with milliseconds (``2016-08-11T11:28:34.085Z``) or an offset
(``+01:00``); its webhooks use ``2016-08-12 15:23:28 UTC``; Kubernetes uses RFC 3339;
YAML fixtures may hold already-parsed datetimes. Naive values are taken as UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: object) -> datetime | None:
    """A UTC datetime, or None for a missing or unreadable value."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(float(value), tz=UTC)
        except (OverflowError, OSError, ValueError):  # beyond the platform's time_t, or NaN
            return None
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(" UTC"):
            text = text[: -len(" UTC")] + "+00:00"
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # year 1 with a positive offset, year 9999 with a negative one
        return None
