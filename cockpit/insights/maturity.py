"""Where a project stands on the continuous deployment maturity model, measured.

The article's levels, as cockpit measures them from the CI configuration:

1. **manual deployments**: no CI, or CI that runs no tests;
2. **continuous integration**: builds and tests run by themselves, deployment is manual or
   happens outside the pipeline;
3. **continuous delivery**: the pipeline deploys, but production waits for a person
   (``when: manual``, or a tag someone pushes);
4. **continuous deployment**: production deploys automatically on the default branch,
   after tests that must pass first.

Besides the level, :func:`assess` reports each prerequisite the article names as present,
missing or unknown, with the reason: tests on every commit and of each kind (unit,
integration with real services, contract, end-to-end), fail-fast order, build artifacts,
a staging deploy before production, smoke tests after it, monitoring, a rollback path and
feature flags. What needs GitLab (deployment history, flags) or cockpit's configuration
(a health query) is *unknown* when that input is None, never *missing*; so is what an
``include:`` not read could contain. ``next_step`` is the most valuable missing item.

Pure functions; no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cockpit.insights.ciconfig import CiConfig, CiJob, PipelineContext, Trigger
from cockpit.insights.job_roles import JobRole, classify, pushes_image, words
from cockpit.model import Deployment, FeatureFlag

LEVEL_NAMES = {
    1: "manual deployments",
    2: "continuous integration",
    3: "continuous delivery",
    4: "continuous deployment",
}

#: Every signal: its title, and what to do when it is missing.
SIGNALS: dict[str, tuple[str, str]] = {
    "ci": (
        "a CI pipeline",
        "add a .gitlab-ci.yml whose jobs build and test every commit",
    ),
    "automated_tests": (
        "automated tests on every commit",
        "add a test job that runs on every push (for example stage: test, script: your "
        "test command)",
    ),
    "production_deploy": (
        "production deploys from the pipeline",
        "deploy production from the pipeline: a job with environment: production and "
        "when: manual on the default branch, so a deploy is one click",
    ),
    "unit_tests": (
        "unit tests",
        "add a fast unit test job that runs on every push",
    ),
    "monitoring": (
        "production health monitored",
        "set a success-rate query for production in cockpit.toml so a bad deploy shows "
        "within minutes",
    ),
    "rollback_path": (
        "a rollback path",
        "deploy through GitLab environments so an earlier successful deployment can be "
        "re-deployed in one step",
    ),
    "integration_tests": (
        "integration tests with real services",
        "add an integration test job with services: (the database and cache the app uses)",
    ),
    "production_verification": (
        "smoke tests after the production deploy",
        "add a job after the production deploy (needs: [the deploy job]) that runs smoke "
        "tests against production",
    ),
    "staging": (
        "a staging deploy before production",
        "deploy to a staging environment in a stage before production (or make the "
        "production job need it)",
    ),
    "fail_fast": (
        "fail-fast order",
        "run lint and type checks in a first stage, before the slow tests",
    ),
    "e2e_tests": (
        "end-to-end tests",
        "add an end-to-end test job that runs by itself before production",
    ),
    "contract_tests": (
        "contract tests",
        "add contract tests that check the APIs other services rely on",
    ),
    "build_artifacts": (
        "build artifacts kept",
        "build once and keep the result (artifacts: paths, or an image pushed to a "
        "registry) so every stage deploys the same build",
    ),
    "feature_flags": (
        "feature flags in use",
        "put unfinished or risky features behind GitLab feature flags, so deploy and "
        "release are separate",
    ),
    "continuous_deployment": (
        "production deploys automatically after tests",
        "once the prerequisites above hold, let the production job run automatically on "
        "the default branch after the tests",
    ),
}
#: Most valuable first: the order in which missing items become the next step.
PRIORITY = tuple(SIGNALS)

_INCLUDES_ADVICE = (
    "assess the service with GitLab access (cockpit maturity SERVICE), which reads the "
    "configuration with its includes merged"
)
_FRAGMENT_ADVICE = (
    "assess the .gitlab-ci.yml that includes this file, or the service with GitLab access "
    "(cockpit maturity SERVICE)"
)
_TEST_KINDS = {
    "unit_tests": "unit",
    "integration_tests": "integration",
    "contract_tests": "contract",
    "e2e_tests": "e2e",
}
_TEST_STAGE_WORDS = {"test", "tests", "spec", "rspec", "unit", "integration", "e2e", "browser"}


@dataclass(frozen=True)
class Finding:
    key: str
    title: str
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"key": self.key, "title": self.title, "reason": self.reason}


#: How a fragment (a file meant to be included, see ``CiConfig.fragment``) is reported.
FRAGMENT_NOTE = "fragment — tests and stages come from includes"


@dataclass(frozen=True)
class MaturityReport:
    #: None when the file cannot tell: a fragment whose tests live in the including file.
    level: int | None
    present: tuple[Finding, ...] = ()
    missing: tuple[Finding, ...] = ()
    unknown: tuple[Finding, ...] = ()
    #: The most valuable missing item; its reason says what to do.
    next_step: Finding | None = None
    #: False when the CI configuration includes files that were not read: the level is
    #: then a lower bound (what the includes hold could raise it).
    complete: bool = True
    #: The CI file is a fragment meant to be included (``CiConfig.fragment``).
    fragment: bool = False

    @property
    def level_name(self) -> str:
        if self.level is None:
            return FRAGMENT_NOTE if self.fragment else "unknown"
        return LEVEL_NAMES[self.level]

    def finding(self, key: str) -> Finding | None:
        return next(
            (item for item in (*self.present, *self.missing, *self.unknown) if item.key == key),
            None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "present": [item.to_json() for item in self.present],
            "missing": [item.to_json() for item in self.missing],
            "unknown": [item.to_json() for item in self.unknown],
            "next_step": self.next_step.to_json() if self.next_step else None,
            "complete": self.complete,
            "fragment": self.fragment,
        }


# --------------------------------------------------------------------------- assessment


def assess(
    ci: CiConfig | None,
    *,
    deployments: tuple[Deployment, ...] | None,
    health_configured: bool | None,
    flags: tuple[FeatureFlag, ...] | None,
    default_branch: str = "main",
    production: str = "production",
    unavailable: Mapping[str, str] | None = None,
) -> MaturityReport:
    """Measure the maturity level and its prerequisites.

    ``ci`` is None when the project has no CI configuration. ``deployments`` are the
    production environment's (any order). ``unavailable`` may say why an input is None
    (keys ``deployments``, ``health``, ``flags``), for the *unknown* reasons.
    """
    verdicts: dict[str, tuple[str, str]] = {}  # key → (present|missing|unknown, reason)
    why = dict(unavailable or {})

    if ci is None:
        verdicts.update(
            {key: ("missing", "the project has no CI configuration") for key in PRIORITY}
        )
        level: int | None = 1
    else:
        pipeline = _Pipeline(ci, default_branch, production, deployments)
        verdicts.update(pipeline.verdicts())
        level = pipeline.level()

    verdicts["monitoring"] = _monitoring(health_configured, why.get("health"), production)
    verdicts["rollback_path"] = _rollback_path(deployments, why.get("deployments"), production)
    verdicts["feature_flags"] = _feature_flags(flags, why.get("flags"))

    groups: dict[str, list[Finding]] = {"present": [], "missing": [], "unknown": []}
    for key in PRIORITY:
        state, reason = verdicts[key]
        groups[state].append(Finding(key, SIGNALS[key][0], reason))
    next_step = next(
        (Finding(item.key, item.title, SIGNALS[item.key][1]) for item in groups["missing"]),
        None,
    )
    if next_step is None and level is None:
        next_step = Finding("includes", "the including CI configuration", _FRAGMENT_ADVICE)
    elif next_step is None and ci is not None and not ci.complete:
        next_step = Finding("includes", "the whole CI configuration", _INCLUDES_ADVICE)
    return MaturityReport(
        level=level,
        present=tuple(groups["present"]),
        missing=tuple(groups["missing"]),
        unknown=tuple(groups["unknown"]),
        next_step=next_step,
        complete=ci is None or ci.complete,
        fragment=ci is not None and level is None,
    )


def _monitoring(configured: bool | None, why: str | None, production: str) -> tuple[str, str]:
    if configured is None:
        return "unknown", why or "needs cockpit's configuration (a success-rate query)"
    if configured:
        return "present", f"a success-rate query watches {production}"
    return "missing", f"no success-rate query is configured for {production}"


def _rollback_path(
    deployments: tuple[Deployment, ...] | None, why: str | None, production: str
) -> tuple[str, str]:
    if deployments is None:
        return "unknown", why or "needs GitLab's deployment history"
    successful = sorted(
        (d for d in deployments if d.status == "success"),
        key=lambda d: d.created_at,
        reverse=True,
    )
    if not successful:
        return "missing", f"no successful deployment to {production} yet"
    current = successful[0]
    earlier = next((d for d in successful[1:] if d.sha != current.sha), None)
    if earlier is None:
        return "missing", (
            f"only one version was ever deployed to {production} ({current.sha[:8]}): "
            "nothing earlier to return to"
        )
    return "present", (
        f"{len(successful)} successful deployments; the previous version "
        f"({earlier.sha[:8]}, {earlier.created_at:%Y-%m-%d}) can be re-deployed"
    )


def _feature_flags(flags: tuple[FeatureFlag, ...] | None, why: str | None) -> tuple[str, str]:
    if flags is None:
        return "unknown", why or "needs GitLab's feature flags"
    if not flags:
        return "missing", "the project defines no feature flags"
    active = sum(1 for flag in flags if flag.active)
    names = ", ".join(flag.name for flag in flags[:3]) + (" …" if len(flags) > 3 else "")
    noun = "flag" if len(flags) == 1 else "flags"
    return "present", f"{len(flags)} {noun}, {active} active ({names})"


# --------------------------------------------------------------------------- the pipeline


class _Pipeline:
    """The CI-derived signals of one configuration."""

    def __init__(
        self,
        ci: CiConfig,
        default_branch: str,
        production: str,
        deployments: tuple[Deployment, ...] | None,
    ) -> None:
        self.ci = ci
        self.default_branch = default_branch
        deployed_by = {d.job_name for d in deployments or () if d.job_name}
        self.roles = {
            job.name: classify(job, production=production, production_jobs=frozenset(deployed_by))
            for job in ci.jobs
        }
        self.main = PipelineContext.default_branch_push(default_branch)
        #: The pipelines imagined.
        self.contexts = (
            self.main,
            PipelineContext.branch_push(default_branch),
            PipelineContext.merge_request(default_branch),
            PipelineContext.tag_push(default_branch),
            PipelineContext.web(default_branch),
        )
        #: The pipelines a commit starts.
        self.commit_contexts = self.contexts[:3]

    # -- helpers

    def trigger(self, job: CiJob, context: PipelineContext) -> Trigger:
        return self.ci.trigger(job, context)

    def jobs(self, predicate: Callable[[JobRole], bool]) -> list[JobRole]:
        return [role for role in self.roles.values() if predicate(role)]

    def automatic_on_commits(self, role: JobRole) -> bool:
        return any(self.trigger(role.job, c).automatic for c in self.commit_contexts)

    def where(self, job: CiJob) -> str:
        """ "automatically on main and merge requests", "by hand on tags", "never" …

        A pipeline run from the UI is named only when it differs from a push to the
        default branch (a job that runs only from the UI, say).
        """
        web = self.contexts[-1]
        same_as_main = self.trigger(job, web) == self.trigger(job, self.main)
        contexts = [c for c in self.contexts if not (c is web and same_as_main)]
        automatic = [c for c in contexts if self.trigger(job, c).automatic]
        manual = [c for c in contexts if self.trigger(job, c).manual]
        parts = []
        if automatic:
            parts.append("automatically on " + _join([c.place for c in automatic]))
        if manual:
            parts.append("by hand (when: manual) on " + _join([c.place for c in manual]))
        if not parts:
            return "in none of the pipelines cockpit imagines (pushes, merge requests, tags, UI)"
        text = "; ".join(parts)
        conditional = any(self.trigger(job, c).conditional for c in automatic + manual)
        return text + (" when its conditions hold" if conditional else "")

    @property
    def tests(self) -> list[JobRole]:
        return self.jobs(lambda role: role.is_test and self.automatic_on_commits(role))

    @property
    def production_jobs(self) -> list[JobRole]:
        return self.jobs(lambda role: role.deploy_tier == "production")

    def gating_tests(self, job: CiJob) -> list[str]:
        """Tests that run automatically on the default branch and must pass before ``job``."""
        before = self.ci.ancestors(job)
        return [
            role.job.name
            for role in self.roles.values()
            if role.is_test
            and role.job.name in before
            and self.trigger(role.job, self.main).automatic
        ]

    def incomplete_reason(self) -> str:
        files = ", ".join(include.location for include in self.ci.includes[:3])
        more = " …" if len(self.ci.includes) > 3 else ""
        return (
            f"not in this file; it includes {len(self.ci.includes)} more "
            f"({files}{more}) that cockpit did not read"
        )

    # -- the level

    def tests_declared_in_stages(self) -> list[str]:
        if self.ci.complete or self.ci.jobs:
            return []
        return [stage for stage in self.ci.stages if set(words(stage)) & _TEST_STAGE_WORDS]

    @property
    def fragment(self) -> bool:
        """A file meant to be included, without tests of its own: the level is open."""
        return self.ci.fragment and not self.tests

    def level(self) -> int | None:
        if self.fragment:
            return None
        if not self.tests and not self.tests_declared_in_stages():
            return 1
        production = self.production_jobs
        if any(
            self.trigger(role.job, self.main).automatic and self.gating_tests(role.job)
            for role in production
        ):
            return 4
        if any(not self.trigger(role.job, c).never for role in production for c in self.contexts):
            return 3
        return 2

    # -- the signals

    def verdicts(self) -> dict[str, tuple[str, str]]:
        verdicts = {
            "ci": self.pipeline_exists(),
            "automated_tests": self.automated_tests(),
            "production_deploy": self.production_deploy(),
            "fail_fast": self.fail_fast(),
            "build_artifacts": self.build_artifacts(),
            "staging": self.staging(),
            "production_verification": self.production_verification(),
            "continuous_deployment": self.continuous_deployment(),
        }
        for key, kind in _TEST_KINDS.items():
            verdicts[key] = self.test_kind(kind)
        if self.fragment:
            reason = f"not in this file, a {FRAGMENT_NOTE}"
        elif not self.ci.complete:
            reason = self.incomplete_reason()
        else:
            return verdicts
        return {
            key: (("unknown", reason) if state == "missing" else (state, why))
            for key, (state, why) in verdicts.items()
        }

    def pipeline_exists(self) -> tuple[str, str]:
        if self.ci.jobs:
            jobs, stages = len(self.ci.jobs), len(self.ci.stages) - 2
            return "present", f"{_count(jobs, 'job')} in {_count(stages, 'stage')}"
        if not self.ci.complete:
            return "present", f"the jobs come from {_count(len(self.ci.includes), 'included file')}"
        return "missing", "the configuration defines no jobs"

    def automated_tests(self) -> tuple[str, str]:
        tests = self.tests
        if tests:
            names = [role.job.name for role in tests]
            places = [
                c.place
                for c in self.commit_contexts
                if any(self.trigger(role.job, c).automatic for role in tests)
            ]
            return (
                "present",
                f"{_names(names)} {_verb(names, 'runs', 'run')} automatically on {_join(places)}",
            )
        declared = self.tests_declared_in_stages()
        if declared:
            return "present", (
                f"{_verb(declared, 'stage', 'stages')} {_join(declared)} "
                f"{_verb(declared, 'is', 'are')} declared for jobs in "
                f"{_count(len(self.ci.includes), 'included file')} cockpit did not read"
            )
        by_hand = [role.job.name for role in self.jobs(lambda role: role.is_test)]
        if by_hand:
            return (
                "missing",
                f"{_names(by_hand)} never {_verb(by_hand, 'starts', 'start')} by itself",
            )
        return "missing", "no job runs tests"

    def test_kind(self, kind: str) -> tuple[str, str]:
        automatic = [role for role in self.tests if kind in role.tests]
        if automatic:
            described = []
            for role in automatic[:3]:
                detail = role.evidence
                if kind == "integration" and role.job.services:
                    detail = "with services " + ", ".join(role.job.services[:3])
                described.append(f"{role.job.name} ({detail})")
            return "present", _join(described) + (" …" if len(automatic) > 3 else "")
        by_hand = [role.job.name for role in self.jobs(lambda r: r.is_test and kind in r.tests)]
        if by_hand:
            return "missing", (
                f"{_names(by_hand)} {_verb(by_hand, 'runs', 'run')} only when a person starts it"
            )
        return "missing", f"no {_KIND_WORDS[kind]} test job"

    def fail_fast(self) -> tuple[str, str]:
        before_deploy = [role for role in self.tests if role.tests != {"smoke"}]
        if not before_deploy:
            return "missing", "no automatic tests to put in order"
        lint = [role.job.name for role in self.roles.values() if role.is_lint]
        if not lint:
            return "missing", "no lint or type-check job runs before the tests"
        slow = [role for role in before_deploy if role.tests - {"unit", "smoke"}] or before_deploy
        late = [role.job.name for role in slow if not set(lint) & self.ci.ancestors(role.job)]
        if late:
            return "missing", (
                f"{_names(late)} {_verb(late, 'starts', 'start')} without waiting for "
                f"{_names(lint)} (same stage, or needs: that skip it)"
            )
        slow_names = [role.job.name for role in slow]
        return "present", f"{_names(lint)} {_verb(lint, 'runs', 'run')} before {_names(slow_names)}"

    def build_artifacts(self) -> tuple[str, str]:
        kept: list[tuple[bool, str]] = []  # (looks like a build, description)
        for role in self.roles.values():
            if role.deploy_tier in ("production", "staging"):
                continue
            looks_like_build = bool(set(words(role.job.name)) & _BUILD_WORDS)
            if pushes_image(role.job):
                kept.append((True, f"{role.job.name} pushes an image"))
            elif role.job.artifacts is not None and role.job.artifacts.paths:
                paths = _join(list(role.job.artifacts.paths[:2]))
                kept.append((looks_like_build, f"{role.job.name} keeps {paths}"))
        if not kept:
            return "missing", "no job keeps artifacts or pushes an image"
        kept.sort(key=lambda item: not item[0])
        return "present", _join([text for _, text in kept[:3]]) + (" …" if len(kept) > 3 else "")

    def production_deploy(self) -> tuple[str, str]:
        production = self.production_jobs
        if not production:
            deploys = self.jobs(lambda role: role.deploys)
            if deploys:
                named = _names(f"{role.job.name} ({role.deploy_tier})" for role in deploys)
                return "missing", f"no job deploys production; deploy jobs: {named}"
            return "missing", "no job deploys production"
        return "present", "; ".join(
            f"{role.job.name} deploys {self.where(role.job)}" for role in production[:2]
        )

    def continuous_deployment(self) -> tuple[str, str]:
        production = self.production_jobs
        if not production:
            return "missing", "no job deploys production"
        for role in production:
            if not self.trigger(role.job, self.main).automatic:
                continue
            gates = self.gating_tests(role.job)
            if not gates:
                return "missing", (
                    f"{role.job.name} deploys automatically on {self.default_branch}, but no "
                    "test has to pass first"
                )
            warning = ""
            if not self.ci.only_on_default_branch(role.job, self.default_branch):
                elsewhere = [
                    c.place for c in self.contexts[1:4] if not self.trigger(role.job, c).never
                ]
                warning = f"; careful: it also deploys from {_join(elsewhere)}"
            return "present", (
                f"{role.job.name} deploys automatically on {self.default_branch} after "
                f"{_names(gates)}{warning}"
            )
        return "missing", "; ".join(
            f"{role.job.name} deploys {self.where(role.job)}" for role in production[:2]
        )

    def staging(self) -> tuple[str, str]:
        staging = self.jobs(lambda role: role.deploy_tier == "staging")
        if not staging:
            return "missing", "no job deploys a staging environment"
        staging_names = [role.job.name for role in staging]
        production = self.production_jobs
        if not production:
            return "present", f"{_names(staging_names)} (nothing deploys production)"
        for prod in production:
            gating = [name for name in staging_names if name in self.ci.ancestors(prod.job)]
            if gating:
                return "present", f"{_names(gating)} deploys before {prod.job.name}"
        separate = [
            role.job.name
            for role in staging
            if not any(
                not self.trigger(role.job, c).never and not self.trigger(prod.job, c).never
                for prod in production
                for c in self.contexts
            )
        ]
        prod_names = [role.job.name for role in production]
        if separate:
            return "present", (
                f"{_names(separate)} deploys staging from other pipelines than {_names(prod_names)}"
            )
        return "missing", (
            f"{_names(staging_names)} deploys staging alongside {_names(prod_names)}, not before it"
        )

    def production_verification(self) -> tuple[str, str]:
        production = sorted(role.job.name for role in self.production_jobs)
        if not production:
            return "missing", "nothing deploys production, so nothing verifies it"
        after = [
            role.job.name
            for role in self.roles.values()
            if role.is_test and set(production) & self.ci.ancestors(role.job)
        ]
        if after:
            return (
                "present",
                f"{_names(after)} {_verb(after, 'runs', 'run')} after {_names(production)}",
            )
        return "missing", f"no test runs after {_names(production)}"


_KIND_WORDS = {
    "unit": "unit",
    "integration": "integration",
    "contract": "contract",
    "e2e": "end-to-end",
}


_BUILD_WORDS = {"build", "package", "dist", "compile", "bundle", "artifact", "artifacts"}


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _verb(items: list[str], one: str, many: str) -> str:
    return one if len(items) == 1 else many


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _names(names: Iterable[str]) -> str:
    """``a, b and c``; long lists end in ``… and 3 more``."""
    listed = list(dict.fromkeys(names))
    if len(listed) > 4:
        return ", ".join(listed[:4]) + f" and {len(listed) - 4} more"
    return _join(listed)
