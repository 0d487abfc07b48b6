"""What a key means in a given state, and how exactly the plan names its target."""

from __future__ import annotations

from dataclasses import replace

from cockpit.actions import ActionPlan, NoAction, plan
from cockpit.actions.facts import WorkloadFacts, what_changed
from cockpit.model import Job, SourceName, SourceStatus, Strategy
from tests.unit.actions.states import (
    CANARY_SHA,
    FLAG,
    GATE,
    NOW,
    OLDER_SHA,
    STABLE_SHA,
    bad_health,
    canary,
    env,
    finished,
    service,
    state,
)

STATUS = "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status"


def make(row, intent: str, **kwargs) -> ActionPlan | NoAction:  # type: ignore[no-untyped-def]
    kwargs.setdefault("read_only", False)
    kwargs.setdefault("env", env())
    kwargs.setdefault("service", service())
    return plan(row, intent, now=NOW, **kwargs)


def a_plan(row, intent: str, **kwargs) -> ActionPlan:  # type: ignore[no-untyped-def]
    outcome = make(row, intent, **kwargs)
    assert isinstance(outcome, ActionPlan), outcome
    return outcome


def reason(row, intent: str, **kwargs) -> str:  # type: ignore[no-untyped-def]
    outcome = make(row, intent, **kwargs)
    assert isinstance(outcome, NoAction), outcome
    return outcome.reason


# --------------------------------------------------------------------------- p


def test_p_on_a_paused_canary_promotes_one_step_and_names_the_revision_commit_and_author() -> None:
    promote = a_plan(state(), "promote")
    assert promote.operation == "promote"
    assert promote.title == "Promote canary checkout/production"
    assert "step 4/7 (setWeight: 50)" in promote.summary and "50 %" in promote.summary
    assert promote.target[0] == "canary revision 34: registry.example.com/shop/checkout:cbf8687d"
    assert promote.target[1].startswith(
        'deployment #83: commit cbf8687d "change 83", deployed by praman'
    )
    assert "2026-11-26 02:48 UTC (12 min ago)" in promote.target[1]
    assert promote.production and promote.severity == "normal"
    assert promote.request == (
        f'PATCH {STATUS}  application/merge-patch+json  {{"status":{{"pauseConditions":null}}}}',
    )
    assert "from 20 % to 50 %" in promote.changes[0]


def test_p_on_a_failing_canary_warns_with_the_numbers_and_is_strong() -> None:
    promote = a_plan(state(health=bad_health()), "promote")
    assert promote.severity == "strong"
    assert "96.12 %, under the 99 % threshold" in promote.warnings[0]


def test_p_with_a_manual_deploy_job_waiting_plays_it() -> None:
    row = state(rollout=finished(), manual_gate=GATE)
    gate = a_plan(row, "promote")
    assert gate.operation == "play-gate"
    assert gate.title == "Play deploy_production for checkout/production"
    assert gate.request == (
        "POST /api/v4/projects/shop%2Fcheckout/jobs/804060/play  application/json  {}",
    )
    assert gate.target[0] == "job deploy_production #804060 (stage deploy), manual"
    assert "waiting since 2026-11-26 02:18 UTC (42 min ago)" in gate.target


def test_p_on_a_blue_green_preview_switches_traffic() -> None:
    rollout = canary(
        strategy=Strategy.BLUEGREEN,
        steps=(),
        step_index=None,
        pause_reasons=("BlueGreenPause",),
        active_selector="84c5cbbc5",
        preview_selector="69bff77cfb",
    )
    switch = a_plan(state(rollout=rollout), "promote")
    assert switch.operation == "switch"
    assert switch.title == "Switch checkout/production to the preview"
    assert switch.target[0].startswith("preview revision 34")
    assert switch.request[0].endswith('{"status":{"pauseConditions":null}}')


def test_p_does_nothing_when_nothing_is_paused_or_the_rollout_was_aborted() -> None:
    assert reason(state(rollout=finished()), "promote") == (
        "nothing is paused on checkout/production: promote does not apply"
    )
    moving = canary(paused=False, pause_reasons=(), phase="Progressing", step_index=2)
    assert "is not paused (at step 2/7 (setWeight: 20))" in reason(state(rollout=moving), "promote")
    aborted = canary(aborted=True, paused=False, pause_reasons=())
    assert "retry the rollout (R on the screen)" in reason(state(rollout=aborted), "promote")


def test_shift_p_is_a_full_promotion_with_a_strong_warning() -> None:
    full = a_plan(state(), "promote-full")
    assert full.severity == "strong"
    assert full.warnings[0].startswith("full promotion skips the remaining 4 of 7 steps")
    assert full.request[0].endswith('{"status":{"promoteFull":true}}')
    assert reason(state(rollout=finished()), "promote-full").startswith("nothing is rolling out")


# --------------------------------------------------------------------------- r


def test_r_on_a_canary_in_flight_aborts_back_to_the_stable_revision() -> None:
    abort = a_plan(state(), "rollback")
    assert abort.operation == "abort"
    assert abort.title == "Abort canary checkout/production"
    assert abort.target == (
        "back to stable revision 33: registry.example.com/shop/checkout:b84ebddb",
        'deployment #81: commit b84ebddb "change 81", deployed by mgarcia '
        "2026-11-24 15:00 UTC (1 d 12 h ago)",
    )
    assert abort.request == (
        f'PATCH {STATUS}  application/merge-patch+json  {{"status":{{"abort":true}}}}',
    )
    assert (abort.current_sha, abort.target_sha) == (CANARY_SHA, STABLE_SHA)
    assert "canary revision 34 (20 % of traffic now) is scaled down" in abort.changes[0]


def test_r_on_a_finished_rollout_undoes_to_the_previous_revision() -> None:
    undo = a_plan(state(rollout=finished()), "rollback")
    assert undo.operation == "undo"
    assert undo.title == "Undo checkout/production to revision 33"
    assert undo.undo_revision == 33
    assert undo.target[0] == "back to revision 33: registry.example.com/shop/checkout:b84ebddb"
    assert undo.target[-1] == "from revision 34: registry.example.com/shop/checkout:cbf8687d"
    assert undo.request[0].startswith(
        "PATCH /apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout  "
        'application/json-patch+json  [{"op":"replace","path":"/spec/template"'
    )
    assert (undo.current_sha, undo.target_sha) == (CANARY_SHA, STABLE_SHA)
    assert "switches back without canary steps" not in undo.summary


def test_r_on_an_aborted_canary_is_already_done_and_sends_nothing() -> None:
    aborted = canary(aborted=True, paused=False, pause_reasons=(), phase="Degraded")
    outcome = make(state(rollout=aborted), "rollback")
    assert isinstance(outcome, NoAction) and outcome.satisfied
    assert outcome.reason.startswith("checkout/production is already rolled back")
    assert "--to-revision N" in outcome.reason


def test_an_undo_past_an_abort_names_its_revision_and_skips_the_canary_steps() -> None:
    aborted = canary(aborted=True, paused=False, pause_reasons=(), phase="Degraded")
    undo = a_plan(state(rollout=aborted), "rollback", to_revision=33)
    assert undo.operation == "undo" and undo.undo_revision == 33 and undo.to_revision == 33
    assert "switches back without canary steps" in undo.summary


def test_a_revision_that_is_not_in_the_history_is_refused_with_the_known_ones() -> None:
    outcome = make(state(rollout=finished()), "rollback", to_revision=7)
    assert isinstance(outcome, NoAction) and not outcome.satisfied
    assert outcome.reason.startswith("unable to find specified revision 7 in the history")


def test_r_on_a_paused_deployment_is_refused_with_kubectls_words() -> None:
    rolling = finished(kind="Deployment", strategy=Strategy.ROLLING, paused=True, steps=())
    assert reason(state(rollout=rolling), "rollback") == (
        "you cannot rollback a paused deployment; resume it first with "
        "'kubectl rollout resume deployment/checkout' and try again"
    )


def test_r_without_history_says_there_is_nothing_to_go_back_to() -> None:
    lonely = finished(revisions=(finished().revisions[0],))
    assert reason(state(rollout=lonely), "rollback").startswith("no rollout history found")


def test_r_without_a_cluster_link_redeploys_the_previous_successful_gitlab_deployment() -> None:
    gitlab_only = env(workload_kind=None, workload_name=None, kube_context=None)
    row = state(rollout=None, sources=(SourceStatus(SourceName.GITLAB),))
    redeploy = a_plan(row, "rollback", env=gitlab_only, service=service(gitlab_only))
    assert redeploy.operation == "redeploy"
    assert redeploy.title == "Re-deploy commit b84ebddb to checkout/production"
    assert redeploy.request == (
        "POST /api/v4/projects/shop%2Fcheckout/jobs/800081/retry  application/json  {}",
    )
    assert redeploy.target[0].startswith('deployment #81: commit b84ebddb "change 81"')
    assert redeploy.changes[0].startswith("replaces deployment #83: commit cbf8687d")


def test_r_skips_earlier_deployments_of_the_same_commit() -> None:
    gitlab_only = env(workload_kind=None, workload_name=None)
    row = state(rollout=None, sources=())
    again = replace(row.deployments[2], iid=80, sha=CANARY_SHA)
    row = replace(row, deployments=(row.deployments[0], again, *row.deployments[2:]))
    redeploy = a_plan(row, "rollback", env=gitlab_only, service=service(gitlab_only))
    assert redeploy.target_sha == STABLE_SHA


def test_r_waits_for_kubernetes_when_the_workload_is_not_known_yet() -> None:
    down = SourceStatus(SourceName.KUBE, last_error="connection refused: is the apiserver up?")
    message = reason(state(rollout=None, sources=(down,)), "rollback")
    assert "not known yet (Kubernetes: connection refused" in message


# --------------------------------------------------------------------------- a, R


def test_a_aborts_only_rollouts_in_flight_and_R_retries_only_aborted_ones() -> None:
    assert a_plan(state(), "abort").operation == "abort"
    aborted = canary(aborted=True, aborted_at=NOW, paused=False, pause_reasons=())
    assert "already aborted" in reason(state(rollout=aborted), "abort")
    rolling = finished(kind="Deployment", strategy=Strategy.ROLLING, steps=())
    assert "r undoes the Deployment" in reason(state(rollout=rolling), "abort")
    retry = a_plan(state(rollout=aborted), "retry")
    assert retry.request[0].endswith('{"status":{"abort":false}}')
    assert "from its first step (setWeight: 5)" in retry.summary
    assert "not an aborted rollout" in reason(state(), "retry")


# --------------------------------------------------------------------------- jobs and flags


def test_job_keys_check_what_gitlab_allows_before_planning() -> None:
    running = Job(id=55, name="unit", stage="test", status="running")
    assert a_plan(state(), "job-cancel", job=running).request == (
        "POST /api/v4/projects/shop%2Fcheckout/jobs/55/cancel  application/json  {}",
    )
    assert "cannot be played" in reason(state(), "job-play", job=running)
    assert "select a job first" in reason(state(), "job-retry")
    failed = replace(running, status="failed")
    retry = a_plan(state(), "job-retry", job=failed)
    assert retry.title == "Retry job unit #55" and not retry.production
    deploy = a_plan(state(), "job-play", job=GATE)
    assert deploy.production and deploy.changes == ("the job deploys to production",)


def test_flag_toggle_sets_the_opposite_value_for_the_whole_project() -> None:
    toggle = a_plan(state(), "flag-toggle", flag=FLAG)
    assert toggle.title == "Turn off flag one-click-checkout"
    assert toggle.request == (
        "PUT /api/v4/projects/shop%2Fcheckout/feature_flags/one-click-checkout  "
        'application/json  {"active": false}',
    )
    assert toggle.production
    assert "it changes for *" in toggle.changes[0]


# --------------------------------------------------------------------------- rules


def test_read_only_plans_are_made_but_marked_so_that_execute_refuses_them() -> None:
    marked = a_plan(state(), "rollback", read_only=True)
    assert marked.read_only is not None and "read-only" in marked.read_only
    assert marked.warnings[0] == marked.read_only


def test_without_the_service_configuration_the_gitlab_path_shows_id() -> None:
    gate = plan(state(rollout=finished(), manual_gate=GATE), "promote", read_only=False, now=NOW)
    assert isinstance(gate, ActionPlan)
    assert gate.request == ("POST /api/v4/projects/:id/jobs/804060/play  application/json  {}",)
    assert gate.writes == ()


def test_an_unknown_intent_names_the_known_ones() -> None:
    assert "one of: promote, promote-full, rollback" in reason(state(), "restart")


def test_what_changed_names_the_move_that_makes_a_confirmed_action_stale() -> None:
    before = WorkloadFacts.of(canary())
    moved = WorkloadFacts.of(canary(step_index=5))
    assert what_changed("promote", before, moved) == ("the canary moved from step 3/7 to step 5/7")
    running = WorkloadFacts.of(canary(paused=False, pause_reasons=()))
    assert what_changed("promote", before, running) == "it is no longer paused (now at step 3/7)"
    assert what_changed("abort", before, moved) is None
    aborted = WorkloadFacts.of(canary(aborted=True))
    assert what_changed("abort", before, aborted) == "it was aborted meanwhile"
    assert what_changed("undo", before, WorkloadFacts.of(canary(revision=35))) == (
        "its revision is 35 now, not 34"
    )


def test_older_commits_are_named_by_their_own_deployment() -> None:
    older = finished(
        revisions=(finished().revisions[0], finished().revisions[2]),
    )
    undo = a_plan(state(rollout=older), "rollback")
    assert undo.target_sha == OLDER_SHA and "deployment #79" in undo.target[1]
