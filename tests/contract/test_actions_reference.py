"""cockpit's writes against the reference tools' own: kubectl's ``rollout undo`` and
python-gitlab's job play / retry / cancel and feature flag save.

kubectl runs against the simulator with ``--dry-run=server`` (the request is the real
one, the server only does not keep the result); python-gitlab and cockpit's GitLab
source both send through a ``requests`` adapter that records the prepared request.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import gitlab
import pytest
import requests
from requests.adapters import BaseAdapter

from cockpit.actions import execute
from cockpit.config import GitLabConfig, Secret
from cockpit.sources.gitlab import GitLabSource, feature_flag_request, job_action_request
from tests.helpers import require
from tests.integration.actions_rig import rig

URL = "https://gitlab.example.com"


async def test_deployment_undo_sends_what_kubectl_rollout_undo_sends(tmp_path: Path) -> None:
    require(shutil.which("kubectl") is not None, "kubectl is not installed")
    async with rig(tmp_path, "healthy", rows=[("auth", "production")]) as r:
        plan = await r.plan("auth", "production", "rollback")
        kubeconfig = str(r.directory / "kubeconfig")
        command = ["kubectl", "--kubeconfig", kubeconfig, "-n", "production"]
        done = await asyncio.to_thread(
            subprocess.run,
            [*command, "rollout", "undo", "deployment/auth", "--dry-run=server"],
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr
        (kubectl,) = r.writes()
        assert kubectl.query == "dryRun=All"
        r.mark()
        assert (await execute(plan, r.ctx)).ok
        (ours,) = r.writes()
        assert (ours.method, ours.path, ours.content_type) == (
            kubectl.method,
            kubectl.path,
            kubectl.content_type,
        )
        # Equal as JSON; bytes differ only in the order of a pod template's keys, which
        # kubectl takes from Go's struct definitions.
        assert json.loads(ours.body) == json.loads(kubectl.body)


class Recorder(BaseAdapter):
    """A transport that records each prepared request and answers with ``reply``."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__()
        self.reply = reply
        self.sent: list[requests.PreparedRequest] = []

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        self.sent.append(request)
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = json.dumps(self.reply).encode()
        response.request = request
        response.url = request.url or ""
        return response

    def close(self) -> None:
        pass


def recording_session(reply: dict[str, Any]) -> tuple[requests.Session, Recorder]:
    session = requests.Session()
    recorder = Recorder(reply)
    session.mount("https://", recorder)
    return session, recorder


def wire(request: requests.PreparedRequest) -> tuple[str | None, str | None, str | None, Any]:
    return (
        request.method,
        request.url,
        request.headers.get("Content-Type"),
        request.body,
    )


JOB = {"id": 42, "name": "deploy_production", "stage": "deploy", "status": "pending"}
FLAG = {"name": "one-click-checkout", "active": False, "strategies": [], "scopes": []}


@pytest.mark.parametrize("action", ["play", "retry", "cancel"])
async def test_job_actions_send_what_python_gitlab_sends(action: str) -> None:
    session, reference = recording_session(JOB)
    client = gitlab.Gitlab(URL, private_token="t", session=session)
    job = client.projects.get("shop/checkout", lazy=True).jobs.get(42, lazy=True)
    getattr(job, action)()

    ours_session, ours = recording_session(JOB)
    source = GitLabSource(GitLabConfig(URL, Secret("t")), session=ours_session)
    request = job_action_request("shop/checkout", 42, action)  # type: ignore[arg-type]
    await source.send(request, project="shop/checkout", action=f"{action} job 42")
    assert [wire(r) for r in ours.sent] == [wire(r) for r in reference.sent]
    assert ours.sent[0].url == f"{URL}/api/v4/projects/shop%2Fcheckout/jobs/42/{action}"


async def test_a_flag_toggle_sends_what_python_gitlabs_save_sends() -> None:
    session, reference = recording_session(FLAG)
    client = gitlab.Gitlab(URL, private_token="t", session=session)
    flag = client.projects.get("shop/checkout", lazy=True).feature_flags.get(
        "one-click-checkout", lazy=True
    )
    flag.active = False
    flag.save()

    ours_session, ours = recording_session(FLAG)
    source = GitLabSource(GitLabConfig(URL, Secret("t")), session=ours_session)
    request = feature_flag_request("shop/checkout", "one-click-checkout", False)
    await source.send(request, project="shop/checkout", action="turning off a flag")
    assert [wire(r) for r in ours.sent] == [wire(r) for r in reference.sent]
    assert ours.sent[0].body == b'{"active": false}'
