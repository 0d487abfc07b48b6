"""The JSON shapes GitLab's REST API v4 answers with, field for field.

One function per entity, named after GitLab's own (``lib/api/entities``): a user, a
commit, a pipeline (thin list item and full), a job (``Job`` with its pipeline, commit
and user nested), a deployment (with its ``deployable`` job), an environment, a feature
flag, compare results and repository files. ``base`` is the instance URL the client
used, so every ``web_url`` points back at this server.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from cockpit.sim.clock import gitlab_time
from cockpit.sim.gitlab.flags import FeatureFlag
from cockpit.sim.gitlab.pipeline import Deployment, Environment, Job, Pipeline
from cockpit.sim.gitlab.repository import Commit, FileDiff, Person, StoredFile

if TYPE_CHECKING:
    from cockpit.sim.gitlab.state import Project

Json = dict[str, Any]

_ACCOUNT_CREATED = "2021-03-01T09:00:00.000Z"
_WEEK = timedelta(days=7)
_INSTANCE_EXPIRY = timedelta(days=30)


def _time(moment: datetime | None) -> str | None:
    return gitlab_time(moment) if moment is not None else None


def _avatar(person: Person) -> str:
    digest = hashlib.md5(person.email.encode(), usedforsecurity=False).hexdigest()
    return f"https://www.gravatar.com/avatar/{digest}?s=80&d=identicon"


def user_basic(person: Person, base: str) -> Json:
    return {
        "id": person.id,
        "username": person.username,
        "name": person.name,
        "state": "active",
        "locked": False,
        "avatar_url": _avatar(person),
        "web_url": f"{base}/{person.username}",
    }


def user(person: Person, base: str) -> Json:
    """The user as jobs nest it (``UserBasic`` plus the public profile fields)."""
    return {
        **user_basic(person, base),
        "created_at": _ACCOUNT_CREATED,
        "bio": "",
        "location": None,
        "public_email": "",
        "skype": "",
        "linkedin": "",
        "twitter": "",
        "discord": "",
        "website_url": "",
        "organization": "Shop",
        "job_title": "",
        "pronouns": None,
        "bot": False,
        "work_information": None,
        "followers": 0,
        "following": 0,
        "local_time": None,
    }


def current_user(person: Person, base: str) -> Json:
    return {
        **user(person, base),
        "email": person.email,
        "is_admin": False,
        "can_create_project": True,
        "two_factor_enabled": True,
        "external": False,
    }


def commit(c: Commit, base: str, project_path: str) -> Json:
    stamp = gitlab_time(c.created_at)
    return {
        "id": c.sha,
        "short_id": c.short_id,
        "created_at": stamp,
        "parent_ids": [c.parent] if c.parent else [],
        "title": c.title,
        "message": c.message,
        "author_name": c.author.name,
        "author_email": c.author.email,
        "authored_date": stamp,
        "committer_name": c.author.name,
        "committer_email": c.author.email,
        "committed_date": stamp,
        "trailers": {},
        "extended_trailers": {},
        "web_url": f"{base}/{project_path}/-/commit/{c.sha}",
    }


def pipeline_basic(p: Pipeline, base: str, project_path: str) -> Json:
    """A pipeline list item: the thin shape (no user, duration or detailed status)."""
    return {
        "id": p.id,
        "iid": p.iid,
        "project_id": p.project_id,
        "sha": p.sha,
        "ref": p.ref,
        "status": p.status,
        "source": p.source,
        "created_at": gitlab_time(p.created_at),
        "updated_at": gitlab_time(p.updated_at),
        "web_url": f"{base}/{project_path}/-/pipelines/{p.id}",
        "name": p.name,
    }


_DETAILED = {
    "success": ("status_success", "passed", "passed", "success"),
    "failed": ("status_failed", "failed", "failed", "failed"),
    "running": ("status_running", "running", "running", "running"),
    "pending": ("status_pending", "pending", "pending", "pending"),
    "created": ("status_created", "created", "created", "created"),
    "canceled": ("status_canceled", "canceled", "canceled", "canceled"),
    "skipped": ("status_skipped", "skipped", "skipped", "skipped"),
    "manual": ("status_manual", "blocked", "waiting for manual action", "manual"),
    "scheduled": ("status_scheduled", "delayed", "waiting for delayed job", "scheduled"),
}


def detailed_status(status: str, details_path: str) -> Json:
    icon, text, label, group = _DETAILED.get(status, _DETAILED["created"])
    return {
        "icon": icon,
        "text": text,
        "label": label,
        "group": group,
        "tooltip": label,
        "has_details": True,
        "details_path": details_path,
        "illustration": None,
        "favicon": f"/assets/ci_favicons/favicon_{icon}.png",
    }


def pipeline(p: Pipeline, base: str, project_path: str, now: datetime) -> Json:
    return {
        **pipeline_basic(p, base, project_path),
        "before_sha": p.before_sha,
        "tag": False,
        "yaml_errors": None,
        "user": user_basic(p.user, base),
        "started_at": _time(p.started_at),
        "finished_at": _time(p.finished_at),
        "committed_at": None,
        "duration": p.duration(now),
        "queued_duration": p.queued_duration(),
        "coverage": None if p.coverage() is None else f"{p.coverage():.2f}",
        "detailed_status": detailed_status(p.status, f"/{project_path}/-/pipelines/{p.id}"),
        "archived": False,
    }


def _job_pipeline(p: Pipeline, base: str, project_path: str) -> Json:
    return {
        "id": p.id,
        "iid": p.iid,
        "project_id": p.project_id,
        "sha": p.sha,
        "ref": p.ref,
        "status": p.status,
        "source": p.source,
        "created_at": gitlab_time(p.created_at),
        "updated_at": gitlab_time(p.updated_at),
        "web_url": f"{base}/{project_path}/-/pipelines/{p.id}",
    }


def _runner(job: Job) -> Json | None:
    if job.started_at is None:
        return None
    number = job.id % 6 + 1
    return {
        "id": number,
        "description": f"shop-runner-{number}",
        "ip_address": None,
        "active": True,
        "paused": False,
        "is_shared": True,
        "runner_type": "instance_type",
        "name": "gitlab-runner",
        "online": True,
        "status": "online",
    }


def _artifacts(job: Job, trace_size: int) -> list[Json]:
    artifacts: list[Json] = []
    if job.definition.artifacts and job.status == "success":
        artifacts += [
            {
                "file_type": "archive",
                "size": 4_812_331,
                "filename": "artifacts.zip",
                "file_format": "zip",
            },
            {
                "file_type": "metadata",
                "size": 312,
                "filename": "metadata.gz",
                "file_format": "gzip",
            },
        ]
    if job.started_at is not None:
        artifacts.append(
            {"file_type": "trace", "size": trace_size, "filename": "job.log", "file_format": None}
        )
    return artifacts


def job(j: Job, base: str, project_path: str, now: datetime, trace_size: int = 0) -> Json:
    """The full ``Job`` entity (what job lists, get, play, retry and cancel answer)."""
    p = j.pipeline
    body: Json = {
        "id": j.id,
        "status": j.status,
        "stage": j.stage,
        "name": j.name,
        "ref": p.ref,
        "tag": False,
        "coverage": j.coverage,
        "allow_failure": j.allow_failure,
        "created_at": gitlab_time(j.created_at),
        "started_at": _time(j.started_at),
        "finished_at": _time(j.finished_at),
        "erased_at": None,
        "duration": j.duration(now),
        "queued_duration": j.queued_duration(now),
        "user": user(j.user, base),
        "commit": commit(p.commit, base, project_path),
        "pipeline": _job_pipeline(p, base, project_path),
        "web_url": f"{base}/{project_path}/-/jobs/{j.id}",
        "project": {"ci_job_token_scope_enabled": False},
        "artifacts": _artifacts(j, trace_size),
        "runner": _runner(j),
        "runner_manager": None,
        "artifacts_expire_at": None,
        "archived": False,
        "tag_list": ["docker", "shop"],
    }
    if j.status == "failed":
        body["failure_reason"] = j.failure_reason or "script_failure"
    if j.finished_at is not None:
        # The build keeps its archive a week (``expire_in``); other artifacts (the log)
        # follow the instance default of 30 days.
        keep = _WEEK if j.definition.artifacts else _INSTANCE_EXPIRY
        body["artifacts_expire_at"] = gitlab_time(j.finished_at.replace(microsecond=0) + keep)
    if j.definition.artifacts and j.status == "success":
        body["artifacts_file"] = {"filename": "artifacts.zip", "size": 4_812_331}
    return body


def environment_basic(env: Environment) -> Json:
    return {"id": env.id, "name": env.name, "external_url": env.external_url}


def deployment(d: Deployment, base: str, project_path: str, now: datetime) -> Json:
    return {
        "id": d.id,
        "iid": d.iid,
        "ref": d.ref,
        "sha": d.sha,
        "created_at": gitlab_time(d.created_at),
        "updated_at": gitlab_time(d.updated_at),
        "status": d.status,
        "user": user_basic(d.user, base),
        "environment": {
            **environment_basic(d.environment),
            "slug": _slug(d.environment.name),
            "state": d.environment.state,
            "tier": d.environment.tier,
        },
        "deployable": job(d.job, base, project_path, now),
        "pending_approval_count": 0,
        "approvals": [],
    }


def _slug(name: str) -> str:
    return name.lower().replace("/", "-")


def environment(env: Environment, base: str, project_path: str) -> Json:
    """An environment as lists answer it (no ``last_deployment``)."""
    return {
        "id": env.id,
        "name": env.name,
        "slug": _slug(env.name),
        "description": None,
        "external_url": env.external_url,
        "state": env.state,
        "tier": env.tier,
        "created_at": gitlab_time(env.created_at),
        "updated_at": gitlab_time(env.updated_at),
        "enable_advanced_logs_querying": False,
        "logs_api_path": f"/{project_path}/-/logs/k8s.json?environment_name={env.name}",
        "auto_stop_at": None,
        "auto_stop_setting": "always",
        "kubernetes_namespace": env.namespace,
        "flux_resource_path": None,
        "cluster_agent": {
            "id": 1,
            "name": "shop-clusters",
            "config_project": {
                "id": 1,
                "description": "Kubernetes agent configuration for the shop's clusters",
                "name": "cluster-config",
                "name_with_namespace": "shop / cluster-config",
                "path": "cluster-config",
                "path_with_namespace": "shop/cluster-config",
                "created_at": "2024-02-05T10:00:00.000Z",
            },
            "created_at": "2024-02-05T10:12:00.000Z",
            "created_by_user_id": 1,
        },
    }


def environment_with_last(env: Environment, base: str, project_path: str, now: datetime) -> Json:
    last = env.last_deployment
    return {
        **environment(env, base, project_path),
        "last_deployment": None if last is None else deployment(last, base, project_path, now),
    }


def feature_flag(flag: FeatureFlag) -> Json:
    return {
        "name": flag.name,
        "description": flag.description,
        "active": flag.active,
        "version": "new_version_flag",
        "created_at": gitlab_time(flag.created_at),
        "updated_at": gitlab_time(flag.updated_at),
        "scopes": [],
        "strategies": [
            {
                "id": s.id,
                "name": s.name,
                "parameters": dict(s.parameters),
                "scopes": [
                    {"id": sc.id, "environment_scope": sc.environment_scope} for sc in s.scopes
                ],
                "user_list": None,
            }
            for s in flag.strategies
        ],
    }


def diff(d: FileDiff) -> Json:
    return {
        "old_path": d.old_path,
        "new_path": d.new_path,
        "a_mode": "0" if d.new_file else "100644",
        "b_mode": "0" if d.deleted_file else "100644",
        "diff": d.diff,
        "collapsed": False,
        "too_large": False,
        "new_file": d.new_file,
        "renamed_file": False,
        "deleted_file": d.deleted_file,
        "generated_file": False,
    }


def compare(
    target: Commit | None,
    commits: list[Commit],
    diffs: list[FileDiff],
    *,
    same_ref: bool,
    base: str,
    project_path: str,
    from_sha: str,
    to_sha: str,
) -> Json:
    return {
        "commit": None if target is None else commit(target, base, project_path),
        "commits": [commit(c, base, project_path) for c in commits],
        "diffs": [diff(d) for d in diffs],
        "compare_timeout": False,
        "compare_same_ref": same_ref,
        "web_url": f"{base}/{project_path}/-/compare/{from_sha}...{to_sha}",
    }


def blob_id(content: bytes) -> str:
    """Git's blob id: sha1 of ``blob <size>\\0<content>``."""
    return hashlib.sha1(b"blob %d\0" % len(content) + content, usedforsecurity=False).hexdigest()


def repository_file(stored: StoredFile, ref: str, ref_commit: Commit) -> Json:
    data = stored.content.encode()
    return {
        "file_name": stored.path.rsplit("/", 1)[-1],
        "file_path": stored.path,
        "size": len(data),
        "encoding": "base64",
        "content_sha256": hashlib.sha256(data).hexdigest(),
        "ref": ref,
        "blob_id": blob_id(data),
        "commit_id": ref_commit.sha,
        "last_commit_id": stored.last_commit.sha,
        "execute_filemode": stored.path.endswith(".sh"),
        "content": base64.b64encode(data).decode(),
    }


def project(p: Project, base: str) -> Json:
    """The project entity (enough of it for clients that ``projects.get()`` first)."""
    spec = p.spec
    return {
        "id": p.id,
        "description": spec.description,
        "name": spec.name,
        "name_with_namespace": f"{spec.group} / {spec.name}",
        "path": spec.name,
        "path_with_namespace": p.path,
        "created_at": gitlab_time(p.created_at),
        "default_branch": p.repo.default_branch,
        "tag_list": [],
        "topics": [],
        "ssh_url_to_repo": f"git@gitlab.shop.example.com:{p.path}.git",
        "http_url_to_repo": f"{base}/{p.path}.git",
        "web_url": f"{base}/{p.path}",
        "readme_url": f"{base}/{p.path}/-/blob/main/README.md",
        "avatar_url": None,
        "forks_count": 0,
        "star_count": 0,
        "last_activity_at": gitlab_time(p.repo.head.created_at),
        "namespace": {
            "id": 10,
            "name": spec.group,
            "path": spec.group,
            "kind": "group",
            "full_path": spec.group,
            "parent_id": None,
            "avatar_url": None,
            "web_url": f"{base}/groups/{spec.group}",
        },
        "visibility": "internal",
        "archived": False,
        "empty_repo": False,
        "jobs_enabled": True,
        "builds_access_level": "enabled",
        "ci_config_path": None,
        "ci_forward_deployment_enabled": True,
        "ci_forward_deployment_rollback_allowed": True,
    }
