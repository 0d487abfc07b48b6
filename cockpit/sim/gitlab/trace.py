"""Job logs as a GitLab runner writes them: ANSI colours, ``\\r``, collapsible sections.

A log is a list of lines, each stamped with the second (from the job's start) at which
the runner printed it; :func:`render` returns what exists at a given moment, so the
trace of a running job grows while it runs, is empty before it starts, and ends with
``Job succeeded`` or ``ERROR: Job failed``.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from cockpit.sim.gitlab.pipeline import Job

_ESC = "\x1b"
_CLEAR = f"{_ESC}[0K"
_BOLD_CYAN = f"{_ESC}[36;1m"
_BOLD_GREEN = f"{_ESC}[32;1m"
_BOLD_RED = f"{_ESC}[31;1m"
_GREEN = f"{_ESC}[32m"
_RESET = f"{_ESC}[0;m"


def render(job: Job, now: datetime, *, project_path: str) -> str:
    """The whole log of ``job`` as it stands at ``now`` (empty before the job starts)."""
    if job.started_at is None:
        return ""
    end = job.finished_at or now
    elapsed = (end - job.started_at).total_seconds()
    lines = [text for offset, text in _script(job, project_path) if offset <= elapsed]
    return "".join(lines)


def _section(start: datetime, offset: float, name: str, header: str) -> tuple[float, str]:
    stamp = int((start + timedelta(seconds=offset)).timestamp())
    return offset, f"section_start:{stamp}:{name}\r{_CLEAR}{_CLEAR}{_BOLD_CYAN}{header}{_RESET}\n"


def _section_end(start: datetime, offset: float, name: str) -> tuple[float, str]:
    stamp = int((start + timedelta(seconds=offset)).timestamp())
    return offset, f"section_end:{stamp}:{name}\r{_CLEAR}\n"


def _script(job: Job, project_path: str) -> list[tuple[float, str]]:
    assert job.started_at is not None
    start = job.started_at
    duration = job.plan.duration
    rng = random.Random(job.id)
    definition = job.definition
    commit = job.pipeline.commit
    runner = rng.randint(1, 6)
    out: list[tuple[float, str]] = [
        (0.0, f"{_BOLD_CYAN}Running with gitlab-runner 17.5.3 (12030cf4){_RESET}\n"),
        (
            0.0,
            f"{_BOLD_CYAN}  on shop-runner-{runner} Xk{runner}9zQp, system ID: s_3f9d2c7e81a{runner}{_RESET}\n",
        ),
        _section(start, 0.0, "prepare_executor", 'Preparing the "docker" executor'),
        (0.5, f"Using Docker executor with image {definition.image} ...\n"),
    ]
    for service in definition.services:
        out.append((1.0, f"Starting service {service} ...\n"))
    out += [
        (2.0, f"Pulling docker image {definition.image} ...\n"),
        _section_end(start, 3.0, "prepare_executor"),
        _section(start, 3.0, "get_sources", "Getting source from Git repository"),
        (3.5, f"{_GREEN}Fetching changes with git depth set to 20...{_RESET}\n"),
        (4.0, f"Initialized empty Git repository in /builds/{project_path}/.git/\n"),
        (
            5.0,
            f"{_GREEN}Checking out {commit.short_id} as detached HEAD (ref is {job.pipeline.ref})...{_RESET}\n",
        ),
        _section_end(start, 6.0, "get_sources"),
        _section(start, 6.0, "step_script", 'Executing "step_script" stage of the job script'),
    ]
    body_start, body_end = 7.0, max(8.0, duration - 3.0)
    commands = list(definition.script)
    span = (body_end - body_start) / max(1, len(commands))
    for index, command in enumerate(commands):
        at = body_start + index * span
        out.append((at, f"{_GREEN}$ {command}{_RESET}\n"))
        for step, line in enumerate(_output(job, command, rng, project_path.rsplit("/", 1)[-1])):
            out.append((at + span * (step + 1) / 8, line + "\n"))
    out.append(_section_end(start, body_end, "step_script"))
    if job.status == "canceled":
        assert job.finished_at is not None
        stopped = (job.finished_at - start).total_seconds()
        out = [line for line in out if line[0] <= stopped]
        out.append((stopped, f"{_BOLD_RED}ERROR: Job failed: canceled{_RESET}\n"))
    elif job.plan.fails:
        out.append((duration, f"{_BOLD_RED}ERROR: Job failed: exit code 1{_RESET}\n"))
    else:
        out.append(
            _section(
                start,
                body_end,
                "cleanup_file_variables",
                "Cleaning up project directory and file based variables",
            )
        )
        out.append(_section_end(start, duration, "cleanup_file_variables"))
        out.append((duration, f"{_BOLD_GREEN}Job succeeded{_RESET}\n"))
    return out


def _output(job: Job, command: str, rng: random.Random, service: str) -> list[str]:
    fails = job.plan.fails
    if "rspec" in command:
        examples = rng.randint(80, 420)
        failures = rng.randint(1, 3) if fails else 0
        lines = [
            f"Randomized with seed {rng.randint(1000, 65535)}",
            "." * 60,
            "." * rng.randint(10, 60),
        ]
        if failures:
            lines += [
                "",
                "Failures:",
                "",
                f"  1) {service} repository returns records in a stable order",
                "     Failure/Error: expect(records.map(&:id)).to eq([3, 7, 9])",
                "       expected: [3, 7, 9]",
                "            got: [7, 3, 9]",
            ]
        lines += [
            "",
            f"Finished in {job.plan.duration * 0.7:.2f} seconds (files took 2.1 seconds to load)",
            f"{examples} examples, {failures} failure{'s' if failures != 1 else ''}",
        ]
        if job.plan.coverage is not None:
            lines.append(f"Line Coverage: {job.plan.coverage:.2f}%")
        return lines
    if "rubocop" in command:
        files = rng.randint(60, 240)
        offences = "1 offense detected" if fails else "no offenses detected"
        return [
            f"Inspecting {files} files",
            "." * min(files, 80),
            "",
            f"{files} files inspected, {offences}",
        ]
    if "srb tc" in command:
        return ["Errors: 1" if fails else "No errors! Great job."]
    if "docker build" in command:
        return [
            "#1 [internal] load build definition from Dockerfile",
            "#5 [2/5] COPY Gemfile Gemfile.lock ./",
            "#6 [3/5] RUN bundle install --without development test",
            "#9 exporting to image",
            f"#9 writing image sha256:{rng.getrandbits(256):064x} done",
        ]
    if "docker push" in command:
        return [
            f"{job.pipeline.commit.short_id}: digest: sha256:{rng.getrandbits(256):064x} size: 2417"
        ]
    if "deploy.sh" in command:
        env = job.definition.environment or "staging"
        lines = [
            f"rollout '{env}' image updated",
            "Waiting for rollout to finish: 1 of 4 updated replicas are available...",
        ]
        if fails:
            lines.append("error: timed out waiting for the condition")
        else:
            lines.append("Rollout is healthy")
        return lines
    if "smoke-tests" in command:
        return ['{"status":"ok"}', '{"status":"ready"}']
    if "bundle-audit" in command:
        return ["Updating ruby-advisory-db ...", "No vulnerabilities found"]
    return ["done"]
