"""Which action a key means in this state, described exactly: :func:`plan`. Pure.

The key table (what ``kubectl argo rollouts`` and GitLab's environment page offer):

* ``p`` (promote): a paused canary → promote one step (the plugin's rules a–d);
  blue-green with the preview ready → switch; a manual deploy job waiting → play it;
* ``P`` (promote-full): canary or blue-green in progress → full promotion (strong);
* ``r`` (rollback): a Rollout in flight → abort (traffic back to stable at once); a
  finished or aborted Rollout, or any Deployment → undo to the previous revision; no
  cluster link → re-deploy the previous successful GitLab deployment;
* ``a`` / ``R``: abort an in-flight Rollout / retry an aborted one;
* ``t`` / ``m`` / ``c``: retry, play, cancel a job; space in the flag list: toggle a flag.

A plan names its exact target (revision, image, commit, who deployed it and when, by
matching image tags to the GitLab deployment history), what else changes, warnings
known from the snapshot, and the exact request(s). Facts only the live objects hold
(an undo's pod template, the rollback's migrations) are added by
:func:`cockpit.actions.enrich`. In read-only mode the plan is still made, marked, so
that ``execute`` refuses it and audits the refusal.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Literal

from cockpit.actions.facts import WorkloadFacts
from cockpit.actions.plans import ActionPlan
from cockpit.actions.requests import (
    KubeTarget,
    Write,
    abort_writes,
    flag_write,
    job_write,
    promote_full_writes,
    promote_writes,
    redeploy_write,
    retry_writes,
)
from cockpit.actions.targets import (
    deployment_for_images,
    deployment_line,
    previous_revision,
    revision_by_hash,
    revision_lines,
    short_sha,
    when,
)
from cockpit.config import EnvironmentConfig, ServiceConfig
from cockpit.intents import Intent, NoAction
from cockpit.model import (
    Deployment,
    EnvKey,
    FeatureFlag,
    HealthStatus,
    Job,
    Revision,
    Rollout,
    ServiceState,
    SourceName,
    Strategy,
)
from cockpit.sources.kube import patch_request

_PRODUCTION = re.compile(r"(^|[-_/.])(prod|production|prd|live)($|[-_/.])")
#: Stands for the project in a GitLab path until the plan is bound to the configuration.
_NO_PROJECT = "\x00"


def is_production(name: str | None) -> bool:
    """GitLab's production tier guess from an environment name (prod, production, live…)."""
    return bool(name) and _PRODUCTION.search(name.lower()) is not None  # type: ignore[union-attr]


def plan(
    state: ServiceState,
    intent: Intent | str,
    *,
    read_only: bool,
    job: Job | None = None,
    flag: FeatureFlag | None = None,
    env: EnvironmentConfig | None = None,
    service: ServiceConfig | None = None,
    now: datetime | None = None,
    to_revision: int = 0,
) -> ActionPlan | NoAction:
    """The plan for ``intent`` on this row, or why the key does nothing here.

    ``env`` and ``service`` (the row's configuration) make the plan exact: the kube
    context and the GitLab project path. Without them the GitLab path shows ``:id``
    until ``enrich`` binds it. ``to_revision`` (rollback only) names the revision to undo
    to, as ``kubectl argo rollouts undo --to-revision`` does.
    """
    try:
        chosen = Intent(intent)
    except ValueError:
        return NoAction(f"unknown action {intent!r}; one of: {', '.join(Intent)}")
    if to_revision and chosen is not Intent.ROLLBACK:
        return NoAction(f"a revision can be named for a rollback only, not for {chosen}")
    row = _Row(state, env, service, now or datetime.now(UTC), to_revision)
    outcome = _BUILDERS[chosen](row, job, flag)
    if isinstance(outcome, NoAction) or not read_only:
        return outcome
    reason = f"read-only mode: cockpit will not write to {state.key}; nothing will be sent"
    return replace(outcome, read_only=reason, warnings=(reason, *outcome.warnings))


# --------------------------------------------------------------------------- the row


@dataclass(frozen=True)
class _Row:
    state: ServiceState
    env: EnvironmentConfig | None
    service: ServiceConfig | None
    now: datetime
    to_revision: int = 0

    @property
    def key(self) -> EnvKey:
        return self.state.key

    @property
    def project(self) -> str | None:
        return self.service.gitlab_project if self.service is not None else None

    @property
    def production(self) -> bool:
        names = [self.key.environment]
        if self.env is not None:
            names.append(self.env.gitlab_environment)
        return any(is_production(n) for n in names)

    def kube_target(self, rollout: Rollout) -> KubeTarget:
        kind: Literal["Rollout", "Deployment"] = (
            "Deployment" if rollout.kind == "Deployment" else "Rollout"
        )
        context = self.env.kube_context if self.env is not None else None
        return KubeTarget(context, rollout.namespace, kind, rollout.name)

    def gitlab(self, make: Callable[[str], Write]) -> tuple[tuple[Write, ...], tuple[str, ...]]:
        """The write and its line; without a project the line shows ``:id``, no write."""
        if self.project is not None:
            write = make(self.project)
            return (write,), (write.line(),)
        line = make(_NO_PROJECT).line().replace("/projects/%00/", "/projects/:id/")
        return (), (line,)

    def deployment_of(self, images: tuple[str, ...]) -> Deployment | None:
        return deployment_for_images(images, self.state.deployments)

    def revision_lines(self, label: str, revision: Revision | None) -> tuple[str, ...]:
        if revision is None:
            return (f"{label} revision unknown",)
        return revision_lines(label, revision, self.state.deployments, self.now)

    def health_verdict(self) -> tuple[str, ...]:
        """The latest health verdict, whatever it is: a retry or a full promotion gives users
        the new version again, so its dialog always says how that version last fared."""
        health = self.state.health
        if health is None or health.status is HealthStatus.UNKNOWN:
            return ("latest health: unknown (no success rate measured for this row)",)
        if health.status is HealthStatus.NO_TRAFFIC or health.success_rate is None:
            return ("latest health: no traffic, so no success rate to judge by",)
        if health.status is HealthStatus.BAD:
            return self.health_warnings()
        return (
            f"latest health: the success rate is {_percent(health.success_rate)}, at or above "
            f"the {_percent(health.threshold)} threshold",
        )

    def health_warnings(self) -> tuple[str, ...]:
        health = self.state.health
        if health is None or health.status is not HealthStatus.BAD or health.success_rate is None:
            return ()
        return (
            f"the success rate is {_percent(health.success_rate)}, under the "
            f"{_percent(health.threshold)} threshold",
        )


def _percent(value: float) -> str:
    text = f"{value * 100:.2f}".rstrip("0").rstrip(".")
    return f"{text} %"


def _lines(writes: tuple[Write, ...]) -> tuple[str, ...]:
    return tuple(w.line() for w in writes)


def _plan(row: _Row, intent: Intent | str, operation: str, **fields: Any) -> ActionPlan:
    defaults: dict[str, Any] = {
        "changes": (),
        "warnings": (),
        "severity": "normal",
        "production": row.production,
    }
    return ActionPlan(
        intent=Intent(intent), key=row.key, operation=operation, **(defaults | fields)
    )


# --------------------------------------------------------------------------- rollout helpers


def _model_object(rollout: Rollout) -> dict[str, Any]:
    """The fields of the Rollout object the plugin's rules read, rebuilt from the snapshot.

    ``spec.paused`` shows only as the "manually paused" phase message (or a pause without
    pause conditions); ``enrich`` and ``execute`` read the real object.
    """
    spec_paused = rollout.paused and (
        not rollout.pause_reasons or rollout.message == "manually paused"
    )
    strategy: dict[str, Any]
    if rollout.strategy is Strategy.BLUEGREEN:
        strategy = {"blueGreen": {}}
    else:
        strategy = {"canary": {"steps": [{} for _ in rollout.steps]}}
    status: dict[str, Any] = {
        "pauseConditions": [{"reason": r} for r in rollout.pause_reasons],
        "currentPodHash": rollout.current_hash,
        "stableRS": rollout.stable_hash,
    }
    if rollout.step_index is not None:
        status["currentStepIndex"] = rollout.step_index
    if "InconclusiveAnalysisRun" in rollout.pause_reasons:
        status["controllerPause"] = True
        step_runs = [a for a in rollout.analysis_runs if a.rollout_type == "Step"]
        if step_runs:
            status["canary"] = {"currentStepAnalysisRunStatus": {"status": step_runs[0].phase}}
    return {"spec": {"paused": spec_paused, "strategy": strategy}, "status": status}


def _step_text(rollout: Rollout, index: int | None) -> str:
    if index is None or not rollout.steps:
        return "no step"
    if index >= rollout.step_count:
        return f"step {index}/{rollout.step_count} (all steps done)"
    return f"step {index}/{rollout.step_count} ({rollout.steps[index].text})"


def _weight_after(rollout: Rollout, index: int) -> int | None:
    """The canary weight once step ``index`` is reached (100 past the last step)."""
    if index >= rollout.step_count:
        return 100
    for step in reversed(rollout.steps[: index + 1]):
        if step.weight is not None:
            return step.weight
    return None


def _canary_and_stable(rollout: Rollout) -> tuple[Revision | None, Revision | None]:
    return (
        revision_by_hash(rollout.revisions, rollout.current_hash),
        revision_by_hash(rollout.revisions, rollout.stable_hash),
    )


def _shas(row: _Row, going: Revision | None, coming: Revision | None) -> dict[str, str | None]:
    current = row.deployment_of(going.images) if going else None
    target = row.deployment_of(coming.images) if coming else None
    return {
        "current_sha": current.sha if current else None,
        "target_sha": target.sha if target else None,
    }


def _workload(row: _Row, rollout: Rollout) -> dict[str, Any]:
    return {"workload": row.kube_target(rollout), "facts": WorkloadFacts.of(rollout)}


# --------------------------------------------------------------------------- promote (p)


def _promote(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    rollout = row.state.rollout
    key = row.key
    if rollout is not None and rollout.kind == "Rollout":
        if rollout.aborted:
            return NoAction(
                f"{key} was aborted: promote does not apply; traffic is on the stable version "
                "already; retry the rollout (R on the screen) or promote it fully (P, or "
                "cockpit promote --full)"
            )
        if rollout.preview_ready:
            return _switch(row, rollout)
        if rollout.paused:
            return _promote_step(row, rollout)
        if rollout.in_progress:
            return NoAction(
                f"the {rollout.strategy.value} of {key} is not paused "
                f"(at {_step_text(rollout, rollout.step_index)}): promote applies to a paused "
                "step; a full promotion (P, or cockpit promote --full) skips the rest"
            )
    gate = row.state.manual_gate
    if gate is not None and gate.playable:
        return _play_gate(row, gate)
    if rollout is not None and rollout.kind == "Deployment" and rollout.paused:
        return NoAction(
            f"Deployment {rollout.name} is paused: cockpit does not resume Deployments "
            f"(kubectl rollout resume deployment/{rollout.name})"
        )
    return NoAction(f"nothing is paused on {key}: promote does not apply")


def _promote_step(row: _Row, rollout: Rollout) -> ActionPlan | NoAction:
    target = row.kube_target(rollout)
    writes = promote_writes(target, _model_object(rollout))
    if not writes:
        return NoAction(f"nothing to promote on {row.key}: the plugin would send nothing")
    canary, stable = _canary_and_stable(rollout)
    index = rollout.step_index
    changes: list[str] = []
    if rollout.strategy is Strategy.CANARY and index is not None:
        following = min(index + 1, rollout.step_count)
        weight = _weight_after(rollout, following)
        summary = (
            f"Ends the pause at {_step_text(rollout, index)}; the canary moves on to "
            f"{_step_text(rollout, following)}"
            + (f" and gets {weight} % of traffic." if weight is not None else ".")
        )
        if weight is not None and weight != rollout.set_weight:
            changes.append(
                f"the new version's share of traffic goes from {rollout.set_weight} % to {weight} %"
            )
        remaining = [s.text for s in rollout.steps[following + 1 :]]
        if remaining:
            changes.append("steps after that: " + ", ".join(remaining))
    else:
        summary = f"Un-pauses {rollout.kind} {rollout.name}: the rollout continues."
    health = row.health_warnings()
    warnings = tuple(f"{w}: promoting gives more users the new version" for w in health)
    return _plan(
        row,
        "promote",
        "promote",
        title=f"Promote {'canary ' if rollout.strategy is Strategy.CANARY else ''}{row.key}",
        summary=summary,
        target=(
            *row.revision_lines("canary", canary),
            f"stable stays revision {stable.number}" if stable else "stable revision unknown",
        ),
        changes=tuple(changes),
        warnings=warnings,
        severity="strong" if warnings else "normal",
        request=_lines(writes),
        writes=writes,
        audit_target=_revision_target(rollout, canary),
        **_workload(row, rollout),
    )


def _switch(row: _Row, rollout: Rollout) -> ActionPlan | NoAction:
    writes = promote_writes(row.kube_target(rollout), _model_object(rollout))
    if not writes:
        return NoAction(f"nothing to switch on {row.key}: the plugin would send nothing")
    preview = revision_by_hash(rollout.revisions, rollout.preview_selector)
    active = revision_by_hash(rollout.revisions, rollout.active_selector)
    summary = "Switches the active service to the preview: every user gets the new version at once."
    return _plan(
        row,
        "promote",
        "switch",
        title=f"Switch {row.key} to the preview",
        summary=summary,
        target=(
            *row.revision_lines("preview", preview),
            f"active now: revision {active.number}" if active else "active revision unknown",
        ),
        changes=(
            "the old active revision keeps running for scaleDownDelaySeconds (30 s unless set) "
            "and is then scaled down",
            "post-promotion analysis, if configured, can still abort back",
        ),
        warnings=row.health_warnings(),
        request=_lines(writes),
        writes=writes,
        audit_target=_revision_target(rollout, preview),
        **_workload(row, rollout),
    )


def _play_gate(row: _Row, gate: Job) -> ActionPlan:
    deployment = next((d for d in row.state.deployments if d.job_id == gate.id), None)
    writes, lines = row.gitlab(lambda project: job_write(project, gate.id, "play"))
    target = [f"job {gate.name} #{gate.id} (stage {gate.stage}), {gate.status}"]
    if deployment is not None:
        title = f' "{deployment.commit_title}"' if deployment.commit_title else ""
        target.append(
            f"commit {short_sha(deployment.sha)}{title} on {deployment.ref}"
            + (f", pipeline #{deployment.pipeline_id}" if deployment.pipeline_id else "")
            + (f", by {deployment.user}" if deployment.user else "")
        )
    if gate.created_at is not None:
        target.append(f"waiting since {when(gate.created_at, row.now)}")
    environment = gate.environment or row.key.environment
    return _plan(
        row,
        "promote",
        "play-gate",
        title=f"Play {gate.name} for {row.key}",
        summary=f"Starts the manual deploy job {gate.name}: GitLab deploys "
        + (f"commit {short_sha(deployment.sha)} " if deployment else "")
        + f"to {environment}.",
        target=tuple(target),
        changes=("the job runs the deploy; the rollout of the new version starts when it does",),
        request=lines,
        writes=writes,
        project=row.project,
        job_id=gate.id,
        target_sha=deployment.sha if deployment else None,
        audit_target=f"job {gate.name} #{gate.id}"
        + (f" (commit {short_sha(deployment.sha)})" if deployment else ""),
    )


def _revision_target(rollout: Rollout, revision: Revision | None) -> str:
    if revision is None:
        return f"{rollout.kind} {rollout.namespace}/{rollout.name}"
    images = ", ".join(revision.images)
    return (
        f"{rollout.kind} {rollout.namespace}/{rollout.name} revision {revision.number} ({images})"
    )


# --------------------------------------------------------------------------- promote --full (P)


def _promote_full(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    rollout = row.state.rollout
    if rollout is None or rollout.kind != "Rollout":
        return NoAction(f"{row.key} has no Argo Rollout: full promote does not apply")
    if rollout.current_hash is None or rollout.current_hash == rollout.stable_hash:
        return NoAction(f"nothing is rolling out on {row.key}: full promote does not apply")
    writes = promote_full_writes(row.kube_target(rollout), _model_object(rollout))
    canary, stable = _canary_and_stable(rollout)
    blue_green = rollout.strategy is Strategy.BLUEGREEN
    if blue_green:
        summary = (
            "Switches the active service to the new version now, skipping any pause and "
            "pre-promotion analysis; it becomes the stable version."
        )
        skipped = "the blue-green pause and analysis"
    else:
        left = max(0, rollout.step_count - (rollout.step_index or 0))
        summary = (
            "Skips every remaining step, pause and analysis: the new version takes 100 % of "
            "traffic at once and becomes the stable version."
        )
        skipped = f"the remaining {left} of {rollout.step_count} steps and any analysis"
    changes = [
        f"stable revision {stable.number} is scaled down"
        if stable
        else "the old stable revision is scaled down"
    ]
    if rollout.aborted:
        changes.append("the abort is cleared")
    warnings = (
        f"full promotion skips {skipped}: nothing checks the new version before every user gets it",
        *row.health_verdict(),
    )
    return _plan(
        row,
        "promote-full",
        "promote-full",
        title=f"Fully promote {row.key}",
        summary=summary,
        target=(*row.revision_lines("new", canary),),
        changes=tuple(changes),
        warnings=warnings,
        severity="strong",
        request=_lines(writes),
        writes=writes,
        audit_target=_revision_target(rollout, canary),
        **_workload(row, rollout),
    )


# --------------------------------------------------------------------------- rollback (r)


def _cluster_link(row: _Row) -> bool:
    if row.env is not None:
        return row.env.workload_name is not None
    return any(s.source is SourceName.KUBE for s in row.state.sources)


def _rollback(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    rollout = row.state.rollout
    if rollout is None:
        if not _cluster_link(row):
            if row.to_revision:
                return NoAction(
                    f"{row.key} has no cluster workload: a revision can be named for an undo "
                    "in the cluster only"
                )
            return _redeploy(row)
        error = row.state.source(SourceName.KUBE).last_error
        return NoAction(
            f"the workload of {row.key} is not known yet"
            + (f" (Kubernetes: {error})" if error else "")
            + ": rollback needs it; try again when Kubernetes answers"
        )
    if row.to_revision:
        return _undo(row, rollout)
    if rollout.kind == "Rollout" and rollout.aborted:
        # One intention is one write: the abort already sent traffic back to stable. Going
        # further back is a separate request that names its revision.
        at = f" {when(rollout.aborted_at, row.now)}" if rollout.aborted_at else ""
        return NoAction(
            f"{row.key} is already rolled back: it was aborted{at} and all traffic is on the "
            "stable version; nothing was sent. Retry the rollout with R on the screen; to "
            f"undo to an earlier revision, name it: cockpit rollback {row.key.service} --env "
            f"{row.key.environment} --to-revision N",
            satisfied=True,
        )
    if rollout.kind == "Rollout" and rollout.in_progress:
        return _abort(row, rollout, "rollback")
    return _undo(row, rollout)


def _abort_intent(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    rollout = row.state.rollout
    if rollout is None or rollout.kind != "Rollout":
        return NoAction(
            f"{row.key} has no Argo Rollout: abort does not apply"
            + ("; r undoes the Deployment to its previous revision" if rollout else "")
        )
    if rollout.aborted:
        at = f" {when(rollout.aborted_at, row.now)}" if rollout.aborted_at else ""
        return NoAction(
            f"{row.key} is already aborted{at}: all traffic is on the stable version; retry it "
            "with R on the screen",
            satisfied=True,
        )
    if not rollout.in_progress:
        return NoAction(f"nothing is rolling out on {row.key}: abort does not apply")
    return _abort(row, rollout, "abort")


def _abort(row: _Row, rollout: Rollout, intent: str) -> ActionPlan:
    writes = abort_writes(row.kube_target(rollout))
    canary, stable = _canary_and_stable(rollout)
    if rollout.strategy is Strategy.BLUEGREEN:
        kind = "blue-green"
        summary = (
            "Stops the blue-green rollout: the active service stays on the stable revision "
            "and the preview is scaled down."
        )
        moving = revision_by_hash(rollout.revisions, rollout.preview_selector) or canary
        going = f"preview revision {moving.number}" if moving else "the preview"
    else:
        kind = "canary"
        summary = "Sends all traffic back to the stable version at once and scales the canary down."
        moving = canary
        going = (
            f"canary revision {canary.number} ({rollout.actual_weight} % of traffic now)"
            if canary
            else "the canary"
        )
    changes = (
        f"{going} is scaled down (after abortScaleDownDelaySeconds, 30 s unless set)",
        "the rollout shows Degraded until it is retried (R) or rolled back (r); its spec "
        "still names the new version",
    )
    return _plan(
        row,
        intent,
        "abort",
        title=f"Abort {kind} {row.key}",
        summary=summary,
        target=(*row.revision_lines("back to stable", stable),),
        changes=changes,
        request=_lines(writes),
        writes=writes,
        audit_target=f"{_revision_target(rollout, stable)}, leaving "
        + (f"revision {moving.number}" if moving else "the new version"),
        **_shas(row, moving, stable),
        **_workload(row, rollout),
    )


def _undo(row: _Row, rollout: Rollout) -> ActionPlan | NoAction:
    key = row.key
    if rollout.kind == "Deployment" and rollout.paused:
        return NoAction(
            "you cannot rollback a paused deployment; resume it first with "
            f"'kubectl rollout resume deployment/{rollout.name}' and try again"
        )
    if row.to_revision:
        target = next((r for r in rollout.revisions if r.number == row.to_revision), None)
        if target is None:
            known = ", ".join(str(r.number) for r in rollout.revisions) or "none"
            return NoAction(
                f"unable to find specified revision {row.to_revision} in the history of "
                f"{key} (revisions: {known})"
            )
    else:
        target = previous_revision(rollout.revisions)
    if target is None:
        return NoAction(
            f"no rollout history found for {rollout.kind.lower()} {rollout.name!r}: there is "
            f"no earlier revision of {key} to go back to"
        )
    current = revision_by_hash(rollout.revisions, rollout.current_hash) or next(
        (r for r in rollout.revisions if r.number == rollout.revision), None
    )
    if current is not None and current.pod_hash == target.pod_hash:
        return NoAction(
            f"skipped rollback (current template already matches revision {target.number})"
        )
    workload = row.kube_target(rollout)
    template = f"<pod template of revision {target.number}, read when you confirm>"
    body = f'[{{"op":"replace","path":"/spec/template","value":{template}}}'
    changes: list[str] = []
    if rollout.kind == "Deployment":
        body += f',{{"op":"replace","path":"/metadata/annotations","value":<annotations of revision {target.number}>}}'
        summary = (
            f"Rolls Deployment {rollout.name} back to revision {target.number} as "
            "'kubectl rollout undo' does: its pod template comes back and is rolled out."
        )
        changes.append(
            "the Deployment's annotations are replaced by that revision's (kubectl's rule)"
        )
    else:
        fast = target.pod_hash == rollout.stable_hash
        summary = f"Sets the Rollout's pod template back to revision {target.number}'s" + (
            ": that is the stable version, so Argo Rollouts switches back without canary steps."
            if fast
            else "; Argo Rollouts rolls it out through the canary steps."
        )
        if rollout.aborted:
            changes.append("the aborted rollout ends: the rollout becomes Healthy on that revision")
    changes.append(
        f"the controller re-uses revision {target.number}'s ReplicaSet under a new revision number"
    )
    request_path = patch_request(
        workload.namespace, workload.kind, workload.name, None, patch_type="json"
    )
    line = f"PATCH {request_path.path}  application/json-patch+json  {body}]"
    return _plan(
        row,
        "rollback",
        "undo",
        title=f"Undo {key} to revision {target.number}",
        summary=summary,
        target=(
            *row.revision_lines("back to", target),
            f"from revision {current.number}: {', '.join(current.images)}"
            if current
            else "from the current revision",
        ),
        changes=tuple(changes),
        request=(line,),
        undo_revision=target.number,
        to_revision=row.to_revision,
        audit_target=_revision_target(rollout, target),
        **_shas(row, current, target),
        **_workload(row, rollout),
    )


def _redeploy(row: _Row) -> ActionPlan | NoAction:
    successful = [d for d in row.state.deployments if d.status == "success"]
    if not successful:
        return NoAction(f"no successful GitLab deployment of {row.key} in the recent history")
    current = successful[0]
    target = next(
        (d for d in successful[1:] if d.sha != current.sha and d.job_id is not None), None
    )
    if target is None:
        return NoAction(
            f"no earlier successful deployment of a different commit to {row.key} in the last "
            f"{len(row.state.deployments)}: nothing to re-deploy"
        )
    writes, lines = row.gitlab(lambda project: redeploy_write(project, target))
    return _plan(
        row,
        "rollback",
        "redeploy",
        title=f"Re-deploy commit {short_sha(target.sha)} to {row.key}",
        summary=(
            f"Retries the deploy job of deployment #{target.iid}, as GitLab's 'Rollback "
            "environment' does: a new job and a new deployment of that commit."
        ),
        target=(deployment_line(target, row.now),),
        changes=(
            f"replaces {deployment_line(current, row.now)}",
            "only the deploy job runs: earlier jobs of that pipeline are not re-run",
            "a project that refuses outdated deployment jobs makes GitLab fail the new job",
        ),
        request=lines,
        writes=writes,
        project=row.project,
        job_id=target.job_id,
        current_sha=current.sha,
        target_sha=target.sha,
        audit_target=f"deployment #{target.iid} (commit {short_sha(target.sha)}, "
        f"job #{target.job_id})",
    )


# --------------------------------------------------------------------------- retry (R)


def _retry(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    rollout = row.state.rollout
    if rollout is None or rollout.kind != "Rollout" or not rollout.aborted:
        return NoAction(f"{row.key} is not an aborted rollout: retry does not apply")
    writes = retry_writes(row.kube_target(rollout))
    canary, stable = _canary_and_stable(rollout)
    first = rollout.steps[0].text if rollout.steps else None
    return _plan(
        row,
        "retry",
        "retry",
        title=f"Retry rollout {row.key}",
        summary="Clears the abort: the rollout of the new version starts again from its first "
        "step" + (f" ({first})." if first else "."),
        target=(*row.revision_lines("new", canary),),
        changes=(
            f"stable revision {stable.number} keeps serving until the steps move traffic"
            if stable
            else "the stable revision keeps serving until the steps move traffic",
        ),
        warnings=row.health_verdict(),
        request=_lines(writes),
        writes=writes,
        audit_target=_revision_target(rollout, canary),
        **_workload(row, rollout),
    )


# --------------------------------------------------------------------------- jobs and flags

_JOB_VERBS: dict[Intent, tuple[str, str, Callable[[Job], bool]]] = {
    # intent: (action, past tense, allowed)
    Intent.JOB_RETRY: ("retry", "retried", lambda j: j.retryable),
    Intent.JOB_PLAY: ("play", "played", lambda j: j.playable),
    Intent.JOB_CANCEL: ("cancel", "canceled", lambda j: j.cancelable),
}
_JOB_SUMMARIES = {
    "retry": "GitLab creates a new {name} job (a new id) for the same commit and runs it.",
    "play": "Starts the manual job {name}.",
    "cancel": "Stops {name} now; GitLab marks it canceled.",
}


def _job(intent: Intent) -> Callable[[_Row, Job | None, FeatureFlag | None], ActionPlan | NoAction]:
    action, past, allowed = _JOB_VERBS[intent]

    def build(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
        if job is None:
            return NoAction(f"select a job first: {action} applies to one job")
        if not allowed(job):
            return NoAction(f"job {job.name} #{job.id} is {job.status}: it cannot be {past}")
        writes, lines = row.gitlab(lambda project: job_write(project, job.id, action))  # type: ignore[arg-type]
        target = [f"job {job.name} #{job.id} (stage {job.stage}, {job.status})"]
        pipeline = row.state.pipeline
        if pipeline is not None and any(j.id == job.id for j in pipeline.jobs):
            target.append(
                f"pipeline #{pipeline.id} on {pipeline.ref} at commit {short_sha(pipeline.sha)}"
            )
        deploys = job.environment is not None
        changes = (f"the job deploys to {job.environment}",) if deploys else ()
        return _plan(
            row,
            intent,
            f"job-{action}",
            title=f"{action.capitalize()} job {job.name} #{job.id}",
            summary=_JOB_SUMMARIES[action].format(name=job.name),
            target=tuple(target),
            changes=changes,
            production=is_production(job.environment) if deploys else False,
            request=lines,
            writes=writes,
            project=row.project,
            job_id=job.id,
            audit_target=f"job {job.name} #{job.id}",
        )

    return build


def _flag_toggle(row: _Row, job: Job | None, flag: FeatureFlag | None) -> ActionPlan | NoAction:
    if flag is None:
        return NoAction("select a feature flag first")
    turn_on = not flag.active
    writes, lines = row.gitlab(lambda project: flag_write(project, flag.name, turn_on))
    scopes = sorted({s for strategy in flag.strategies for s in strategy.scopes}) or ["*"]
    where = ", ".join(scopes)
    strategies = [
        f"strategy {s.name}"
        + (f" ({', '.join(f'{k}={v}' for k, v in s.parameters)})" if s.parameters else "")
        + f" for {', '.join(s.scopes) or '*'}"
        for s in flag.strategies
    ]
    project = row.project or row.key.service
    return _plan(
        row,
        "flag-toggle",
        "flag-toggle",
        title=f"Turn {'on' if turn_on else 'off'} flag {flag.name}",
        summary=f"Sets feature flag {flag.name} of {project} to "
        + ("on: its strategies apply again." if turn_on else "off: no user gets it."),
        target=(f"flag {flag.name}: {'off' if turn_on else 'on'} now", *strategies),
        changes=(f"a flag belongs to the project, not to one environment: it changes for {where}",),
        production="*" in scopes or any(is_production(s) for s in scopes),
        request=lines,
        writes=writes,
        project=row.project,
        flag=flag.name,
        flag_active=turn_on,
        audit_target=f"flag {flag.name} → {'on' if turn_on else 'off'}",
    )


#: What builds the plan for each intent (every intent has one).
_BUILDERS: dict[Intent, Callable[[_Row, Job | None, FeatureFlag | None], ActionPlan | NoAction]] = {
    Intent.PROMOTE: _promote,
    Intent.PROMOTE_FULL: _promote_full,
    Intent.ROLLBACK: _rollback,
    Intent.ABORT: _abort_intent,
    Intent.RETRY: _retry,
    Intent.JOB_RETRY: _job(Intent.JOB_RETRY),
    Intent.JOB_PLAY: _job(Intent.JOB_PLAY),
    Intent.JOB_CANCEL: _job(Intent.JOB_CANCEL),
    Intent.FLAG_TOGGLE: _flag_toggle,
}

__all__ = ["is_production", "plan"]
