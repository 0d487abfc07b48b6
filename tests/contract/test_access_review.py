"""What cockpit doctor asks of the systems, answered by the simulator to real clients.

* Kubernetes ``SelfSubjectAccessReview`` (lightkube, what cockpit uses, and the official
  ``kubernetes`` client): the admin may patch ``rollouts/status``, the viewer may only
  read.
* GitLab ``GET /personal_access_tokens/self`` (python-gitlab's
  ``personal_access_tokens.get("self")``): each token's scopes; a ``read_api`` token's
  write is refused with GitLab's ``insufficient_scope``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import gitlab
import pytest
from gitlab.exceptions import GitlabError
from lightkube import AsyncClient, KubeConfig
from lightkube.models.authorization_v1 import ResourceAttributes, SelfSubjectAccessReviewSpec
from lightkube.resources.authorization_v1 import SelfSubjectAccessReview

from cockpit.sim.tokens import Tokens
from tests.contract.gitlab_sim import ServedGitLab, serve_gitlab
from tests.contract.kube_world import RunningKube, serve_kube_world
from tests.fake_world import FakeWorld

pytestmark = pytest.mark.asyncio


@pytest.fixture
async def kube(tmp_path: Path) -> AsyncIterator[RunningKube]:
    async with serve_kube_world(tmp_path) as running:
        yield running


async def may(kubeconfig: Path, verb: str, resource: str, subresource: str | None) -> bool:
    client = AsyncClient(config=KubeConfig.from_file(kubeconfig))
    try:
        review = SelfSubjectAccessReview(
            spec=SelfSubjectAccessReviewSpec(
                resourceAttributes=ResourceAttributes(
                    namespace="staging",
                    verb=verb,
                    group="argoproj.io",
                    resource=resource,
                    subresource=subresource,
                )
            )
        )
        answer = await client.create(review)
        assert answer.status is not None
        return bool(answer.status.allowed)
    finally:
        await client.close()


async def test_lightkube_access_reviews_follow_each_users_rules(kube: RunningKube) -> None:
    assert await may(kube.kubeconfig, "patch", "rollouts", "status")
    assert await may(kube.read_only_kubeconfig, "watch", "rollouts", None)
    assert not await may(kube.read_only_kubeconfig, "patch", "rollouts", "status")
    assert not await may(kube.read_only_kubeconfig, "patch", "rollouts", None)


async def test_kubernetes_client_access_review(kube: RunningKube) -> None:
    from kubernetes import client, config

    def ask() -> bool:
        api = config.new_client_from_config(str(kube.read_only_kubeconfig))
        body = client.V1SelfSubjectAccessReview(
            spec=client.V1SelfSubjectAccessReviewSpec(
                resource_attributes=client.V1ResourceAttributes(
                    namespace="production", verb="list", group="apps", resource="deployments"
                )
            )
        )
        answer = client.AuthorizationV1Api(api).create_self_subject_access_review(body)
        return bool(answer.status.allowed)

    assert await asyncio.to_thread(ask)


@pytest.fixture
async def kube_sim_dir(tmp_path: Path) -> AsyncIterator[Path]:
    """The whole simulated world's state directory (its kubeconfig, cockpit.toml)."""
    from cockpit.sim.server import simulate

    async with simulate("demo", state_dir=tmp_path / "sim"):
        yield tmp_path / "sim"


@pytest.fixture
async def gitlab_sim() -> AsyncIterator[ServedGitLab]:
    async with serve_gitlab(FakeWorld("demo")) as served:
        yield served


async def test_python_gitlab_reads_each_tokens_scopes(gitlab_sim: ServedGitLab) -> None:
    def scopes(token: str) -> list[str]:
        gl = gitlab.Gitlab(gitlab_sim.url, private_token=token, retry_transient_errors=False)
        return list(gl.personal_access_tokens.get("self").scopes)

    tokens = gitlab_sim.tokens
    assert await asyncio.to_thread(scopes, tokens.gitlab) == ["api"]
    assert await asyncio.to_thread(scopes, tokens.gitlab_read_api) == ["read_api"]


async def test_a_read_api_token_reads_and_its_writes_are_refused(gitlab_sim: ServedGitLab) -> None:
    def attempt() -> tuple[str, int | None, str]:
        gl = gitlab.Gitlab(
            gitlab_sim.url,
            private_token=gitlab_sim.tokens.gitlab_read_api,
            retry_transient_errors=False,
        )
        project = gl.projects.get("shop/checkout")
        pipeline = project.pipelines.list(get_all=False)[0]
        try:
            pipeline.cancel()
        except GitlabError as error:
            return project.path_with_namespace, error.response_code, str(error.error_message)
        return project.path_with_namespace, None, ""

    path, code, message = await asyncio.to_thread(attempt)
    assert path == "shop/checkout"
    assert code == 403 and "insufficient_scope" in message


async def test_python_gitlab_lists_a_groups_projects_with_subgroups(
    gitlab_sim: ServedGitLab,
) -> None:
    def paths() -> list[str]:
        gl = gitlab.Gitlab(
            gitlab_sim.url, private_token=gitlab_sim.tokens.gitlab, retry_transient_errors=False
        )
        group = gl.groups.get("shop")
        assert group.full_path == "shop"
        return [
            p.path_with_namespace
            for p in group.projects.list(include_subgroups=True, get_all=True, per_page=5)
        ]

    found = await asyncio.to_thread(paths)
    assert len(found) == 12 and "shop/checkout" in found


async def test_kubectl_sees_gitlabs_deploy_board_annotations_on_most_workloads(
    kube_sim_dir: Path,
) -> None:
    import json
    import subprocess

    def annotations(kind: str) -> dict[str, dict[str, str]]:
        done = subprocess.run(
            [
                "kubectl",
                "--kubeconfig",
                str(kube_sim_dir / "kubeconfig"),
                "get",
                kind,
                "-A",
                "-o",
                "json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
        return {
            f"{o['metadata']['namespace']}/{o['metadata']['name']}": o["metadata"].get(
                "annotations", {}
            )
            for o in json.loads(done.stdout)["items"]
        }

    found = {
        **await asyncio.to_thread(annotations, "rollouts.argoproj.io"),
        **await asyncio.to_thread(annotations, "deployments.apps"),
    }
    assert found["production/checkout"]["app.gitlab.com/app"] == "shop-checkout"
    assert found["staging/checkout"]["app.gitlab.com/env"] == "staging"
    assert found["production/auth"]["app.gitlab.com/app"] == "shop-auth"
    assert "app.gitlab.com/app" not in found["production/reviews"]


async def test_kubectl_auth_can_i_posts_protobuf_and_reads_the_answer(
    kube_sim_dir: Path, tmp_path: Path
) -> None:
    import json
    import subprocess

    admin = kube_sim_dir / "kubeconfig"
    viewer = tmp_path / "viewer"
    document = json.loads(admin.read_text())
    document["users"][0]["user"]["token"] = Tokens().kube_read_only
    viewer.write_text(json.dumps(document))

    def can_i(kubeconfig: Path, *what: str) -> str:
        done = subprocess.run(
            ["kubectl", "--kubeconfig", str(kubeconfig), "auth", "can-i", *what],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return done.stdout.strip()

    status = ("patch", "rollouts.argoproj.io/status", "-n", "staging")
    assert await asyncio.to_thread(can_i, admin, *status) == "yes"
    assert await asyncio.to_thread(can_i, viewer, *status) == "no"
    watch = ("watch", "rollouts.argoproj.io", "-n", "staging")
    assert await asyncio.to_thread(can_i, viewer, *watch) == "yes"
