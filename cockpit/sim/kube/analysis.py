"""The AnalysisRun controller: measurements on schedule, evaluated with Argo's rules.

A run made from the ``success-rate`` template measures every ``interval`` from its
``startedAt`` (``count`` times). Measurements are taken at their scheduled instants
and evaluated against the metrics as they were at that instant, so the outcome does
not depend on how often the world is stepped (a world stepped once an hour takes the
same sixty measurements as one stepped five times a second).

Evaluation follows argo-rollouts ``analysis/analysis.go`` and ``utils/evaluate``:
measurement phase from the success/failure conditions, metric phase from
``failureLimit`` / ``inconclusiveLimit`` / ``consecutiveErrorLimit`` and ``count``, run
phase = the worst metric phase. Values are stored as the Prometheus provider stores
them: ``"[0.9993]"`` for a vector.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from cockpit.sim.clock import rfc3339
from cockpit.sim.kube import objects
from cockpit.sim.kube.expr import ExprError, evaluate
from cockpit.sim.kube.objects import Obj, duration_seconds, parse_time
from cockpit.sim.kube.store import ANALYSIS_RUN, ObjectStore

#: A provider query at an instant → (the value as stored, the ``result`` conditions see).
Measure = Callable[[str, datetime], tuple[str, Any]]

COMPLETED = ("Successful", "Failed", "Error", "Inconclusive")
#: Worst last: the run's phase is the worst of its metrics'.
_SEVERITY = {
    "Successful": 0,
    "Running": 1,
    "Pending": 2,
    "Inconclusive": 3,
    "Error": 4,
    "Failed": 5,
}
#: Argo keeps the last ten measurements of each metric by default.
MEASUREMENT_RETENTION = 10
DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4

_ARG = re.compile(r"\{\{\s*args\.([A-Za-z0-9_.-]+)\s*\}\}")


class MeasurementError(RuntimeError):
    """The provider could not take the measurement (its message is recorded)."""


def resolve_args(text: str, args: list[Obj]) -> str:
    values = {arg["name"]: arg.get("value") for arg in args}

    def substitute(match: re.Match[str]) -> str:
        value = values.get(match.group(1))
        if value is None:
            raise MeasurementError(f"failed to resolve {{{{args.{match.group(1)}}}}}")
        return str(value)

    return _ARG.sub(substitute, text)


def new_run(
    name: str,
    owner: Obj,
    template: Obj,
    args: list[Obj],
    labels: dict[str, str],
    revision: str,
    created: datetime,
) -> Obj:
    """An AnalysisRun for a Rollout, made from an AnalysisTemplate (``spec.metrics`` layout)."""
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisRun",
        "metadata": {
            "name": name,
            "namespace": owner["metadata"]["namespace"],
            "labels": dict(labels),
            "annotations": {objects.ROLLOUT_REVISION: revision},
            "ownerReferences": [objects.owner_reference(owner)],
            "creationTimestamp": rfc3339(created),
        },
        "spec": {
            "args": copy.deepcopy(args),
            "metrics": copy.deepcopy(template["spec"]["metrics"]),
        },
        "status": {"phase": "Pending", "startedAt": rfc3339(created)},
    }


def measurement_phase(metric: Obj, result: Any) -> str:
    """``EvaluateResult``: Successful, Failed or Inconclusive (ExprError → Error)."""
    success_condition = metric.get("successCondition") or ""
    failure_condition = metric.get("failureCondition") or ""
    success = evaluate(success_condition, result) if success_condition else False
    failure = evaluate(failure_condition, result) if failure_condition else False
    if not success_condition and not failure_condition:
        return "Successful"
    if success_condition and not failure_condition:
        failure = not success
    elif failure_condition and not success_condition:
        success = not failure
    if failure:
        return "Failed"
    if not success:
        return "Inconclusive"
    return "Successful"


def _limit(metric: Obj, key: str, default: int) -> int:
    value = metric.get(key)
    return default if value is None else int(value)


def failure_verdict(metric: Obj, result: Obj) -> tuple[str | None, str]:
    """``assessMetricFailureInconclusiveOrError``: later checks override earlier ones."""
    phase, message = None, ""
    failure_limit = _limit(metric, "failureLimit", 0)
    if failure_limit >= 0 and result.get("failed", 0) > failure_limit:
        phase = "Failed"
        message = f"failed ({result.get('failed', 0)}) > failureLimit ({failure_limit})"
    inconclusive_limit = _limit(metric, "inconclusiveLimit", 0)
    if result.get("inconclusive", 0) > inconclusive_limit:
        phase = "Inconclusive"
        message = (
            f"inconclusive ({result.get('inconclusive', 0)}) > "
            f"inconclusiveLimit ({inconclusive_limit})"
        )
    error_limit = _limit(metric, "consecutiveErrorLimit", DEFAULT_CONSECUTIVE_ERROR_LIMIT)
    if result.get("consecutiveError", 0) > error_limit:
        phase = "Error"
        message = (
            f"consecutiveErrors ({result.get('consecutiveError', 0)}) > "
            f"consecutiveErrorLimit ({error_limit})"
        )
    return phase, message


def effective_count(metric: Obj) -> int | None:
    """How many measurements make the metric complete (None: until terminated)."""
    count = metric.get("count")
    if count is not None:
        return int(count)
    return 1 if metric.get("interval") is None else None


def metric_phase(metric: Obj, result: Obj, terminating: bool) -> str:
    """``assessMetricStatus``."""
    if result.get("phase") in COMPLETED:
        return str(result["phase"])
    measurements = result.get("measurements") or []
    if not measurements:
        return "Successful" if terminating else "Pending"
    verdict, _ = failure_verdict(metric, result)
    if verdict:
        return verdict
    success_limit = _limit(metric, "consecutiveSuccessLimit", 0)
    if success_limit > 0 and result.get("consecutiveSuccess", 0) >= success_limit:
        return "Successful"
    count = effective_count(metric)
    if count is not None and result.get("count", 0) >= count:
        if success_limit > 0:
            return "Inconclusive" if _limit(metric, "failureLimit", 0) >= 0 else "Failed"
        return "Successful"
    return "Successful" if terminating else "Running"


class AnalysisRuns:
    """Takes due measurements and writes each run's status."""

    def __init__(self, store: ObjectStore, measure: Measure) -> None:
        self.store = store
        self.measure = measure

    def sync(self, namespace: str, name: str, now: datetime) -> datetime | None:
        """Take the measurements due by ``now``; returns when the next one is due."""
        run = self.store.find(ANALYSIS_RUN, namespace, name)
        if run is None:
            return None
        status: Obj = copy.deepcopy(run.get("status") or {})
        if status.get("phase") in COMPLETED:
            return None
        spec = run.get("spec") or {}
        terminating = bool(spec.get("terminate"))
        started = parse_time(status.get("startedAt")) or objects.whole_seconds(now)
        status["startedAt"] = rfc3339(started)
        previous = {r["name"]: r for r in status.get("metricResults") or []}
        results: list[Obj] = []
        wake: datetime | None = None
        completed_at = started
        for metric in spec.get("metrics") or []:
            result = copy.deepcopy(previous.get(metric["name"], {"name": metric["name"]}))
            if result.get("phase") not in COMPLETED and not terminating:
                due, last = self._measure_due(run, metric, result, started, now)
                completed_at = max(completed_at, last)
                if due is not None:
                    wake = due if wake is None else min(wake, due)
            result["phase"] = metric_phase(metric, result, terminating)
            results.append(result)
        phase, message = self._run_phase(spec, results, terminating)
        status["metricResults"] = results
        status["phase"] = phase
        status["runSummary"] = _summary(spec, results)
        if message:
            status["message"] = message
        else:
            status.pop("message", None)
        if phase in COMPLETED:
            status["completedAt"] = rfc3339(now if terminating else completed_at)
            wake = None
        if status != run.get("status"):
            run["status"] = status
            self.store.replace(ANALYSIS_RUN, run, subresource="status")
        return wake

    def terminate(self, namespace: str, name: str) -> None:
        """``spec.terminate: true`` (what the rollout controller does to runs it no longer needs)."""
        run = self.store.find(ANALYSIS_RUN, namespace, name)
        if run is None or run["spec"].get("terminate"):
            return
        if (run.get("status") or {}).get("phase") in COMPLETED:
            return
        run["spec"]["terminate"] = True
        self.store.replace(ANALYSIS_RUN, run)

    # ------------------------------------------------------------------ internals

    def _measure_due(
        self, run: Obj, metric: Obj, result: Obj, started: datetime, now: datetime
    ) -> tuple[datetime | None, datetime]:
        """Take every measurement due by ``now``: (next due instant, last measured instant)."""
        interval = duration_seconds(metric.get("interval"))
        delay = duration_seconds(metric.get("initialDelay")) or 0.0
        count = effective_count(metric)
        last_taken = started
        while True:
            if metric_phase(metric, result, False) in COMPLETED:
                return None, last_taken
            if count is not None and result.get("count", 0) >= count:
                return None, last_taken
            measurements = result.get("measurements") or []
            if measurements:
                if interval is None:
                    return None, last_taken
                finished = parse_time(measurements[-1].get("finishedAt")) or started
                due = finished + timedelta(seconds=interval)
            else:
                due = started + timedelta(seconds=delay)
            if due > now:
                return due, last_taken
            self._take(run, metric, result, due)
            last_taken = due

    def _take(self, run: Obj, metric: Obj, result: Obj, at: datetime) -> None:
        stamp = rfc3339(at)
        measurement: Obj = {"phase": "Running", "startedAt": stamp}
        try:
            provider = metric.get("provider") or {}
            prometheus = provider.get("prometheus")
            if prometheus is None:
                raise MeasurementError(
                    f"the simulated cluster only runs Prometheus metrics; {metric['name']!r} "
                    f"uses {', '.join(provider) or 'no provider'}"
                )
            query = resolve_args(str(prometheus.get("query", "")), run["spec"].get("args") or [])
            value, data = self.measure(query, at)
            measurement["value"] = value
            phase = measurement_phase(metric, data)
        except (MeasurementError, ExprError, ValueError) as error:
            phase = "Error"
            measurement["message"] = str(error)
        measurement["phase"] = phase
        measurement["finishedAt"] = stamp
        result["count"] = result.get("count", 0) + 1
        counter = {
            "Successful": "successful",
            "Failed": "failed",
            "Inconclusive": "inconclusive",
            "Error": "error",
        }[phase]
        result[counter] = result.get(counter, 0) + 1
        if phase == "Error":
            result["consecutiveError"] = result.get("consecutiveError", 0) + 1
        else:
            result.pop("consecutiveError", None)
        if phase == "Successful":
            result["consecutiveSuccess"] = result.get("consecutiveSuccess", 0) + 1
        else:
            result.pop("consecutiveSuccess", None)
        measurements = [*(result.get("measurements") or []), measurement]
        result["measurements"] = measurements[-MEASUREMENT_RETENTION:]
        if "message" in measurement:
            result["message"] = measurement["message"]

    @staticmethod
    def _run_phase(spec: Obj, results: list[Obj], terminating: bool) -> tuple[str, str]:
        """``assessRunStatus``: the worst completed metric phase, or Running."""
        worst: str | None = None
        message = "Run Terminated" if spec.get("terminate") else ""
        everything_completed = True
        metrics = {m["name"]: m for m in spec.get("metrics") or []}
        for result in results:
            phase = result["phase"]
            if phase not in COMPLETED:
                everything_completed = False
                continue
            if worst is None or _SEVERITY[phase] > _SEVERITY[worst]:
                worst = phase
                _, reason = failure_verdict(metrics[result["name"]], result)
                if reason:
                    message = f'Metric "{result["name"]}" assessed {phase} due to {reason}'
        if terminating:
            return worst or "Successful", message
        if not everything_completed or worst is None:
            return "Running", ""
        return worst, message


def _summary(spec: Obj, results: list[Obj]) -> Obj:
    summary: Obj = {"count": len(spec.get("metrics") or [])}
    for result in results:
        key = {
            "Successful": "successful",
            "Failed": "failed",
            "Inconclusive": "inconclusive",
            "Error": "error",
        }.get(result["phase"])
        if key:
            summary[key] = summary.get(key, 0) + 1
    return summary
