"""The audit log: one JSON line per write cockpit attempted, append-only, never a token.

``$XDG_STATE_HOME/cockpit/audit.jsonl`` (:func:`cockpit.locations.audit_log_path`), or the
configuration's ``audit_log`` (the simulator's configuration keeps its own). Each record
says when, who (the local user, the GitLab user the token belongs to, and the actor: a
person, or ``cockpit health guard``), what (intent and action, service, environment,
exact target, the requests, and the cluster context and server they went to) and how it
ended (``RESULTS``, with the error in words).

A write is on record before it leaves: a ``pending`` record (same ``id``) is written and
fsynced before the first request is sent, and its outcome after the answer. A process
killed in between leaves the ``pending`` record, which reads back as "sent, outcome
unknown" — never nothing. The file is created with mode 0600 (its directory 0700); each
record is one ``write`` to a file opened for appending, then fsynced, so a crash never
leaves half a line and a record written is a record kept. Known secrets are masked in
every field before it is written.

:func:`read_audit` reads it back, one record per write (the outcome replaces its pending
record), reporting (not failing on) lines that are not records.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import fcntl
import json
import os
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cockpit.sources.errors import scrub

#: The actor of writes a person confirmed.
PERSON = "person"
#: The actor of the health guard's automatic aborts.
HEALTH_GUARD = "cockpit health guard"

#: How a write ended: ``pending`` (sent, no outcome recorded yet), ``ok`` (accepted),
#: ``failed`` (the system said no: nothing changed), ``error`` (no clear answer: it may or
#: may not have applied) or ``refused`` (cockpit sent nothing).
RESULTS = ("pending", "ok", "failed", "error", "refused")
PENDING = "pending"


#: How long a write waits for another cockpit's write on the same log, and how often
#: it looks.
LOCK_WAIT = 30.0
LOCK_POLL = 0.05


def new_id() -> str:
    """A record id: the pending record and the outcome of one write share it."""
    return uuid.uuid4().hex[:16]


@dataclass(frozen=True)
class AuditRecord:
    time: str
    actor: str
    local_user: str
    gitlab_user: str | None
    action: str
    service: str
    environment: str
    target: str
    result: str
    error: str | None = None
    #: ``METHOD path`` of each request sent (bodies are in the plan; never headers).
    requests: tuple[str, ...] = ()
    #: Shared by a write's ``pending`` record and its outcome.
    id: str = ""
    #: What the person asked for (``rollback``); ``action`` is what it meant (``abort``).
    intent: str = ""
    #: The kube context written to (Kubernetes writes).
    context: str | None = None
    #: The server the requests went to: the apiserver or GitLab's URL.
    server: str = ""

    @property
    def outcome(self) -> str:
        """The result in words for a person: a pending record is a write whose answer
        was never recorded."""
        if self.result == PENDING:
            return "sent, outcome unknown"
        return self.result

    def to_json(self) -> str:
        data = asdict(self)
        data["requests"] = list(self.requests)
        return json.dumps(data, ensure_ascii=False, sort_keys=False)

    @classmethod
    def from_json(cls, line: str) -> AuditRecord:
        """Parse one line; ValueError (with the reason) when it is not a record."""
        try:
            data = json.loads(line)
        except json.JSONDecodeError as error:
            raise ValueError(f"not JSON ({error.msg} at column {error.colno})") from None
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        names = {f.name for f in fields(cls)}
        missing = [
            n for n in ("time", "action", "service", "environment", "result") if n not in data
        ]
        if missing:
            raise ValueError(f"missing {', '.join(missing)}")
        values: dict[str, Any] = {k: v for k, v in data.items() if k in names}
        values.setdefault("actor", PERSON)
        values.setdefault("local_user", "")
        values.setdefault("gitlab_user", None)
        values.setdefault("target", "")
        for name in ("id", "intent", "server"):
            values[name] = str(values.get(name) or "")
        values["requests"] = tuple(str(r) for r in values.get("requests") or ())
        return cls(**values)


def now_text(moment: datetime | None = None) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-11-26T03:04:05.123Z``."""
    moment = (moment or datetime.now(UTC)).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


class AuditLog:
    """Appends records to one JSONL file (see the module docstring)."""

    def __init__(self, path: Path, *, secrets: Iterable[str] = ()) -> None:
        self.path = path
        self._secrets = tuple(s for s in secrets if s)

    def _clean(self, record: AuditRecord) -> AuditRecord:
        def mask(value: Any) -> Any:
            if isinstance(value, str):
                return scrub(value, self._secrets)
            if isinstance(value, tuple):
                return tuple(mask(v) for v in value)
            return value

        return AuditRecord(**{f.name: mask(getattr(record, f.name)) for f in fields(record)})

    def append_now(self, record: AuditRecord) -> AuditRecord:
        """Write one record and fsync it (blocking: call it from a thread)."""
        record = self._clean(record)
        line = (record.to_json() + "\n").encode("utf-8")
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            written = 0
            while written < len(line):
                written += os.write(descriptor, line[written:])
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        return record

    async def append(self, record: AuditRecord) -> AuditRecord:
        """Write one record without blocking the event loop; the record as written."""
        return await asyncio.to_thread(self.append_now, record)

    @contextlib.asynccontextmanager
    async def exclusive(self, wait: float = LOCK_WAIT) -> AsyncIterator[None]:
        """Hold the log's write lock (an ``flock`` on ``<log>.lock``) for one write, from
        its live re-check to its outcome: two cockpits sharing this log (two terminals of
        one person on a bastion) then never both send what one intention asked for — the
        second re-checks after the first's write landed. OSError when it cannot be had
        within ``wait`` seconds (another cockpit's write is stuck)."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            deadline = time.monotonic() + wait
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        raise OSError(
                            errno.EWOULDBLOCK, f"another cockpit holds {lock} for a write"
                        ) from None
                    await asyncio.sleep(LOCK_POLL)
            try:
                yield
            finally:
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class AuditReading:
    records: tuple[AuditRecord, ...]
    #: ``line N: why`` for every line that is not a record (skipped).
    problems: tuple[str, ...]


def read_audit(path: Path) -> AuditReading:
    """Every write of the log, oldest first, each once: an outcome takes its pending
    record's place. Unreadable lines are reported and skipped."""
    if not path.exists():
        return AuditReading((), ())
    records: list[AuditRecord] = []
    place: dict[str, int] = {}
    problems: list[str] = []
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            text = raw.decode("utf-8", errors="replace").strip()
            if not text:
                continue
            try:
                record = AuditRecord.from_json(text)
            except (ValueError, TypeError) as error:
                problems.append(f"{path}: line {number}: {error}; skipped")
                continue
            if record.id and record.id in place:
                records[place[record.id]] = record
                continue
            if record.id:
                place[record.id] = len(records)
            records.append(record)
    return AuditReading(tuple(records), tuple(problems))
