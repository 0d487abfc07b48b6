"""execute() with stand-in sources: order of writes, the plugin's 404 fallback, partial
failures and timeouts in words, and an audit record whatever happens."""

from __future__ import annotations

import copy
from datetime import timedelta
from pathlib import Path
from typing import Any

from cockpit.actions import ActionContext, ActionPlan, AuditLog, execute, plan
from cockpit.actions.audit import HEALTH_GUARD, read_audit
from cockpit.config import Config
from cockpit.model import SourceName
from cockpit.sources.errors import SourceError
from tests.unit.actions.states import CONFIG_PATH, NOW, canary, service, state

STATUS = "/apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout/status"


def rollout_object(**status: Any) -> dict[str, Any]:
    steps = [{"setWeight": 5}, {"pause": {}}] * 3 + [{"setWeight": 100}]
    return {
        "kind": "Rollout",
        "metadata": {
            "name": "checkout",
            "namespace": "production",
            "uid": "ro-1",
            "annotations": {"rollout.argoproj.io/revision": "34"},
        },
        "spec": {"paused": False, "strategy": {"canary": {"steps": steps}}},
        "status": {
            "currentPodHash": "69bff77cfb",
            "stableRS": "84c5cbbc5",
            "currentStepIndex": 3,
            "pauseConditions": [{"reason": "CanaryPauseStep", "startTime": "2026-11-26T02:56:00Z"}],
            **status,
        },
    }


class FakeKube:
    def __init__(
        self, obj: dict[str, Any], *, failures: dict[str | None, SourceError] | None = None
    ):
        self.obj = obj
        self.failures = failures or {}
        self.patches: list[tuple[str | None, str, Any]] = []
        #: The audit log as it stood when each patch left (set by the test).
        self.audit_path: Path | None = None
        self.on_record_when_sent: list[list[str]] = []

    async def get(
        self, context: str | None, namespace: str, kind: str, name: str
    ) -> dict[str, Any]:
        return copy.deepcopy(self.obj)

    async def patch(self, context, namespace, kind, name, body, *, patch_type, subresource=None):  # type: ignore[no-untyped-def]
        self.patches.append((subresource, patch_type, body))
        if self.audit_path is not None:
            records = read_audit(self.audit_path).records
            self.on_record_when_sent.append([r.result for r in records])
        failure = self.failures.get(subresource)
        if failure is not None:
            raise failure
        return self.obj


class SilentGitLab:
    """GitLab that cannot say who owns the token."""

    async def current_user(self) -> str:
        raise SourceError(SourceName.GITLAB, "connection refused: is GitLab reachable?")


def context(tmp_path: Path, kube: FakeKube) -> ActionContext:
    config = Config(path=CONFIG_PATH, services=(service(),))
    return ActionContext(
        config,
        kube=kube,
        gitlab=SilentGitLab(),
        audit=AuditLog(tmp_path / "audit.jsonl"),
        local_user="alice",
        clock=lambda: NOW,
        wall_clock=lambda: NOW,
    )


def promote_plan(ctx: ActionContext, **rollout: Any) -> ActionPlan:
    outcome = ctx.plan(state(rollout=canary(**rollout)), "promote")
    assert isinstance(outcome, ActionPlan)
    return outcome


async def test_without_a_status_subresource_the_plugins_unified_patch_goes_to_the_rollout(
    tmp_path: Path,
) -> None:
    kube = FakeKube(
        rollout_object(),
        failures={"status": SourceError(SourceName.KUBE, "not found", status=404)},
    )
    ctx = context(tmp_path, kube)
    result = await execute(promote_plan(ctx), ctx)
    assert result.ok, result.message
    assert kube.patches == [
        ("status", "merge", {"status": {"pauseConditions": None}}),
        (None, "merge", {"spec": {"paused": False}, "status": {"pauseConditions": None}}),
    ]
    assert result.audit.requests == (
        "PATCH /apis/argoproj.io/v1alpha1/namespaces/production/rollouts/checkout",
    )


async def test_a_manually_paused_rollout_gets_the_status_patch_then_the_spec_patch(
    tmp_path: Path,
) -> None:
    obj = rollout_object()
    obj["spec"]["paused"] = True
    kube = FakeKube(obj)
    ctx = context(tmp_path, kube)
    result = await execute(promote_plan(ctx), ctx)
    assert result.ok
    assert [(sub, body) for sub, _, body in kube.patches] == [
        ("status", {"status": {"pauseConditions": None}}),
        (None, {"spec": {"paused": False}}),
    ]


async def test_a_failure_after_the_first_write_says_what_was_accepted(tmp_path: Path) -> None:
    obj = rollout_object()
    obj["spec"]["paused"] = True
    refused = SourceError(
        SourceName.KUBE,
        "Kubernetes: user ci cannot patch rollouts in production (RBAC)",
        status=403,
    )
    ctx = context(tmp_path, FakeKube(obj, failures={None: refused}))
    result = await execute(promote_plan(ctx), ctx)
    assert result.audit.result == "failed"
    assert "the first 1 request(s) were accepted, the rest not" in result.message
    assert "patch on rollouts (argoproj.io) in namespace production" in result.message
    assert len(result.audit.requests) == 2


async def test_a_timeout_is_an_error_that_may_or_may_not_have_applied(tmp_path: Path) -> None:
    timeout = SourceError(SourceName.KUBE, "timed out after 10 s talking to the apiserver")
    ctx = context(tmp_path, FakeKube(rollout_object(), failures={"status": timeout}))
    result = await execute(promote_plan(ctx), ctx)
    assert result.audit.result == "error"
    assert "it may or may not have applied: the cluster did not answer clearly" in result.message
    assert result.message.endswith("look at the row before trying again")
    # Recorded once: the pending record and its outcome read back as one write.
    assert [r.result for r in read_audit(ctx.audit.path).records] == ["error"]


async def test_the_record_is_written_even_when_gitlab_cannot_name_the_user(tmp_path: Path) -> None:
    ctx = context(tmp_path, FakeKube(rollout_object()))
    result = await execute(promote_plan(ctx), ctx, actor=HEALTH_GUARD)
    (record,) = read_audit(ctx.audit.path).records
    assert record == result.audit
    assert (record.actor, record.local_user, record.gitlab_user) == (HEALTH_GUARD, "alice", None)
    assert record.time == "2026-11-26T03:00:00.000Z"


async def test_the_record_says_when_it_was_done_by_the_wall_clock(tmp_path: Path) -> None:
    """In a sped-up demo world the plan's ages follow the world; the audit log does not."""
    ctx = context(tmp_path, FakeKube(rollout_object()))
    ctx.clock = lambda: NOW + timedelta(hours=9)  # the world, thirty times faster
    await execute(promote_plan(ctx), ctx)
    (record,) = read_audit(ctx.audit.path).records
    assert record.time == "2026-11-26T03:00:00.000Z"


async def test_a_write_that_cannot_be_recorded_is_not_sent(tmp_path: Path) -> None:
    kube = FakeKube(rollout_object())
    ctx = context(tmp_path, kube)
    ctx.audit = AuditLog(tmp_path / "audit.jsonl" / "not-a-directory" / "audit.jsonl")
    (tmp_path / "audit.jsonl").write_text("")
    result = await execute(promote_plan(ctx), ctx)
    assert not result.ok and result.sent == ()
    assert kube.patches == []
    assert "audit log" in result.message and "nothing was sent" in result.message


async def test_a_plan_made_without_configuration_is_bound_when_executed(tmp_path: Path) -> None:
    kube = FakeKube(rollout_object())
    ctx = context(tmp_path, kube)
    unbound = plan(state(), "promote", read_only=False, now=NOW)  # as the UI's port calls it
    assert isinstance(unbound, ActionPlan) and unbound.workload is not None
    assert unbound.workload.context is None
    result = await execute(unbound, ctx)
    assert result.ok and result.sent[0].startswith(f"PATCH {STATUS}")


async def test_the_write_is_on_record_before_it_leaves(tmp_path: Path) -> None:
    kube = FakeKube(rollout_object())
    ctx = context(tmp_path, kube)
    kube.audit_path = ctx.audit.path
    result = await execute(promote_plan(ctx), ctx)
    assert result.ok
    assert kube.on_record_when_sent == [["pending"]]
    (record,) = read_audit(ctx.audit.path).records
    assert (record.result, record.intent, record.context) == ("ok", "promote", "prod-eu")
    assert len(ctx.audit.path.read_text().splitlines()) == 2  # pending, then its outcome
