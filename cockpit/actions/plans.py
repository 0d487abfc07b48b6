"""What an action will do, and what it did: the values the UI and the command line show.

:class:`ActionPlan` is what the confirm dialog (or the command line's prompt) shows —
title, one-sentence summary, the exact target, what else changes, warnings, the exact
HTTP request(s) — plus what :func:`cockpit.actions.execute` needs to send it.
:class:`NoAction` (from :mod:`cockpit.intents`) says why a key does nothing in
this state. :class:`ActionResult` is the outcome, with the audit record written for it.
"""

from __future__ import annotations

from dataclasses import dataclass

from cockpit.actions.audit import AuditRecord
from cockpit.actions.facts import WorkloadFacts
from cockpit.actions.requests import KubeTarget, Write
from cockpit.intents import Intent, NoAction
from cockpit.model import EnvKey


@dataclass(frozen=True)
class ActionPlan:
    """One action, described exactly (see the module docstring)."""

    intent: Intent
    key: EnvKey
    #: "Abort canary checkout/production"
    title: str
    #: One sentence: what will happen.
    summary: str
    #: The exact target: revision, image, commit, who deployed it and when.
    target: tuple[str, ...]
    #: What else changes.
    changes: tuple[str, ...]
    #: e.g. the rollback crosses a destructive migration.
    warnings: tuple[str, ...]
    #: "normal" | "strong" (full promotion; crossing a contract migration; promoting a sick canary)
    severity: str
    production: bool
    #: The exact HTTP request(s), one printable line each (no token, ever).
    request: tuple[str, ...]
    #: What is done: promote, switch, promote-full, abort, retry, undo, redeploy, play-gate,
    #: job-play, job-retry, job-cancel or flag-toggle (``rollback`` is abort, undo or redeploy).
    operation: str = ""
    #: The writes, in order (empty for an undo until the live ReplicaSets are read).
    writes: tuple[Write, ...] = ()
    #: Why a write would be refused (read-only mode); ``execute`` refuses and audits it.
    read_only: str | None = None
    #: The workload written to (Kubernetes actions) and its facts as seen when planning.
    workload: KubeTarget | None = None
    facts: WorkloadFacts | None = None
    #: Undo: the revision the dialog names.
    undo_revision: int | None = None
    #: Undo to this revision, named by the person (0: the previous one, as kubectl's
    #: ``--to-revision`` default).
    to_revision: int = 0
    #: GitLab project path (None until bound to the configuration).
    project: str | None = None
    #: Job or flag the action is about.
    job_id: int | None = None
    flag: str | None = None
    #: Flag toggles: the value the flag is set to.
    flag_active: bool | None = None
    #: Rollbacks: the commit going away and the one coming back (for the migration check).
    current_sha: str | None = None
    target_sha: str | None = None
    #: One line for the audit log: what exactly was targeted.
    audit_target: str = ""
    #: True once :func:`cockpit.actions.enrich` read the live objects: ``request`` is exact.
    exact: bool = False
    #: The live check found the workload moved: why confirming now would send nothing.
    stale: str | None = None
    #: The rollback safety check (GitLab: the migrations crossed) is still to run.
    safety_pending: bool = False

    @property
    def safety_decides(self) -> bool:
        """Whether the rollback safety check can change the decision, so confirming waits
        for it: an undo or a re-deploy goes back to older code for good; an abort only sends
        traffic back to the stable version that already runs, so it never waits."""
        return self.operation in ("undo", "redeploy")


@dataclass(frozen=True)
class ActionResult:
    """What happened: ok (accepted), or why not, and the audit record written for it."""

    ok: bool
    message: str
    audit: AuditRecord
    #: The requests actually sent (empty when nothing left cockpit).
    sent: tuple[str, ...] = ()
    #: Nothing was sent because what was asked is already so (someone else did it).
    satisfied: bool = False

    @property
    def result(self) -> str:
        """One of :data:`cockpit.actions.audit.RESULTS`, as audited."""
        return self.audit.result


__all__ = ["ActionPlan", "ActionResult", "NoAction"]
