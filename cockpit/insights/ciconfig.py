"""A reader for ``.gitlab-ci.yml``: stages, jobs and when each job runs.

``parse(text)`` reads a file as a person committed it; ``parse_merged_yaml(text)`` reads
the ``merged_yaml`` GitLab's CI lint endpoint returns (includes already merged, keys
serialised as Ruby symbols: ``":test_job:"``). Both give a :class:`CiConfig` of frozen
dataclasses, with what GitLab itself would resolve resolved the same way:

- YAML anchors, aliases and ``<<`` merge keys (several in one mapping, or a list);
- ``!reference [.job, key]`` tags, looked up in the same file; any other tag is kept as the
  plain value it tags, never a crash;
- ``extends`` (a name or a list, nested), deep-merged as GitLab does: mappings merge key by
  key, everything else (lists included) is replaced by the later value;
- keywords that are not jobs (``default``, ``variables``, ``include``, ``workflow`` …) and
  hidden ``.jobs``; what ``default:`` and the legacy top-level ``image``/``services``/
  ``before_script`` give every job unless ``inherit: default`` says otherwise.

``include:`` entries are recorded, not fetched: a config with includes is incomplete
(``CiConfig.complete`` is False) unless it came from the merged YAML.

When a job runs is a question about a pipeline: :class:`PipelineContext` describes one (a
push to the default branch, a merge request, a tag …) and :meth:`CiConfig.trigger` answers
with the outcomes GitLab could reach for it (``auto``, ``manual``, ``never``), evaluating
``workflow:rules``, ``rules`` and ``only``/``except`` with :mod:`cockpit.insights.ciexpr`.

Invalid YAML raises ``ValueError`` naming the line and column. Pure functions; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from cockpit.insights.ciexpr import Truth, evaluate

#: GitLab's stages when a file declares none (``.pre`` and ``.post`` always exist).
DEFAULT_STAGES = (".pre", "build", "test", "deploy", ".post")

#: Top-level keys that configure the pipeline instead of naming a job.
RESERVED_KEYWORDS = frozenset(
    {
        "default",
        "include",
        "stages",
        "types",
        "variables",
        "workflow",
        "image",
        "services",
        "cache",
        "before_script",
        "after_script",
        "spec",
    }
)

#: What ``default:`` (or the legacy top level) gives a job that does not set it itself.
_INHERITED_DEFAULTS = ("image", "services", "before_script", "after_script", "artifacts", "cache")
_LEGACY_GLOBALS = ("image", "services", "before_script", "after_script", "cache")
_MAX_EXTENDS_DEPTH = 11
_MAX_REFERENCE_DEPTH = 10

AUTO_WHENS = frozenset({"on_success", "always", "delayed"})


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Include:
    """One ``include:`` entry: where more configuration comes from."""

    kind: str  # local | project | remote | template | component
    location: str


@dataclass(frozen=True)
class Environment:
    """A job's ``environment:`` (a string, or ``{name, action, url, deployment_tier}``)."""

    name: str
    action: str = "start"  # start | prepare | stop | verify | access
    url: str | None = None
    deployment_tier: str | None = None

    @property
    def deploys(self) -> bool:
        """Whether running the job creates a deployment (``stop``/``prepare``/… do not)."""
        return self.action == "start"


@dataclass(frozen=True)
class Rule:
    """One entry of a job's (or the workflow's) ``rules:``."""

    condition: str | None = None  # the ``if:`` expression
    has_changes: bool = False
    has_exists: bool = False
    when: str | None = None
    allow_failure: bool | None = None


@dataclass(frozen=True)
class RefFilter:
    """An ``only:`` or ``except:`` (the older way to say when a job runs)."""

    refs: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()
    has_changes: bool = False
    has_kubernetes: bool = False


@dataclass(frozen=True)
class Artifacts:
    paths: tuple[str, ...] = ()
    reports: tuple[str, ...] = ()
    expire_in: str | None = None


@dataclass(frozen=True)
class CiJob:
    """A visible job, after ``extends``, ``!reference`` and defaults are applied."""

    name: str
    stage: str = "test"
    script: tuple[str, ...] = ()
    before_script: tuple[str, ...] = ()
    image: str | None = None
    #: Jobs this one waits for; None when it has no ``needs:`` (it waits for earlier stages).
    needs: tuple[str, ...] | None = None
    when: str = "on_success"
    rules: tuple[Rule, ...] | None = None
    only: RefFilter | None = None
    except_: RefFilter | None = None
    allow_failure: bool = False
    allow_failure_exit_codes: tuple[int, ...] = ()
    environment: Environment | None = None
    services: tuple[str, ...] = ()
    artifacts: Artifacts | None = None
    coverage: str | None = None
    #: How many copies run (``parallel: 4``, or the size of a ``parallel: matrix``).
    parallel: int | None = None
    extends: tuple[str, ...] = ()
    #: A trigger job starts a downstream pipeline instead of running a script.
    is_trigger: bool = False
    #: Variables the job sees with a literal value: the global ones it inherits, then its
    #: own (after ``extends``), which win.
    variables: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Trigger:
    """What GitLab could do with a job in one kind of pipeline."""

    #: A subset of {"auto", "manual", "never"}: more than one when the answer depends on
    #: something unknown offline (a project variable, which files changed …).
    outcomes: frozenset[str]

    @property
    def automatic(self) -> bool:
        """The job can start by itself (perhaps only when its conditions hold)."""
        return "auto" in self.outcomes

    @property
    def manual(self) -> bool:
        """The job waits for a person, and never starts by itself."""
        return "manual" in self.outcomes and "auto" not in self.outcomes

    @property
    def never(self) -> bool:
        return self.outcomes == frozenset({"never"})

    @property
    def conditional(self) -> bool:
        """Whether it runs depends on something not known offline."""
        return "never" in self.outcomes and len(self.outcomes) > 1


NEVER = Trigger(frozenset({"never"}))


@dataclass(frozen=True)
class PipelineContext:
    """A pipeline to imagine: which ref, which event, which default branch."""

    #: How a sentence names these pipelines: "main", "merge requests", "tags" …
    place: str
    source: str  # push | merge_request_event | web | schedule | api | trigger …
    default_branch: str
    branch: str | None = None
    tag: str | None = None
    merge_request_source: str | None = None

    @classmethod
    def default_branch_push(cls, default_branch: str = "main") -> PipelineContext:
        return cls(default_branch, "push", default_branch, branch=default_branch)

    @classmethod
    def branch_push(cls, default_branch: str = "main", branch: str = "feature") -> PipelineContext:
        return cls("other branches", "push", default_branch, branch=branch)

    @classmethod
    def merge_request(
        cls, default_branch: str = "main", source_branch: str = "feature"
    ) -> PipelineContext:
        return cls(
            "merge requests",
            "merge_request_event",
            default_branch,
            merge_request_source=source_branch,
        )

    @classmethod
    def tag_push(cls, default_branch: str = "main", tag: str = "v1.0.0") -> PipelineContext:
        return cls("tags", "push", default_branch, tag=tag)

    @classmethod
    def web(cls, default_branch: str = "main") -> PipelineContext:
        return cls(
            "pipelines run from GitLab's UI",
            "web",
            default_branch,
            branch=default_branch,
        )

    @property
    def ref(self) -> str:
        return self.branch or self.tag or self.merge_request_source or ""

    def variables(self) -> dict[str, str | None]:
        """Predefined variables GitLab sets for this pipeline (None: known to be unset).

        What depends on the project (protected refs, labels, open merge requests of a
        feature branch) is left out, so it stays unknown.
        """
        merge_request = self.source == "merge_request_event"
        on_default_branch = self.branch == self.default_branch
        known: dict[str, str | None] = {
            "CI_PIPELINE_SOURCE": self.source,
            "CI_DEFAULT_BRANCH": self.default_branch,
            "CI_COMMIT_BRANCH": self.branch,
            "CI_COMMIT_TAG": self.tag,
            "CI_COMMIT_REF_NAME": self.ref,
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": self.merge_request_source,
            "CI_EXTERNAL_PULL_REQUEST_IID": None,
            "CI_PIPELINE_TRIGGERED": "true" if self.source == "trigger" else None,
        }
        if merge_request:
            known["CI_MERGE_REQUEST_IID"] = known["CI_MERGE_REQUEST_ID"] = "1"
            known["CI_MERGE_REQUEST_TARGET_BRANCH_NAME"] = self.default_branch
        else:
            for name in (
                "CI_MERGE_REQUEST_IID",
                "CI_MERGE_REQUEST_ID",
                "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
                "CI_MERGE_REQUEST_EVENT_TYPE",
                "CI_MERGE_REQUEST_LABELS",
            ):
                known[name] = None
        if on_default_branch:
            known["CI_COMMIT_REF_PROTECTED"] = "true"
            known["CI_OPEN_MERGE_REQUESTS"] = None  # nobody merges the default branch
        return known


@dataclass(frozen=True)
class CiConfig:
    """A CI configuration: stages in order and the visible jobs in file order."""

    stages: tuple[str, ...] = DEFAULT_STAGES
    jobs: tuple[CiJob, ...] = ()
    includes: tuple[Include, ...] = ()
    #: Top-level ``variables:`` with literal values (what ``rules: if:`` may test).
    variables: tuple[tuple[str, str], ...] = ()
    workflow_rules: tuple[Rule, ...] | None = None
    #: Whether the file declares ``stages:`` itself (else GitLab's defaults apply).
    stages_declared: bool = False
    #: Hidden jobs (``.name``): templates for ``extends``/``!reference``, never run.
    hidden_jobs: tuple[str, ...] = ()
    #: Things GitLab would reject or that could not be resolved from this file alone.
    warnings: tuple[str, ...] = field(default=(), compare=False)

    @property
    def complete(self) -> bool:
        """Everything is in this text (no ``include:`` left to fetch)."""
        return not self.includes

    @property
    def fragment(self) -> bool:
        """The file is a piece meant to be included into another, not a pipeline by itself.

        Either it defines no job that runs (only hidden ``.templates`` or ``include:``)
        and no stages, or its jobs use stages it does not declare, which GitLab refuses in
        a file of its own ("chosen stage does not exist"; the default stages are
        ``.pre, build, test, deploy, .post``: https://docs.gitlab.com/ee/ci/yaml/#stages).
        """
        if self.stages_declared:
            return False
        if not self.jobs:
            return bool(self.hidden_jobs or self.includes)
        return any(job.stage not in DEFAULT_STAGES for job in self.jobs)

    def job(self, name: str) -> CiJob | None:
        return next((job for job in self.jobs if job.name == name), None)

    def stage_index(self, stage: str) -> int:
        """Position of ``stage`` in the pipeline (unknown stages sort last)."""
        try:
            return self.stages.index(stage)
        except ValueError:
            return len(self.stages)

    def trigger(self, job: CiJob, context: PipelineContext) -> Trigger:
        """Whether ``job`` runs in ``context``'s pipeline: automatically, manually or never."""
        # rules:if sees the job's own variables as well as the global ones
        # (https://docs.gitlab.com/ee/ci/jobs/job_rules.html#cicd-variable-expressions).
        variables: dict[str, str | None] = dict(self.variables)
        variables.update(job.variables)
        if job.environment is not None and "$" not in job.environment.name:
            # GitLab sets it before evaluating the job's rules
            # (https://gitlab.com/gitlab-org/gitlab/-/merge_requests/106093).
            variables["CI_ENVIRONMENT_NAME"] = job.environment.name
        variables.update(context.variables())
        pipeline = _rules_outcomes(self.workflow_rules, variables, default_when="always")
        if pipeline is not None and pipeline <= {"never"}:
            return NEVER
        if job.rules is not None:
            outcomes = _rules_outcomes(job.rules, variables, default_when=job.when) or set()
        else:
            outcomes = _only_except_outcomes(job, context, variables)
        if pipeline is not None and "never" in pipeline:
            outcomes.add("never")
        return Trigger(frozenset(_trigger_kind(outcome) for outcome in outcomes))

    def only_on_default_branch(self, job: CiJob, default_branch: str = "main") -> bool:
        """The job can run for a push to the default branch and for no other push,
        merge request or tag (``only: [main]``, ``if: $CI_COMMIT_BRANCH == …``)."""
        if self.trigger(job, PipelineContext.default_branch_push(default_branch)).never:
            return False
        others = (
            PipelineContext.branch_push(default_branch),
            PipelineContext.merge_request(default_branch),
            PipelineContext.tag_push(default_branch),
        )
        return all(self.trigger(job, context).never for context in others)

    def ancestors(self, job: CiJob) -> frozenset[str]:
        """Names of the jobs that must finish before ``job`` starts.

        Without ``needs:`` a job waits for every job in earlier stages; with ``needs:`` it
        waits only for those jobs and, through them, what they wait for. A need naming a
        job this file does not define (GitLab would refuse it, or it is in an include)
        falls back to the stage order, the cautious reading.
        """
        seen: set[str] = set()
        pending = [job]
        while pending:
            current = pending.pop()
            for name in self._waits_for(current):
                if name not in seen:
                    seen.add(name)
                    waited = self.job(name)
                    if waited is not None:
                        pending.append(waited)
        seen.discard(job.name)
        return frozenset(seen)

    def _waits_for(self, job: CiJob) -> list[str]:
        earlier = [
            other.name
            for other in self.jobs
            if self.stage_index(other.stage) < self.stage_index(job.stage)
        ]
        if job.needs is None:
            return earlier
        known = [name for name in job.needs if self.job(name) is not None]
        if len(known) < len(job.needs):
            return known + earlier
        return known


def guess_default_branch(config: CiConfig) -> str | None:
    """``main`` or ``master`` when the file names one of them as a branch, else None.

    Reading a file without its project, the default branch is unknown; a file that says
    ``only: [master]`` or ``$CI_COMMIT_BRANCH == "master"`` tells which one it means.
    """
    mentioned: set[str] = set()
    filters = [f for job in config.jobs for f in (job.only, job.except_) if f is not None]
    for ref_filter in filters:
        mentioned.update(ref.partition("@")[0] for ref in ref_filter.refs)
    rules = [*(config.workflow_rules or ()), *(r for job in config.jobs for r in job.rules or ())]
    for rule in rules:
        if rule.condition:
            mentioned.update(re.findall(r"""["'](main|master)["']""", rule.condition))
    for name in ("main", "master"):
        if name in mentioned:
            return name
    return None


# --------------------------------------------------------------------------- when jobs run


def _trigger_kind(when: str) -> str:
    if when in AUTO_WHENS:
        return "auto"
    if when == "manual":
        return "manual"
    return "never"  # never, on_failure (only after a failure), anything unknown


def _rules_outcomes(
    rules: tuple[Rule, ...] | None, variables: Mapping[str, str | None], *, default_when: str
) -> set[str] | None:
    """The ``when`` values ``rules`` can reach (the first matching rule wins)."""
    if rules is None:
        return None
    outcomes: set[str] = set()
    for rule in rules:
        matched: Truth = True if rule.condition is None else evaluate(rule.condition, variables)
        if matched is not False and (rule.has_changes or rule.has_exists):
            matched = None  # which files changed or exist is unknown offline
        when = rule.when or default_when
        if matched is True:
            outcomes.add(when)
            return outcomes
        if matched is None:
            outcomes.add(when)
    outcomes.add("never")
    return outcomes


def _only_except_outcomes(
    job: CiJob, context: PipelineContext, variables: Mapping[str, str | None]
) -> set[str]:
    only = job.only if job.only is not None else RefFilter(refs=("branches", "tags"))
    included = _filter_matches(only, context, variables)
    excluded: Truth = False
    if job.except_ is not None:
        excluded = _filter_matches(job.except_, context, variables)
    runs: Truth
    if included is False or excluded is True:
        runs = False
    elif included is True and excluded is False:
        runs = True
    else:
        runs = None
    if runs is True:
        return {job.when}
    if runs is None:
        return {job.when, "never"}
    return {"never"}


def _filter_matches(
    ref_filter: RefFilter, context: PipelineContext, variables: Mapping[str, str | None]
) -> Truth:
    """Whether an ``only``/``except`` clause matches the pipeline (its parts are ANDed)."""
    parts: list[Truth] = []
    if ref_filter.refs:
        parts.append(_any(_ref_matches(ref, context) for ref in ref_filter.refs))
    if ref_filter.variables:
        parts.append(_any(evaluate(expression, variables) for expression in ref_filter.variables))
    if ref_filter.has_changes or ref_filter.has_kubernetes:
        parts.append(None)
    result: Truth = True
    for part in parts:
        if part is False:
            return False
        if part is None:
            result = None
    return result


def _any(values: Iterable[Truth]) -> Truth:
    result: Truth = False
    for value in values:
        if value is True:
            return True
        if value is None:
            result = None
    return result


_SOURCE_KEYWORDS = {
    "api": "api",
    "chat": "chat",
    "external": "external",
    "external_pull_requests": "external_pull_request_event",
    "merge_requests": "merge_request_event",
    "pipelines": "pipeline",
    "pushes": "push",
    "schedules": "schedule",
    "triggers": "trigger",
    "web": "web",
}


def _ref_matches(ref: str, context: PipelineContext) -> Truth:
    """One ``only: refs`` entry against the pipeline (GitLab's keywords, names, /regex/)."""
    merge_request = context.source == "merge_request_event"
    if ref == "branches":
        return context.branch is not None and not merge_request
    if ref == "tags":
        return context.tag is not None
    if ref in _SOURCE_KEYWORDS:
        return context.source == _SOURCE_KEYWORDS[ref]
    name, _, project = ref.partition("@")
    if merge_request:
        return False  # names and patterns select branch and tag pipelines only
    if name.startswith("/") and name.rfind("/") > 0:
        body, _, flags = name[1:].rpartition("/")
        try:
            pattern = re.compile(body, re.IGNORECASE if "i" in flags else 0)
        except re.error:
            return None
        matched: Truth = pattern.search(context.ref) is not None
    else:
        matched = name == context.ref
    if matched and project:
        return None  # "main@group/project": depends on which project runs it
    return matched


# --------------------------------------------------------------------------- YAML


@dataclass(frozen=True)
class Reference:
    """A ``!reference [.job, key, …]`` not (yet) resolved."""

    path: tuple[str, ...]


#: libyaml's parser when PyYAML was built with it (several times faster), else pure Python.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeLoader):
    """Safe YAML with GitLab's ``!reference`` and a no-crash rule for other tags."""


def _construct_reference(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.SequenceNode):
        return Reference(tuple(str(part) for part in loader.construct_sequence(node, deep=True)))
    return _construct_untagged(loader, "", node)


def _construct_untagged(loader: yaml.SafeLoader, _suffix: str, node: yaml.Node) -> Any:
    """Any other tag: keep the value it tags, as if it had no tag."""
    if isinstance(node, yaml.MappingNode):
        return loader.construct_mapping(node, deep=True)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_scalar(node)


_Loader.add_constructor("!reference", _construct_reference)
_Loader.add_multi_constructor("!", _construct_untagged)
_Loader.add_multi_constructor("tag:", _construct_untagged)


def _load(text: str) -> Any:
    try:
        documents = [doc for doc in yaml.load_all(text, Loader=_Loader) if doc is not None]
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = error.problem or error.context or "cannot be read"
        raise ValueError(f"invalid YAML at {where}: {problem}") from error
    except yaml.YAMLError as error:
        raise ValueError(f"invalid YAML: {error}") from error
    if not documents:
        return {}
    # A CI/CD component or an input-taking file starts with a `spec:` header document.
    if len(documents) > 1 and isinstance(documents[0], dict) and "spec" in documents[0]:
        return documents[1]
    return documents[0]


def _strip_symbol_keys(value: Any) -> Any:
    """``{":test_job": {":script": …}}`` → ``{"test_job": {"script": …}}``."""
    if isinstance(value, dict):
        return {
            (key[1:] if isinstance(key, str) and key.startswith(":") else key): _strip_symbol_keys(
                item
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_strip_symbol_keys(item) for item in value]
    return value


# --------------------------------------------------------------------------- parsing


def parse(text: str) -> CiConfig:
    """Read a ``.gitlab-ci.yml`` as committed. Raises ``ValueError`` for invalid YAML."""
    return _build(_load(text))


def parse_merged_yaml(text: str) -> CiConfig:
    """Read the ``merged_yaml`` of GitLab's CI lint response (Ruby-symbol keys)."""
    return _build(_strip_symbol_keys(_load(text)))


class _Builder:
    def __init__(self, document: dict[Any, Any]) -> None:
        self.document = {str(key): value for key, value in document.items()}
        self.warnings: list[str] = []

    # -- !reference

    def resolve_references(self, value: Any, depth: int = 0) -> Any:
        if isinstance(value, Reference):
            if depth >= _MAX_REFERENCE_DEPTH:
                self.warnings.append(f"!reference {list(value.path)} nests too deeply")
                return None
            target: Any = self.document
            for part in value.path:
                if not isinstance(target, dict) or part not in target:
                    self.warnings.append(f"!reference {list(value.path)} points at nothing")
                    return None
                target = target[part]
            return self.resolve_references(target, depth + 1)
        if isinstance(value, dict):
            return {key: self.resolve_references(item, depth) for key, item in value.items()}
        if isinstance(value, list):
            return [self.resolve_references(item, depth) for item in value]
        return value

    # -- extends

    def expand(self, name: str, chain: tuple[str, ...] = ()) -> dict[str, Any]:
        if name in chain:
            cycle = " → ".join((*chain, name))
            raise ValueError(f"circular extends: {cycle}")
        if len(chain) >= _MAX_EXTENDS_DEPTH:
            raise ValueError(f"extends nests deeper than {_MAX_EXTENDS_DEPTH} levels at {name}")
        body = self.document[name]
        merged: dict[str, Any] = {}
        for parent in _names(body.get("extends")):
            if not isinstance(self.document.get(parent), dict) or parent in RESERVED_KEYWORDS:
                self.warnings.append(f"{name} extends {parent}, which is not defined here")
                continue
            merged = _deep_merge(merged, self.expand(parent, (*chain, name)))
        own = {key: item for key, item in body.items() if key != "extends"}
        return _deep_merge(merged, own)

    # -- the whole config

    def build(self) -> CiConfig:
        self.document = self.resolve_references(self.document)
        stages = self.stages()
        defaults = self.defaults()
        jobs: list[CiJob] = []
        for name, body in self.document.items():
            if name in RESERVED_KEYWORDS or name.startswith("."):
                continue
            if not isinstance(body, dict):
                self.warnings.append(f"{name!r} is neither a keyword nor a job")
                continue
            expanded = self.expand(name)
            job = self.job(name, expanded, defaults)
            if job.stage not in stages:
                self.warnings.append(f"job {name} uses stage {job.stage!r}, which is not declared")
            jobs.append(job)
        for job in jobs:
            for need in job.needs or ():
                if not any(other.name == need for other in jobs):
                    self.warnings.append(f"job {job.name} needs {need}, which is not defined here")
        return CiConfig(
            stages=stages,
            jobs=tuple(jobs),
            includes=self.includes(),
            variables=_literal_variables(self.document.get("variables")),
            workflow_rules=self.workflow_rules(),
            stages_declared=isinstance(
                self.document.get("stages", self.document.get("types")), list
            ),
            hidden_jobs=tuple(
                name
                for name, body in self.document.items()
                if name.startswith(".") and isinstance(body, dict)
            ),
            warnings=tuple(dict.fromkeys(self.warnings)),
        )

    def stages(self) -> tuple[str, ...]:
        declared = self.document.get("stages", self.document.get("types"))
        if not isinstance(declared, list):
            return DEFAULT_STAGES
        names = [str(stage) for stage in _flatten(declared) if stage is not None]
        body = [stage for stage in names if stage not in (".pre", ".post")]
        return (".pre", *dict.fromkeys(body), ".post")

    def defaults(self) -> dict[str, Any]:
        inherited = {key: self.document[key] for key in _LEGACY_GLOBALS if key in self.document}
        default = self.document.get("default")
        if isinstance(default, dict):
            inherited.update(
                {key: value for key, value in default.items() if key in _INHERITED_DEFAULTS}
            )
        return inherited

    def includes(self) -> tuple[Include, ...]:
        raw = self.document.get("include")
        if raw is None:
            return ()
        entries = raw if isinstance(raw, list) else [raw]
        found: list[Include] = []
        for entry in entries:
            if isinstance(entry, str):
                kind = "remote" if entry.startswith(("http://", "https://")) else "local"
                found.append(Include(kind, entry))
            elif isinstance(entry, dict):
                for kind in ("local", "remote", "template", "component", "project"):
                    if kind in entry:
                        location = entry[kind]
                        if kind == "project":
                            files = ", ".join(str(path) for path in _names(entry.get("file")))
                            location = f"{location}: {files}" if files else str(location)
                        found.append(Include(kind, str(location)))
                        break
        return tuple(found)

    def workflow_rules(self) -> tuple[Rule, ...] | None:
        workflow = self.document.get("workflow")
        if not isinstance(workflow, dict) or not isinstance(workflow.get("rules"), list):
            return None
        return _rules(workflow["rules"])

    def job(self, name: str, body: dict[str, Any], defaults: dict[str, Any]) -> CiJob:
        body = {**self.inherited(body, defaults), **body}
        values = self.job_variables(body)
        rules = _rules(body["rules"]) if isinstance(body.get("rules"), list) else None
        when = str(body.get("when") or "on_success")
        allow_failure, exit_codes = _allow_failure(body.get("allow_failure"))
        if allow_failure is None:
            # GitLab's default: a `when: manual` job outside `rules` may fail.
            allow_failure = when == "manual" and rules is None
        return CiJob(
            name=name,
            stage=str(body.get("stage") or body.get("type") or "test"),
            script=_lines(body.get("script")),
            before_script=_lines(body.get("before_script")),
            image=_image(body.get("image")),
            needs=_needs(body["needs"]) if "needs" in body else None,
            when=when,
            rules=rules,
            only=_ref_filter(body.get("only")),
            except_=_ref_filter(body.get("except")),
            allow_failure=allow_failure,
            allow_failure_exit_codes=exit_codes,
            environment=_environment(body.get("environment"), values),
            services=_services(body.get("services")),
            artifacts=_artifacts(body.get("artifacts")),
            coverage=str(body["coverage"]) if body.get("coverage") is not None else None,
            parallel=_parallel(body.get("parallel")),
            extends=tuple(_names(self.document[name].get("extends"))),
            is_trigger="trigger" in body,
            variables=tuple((key, value) for key, value in values.items() if "$" not in value),
        )

    def job_variables(self, body: dict[str, Any]) -> dict[str, str]:
        """The variables a job sees: the global ones ``inherit: variables`` lets through,
        then its own (https://docs.gitlab.com/ee/ci/yaml/#inheritvariables)."""
        inherit = body.get("inherit")
        choice = inherit.get("variables", True) if isinstance(inherit, dict) else True
        globals_ = _variable_values(self.document.get("variables"))
        if choice is False:
            globals_ = {}
        elif isinstance(choice, list):
            allowed = set(_names(choice))
            globals_ = {key: value for key, value in globals_.items() if key in allowed}
        return {**globals_, **_variable_values(body.get("variables"))}

    @staticmethod
    def inherited(body: dict[str, Any], defaults: dict[str, Any]) -> dict[str, Any]:
        inherit = body.get("inherit")
        choice = inherit.get("default", True) if isinstance(inherit, dict) else True
        if choice is False:
            return {}
        allowed = set(_names(choice)) if isinstance(choice, list) else set(defaults)
        return {key: value for key, value in defaults.items() if key in allowed}


def _build(document: Any) -> CiConfig:
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise ValueError(f"a CI configuration is a mapping of job names and keywords, not a {kind}")
    return _Builder(document).build()


# --------------------------------------------------------------------------- field readers


def _deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for element in value for item in _flatten(element)]
    return [value]


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    return [str(item) for item in _flatten(value) if item is not None]


def _lines(value: Any) -> tuple[str, ...]:
    """A script: one string, or a list that GitLab flattens (nested lists from references)."""
    if value is None:
        return ()
    return tuple(
        str(item) for item in _flatten(value) if item is not None and not isinstance(item, dict)
    )


def _image(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("name")
    return str(value) if value is not None else None


def _needs(value: Any) -> tuple[str, ...]:
    names: list[str] = []
    for entry in _flatten(value):
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict) and "job" in entry:
            if "pipeline" in entry or "project" in entry:
                continue  # artifacts from another pipeline: no ordering inside this one
            names.append(str(entry["job"]))
    return tuple(names)


def _rules(entries: list[Any]) -> tuple[Rule, ...]:
    """``rules:`` in order; lists nested by ``- !reference [.job, rules]`` are flattened
    in place (https://docs.gitlab.com/ee/ci/yaml/yaml_optimization.html#reference-tags)."""
    rules: list[Rule] = []
    for entry in _flatten(entries):
        if not isinstance(entry, dict):
            continue
        condition = entry.get("if")
        allow_failure = entry.get("allow_failure")
        rules.append(
            Rule(
                condition=str(condition) if condition is not None else None,
                has_changes=bool(entry.get("changes")),
                has_exists=bool(entry.get("exists")),
                when=str(entry["when"]) if entry.get("when") is not None else None,
                allow_failure=allow_failure if isinstance(allow_failure, bool) else None,
            )
        )
    return tuple(rules)


def _ref_filter(value: Any) -> RefFilter | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return RefFilter(
            refs=tuple(_names(value.get("refs"))),
            variables=tuple(_names(value.get("variables"))),
            has_changes=bool(value.get("changes")),
            has_kubernetes=bool(value.get("kubernetes")),
        )
    return RefFilter(refs=tuple(_names(value)))


def _allow_failure(value: Any) -> tuple[bool | None, tuple[int, ...]]:
    if isinstance(value, bool):
        return value, ()
    if isinstance(value, dict) and "exit_codes" in value:
        codes = tuple(int(code) for code in _flatten(value["exit_codes"]) if str(code).isdigit())
        return False, codes
    return None, ()


def _environment(value: Any, variables: Mapping[str, str] | None = None) -> Environment | None:
    """The job's environment, its name expanded with the variables the file defines.

    GitLab expands ``environment:name`` itself, with any CI/CD variable
    (https://docs.gitlab.com/ee/ci/variables/where_variables_can_be_used.html); what the
    file does not define (predefined ``$CI_COMMIT_REF_SLUG``, project variables) stays as
    written, a pattern such as ``review/$CI_COMMIT_REF_SLUG``.
    """
    known = variables or {}
    if isinstance(value, str):
        return Environment(name=expand(value, known))
    if isinstance(value, dict) and value.get("name") is not None:
        tier = value.get("deployment_tier")
        url = value.get("url")
        return Environment(
            name=expand(str(value["name"]), known),
            action=str(value.get("action") or "start"),
            url=str(url) if url is not None else None,
            deployment_tier=expand(str(tier), known) if tier is not None else None,
        )
    return None


def _services(value: Any) -> tuple[str, ...]:
    names: list[str] = []
    for entry in _flatten(value) if value is not None else []:
        if isinstance(entry, str):
            names.append(entry)
        elif isinstance(entry, dict) and entry.get("name") is not None:
            names.append(str(entry["name"]))
    return tuple(names)


def _artifacts(value: Any) -> Artifacts | None:
    if not isinstance(value, dict):
        return None
    reports = value.get("reports")
    expire_in = value.get("expire_in")
    return Artifacts(
        paths=tuple(_names(value.get("paths"))),
        reports=tuple(str(key) for key in reports) if isinstance(reports, dict) else (),
        expire_in=str(expire_in) if expire_in is not None else None,
    )


def _parallel(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict) and isinstance(value.get("matrix"), list):
        total = 0
        for entry in value["matrix"]:
            if not isinstance(entry, dict):
                continue
            combinations = 1
            for options in entry.values():
                combinations *= len(options) if isinstance(options, list) else 1
            total += combinations
        return total or None
    return None


def _literal_variables(value: Any) -> tuple[tuple[str, str], ...]:
    """Top-level variables whose value is a literal (``$OTHER`` references stay unknown)."""
    if not isinstance(value, dict):
        return ()
    found: list[tuple[str, str]] = []
    for name, item in value.items():
        if isinstance(item, dict):
            item = item.get("value")
        if isinstance(item, bool | int | float | str) and "$" not in str(item):
            found.append((str(name), str(item)))
    return tuple(found)


def _variable_values(value: Any) -> dict[str, str]:
    """``variables:`` as name → text (``{value: …, description: …}`` gives its value)."""
    if not isinstance(value, dict):
        return {}
    found: dict[str, str] = {}
    for name, item in value.items():
        if isinstance(item, dict):
            item = item.get("value")
        if isinstance(item, bool | int | float | str):
            found[str(name)] = str(item).lower() if isinstance(item, bool) else str(item)
    return found


_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")
_MAX_EXPANSIONS = 10


def expand(text: str, variables: Mapping[str, str]) -> str:
    """``$NAME`` and ``${NAME}`` replaced by their values, repeatedly (a value may name
    another variable); names not in ``variables`` are left as written."""
    for _ in range(_MAX_EXPANSIONS):
        expanded = _VARIABLE.sub(
            lambda match: variables.get(match.group(1) or match.group(2), match.group(0)), text
        )
        if expanded == text:
            break
        text = expanded
    return text
