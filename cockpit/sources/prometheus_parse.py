"""Prometheus HTTP API JSON → samples, with no I/O (Prometheus, docs/querying/api.md).

:func:`parse_query_result` reads the envelope (``status``, ``data``, ``errorType``,
``error``) of an instant or range query into :class:`Series`; :func:`instant_value` and
:func:`range_samples` then insist on exactly one series, because a success rate that
comes back as several series is a query to fix, not a number to guess at.

NaN (0/0: series exist but no requests in the window) and an empty result (no series at
all) both mean *no traffic* and become ``None`` — never 0 or 1.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cockpit.model import Sample, SourceName
from cockpit.redact import shown
from cockpit.sources.errors import SourceError

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Series:
    labels: Labels
    samples: tuple[Sample, ...]


def _error(message: str, *, status: int | None = None, transient: bool = False) -> SourceError:
    return SourceError(SourceName.PROMETHEUS, message, status=status, transient=transient)


def _sample(pair: Any, expr: str) -> Sample:
    try:
        at, raw = pair
        value = float(raw)
        moment = datetime.fromtimestamp(float(at), tz=UTC)
    except (TypeError, ValueError, OverflowError, OSError) as exc:  # OSError: a time out of range
        raise _error(
            f"Prometheus sent a sample cockpit cannot read ({shown(repr(pair))}) for {expr}"
        ) from exc
    if math.isnan(value):
        return Sample(at=moment, value=None)
    if math.isinf(value):
        raise _error(
            f"the query returned {raw} (a division by zero with traffic on top): check its "
            f"denominator: {expr}"
        )
    return Sample(at=moment, value=value)


def _labels(metric: Any) -> Labels:
    if not isinstance(metric, Mapping):
        return ()
    return tuple(sorted((str(k), str(v)) for k, v in metric.items()))


#: errorType values that are worth asking again for (the server, not the query, failed).
TRANSIENT_ERROR_TYPES = frozenset({"timeout", "canceled", "internal", "unavailable"})


def parse_query_result(
    body: Any, *, expr: str = "", status: int | None = None
) -> tuple[Series, ...]:
    """Every series of a ``/api/v1/query`` or ``/api/v1/query_range`` answer.

    An error envelope raises SourceError carrying Prometheus's own ``error`` text.
    """
    if not isinstance(body, Mapping) or body.get("status") not in ("success", "error"):
        raise _error(
            f"Prometheus answered with something that is not its API (HTTP {status}); "
            "check prometheus.url points at the Prometheus server, not a proxy login page",
            status=status,
            transient=status is not None and status >= 500,
        )
    if body["status"] == "error":
        error_type = shown(str(body.get("errorType") or "error"), 40)
        text = shown(str(body.get("error") or "no details"), 200)
        if error_type == "bad_data":
            message = f"Prometheus rejected the query (bad_data): {text}"
        elif error_type == "execution":
            message = f"the query failed to run (execution): {text}"
        elif error_type == "timeout":
            message = f"Prometheus gave up on the query (timeout): {text}"
        else:
            code = f" {status}" if status is not None else ""
            message = f"Prometheus failed{code} ({error_type}): {text}"
        raise _error(message, status=status, transient=error_type in TRANSIENT_ERROR_TYPES)
    data = body.get("data") or {}
    if not isinstance(data, Mapping):
        raise _error(f"Prometheus answered without a data object for {expr}")
    kind = data.get("resultType")
    result = data.get("result")
    if kind in ("scalar", "string"):
        return (Series((), (_sample(result, expr),)),)
    if kind not in ("vector", "matrix") or not isinstance(result, list):
        raise _error(
            f"Prometheus returned an unexpected result type {shown(repr(kind), 40)} for {expr}"
        )
    series = []
    for item in result:
        if not isinstance(item, Mapping):
            raise _error(f"Prometheus returned a series that is not an object for {expr}")
        if "histogram" in item or "histograms" in item:
            raise _error(
                f"the query returns a native histogram, not a number; wrap it in "
                f"histogram_quantile() or histogram_count(): {expr}"
            )
        pairs = [item.get("value")] if kind == "vector" else item.get("values") or []
        if not isinstance(pairs, list):
            raise _error(f"Prometheus returned values that are not a list for {expr}")
        series.append(Series(_labels(item.get("metric")), tuple(_sample(p, expr) for p in pairs)))
    return tuple(series)


def _one(series: tuple[Series, ...], expr: str) -> Series | None:
    if len(series) > 1:
        shown = "; ".join(
            "{" + ", ".join(f'{k}="{v}"' for k, v in s.labels) + "}" for s in series[:3]
        )
        raise _error(
            f"the query must return one series, it returned {len(series)} ({shown}); "
            f"aggregate it, e.g. with sum(...): {expr}"
        )
    return series[0] if series else None


def instant_value(series: tuple[Series, ...], expr: str = "") -> float | None:
    """The single value of an instant query; None for no traffic (NaN or no series)."""
    one = _one(series, expr)
    if one is None or not one.samples:
        return None
    return one.samples[-1].value


def range_samples(series: tuple[Series, ...], expr: str = "") -> tuple[Sample, ...]:
    """The samples of a range query's single series (NaN points are ``value=None``)."""
    one = _one(series, expr)
    return one.samples if one is not None else ()
