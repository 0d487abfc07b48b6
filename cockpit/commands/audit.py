"""``cockpit audit [--json]``: the audit log, as a table or one JSON object per line.

Reads the configuration's ``audit_log`` when a configuration is found (``--config``,
``$COCKPIT_CONFIG``, …; the simulator's keeps its own log), else
``$XDG_STATE_HOME/cockpit/audit.jsonl``. One line per write: a write whose outcome was
never recorded (the process was killed while it was in flight) shows as "sent, outcome
unknown". A line that is not a record is reported on stderr and skipped; the others are
printed. Exit 0 (also when the log is empty).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

COLUMNS = ("TIME", "RESULT", "ACTION", "ROW", "WHO", "TARGET / ERROR")


def audit_path(config_path: str | None) -> Path:
    """The log to read: the configuration's ``audit_log``, or the XDG default."""
    from cockpit.config import find, load
    from cockpit.errors import ConfigError
    from cockpit.locations import audit_log_path

    try:
        find(config_path)
    except ConfigError:
        if config_path is not None:
            raise
        return audit_log_path()
    return load(config_path).audit_log or audit_log_path()


def run(args: argparse.Namespace) -> int:
    from cockpit.actions.audit import read_audit

    path = audit_path(getattr(args, "config", None))
    reading = read_audit(path)
    for problem in reading.problems:
        print(f"cockpit: {problem}", file=sys.stderr)
    if args.json:
        for record in reading.records:
            print(record.to_json())
        return 0
    if not reading.records:
        print(f"no audit records yet ({path})", file=sys.stderr)
        return 0
    print_table(reading.records, sys.stdout)
    return 0


def who(record: Any) -> str:
    """``oncall (alice)``: the GitLab user and the local user; the guard names itself."""
    person = record.gitlab_user or "?"
    if record.local_user and record.local_user != record.gitlab_user:
        person += f" ({record.local_user})"
    return person if record.actor == "person" else f"{record.actor} for {person}"


def rows(records: Sequence[Any]) -> list[tuple[str, ...]]:
    return [
        (
            record.time.replace("T", " ")[:19],
            record.outcome,
            record.action,
            f"{record.service}/{record.environment}",
            who(record),
            record.target if record.result == "ok" else f"{record.target}: {record.error}",
        )
        for record in records
    ]


def print_table(records: Sequence[Any], out: TextIO) -> None:
    table = [COLUMNS, *rows(records)]
    widths = [max(len(row[i]) for row in table) for i in range(len(COLUMNS) - 1)]
    for row in table:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
