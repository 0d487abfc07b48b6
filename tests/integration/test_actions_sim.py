"""Every action against the simulated world over HTTP: the exact request the server received,
and the state the simulated controllers and GitLab reached because of it."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path

from cockpit.actions import ActionPlan, execute
from cockpit.model import EnvKey
from cockpit.sim.tokens import Tokens
from tests.helpers import eventually
from tests.integration.actions_rig import Rig, edit_env, rig

CHECKOUT = [("checkout", "production")]
ROLLOUTS = "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts"
MERGE = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
#: python-gitlab posts ``{}`` as JSON when a write has no parameters (job play/retry/cancel).
JSON = "application/json"


def wire(rig: Rig) -> list[tuple[str, str, str, bytes]]:
    return [(r.method, r.path, r.content_type, r.body) for r in rig.writes()]


def shown_is_sent(plan: ActionPlan, rig: Rig) -> None:
    """The request lines the dialog showed are the requests the servers received."""
    received = []
    for r in rig.writes():
        base = rig.sim.urls.gitlab if r.api == "gitlab" else rig.sim.urls.kube  # type: ignore[union-attr]
        received.append(f"{r.method} {base}{r.path}  {r.content_type}  {r.body.decode()}")
    assert received == list(plan.request)


def weights(rollout: dict) -> dict:  # type: ignore[type-arg]
    return rollout["status"]["canary"]["weights"]


# --------------------------------------------------------------------------- Argo Rollouts


async def test_promote_sends_the_plugins_status_patch_and_the_canary_moves_on(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        plan = await r.plan("checkout", "production", "promote")
        assert plan.exact and plan.request[0].startswith("PATCH https://127.0.0.1:")
        result = await execute(plan, r.ctx)
        assert result.ok, result.message
        assert wire(r) == [
            ("PATCH", f"{ROLLOUTS}/checkout/status", MERGE, b'{"status":{"pauseConditions":null}}')
        ]
        shown_is_sent(plan, r)
        await r.until(
            lambda: r.rollout("production", "checkout")["status"]["currentStepIndex"] == 4,
            "the canary to reach step 4",
        )
        await r.until(
            lambda: weights(r.rollout("production", "checkout"))["canary"]["weight"] == 50,
            "the canary to get 50 % of traffic",
        )


async def test_full_promotion_makes_the_new_version_stable(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        plan = await r.plan("checkout", "production", "promote-full")
        assert plan.severity == "strong"
        assert (await execute(plan, r.ctx)).ok
        assert wire(r) == [
            ("PATCH", f"{ROLLOUTS}/checkout/status", MERGE, b'{"status":{"promoteFull":true}}')
        ]
        status = await r.until(
            lambda: (
                (s := r.rollout("production", "checkout")["status"])["stableRS"]
                == s["currentPodHash"]
                and s
            ),
            "the new version to become stable",
        )
        assert status["currentStepIndex"] == 7


async def test_rollback_of_a_canary_in_flight_aborts_it_and_the_weight_drops_to_zero(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        plan = await r.plan("checkout", "production", "rollback")
        assert plan.operation == "abort" and plan.production
        result = await execute(plan, r.ctx)
        assert result.ok and result.audit.result == "ok"
        assert wire(r) == [
            ("PATCH", f"{ROLLOUTS}/checkout/status", MERGE, b'{"status":{"abort":true}}')
        ]
        shown_is_sent(plan, r)
        rollout = await r.until(
            lambda: (o := r.rollout("production", "checkout"))["status"].get("abortedAt") and o,
            "the controller to abort",
        )
        assert rollout["status"]["abort"] is True
        assert weights(rollout)["canary"]["weight"] == 0
        assert weights(rollout)["stable"]["weight"] == 100


async def test_retry_clears_the_abort_and_the_steps_start_again(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        assert (await execute(await r.plan("checkout", "production", "abort"), r.ctx)).ok
        await r.until(lambda: r.state("checkout", "production").rollout.aborted, "aborted")
        r.mark()
        retry = await r.plan("checkout", "production", "retry")
        assert (await execute(retry, r.ctx)).ok
        assert wire(r) == [
            ("PATCH", f"{ROLLOUTS}/checkout/status", MERGE, b'{"status":{"abort":false}}')
        ]
        status = await r.until(
            lambda: not (s := r.rollout("production", "checkout")["status"]).get("abort") and s,
            "the abort to be cleared",
        )
        assert status.get("currentStepIndex", 0) <= 1


async def test_rollback_of_a_finished_rollout_undoes_to_the_previous_revision_and_warns_about_the_migration(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, "migration-rollback", rows=[("orders", "production")]) as r:
        before = r.rollout("production", "orders")
        plan = await r.plan("orders", "production", "rollback")
        assert plan.operation == "undo"
        assert plan.severity == "strong"
        assert plan.warnings[0] == (
            "rollback crosses 2 migrations (1 destructive: drop_legacy_state_from_orders)"
        )
        assert any("drop_legacy_state_from_orders.rb" in w for w in plan.warnings[1:])
        target_revision = plan.undo_revision
        (write,) = plan.writes
        template = write.request.body[0]["value"]
        assert (await execute(plan, r.ctx)).ok
        shown_is_sent(plan, r)
        ((method, path, content_type, body),) = wire(r)
        assert (method, path, content_type) == ("PATCH", f"{ROLLOUTS}/orders", JSON_PATCH)
        assert json.loads(body) == [{"op": "replace", "path": "/spec/template", "value": template}]
        assert "rollouts-pod-template-hash" not in template["metadata"]["labels"]
        after = r.rollout("production", "orders")
        assert (
            after["spec"]["template"]["spec"]["containers"][0]["image"]
            == (template["spec"]["containers"][0]["image"])
        )
        old = int(before["metadata"]["annotations"]["rollout.argoproj.io/revision"])
        await r.until(
            lambda: (
                int(
                    r.rollout("production", "orders")["metadata"]["annotations"][
                        "rollout.argoproj.io/revision"
                    ]
                )
                == old + 1
            ),
            f"a new revision re-using revision {target_revision}",
        )


async def test_rollback_of_a_deployment_is_kubectls_undo_with_annotations(tmp_path: Path) -> None:
    async with rig(tmp_path, "healthy", rows=[("auth", "production")]) as r:
        plan = await r.plan("auth", "production", "rollback")
        assert plan.operation == "undo"
        before = r.deployment("production", "auth")
        revision = int(before["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        assert (await execute(plan, r.ctx)).ok
        shown_is_sent(plan, r)
        ((method, path, content_type, body),) = wire(r)
        assert (method, path, content_type) == (
            "PATCH",
            "/apis/apps/v1/namespaces/production/deployments/auth",
            JSON_PATCH,
        )
        ops = json.loads(body)
        assert [(op["op"], op["path"]) for op in ops] == [
            ("replace", "/spec/template"),
            ("replace", "/metadata/annotations"),
        ]
        assert ops[1]["value"]["deployment.kubernetes.io/revision"] == str(revision)
        image = ops[0]["value"]["spec"]["containers"][0]["image"]
        await r.until(
            lambda: (
                int(
                    r.deployment("production", "auth")["metadata"]["annotations"][
                        "deployment.kubernetes.io/revision"
                    ]
                )
                == revision + 1
            ),
            "the Deployment to roll back as a new revision",
        )
        assert (
            r.deployment("production", "auth")["spec"]["template"]["spec"]["containers"][0]["image"]
            == image
        )


async def test_promote_on_a_blue_green_preview_switches_the_active_service(tmp_path: Path) -> None:
    async with rig(tmp_path, "blue-green", rows=[("web", "production")]) as r:
        preview = r.rollout("production", "web")["status"]["blueGreen"]["previewSelector"]
        plan = await r.plan("web", "production", "promote")
        assert plan.operation == "switch"
        assert (await execute(plan, r.ctx)).ok
        assert wire(r) == [
            ("PATCH", f"{ROLLOUTS}/web/status", MERGE, b'{"status":{"pauseConditions":null}}')
        ]
        await r.until(
            lambda: (
                r.rollout("production", "web")["status"]["blueGreen"]["activeSelector"] == preview
            ),
            "the active service to select the preview",
        )


# --------------------------------------------------------------------------- GitLab


async def test_promote_plays_the_manual_gate_and_the_job_is_pending(tmp_path: Path) -> None:
    async with rig(tmp_path, "manual-gate", rows=[("payments", "production")]) as r:
        plan = await r.plan("payments", "production", "promote")
        assert plan.operation == "play-gate"
        job_id = plan.job_id
        result = await execute(plan, r.ctx)
        assert result.ok, result.message
        assert wire(r) == [
            ("POST", f"/api/v4/projects/shop%2Fpayments/jobs/{job_id}/play", JSON, b"{}")
        ]
        shown_is_sent(plan, r)
        assert r.project("payments").jobs_by_id[job_id].status in ("pending", "running")
        assert (
            result.message == f"deploy job started: job #{job_id} (pending) for payments/production"
        )


async def test_rollback_without_a_cluster_link_redeploys_the_previous_gitlab_deployment(
    tmp_path: Path,
) -> None:
    def gitlab_only(config):  # type: ignore[no-untyped-def]
        return edit_env(config, "checkout", "production", workload_kind=None, workload_name=None)

    async with rig(tmp_path, "healthy", rows=CHECKOUT, configure=gitlab_only) as r:
        plan = await r.plan("checkout", "production", "rollback")
        assert plan.operation == "redeploy"
        project = r.project("checkout")
        count = len(project.deployments)
        result = await execute(plan, r.ctx)
        assert result.ok, result.message
        assert wire(r) == [
            ("POST", f"/api/v4/projects/shop%2Fcheckout/jobs/{plan.job_id}/retry", JSON, b"{}")
        ]
        shown_is_sent(plan, r)
        newest = max(project.deployments.values(), key=lambda d: d.id)
        assert len(project.deployments) == count + 1
        assert newest.sha == plan.target_sha


async def test_job_retry_and_cancel_reach_gitlab(tmp_path: Path) -> None:
    async with rig(tmp_path, "failed-pipeline", rows=[("search", "staging")]) as r:
        pipeline = r.state("search", "staging").pipeline
        failed = next(j for j in pipeline.jobs if j.status == "failed")
        retry = await r.plan("search", "staging", "job-retry", job=failed)
        result = await execute(retry, r.ctx)
        assert result.ok, result.message
        assert wire(r) == [
            ("POST", f"/api/v4/projects/shop%2Fsearch/jobs/{failed.id}/retry", JSON, b"{}")
        ]
        new_id = int(result.message.split("#")[1].split()[0])
        assert new_id != failed.id
        new_job = r.project("search").jobs_by_id[new_id]
        assert new_job.status in ("pending", "running")
        r.mark()
        await eventually(
            lambda: any(j.id == new_id for j in r.state("search", "staging").pipeline.jobs),
            message="the engine to see the new job",
            timeout=15,
        )
        running = next(j for j in r.state("search", "staging").pipeline.jobs if j.id == new_id)
        cancel = await r.plan("search", "staging", "job-cancel", job=running)
        assert (await execute(cancel, r.ctx)).ok
        assert wire(r) == [
            ("POST", f"/api/v4/projects/shop%2Fsearch/jobs/{new_id}/cancel", JSON, b"{}")
        ]
        assert new_job.status == "canceled"


async def test_flag_toggle_flips_the_flag(tmp_path: Path) -> None:
    async with rig(tmp_path, "healthy", rows=CHECKOUT) as r:
        flag = next(
            f for f in r.state("checkout", "production").flags if f.name == "one-click-checkout"
        )
        assert flag.active is False
        plan = await r.plan("checkout", "production", "flag-toggle", flag=flag)
        result = await execute(plan, r.ctx)
        assert result.ok and result.message == "flag one-click-checkout is on now"
        assert wire(r) == [
            (
                "PUT",
                "/api/v4/projects/shop%2Fcheckout/feature_flags/one-click-checkout",
                JSON,
                b'{"active": true}',
            )
        ]
        shown_is_sent(plan, r)
        assert r.project("checkout").flags["one-click-checkout"].active is True
        # What the screen does after a write: the flag list shows it now, not at the next
        # five-minute read of the flags.
        assert r.config.poll.flags >= 300
        r.engine.refresh(EnvKey("checkout", "production"))
        await eventually(
            lambda: any(
                f.active
                for f in r.state("checkout", "production").flags
                if f.name == "one-click-checkout"
            ),
            message="the engine to read the toggled flag",
        )


# --------------------------------------------------------------------------- the promises


async def test_a_double_press_sends_one_write(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        plan = await r.plan("checkout", "production", "rollback")
        first, second = await asyncio.gather(execute(plan, r.ctx), execute(plan, r.ctx))
        assert sorted([first.audit.result, second.audit.result]) == ["ok", "refused"]
        refused = first if not first.ok else second
        assert "already being sent; this press sent nothing" in refused.message
        assert len(r.writes()) == 1
        # once the first write is done, the same key works again
        r.mark()
        again = await execute(plan, r.ctx)
        assert again.audit.result == "refused" and "already aborted" in again.message
        assert again.satisfied  # what the key asked for is so: not an error
        assert r.writes() == []


async def test_read_only_is_refused_inside_execute_and_audited(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, read_only=True) as r:
        plan = await r.plan("checkout", "production", "rollback")
        assert plan.read_only is not None  # marked by plan
        unmarked = replace(plan, read_only=None, warnings=())  # a UI that forgot to look
        result = await execute(unmarked, r.ctx)
        assert not result.ok and result.audit.result == "refused"
        assert "read-only mode (--read-only)" in result.message
        assert r.writes() == []
        assert json.loads(r.audit_text().splitlines()[-1])["result"] == "refused"


async def test_an_environment_marked_read_only_refuses_writes(tmp_path: Path) -> None:
    def frozen(config):  # type: ignore[no-untyped-def]
        return edit_env(config, "checkout", "production", read_only=True)

    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, configure=frozen) as r:
        plan = await r.plan("checkout", "production", "promote")
        result = await execute(plan, r.ctx)
        assert result.audit.result == "refused"
        assert "checkout/production is read-only" in result.message
        assert r.writes() == []


async def test_a_read_only_kubernetes_token_gets_a_403_explained(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT, read_only_credentials=True) as r:
        plan = await r.plan("checkout", "production", "rollback")
        result = await execute(plan, r.ctx)
        assert not result.ok and result.audit.result == "failed"
        assert result.message == (
            "Kubernetes: user viewer cannot patch rollouts/status in production (RBAC); it needs "
            "patch on rollouts/status (argoproj.io) in namespace production — the aggregated "
            "edit role grants it; nothing was changed"
        )
        assert "abort" not in json.dumps(r.rollout("production", "checkout")["status"])


async def test_a_read_only_gitlab_token_gets_a_403_explained(tmp_path: Path) -> None:
    async with rig(tmp_path, "healthy", rows=CHECKOUT, read_only_credentials=True) as r:
        flag = r.state("checkout", "production").flags[0]
        plan = await r.plan("checkout", "production", "flag-toggle", flag=flag)
        result = await execute(plan, r.ctx)
        assert result.audit.result == "failed"
        assert "(403)" in result.message
        assert (
            "it needs the Developer role on shop/checkout (feature flags need it)" in result.message
        )
        assert r.project("checkout").flags[flag.name].active is flag.active
        assert result.audit.gitlab_user == Tokens().gitlab_read_only_user[0]


async def test_a_rollout_that_moved_since_the_plan_is_not_written_to(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        stale = await r.plan("checkout", "production", "promote")
        # someone else promotes first (another cockpit, or the plugin)
        assert (await execute(stale, r.ctx)).ok
        await r.until(
            lambda: r.rollout("production", "checkout")["status"]["currentStepIndex"] == 4,
            "the other promote to land",
        )
        r.mark()
        result = await execute(stale, r.ctx)
        assert result.audit.result == "refused"
        assert result.message.startswith("checkout/production changed since this was planned: ")
        assert result.message.endswith("; nothing was sent")
        assert r.writes() == []


async def test_the_audit_log_never_holds_a_token(tmp_path: Path) -> None:
    async with rig(tmp_path, "bad-canary", rows=CHECKOUT) as r:
        for intent in ("promote", "rollback", "abort"):
            outcome = r.ctx.plan(r.state("checkout", "production"), intent)
            if isinstance(outcome, ActionPlan):
                await execute(outcome, r.ctx)
        text = r.audit_text()
        assert text.count("\n") >= 2
        tokens = Tokens()
        for secret in (tokens.gitlab, tokens.gitlab_read_only, tokens.kube, tokens.kube_read_only):
            assert secret not in text
