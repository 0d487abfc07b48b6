"""``cockpit status``: every service × environment once, as a table or JSON, for scripts and CI.

It runs the same engine as the screen until every row has heard from each of its
sources once (or a deadline passes), prints, and exits 0 when every row is healthy, 1
when any row needs attention (bad health, failed pipeline, aborted or degraded rollout,
a source that cannot be read), 2 on a usage or configuration error.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from cockpit.errors import UsageError
from cockpit.model import EnvKey, HealthStatus, LinkState, ServiceState, SourceName
from cockpit.triage import WAITING_FOR_HUMAN, attention, sort_key, urgency

#: How long ``cockpit status`` waits for every source to answer once.
READY_TIMEOUT = 20.0


# --------------------------------------------------------------------------- pure parts


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _age(moment: datetime | None, now: datetime) -> float | None:
    return round(max(0.0, (now - moment).total_seconds()), 1) if moment else None


def row_json(
    state: ServiceState, now: datetime, last_success: Mapping[SourceName, datetime | None]
) -> dict[str, Any]:
    """One row as the JSON document ``cockpit status --json`` prints."""
    pipeline = state.pipeline
    rollout = state.rollout
    health = state.health
    deployment = state.last_deployment
    return {
        "service": state.service,
        "environment": state.environment,
        "attention": list(attention(state)),
        "failing": failing(state),
        "pipeline": None
        if pipeline is None
        else {
            "id": pipeline.id,
            "status": pipeline.status,
            "ref": pipeline.ref,
            "sha": pipeline.sha,
            "web_url": pipeline.web_url,
            "stages": [
                {
                    "name": stage.name,
                    "status": stage.status,
                    "jobs": [
                        {
                            "id": job.id,
                            "name": job.name,
                            "status": job.status,
                            "allow_failure": job.allow_failure,
                            "duration": job.duration,
                        }
                        for job in stage.jobs
                    ],
                }
                for stage in pipeline.stages
            ],
        },
        "manual_gate": None
        if state.manual_gate is None
        else {"job_id": state.manual_gate.id, "name": state.manual_gate.name},
        "rollout": None
        if rollout is None
        else {
            "kind": rollout.kind,
            "name": rollout.name,
            "namespace": rollout.namespace,
            "strategy": str(rollout.strategy),
            "phase": rollout.phase,
            "message": rollout.message,
            "step": rollout.step_index,
            "steps": rollout.step_count,
            "canary_weight": rollout.actual_weight,
            "set_weight": rollout.set_weight,
            "paused": rollout.paused,
            "aborted": rollout.aborted,
            "revision": rollout.revision,
            "images": list(rollout.images),
        },
        "health": None
        if health is None
        else {
            "success_rate": health.success_rate,
            "threshold": health.threshold,
            "status": str(health.status),
            "latency_p99_seconds": health.latency_p99,
        },
        "last_deployment": None
        if deployment is None
        else {
            "sha": deployment.sha,
            "status": deployment.status,
            "user": deployment.user,
            "finished_at": _time(deployment.finished_at),
            "created_at": _time(deployment.created_at),
        },
        "sources": {
            str(status.source): {
                "state": str(status.state),
                "age_seconds": _age(last_success.get(status.source), now),
                "error": status.last_error,
            }
            for status in state.sources
        },
    }


def _percent(value: float | None) -> str:
    if value is None:
        return "no traffic"
    return f"{value * 100:.2f}%"


def row_cells(state: ServiceState) -> list[str]:
    """The table cells of one row (words, no colour: scripts and pipes read this)."""
    pipeline = state.pipeline
    rollout = state.rollout
    health = state.health
    version = "-"
    if rollout is not None and rollout.images:
        version = rollout.images[0].rpartition(":")[2] or "-"
    elif state.last_deployment is not None:
        version = state.last_deployment.sha[:8]
    pipeline_cell = "-" if pipeline is None else pipeline.status
    if state.manual_gate is not None:
        pipeline_cell += f" (gate: {state.manual_gate.name})"
    if rollout is None:
        rollout_cell = "-"
    else:
        parts = [str(rollout.strategy)]
        if rollout.steps:
            parts.append(f"step {rollout.step_index or 0}/{rollout.step_count}")
        if rollout.strategy.value == "canary":
            parts.append(f"{rollout.actual_weight}%")
        if rollout.aborted:
            parts.append("aborted")
        elif rollout.paused:
            parts.append("paused")
        parts.append(rollout.phase)
        rollout_cell = " ".join(parts)
    if health is None:
        health_cell = "-"
    elif health.status is HealthStatus.UNKNOWN:
        health_cell = "unknown"
    else:
        health_cell = f"{_percent(health.success_rate)} ({health.status})"
    sources = ",".join(
        f"{s.source}:{s.state}" for s in state.sources if s.state is not LinkState.OK
    )
    return [
        state.service,
        state.environment,
        version,
        pipeline_cell,
        rollout_cell,
        health_cell,
        sources or "ok",
    ]


HEADERS = ["SERVICE", "ENV", "VERSION", "PIPELINE", "ROLLOUT", "HEALTH", "SOURCES"]


def format_table(states: Iterable[ServiceState]) -> str:
    rows = [HEADERS] + [row_cells(state) for state in states]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def source_problems(states: Iterable[ServiceState]) -> list[str]:
    """Under the table: each source that could not be read, on how many rows, and why
    (the first error in words; ``--json`` has each row's own)."""
    rows = list(states)
    lines: list[str] = []
    for source in SourceName:
        bad = [
            status
            for state in rows
            for status in state.sources
            if status.source is source and status.state is not LinkState.OK
        ]
        if not bad:
            continue
        errors = list(dict.fromkeys(status.last_error or "no answer yet" for status in bad))
        worst = "down" if any(status.state is LinkState.DOWN for status in bad) else "degraded"
        line = f"{source} {worst} on {len(bad)} of {len(rows)} rows: {errors[0]}"
        if len(errors) > 1:
            line += f" (+{len(errors) - 1} other errors; --json shows each row's)"
        lines.append(line)
    return lines


def failing(state: ServiceState) -> bool:
    """Degraded or failing: bad health, an aborted or degraded rollout, a failed pipeline,
    or a source that cannot be read (then nobody knows). A gate waiting for a person is
    not a failure."""
    if urgency(state) < WAITING_FOR_HUMAN:
        return True
    return any(status.state is not LinkState.OK for status in state.sources)


# --------------------------------------------------------------------------- the command


async def collect(
    config: Any, *, environment: str | None
) -> tuple[list[ServiceState], dict, datetime]:
    from cockpit.engine import Engine

    engine = Engine(config)
    await engine.start()
    try:
        await engine.wait_ready(READY_TIMEOUT)
        now = engine.now()
        keys: list[EnvKey] = [
            key for key in engine.states if environment is None or key.environment == environment
        ]
        states = sorted((engine.states[key] for key in keys), key=sort_key)
        freshness = {
            key: {source: engine.last_success(key, source) for source in SourceName} for key in keys
        }
        return states, freshness, now
    finally:
        await engine.stop()


def run(args: argparse.Namespace) -> int:
    from cockpit.config import load, print_warnings

    config = load(args.config)
    print_warnings(config)
    environments = {env.name for _, env in config.environments()}
    if args.env is not None and args.env not in environments:
        raise UsageError(
            f"no environment named {args.env!r} in {config.path}; choose one of: "
            f"{', '.join(sorted(environments))}"
        )
    states, freshness, now = asyncio.run(collect(config, environment=args.env))
    if args.json:
        document = [row_json(state, now, freshness[state.key]) for state in states]
        json.dump(document, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_table(states))
        problems = source_problems(states)
        if problems:
            print()
            print("\n".join(problems))
    return 1 if any(failing(state) for state in states) else 0
