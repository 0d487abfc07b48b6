"""Make a plan exact (:func:`enrich`) and send it once (:func:`execute`).

``enrich`` is two steps, so that the screen can offer an abort as soon as the cluster
answered: :func:`enrich_live` binds the plan to the configuration (GitLab project, kube
context, full URLs), reads the live workload to compute the exact request (an undo's
pod template comes from the live ReplicaSet) and notes what changed since the snapshot;
:func:`check_safety` runs the rollback safety check for every abort, undo and re-deploy:
GitLab compares the TARGET commit with the CURRENT one, the migration files it lists are
read and classified, and "rollback crosses N migrations (…)" lands in the warnings,
strong when one is destructive.

``execute`` is the only place a write leaves cockpit. In order: the in-flight guard (a
second execution of the same action on the same row while one runs is refused: a double
press never writes twice, nor do a person and the health guard aborting at once), the
audit log's write lock (two cockpits sharing the log write one after the other, so the
second's re-check sees the first's write),
read-only (refused here, whatever the UI showed), the live re-check (the workload is read
again; if what the action depends on moved — no longer paused, another step, aborted
meanwhile, another revision — nothing is sent and the message says what changed; an
abort of a rollout someone else aborted is satisfied, not failed), the ``pending`` audit
record (written and fsynced before the first request leaves; when it cannot be written,
nothing is sent), the writes (the plugin's 404 fallback for the status subresource), one
refresh of the row, and the outcome's audit record. A write the system refused is
``failed`` (nothing changed); one it did not answer clearly (5xx, timeout, dropped
connection) is ``error``: it may or may not have applied, and is never retried blindly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from cockpit.actions.audit import PENDING, PERSON, AuditRecord, new_id, now_text
from cockpit.actions.context import ActionContext
from cockpit.actions.explain import explain
from cockpit.actions.facts import WorkloadFacts, what_changed
from cockpit.actions.plans import ActionPlan, ActionResult
from cockpit.actions.requests import (
    KubeTarget,
    Refusal,
    Write,
    abort_writes,
    deployment_undo,
    flag_write,
    job_write,
    promote_full_writes,
    promote_writes,
    request_line,
    retry_writes,
    rollout_undo,
    selector_labels,
)
from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.errors import UsageError
from cockpit.model import SourceName
from cockpit.sources.errors import SourceError
from cockpit.sources.rollouts_parse import parse_deployment_workload, parse_rollout

#: Operations that write to the workload in Kubernetes.
KUBE_OPERATIONS = frozenset({"promote", "switch", "promote-full", "abort", "retry", "undo"})
#: Operations that take a service back to older code (the migration check runs for these).
ROLLBACKS = frozenset({"abort", "undo", "redeploy"})


# --------------------------------------------------------------------------- binding


def _workload(plan: ActionPlan, env: EnvironmentConfig) -> KubeTarget:
    assert plan.workload is not None
    return replace(plan.workload, context=env.kube_context)


def _gitlab_writes(plan: ActionPlan, project: str) -> tuple[Write, ...]:
    """The GitLab write of a plan, rebuilt for the configured project."""
    operation = plan.operation
    if operation == "flag-toggle" and plan.flag is not None and plan.flag_active is not None:
        return (flag_write(project, plan.flag, plan.flag_active),)
    if plan.job_id is None:
        return ()
    action = {
        "play-gate": "play",
        "job-play": "play",
        "redeploy": "retry",
        "job-retry": "retry",
        "job-cancel": "cancel",
    }.get(operation)
    return (job_write(project, plan.job_id, action),) if action else ()  # type: ignore[arg-type]


def _lines(ctx: ActionContext, writes: tuple[Write, ...]) -> tuple[str, ...]:
    lines = []
    for write in writes:
        source = write.request.source.value
        context = write.kube.context if write.kube is not None else None
        lines.append(request_line(write.request, ctx.base_url(source, context)))
    return tuple(lines)


async def _live_writes(
    plan: ActionPlan, ctx: ActionContext, env: EnvironmentConfig
) -> tuple[tuple[Write, ...], int | None]:
    """Read the workload now and compute the writes from it (Refusal when it moved).

    Returns the writes and, for an undo, the revision they go back to.
    """
    if ctx.kube is None:
        raise Refusal("Kubernetes is not configured: cockpit cannot write to the cluster")
    target = _workload(plan, env)
    obj = await ctx.kube.get(target.context, target.namespace, target.kind, target.name)
    obj.setdefault("kind", target.kind)
    replicasets: list[Mapping[str, Any]] = []
    if plan.operation == "undo":
        replicasets = await ctx.kube.list_replicasets(
            target.context, target.namespace, selector_labels(obj)
        )
    fresh = (
        parse_rollout(obj, replicasets)
        if target.kind == "Rollout"
        else parse_deployment_workload(obj, replicasets)
    )
    if plan.operation == "abort" and fresh.aborted:
        raise Refusal(
            f"{plan.key} is already aborted: all traffic is on the stable version",
            satisfied=True,
        )
    if plan.facts is not None:
        change = what_changed(plan.operation, plan.facts, WorkloadFacts.of(fresh))
        if change is not None:
            raise Refusal(f"{plan.key} changed since this was planned: {change}")
    operation = plan.operation
    if operation in ("promote", "switch"):
        writes = promote_writes(target, obj)
    elif operation == "promote-full":
        writes = promote_full_writes(target, obj)
    elif operation == "abort":
        if not WorkloadFacts.of(fresh).in_flight:
            raise Refusal(f"nothing is rolling out on {plan.key} any more")
        writes = abort_writes(target)
    elif operation == "retry":
        if not fresh.aborted:
            raise Refusal(f"{plan.key} is not aborted any more")
        writes = retry_writes(target)
    else:
        undo = (
            rollout_undo(target, obj, replicasets, plan.to_revision)
            if target.kind == "Rollout"
            else deployment_undo(target, obj, replicasets, plan.to_revision)
        )
        if plan.undo_revision is not None and undo.revision != plan.undo_revision:
            raise Refusal(
                f"{plan.key} changed since this was planned: the previous revision is "
                f"{undo.revision} now, not {plan.undo_revision}"
            )
        return (undo.write,), undo.revision
    if not writes:
        raise Refusal(
            f"there is nothing to {operation} on {plan.key} now: the plugin sends nothing"
        )
    return writes, None


async def enrich(plan: ActionPlan, ctx: ActionContext) -> ActionPlan:
    """The plan made exact from the live systems: :func:`enrich_live`, then
    :func:`check_safety` (see the module docstring).

    Never raises for a system that does not answer: what could not be checked is said
    in the warnings.
    """
    return await check_safety(await enrich_live(plan, ctx), ctx)


async def enrich_live(plan: ActionPlan, ctx: ActionContext) -> ActionPlan:
    """The plan bound to the configuration and checked against the live workload (one read
    of the cluster, none of GitLab); ``safety_pending`` when :func:`check_safety` is still
    to run. Also the re-check the confirm dialog makes just before it accepts ``y``."""
    service, env = ctx.row(plan.key)
    warnings = [w for w in plan.warnings if not w.startswith(_LIVE_CHECK)]
    updates: dict[str, Any] = {"stale": None}
    project = plan.project or service.gitlab_project
    if plan.operation in KUBE_OPERATIONS and plan.workload is not None:
        updates["workload"] = _workload(plan, env)
        try:
            writes, revision = await _live_writes(plan, ctx, env)
        except Refusal as refusal:
            warnings.append(f"{_LIVE_CHECK}: {refusal.message}; confirming now sends nothing")
            updates["stale"] = refusal.message
        except SourceError as error:
            warnings.append(f"{_LIVE_CHECK} failed: {error.message}")
        else:
            updates |= {"writes": writes, "request": _lines(ctx, writes)}
            if revision is not None:
                updates["undo_revision"] = revision
    elif plan.operation not in KUBE_OPERATIONS:
        writes = _gitlab_writes(plan, project)
        updates |= {"project": project, "writes": writes, "request": _lines(ctx, writes)}
    pending = plan.operation in ROLLBACKS and not plan.exact and _crosses_commits(plan)
    return replace(
        plan,
        warnings=tuple(warnings),
        exact=True,
        safety_pending=pending or plan.safety_pending,
        **updates,
    )


def _crosses_commits(plan: ActionPlan) -> bool:
    """Whether the rollback goes from one known commit to another (else nothing to check)."""
    return None not in (plan.current_sha, plan.target_sha) and plan.current_sha != plan.target_sha


async def check_safety(plan: ActionPlan, ctx: ActionContext) -> ActionPlan:
    """The rollback safety check's warnings added to the plan (a no-op for other plans)."""
    if not plan.safety_pending:
        return plan
    service, _ = ctx.row(plan.key)
    project = plan.project or service.gitlab_project
    found, strong = await _migration_warnings(plan, ctx, service, project)
    return replace(
        plan,
        warnings=(*plan.warnings, *found),
        severity="strong" if strong else plan.severity,
        safety_pending=False,
    )


#: How warnings of the live check begin (replaced, not added to, by each re-check).
_LIVE_CHECK = "live check"


async def _migration_warnings(
    plan: ActionPlan, ctx: ActionContext, service: ServiceConfig, project: str
) -> tuple[list[str], bool]:
    """The rollback safety check: migrations between the target and the current commit."""
    if plan.current_sha is None or plan.target_sha is None or plan.current_sha == plan.target_sha:
        return [], False
    if ctx.gitlab is None:
        return ["rollback safety not checked: GitLab is not configured"], False
    try:
        from cockpit.insights.rollback_safety import check, files_to_read
    except ImportError:  # the insights package is not installed with this build
        return ["rollback safety not checked: cockpit.insights is missing"], False
    try:
        comparison = await ctx.gitlab.compare(project, plan.target_sha, plan.current_sha)
        paths = files_to_read(comparison, service.migration_paths)
        texts = await asyncio.gather(
            *(ctx.gitlab.file(project, path, plan.current_sha) for path in paths),
            return_exceptions=True,
        )
    except SourceError as error:
        return [f"rollback safety not checked: {error.message}"], False
    contents = {
        path: text if isinstance(text, str) else None
        for path, text in zip(paths, texts, strict=True)
    }
    safety = check(comparison, globs=service.migration_paths, contents=contents)
    if not safety.migrations and not safety.incomplete:
        return [], False
    return [safety.summary, *safety.lines], bool(safety.destructive)


# --------------------------------------------------------------------------- execute


_DONE = {
    "promote": "promote accepted: {key} moves on to its next step",
    "switch": "switch accepted: {key} now serves the preview",
    "promote-full": "full promotion accepted: {key} takes the new version for every user",
    "abort": "abort accepted: {key} sends all traffic back to the stable version",
    "retry": "retry accepted: {key} starts its rollout steps again",
    "undo": "undo accepted: {key} goes back to revision {revision}",
    "redeploy": "re-deploy accepted: GitLab runs job #{job} for {key}",
    "play-gate": "deploy job started: job #{job} ({status}) for {key}",
    "job-play": "job #{job} started ({status})",
    "job-retry": "job retried: new job #{job} ({status})",
    "job-cancel": "job #{job} canceled ({status})",
    "flag-toggle": "flag {flag} is {state} now",
}


async def execute(plan: ActionPlan, ctx: ActionContext, *, actor: str = PERSON) -> ActionResult:
    """Send the plan's writes once, audited (see the module docstring).

    ``actor`` is who decided: a person (the default) or ``cockpit health guard``.
    """
    # Keyed by what is done, not by the key pressed: a person's r and the health guard's
    # abort are the same write.
    doing = plan.operation or plan.intent
    if not ctx.claim(plan.key, doing):
        return await _Record(plan, ctx, actor).finish(
            "refused", f"{plan.title}: already being sent; this press sent nothing"
        )
    try:
        async with contextlib.AsyncExitStack() as stack:
            try:
                await stack.enter_async_context(ctx.audit.exclusive())
            except OSError as error:  # another cockpit's write is stuck, or no log at all
                return await _Record(plan, ctx, actor).finish(
                    "refused",
                    f"the audit log's lock cannot be had ({error.strerror or error}): "
                    "nothing was sent; try again",
                )
            return await _execute(plan, ctx, actor)
    finally:
        ctx.release(plan.key, doing)


async def _execute(plan: ActionPlan, ctx: ActionContext, actor: str) -> ActionResult:
    ctx.look_up_gitlab_user()
    record = _Record(plan, ctx, actor)
    reason = ctx.read_only_reason(plan.key) or plan.read_only
    if reason:
        return await record.finish("refused", f"{plan.title} refused: {reason}")
    try:
        service, env = ctx.row(plan.key)
    except UsageError as error:
        return await record.finish("refused", f"{error}: nothing was sent")
    project = plan.project or service.gitlab_project
    revision = plan.undo_revision
    if plan.operation in KUBE_OPERATIONS:
        try:
            writes, live_revision = await _live_writes(plan, ctx, env)
        except Refusal as refusal:
            return await record.finish(
                "refused", f"{refusal.message}; nothing was sent", satisfied=refusal.satisfied
            )
        except SourceError as error:
            message = (
                f"{error.message}; cockpit could not re-read {plan.workload} before writing, "
                "so nothing was sent"
            )
            return await record.finish("failed", message)
        revision = live_revision or revision
    else:
        if ctx.gitlab is None:
            return await record.finish("refused", "GitLab is not configured: nothing was sent")
        writes = _gitlab_writes(plan, project)
    if not writes:
        return await record.finish("refused", f"{plan.title}: there is nothing to send")
    try:
        await record.pending(tuple(request_line(w.request) for w in writes))
    except OSError as error:
        message = (
            f"the audit log {ctx.audit.path} cannot be written ({error.strerror}): cockpit "
            "sends no write it cannot record; nothing was sent"
        )
        return await record.finish("refused", message)
    sent: list[str] = []
    answer: Any = None
    for write in writes:
        try:
            answer, line = await _send(write, ctx, plan, project)
        except SourceError as error:
            sent.append(request_line(write.request))
            message = explain(error, plan, write, project=project, sent_before=len(sent) - 1)
            ctx.refresh(plan.key)  # whatever reached the system, the row must show it
            result = "error" if _outcome_unknown(error) else "failed"
            return await record.finish(result, message, tuple(sent))
        sent.append(line)
    ctx.refresh(plan.key)
    return await record.finish("ok", _done(plan, answer, revision), tuple(sent))


def _outcome_unknown(error: SourceError) -> bool:
    """No clear answer (no status, 5xx, 408): the write may or may not have applied."""
    return error.status is None or error.status >= 500 or error.status == 408


async def _send(
    write: Write, ctx: ActionContext, plan: ActionPlan, project: str
) -> tuple[Any, str]:
    """One write; the answer and the line of what was sent (the fallback, if it was)."""
    request = write.request
    if request.source is SourceName.GITLAB:
        answer = await ctx.gitlab.send(request, project=project, action=_verb(plan))  # type: ignore[union-attr]
        return answer, request_line(request)
    target = write.kube
    assert target is not None and ctx.kube is not None
    try:
        answer = await ctx.kube.patch(
            target.context,
            target.namespace,
            target.kind,
            target.name,
            request.body,
            patch_type=write.patch_type or "merge",
            subresource=write.subresource,
        )
        return answer, request_line(request)
    except SourceError as error:
        if error.status != 404 or write.fallback is None:
            raise
    # The controller serves no status subresource (Argo Rollouts v0.9): the plugin then
    # sends the unified patch to the main resource.
    fallback = write.fallback
    answer = await ctx.kube.patch(
        target.context,
        target.namespace,
        target.kind,
        target.name,
        fallback.body,
        patch_type="merge",
    )
    return answer, request_line(fallback)


def _verb(plan: ActionPlan) -> str:
    """The action in a GitLab error message: "playing job 42", "turning off flag x"."""
    if plan.operation == "flag-toggle":
        return f"turning {'on' if plan.flag_active else 'off'} flag {plan.flag}"
    verbs = {"play": "playing", "retry": "retrying", "cancel": "canceling"}
    action = {"play-gate": "play", "redeploy": "retry"}.get(plan.operation) or plan.operation[4:]
    return f"{verbs.get(action, action)} job {plan.job_id}"


def _done(plan: ActionPlan, answer: Any, revision: int | None) -> str:
    values: dict[str, Any] = {
        "key": plan.key,
        "revision": revision,
        "job": plan.job_id,
        "status": "pending",
        "flag": plan.flag,
        "state": "on" if plan.flag_active else "off",
    }
    if isinstance(answer, Mapping) and plan.operation not in KUBE_OPERATIONS:
        values["job"] = answer.get("id", plan.job_id)
        values["status"] = answer.get("status", "pending")
    template = _DONE.get(plan.operation, "{key}: done")
    return template.format(**values)


class _Record:
    """The audit records of one execution: ``pending`` before the first request leaves,
    then the outcome under the same id (or only the outcome, when nothing was sent)."""

    def __init__(self, plan: ActionPlan, ctx: ActionContext, actor: str) -> None:
        self.plan = plan
        self.ctx = ctx
        self.actor = actor
        self.id = new_id()
        self.requests: tuple[str, ...] = ()

    async def _make(self, result: str, error: str | None) -> AuditRecord:
        """The record; a pending one never waits for GitLab to name the user (the write
        must not wait on GitLab), its outcome waits a little (``GITLAB_USER_WAIT``)."""
        plan, ctx = self.plan, self.ctx
        user = ctx.gitlab_user_now() if result == PENDING else await ctx.gitlab_user()
        workload = plan.workload
        context = workload.context if workload is not None else None
        source = "kubernetes" if plan.operation in KUBE_OPERATIONS else "gitlab"
        return AuditRecord(
            time=now_text(ctx.wall_clock()),
            actor=self.actor,
            local_user=ctx.local_user,
            gitlab_user=user,
            action=plan.operation or str(plan.intent),
            service=plan.key.service,
            environment=plan.key.environment,
            target=plan.audit_target,
            result=result,
            error=error,
            requests=self.requests,
            id=self.id,
            intent=str(plan.intent),
            context=context if source == "kubernetes" else None,
            server=ctx.base_url(source, context),
        )

    async def pending(self, lines: tuple[str, ...]) -> None:
        """On record before anything leaves: OSError when the log cannot be written."""
        self.requests = tuple(line.split("  ", 1)[0] for line in lines)
        await self.ctx.audit.append(await self._make(PENDING, None))

    async def finish(
        self,
        result: str,
        message: str,
        sent: tuple[str, ...] = (),
        *,
        satisfied: bool = False,
    ) -> ActionResult:
        if sent:
            self.requests = tuple(line.split("  ", 1)[0] for line in sent)
        record = await self._make(result, None if result == "ok" else message)
        try:
            written = await self.ctx.audit.append(record)
        except OSError as error:
            message += (
                f" (and the audit log {self.ctx.audit.path} could not be written: {error.strerror})"
            )
            written = record
        return ActionResult(
            ok=result == "ok", message=message, audit=written, sent=sent, satisfied=satisfied
        )
