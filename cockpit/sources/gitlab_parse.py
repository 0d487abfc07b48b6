"""GitLab REST JSON → :mod:`cockpit.model`, with no I/O (GitLab's REST API v4, doc/api/).

Pure functions over the dicts the API returns (and python-gitlab hands back as
``.attributes``): pipelines with their jobs and bridges grouped into stages, deployments
with ``finished_at`` taken from the deployable job, feature flags, repository comparisons,
CI lint results and file contents. Webhook payload shapes parse too (their timestamps are
``2016-08-12 15:23:28 UTC`` and their jobs carry ``environment`` objects).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import yaml

from cockpit.model import (
    CiLint,
    Comparison,
    Deployment,
    FeatureFlag,
    FileChange,
    FlagStrategy,
    Job,
    Pipeline,
    Stage,
)
from cockpit.sources.timestamps import parse_timestamp

JSON = Mapping[str, Any]
#: Stands in for a timestamp the payload lacks where the model requires one.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _username(value: Any) -> str | None:
    if isinstance(value, Mapping):
        name = value.get("username") or value.get("name")
        return str(name) if name else None
    return None


def _float(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def parse_job(obj: JSON, *, is_bridge: bool | None = None) -> Job:
    """A job or bridge from the Jobs API (or a webhook's ``builds[]`` entry)."""
    status = str(obj.get("status") or "created")
    environment = obj.get("environment")
    if isinstance(environment, Mapping):
        environment = environment.get("name")
    bridge = is_bridge if is_bridge is not None else "downstream_pipeline" in obj
    return Job(
        id=int(obj["id"]),
        name=str(obj.get("name") or ""),
        stage=str(obj.get("stage") or ""),
        status=status,
        allow_failure=bool(obj.get("allow_failure", False)),
        created_at=parse_timestamp(obj.get("created_at")),
        started_at=parse_timestamp(obj.get("started_at")),
        finished_at=parse_timestamp(obj.get("finished_at")),
        duration=_float(obj.get("duration")),
        environment=str(environment) if environment else None,
        # GitLab only sets failure_reason on failed jobs; webhooks may carry a stale one.
        failure_reason=(str(obj["failure_reason"]) if obj.get("failure_reason") else None)
        if status == "failed"
        else None,
        coverage=_float(obj.get("coverage")),
        user=_username(obj.get("user")),
        web_url=obj.get("web_url"),
        is_bridge=bridge,
    )


def group_stages(jobs: Iterable[Job], stage_order: Sequence[str] = ()) -> tuple[Stage, ...]:
    """Jobs grouped into stages, in pipeline order.

    The Jobs API has no stage index. ``stage_order`` (from the CI configuration or a
    webhook's ``stages``) wins when given; otherwise stages follow the lowest job id in
    each, because GitLab creates a pipeline's jobs stage by stage. Jobs inside a stage
    are ordered by id.
    """
    by_stage: dict[str, list[Job]] = {}
    for job in jobs:
        by_stage.setdefault(job.stage, []).append(job)
    rank = {name: index for index, name in enumerate(stage_order)}

    def key(name: str) -> tuple[int, int]:
        return (rank.get(name, len(rank)), min(j.id for j in by_stage[name]))

    return tuple(
        Stage(name=name, jobs=tuple(sorted(by_stage[name], key=lambda j: j.id)))
        for name in sorted(by_stage, key=key)
    )


def parse_pipeline(
    obj: JSON,
    jobs: Iterable[JSON] = (),
    bridges: Iterable[JSON] = (),
    *,
    stage_order: Sequence[str] = (),
) -> Pipeline:
    """A pipeline (single-pipeline GET, a thin list item, or a webhook's object_attributes)."""
    parsed = [parse_job(j, is_bridge=False) for j in jobs]
    parsed += [parse_job(b, is_bridge=True) for b in bridges]
    return Pipeline(
        id=int(obj["id"]),
        iid=obj.get("iid"),
        status=str(obj.get("status") or "created"),
        ref=str(obj.get("ref") or ""),
        sha=str(obj.get("sha") or ""),
        source=obj.get("source"),
        created_at=parse_timestamp(obj.get("created_at")),
        updated_at=parse_timestamp(obj.get("updated_at")),
        started_at=parse_timestamp(obj.get("started_at")),
        finished_at=parse_timestamp(obj.get("finished_at")),
        duration=_float(obj.get("duration")),
        user=_username(obj.get("user")),
        web_url=obj.get("web_url"),
        stages=group_stages(parsed, stage_order or obj.get("stages") or ()),
    )


def parse_deployment(obj: JSON, *, environment: str | None = None) -> Deployment:
    """One deployment; ``environment`` names it when the payload does not (``last_deployment``)."""
    deployable = obj.get("deployable") or {}
    env = obj.get("environment")
    env_name = env.get("name") if isinstance(env, Mapping) else env
    commit = deployable.get("commit") or {}
    pipeline = deployable.get("pipeline") or {}
    title = commit.get("title")
    return Deployment(
        id=int(obj["id"]),
        iid=int(obj.get("iid") or 0),
        status=str(obj.get("status") or "created"),
        ref=str(obj.get("ref") or ""),
        sha=str(obj.get("sha") or ""),
        created_at=parse_timestamp(obj.get("created_at")) or EPOCH,
        environment=str(env_name or environment or ""),
        finished_at=parse_timestamp(deployable.get("finished_at")),
        user=_username(obj.get("user")),
        job_id=int(deployable["id"]) if deployable.get("id") is not None else None,
        job_name=deployable.get("name"),
        job_status=deployable.get("status"),
        pipeline_id=int(pipeline["id"]) if pipeline.get("id") is not None else None,
        commit_created_at=parse_timestamp(commit.get("created_at")),
        commit_title=title.rstrip("\r\n") if isinstance(title, str) else None,
    )


def parse_deployments(
    objs: Iterable[JSON], *, environment: str | None = None
) -> tuple[Deployment, ...]:
    """Deployments newest first, with ``is_rollback`` marked per environment (see
    :func:`mark_rollbacks`); a list may mix environments."""
    by_environment: dict[str, list[Deployment]] = {}
    for obj in objs:
        deployment = parse_deployment(obj, environment=environment)
        by_environment.setdefault(deployment.environment, []).append(deployment)
    marked = [
        deployment
        for group in by_environment.values()
        for deployment in mark_rollbacks(sorted(group, key=lambda d: d.id, reverse=True))
    ]
    return tuple(sorted(marked, key=lambda d: d.id, reverse=True))


def mark_rollbacks(newest_first: Sequence[Deployment]) -> tuple[Deployment, ...]:
    """Mark deployments that went back to a sha already deployed successfully before.

    A deployment is a rollback when an older successful deployment of the same
    environment had its sha, and the successful deployment just before it had another
    (re-deploying what already runs is not a rollback). Only the given window is known.
    """
    marked: list[Deployment] = []
    for index, deployment in enumerate(newest_first):
        older = [d for d in newest_first[index + 1 :] if d.status == "success"]
        rollback = bool(older) and older[0].sha != deployment.sha
        rollback = rollback and any(d.sha == deployment.sha for d in older[1:])
        if rollback != deployment.is_rollback:
            deployment = replace(deployment, is_rollback=rollback)
        marked.append(deployment)
    return tuple(marked)


def manual_gate(deployments: Iterable[Deployment]) -> int | None:
    """The job id of the newest deployment still waiting on a manual deploy job."""
    for deployment in sorted(deployments, key=lambda d: d.id, reverse=True):
        if deployment.status in ("created", "blocked") and deployment.job_status == "manual":
            return deployment.job_id
    return None


def parse_feature_flag(obj: JSON) -> FeatureFlag:
    strategies = []
    for raw in obj.get("strategies") or ():
        parameters = raw.get("parameters") or {}
        scopes = tuple(
            str(s.get("environment_scope")) for s in raw.get("scopes") or () if isinstance(s, dict)
        )
        strategies.append(
            FlagStrategy(
                id=raw.get("id"),
                name=str(raw.get("name") or ""),
                parameters=tuple(sorted((str(k), str(v)) for k, v in parameters.items())),
                scopes=scopes,
            )
        )
    return FeatureFlag(
        name=str(obj["name"]),
        active=bool(obj.get("active", False)),
        description=obj.get("description"),
        strategies=tuple(strategies),
        updated_at=parse_timestamp(obj.get("updated_at")),
    )


def parse_comparison(obj: JSON, *, from_sha: str, to_sha: str) -> Comparison:
    files = tuple(
        FileChange(
            old_path=str(d.get("old_path") or d.get("new_path") or ""),
            new_path=str(d.get("new_path") or d.get("old_path") or ""),
            new_file=bool(d.get("new_file", False)),
            deleted_file=bool(d.get("deleted_file", False)),
            renamed_file=bool(d.get("renamed_file", False)),
            diff=str(d.get("diff") or ""),
        )
        for d in obj.get("diffs") or ()
    )
    return Comparison(
        from_sha=from_sha,
        to_sha=to_sha,
        files=files,
        commits=len(obj.get("commits") or ()),
        timed_out=bool(obj.get("compare_timeout", False)),
    )


def _strip_symbols(value: Any) -> Any:
    """Undo Ruby symbol keys (``":script:"`` → ``"script"``) in a YAML-parsed document."""
    if isinstance(value, dict):
        return {
            (k[1:] if isinstance(k, str) and k.startswith(":") else k): _strip_symbols(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_strip_symbols(v) for v in value]
    return value


def normalize_merged_yaml(text: str) -> str:
    """GitLab's ``merged_yaml`` with plain keys, so a YAML reader sees ``stages``, not ``:stages``.

    Text that does not parse as YAML is returned unchanged.
    """
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return str(yaml.safe_dump(_strip_symbols(document), sort_keys=False, allow_unicode=True))


def parse_ci_lint(obj: JSON) -> CiLint:
    """Project CI lint (``valid``), the older ``status: valid`` form, or a ``{"error": …}`` body."""
    valid = bool(obj["valid"]) if "valid" in obj else obj.get("status") == "valid"
    errors = [str(e) for e in obj.get("errors") or ()]
    if obj.get("error"):
        errors.append(str(obj["error"]))
        valid = False
    merged = obj.get("merged_yaml")
    return CiLint(
        valid=valid,
        merged_yaml=normalize_merged_yaml(merged) if isinstance(merged, str) else None,
        errors=tuple(errors),
        warnings=tuple(str(w) for w in obj.get("warnings") or ()),
    )


def parse_file_content(obj: JSON) -> str | None:
    """The text of a repository file from ``GET .../repository/files/:path`` (None: no content)."""
    content = obj.get("content")
    if not isinstance(content, str):
        return None
    if obj.get("encoding", "base64") == "base64":
        try:
            data = base64.b64decode(content)
        except (binascii.Error, ValueError):
            return None
        return data.decode("utf-8", errors="replace")
    return content
