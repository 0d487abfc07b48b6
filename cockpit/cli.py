"""The ``cockpit`` command line: argument parsing and dispatch to the subcommands.

Each subcommand is one row of ``COMMANDS``: its name, a one-line help, a function that
adds its arguments, and the dotted path of the function that runs it. Handlers are
imported only when their command runs, so ``cockpit status --json`` never loads Textual.

Every failure exits non-zero with one clear line on stderr: 2 for usage and
configuration errors, 1 when the systems cockpit talks to refused or failed.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from cockpit import __version__
from cockpit.errors import CommandFailed, UsageError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class _Parser(argparse.ArgumentParser):
    """argparse, but errors are a single line on stderr and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def _add_config(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        metavar="FILE",
        help="configuration file (default: $COCKPIT_CONFIG, ./cockpit.toml, then "
        "~/.config/cockpit/cockpit.toml)",
    )


def _add_screen_args(parser: argparse.ArgumentParser) -> None:
    """What the screen takes, whether on real systems or the demo world."""
    parser.add_argument(
        "--read-only", action="store_true", help="refuse every write (promote, rollback, …)"
    )
    parser.add_argument(
        "--low-bandwidth",
        action="store_true",
        help="fewer colours and frames for slow SSH links",
    )


def _add_app_args(parser: argparse.ArgumentParser) -> None:
    _add_config(parser)
    _add_screen_args(parser)


def _add_sim_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--scenario",
        default="demo",
        metavar="NAME",
        help="which demo world: demo (default, every situation at once), bad-canary, "
        "manual-gate, blue-green, migration-rollback, failed-pipeline or healthy",
    )
    parser.add_argument("--seed", type=int, default=7, metavar="N", help="random seed (default: 7)")
    parser.add_argument(
        "--time-scale",
        type=float,
        default=None,
        metavar="X",
        help="simulated seconds per real second (default: 30 for demo, 1 for sim)",
    )


def _add_sim_command_args(parser: argparse.ArgumentParser) -> None:
    _add_sim_args(parser)
    parser.add_argument(
        "--services",
        type=int,
        default=None,
        metavar="N",
        help="serve N services (the twelve, then numbered copies; for benchmarks)",
    )
    parser.add_argument(
        "--state-dir",
        required=True,
        metavar="DIR",
        help="where to write kubeconfig, cockpit.toml and env once the servers are up",
    )


def _add_demo_args(parser: argparse.ArgumentParser) -> None:
    _add_sim_args(parser)
    _add_screen_args(parser)


def _add_command_config(parser: argparse.ArgumentParser) -> None:
    """``--config`` after the subcommand too, without hiding one given before it."""
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=argparse.SUPPRESS,
        help="configuration file (default: $COCKPIT_CONFIG, ./cockpit.toml, then "
        "~/.config/cockpit/cockpit.toml)",
    )


def _add_status_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    parser.add_argument("--env", metavar="ENV", help="only this environment")
    _add_command_config(parser)


def _one_or_more(text: str) -> int:
    """An argument type: a whole number, 1 or more (the text is cut in errors)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number, got {text[:40]!r}") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {number}")
    return number


def _add_maturity_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "service",
        nargs="?",
        metavar="SERVICE",
        help="a service of the configuration (reads GitLab)",
    )
    parser.add_argument(
        "--ci-file", metavar="PATH", help="assess this .gitlab-ci.yml alone, without GitLab"
    )
    parser.add_argument(
        "--group",
        metavar="GROUP",
        help="assess every project of this GitLab group (subgroups included): one table",
    )
    parser.add_argument(
        "--default-branch",
        metavar="NAME",
        help="with --ci-file: the default branch (default: the one the file names, else main)",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON")
    output.add_argument(
        "--markdown", action="store_true", help="with --group: a Markdown table for a team page"
    )
    _add_command_config(parser)


def _add_dora_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("service", metavar="SERVICE", help="a service of the configuration")
    parser.add_argument(
        "--env", required=True, metavar="ENV", help="the environment, as the configuration names it"
    )
    parser.add_argument(
        "--days",
        type=_one_or_more,
        default=30,
        metavar="N",
        help="window in days (default: 30)",
    )
    parser.add_argument("--json", action="store_true", help="print JSON")
    _add_command_config(parser)


def _action_args(
    *, full: bool, rollback: bool = False
) -> Callable[[argparse.ArgumentParser], None]:
    """Arguments of promote, rollback and abort (``--full`` only for promote,
    ``--to-revision`` only for rollback)."""

    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("service", metavar="SERVICE", help="a service of the configuration")
        parser.add_argument(
            "--env", metavar="ENV", help="the environment (default: the service's only one)"
        )
        if full:
            parser.add_argument(
                "--full",
                action="store_true",
                help="full promotion: skip every remaining step, pause and analysis",
            )
        if rollback:
            parser.add_argument(
                "--to-revision",
                type=_one_or_more,
                metavar="N",
                help="undo to revision N (as kubectl argo rollouts undo --to-revision), "
                "also past an abort",
            )
        parser.add_argument(
            "--yes", action="store_true", help="send without asking (required without a terminal)"
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="print the exact request(s) and the warnings, and send nothing",
        )
        parser.add_argument(
            "--read-only",
            action="store_true",
            default=argparse.SUPPRESS,
            help="refuse the write (the refusal is audited)",
        )
        _add_command_config(parser)

    return add


def _add_audit_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--json", action="store_true", help="one JSON object per line instead of a table"
    )
    _add_command_config(parser)


def _add_init_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--group", required=True, metavar="GROUP", help="GitLab group (full path)")
    parser.add_argument(
        "--gitlab-url", metavar="URL", help="GitLab's address (default: $GITLAB_URL)"
    )
    parser.add_argument(
        "--token-env",
        default="GITLAB_TOKEN",
        metavar="NAME",
        help="the environment variable holding the GitLab token (default: GITLAB_TOKEN)",
    )
    parser.add_argument(
        "--kubeconfig", metavar="FILE", help="kubeconfig (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.add_argument(
        "--context",
        action="append",
        metavar="NAME",
        help="only this kube context (repeat for more; default: all of the kubeconfig's)",
    )
    parser.add_argument(
        "--prometheus-url", metavar="URL", help="Prometheus' address (default: $PROMETHEUS_URL)"
    )
    parser.add_argument(
        "--output",
        default="cockpit.toml",
        metavar="FILE",
        help="where to write the configuration (default: ./cockpit.toml)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing file")
    parser.add_argument(
        "--dry-run", action="store_true", help="print the configuration instead of writing it"
    )


def _add_doctor_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a checklist")
    _add_command_config(parser)


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None]
    #: "module:function" taking the parsed arguments and returning an exit status.
    handler: str


COMMANDS: tuple[Command, ...] = (
    Command(
        "demo",
        "start the simulated world and the cockpit screen against it (no setup)",
        _add_demo_args,
        "cockpit.commands.demo:run",
    ),
    Command(
        "status",
        "print every service × environment once (table or --json); exit 1 if any is failing",
        _add_status_args,
        "cockpit.commands.status:run",
    ),
    Command(
        "sim",
        "run the simulated GitLab, Kubernetes and Prometheus until interrupted",
        _add_sim_command_args,
        "cockpit.sim.cli:run",
    ),
    Command(
        "maturity",
        "the project's level on the continuous deployment maturity model, and what is missing",
        _add_maturity_args,
        "cockpit.commands.maturity:run",
    ),
    Command(
        "dora",
        "deployment frequency, lead time, change failure rate and time to restore",
        _add_dora_args,
        "cockpit.commands.dora:run",
    ),
    Command(
        "promote",
        "promote a paused canary one step (--full: all the way), switch a blue-green "
        "preview, or play the waiting manual deploy job",
        _action_args(full=True),
        "cockpit.commands.actions:promote",
    ),
    Command(
        "rollback",
        "abort the rollout in flight, undo to the previous revision, or re-deploy the "
        "previous GitLab deployment",
        _action_args(full=False, rollback=True),
        "cockpit.commands.actions:rollback",
    ),
    Command(
        "abort",
        "abort the rollout in flight: traffic back to the stable version at once",
        _action_args(full=False),
        "cockpit.commands.actions:abort",
    ),
    Command(
        "init",
        "discover a GitLab group's services, their workloads and queries, and write a "
        "configuration (--dry-run prints it)",
        _add_init_args,
        "cockpit.commands.init:run",
    ),
    Command(
        "doctor",
        "check that GitLab, Kubernetes and Prometheus let cockpit do its work; the fix of each "
        "failing check (exit 1 if any fails)",
        _add_doctor_args,
        "cockpit.commands.doctor:run",
    ),
    Command(
        "audit",
        "print the audit log of every write cockpit attempted (--json: JSON lines)",
        _add_audit_args,
        "cockpit.commands.audit:run",
    ),
)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="cockpit",
        description="A terminal deployment cockpit: pipelines, rollouts and health of every "
        "service on one screen, with one-key promote and rollback.",
        epilog="Run 'cockpit demo' to try it against a simulated world with no setup.",
    )
    parser.add_argument("--version", action="version", version=f"cockpit {__version__}")
    _add_app_args(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for command in COMMANDS:
        command_parser = sub.add_parser(command.name, help=command.help, description=command.help)
        command.add_arguments(command_parser)
        command_parser.set_defaults(handler=command.handler)
    parser.set_defaults(handler="cockpit.ui.run:run")
    return parser


def _resolve(handler: str) -> Callable[[argparse.Namespace], int]:
    module_name, _, function = handler.partition(":")
    command: Callable[[argparse.Namespace], int] = getattr(
        importlib.import_module(module_name), function
    )
    return command


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _resolve(args.handler)(args)
    except UsageError as error:
        print(f"cockpit: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except CommandFailed as error:
        print(f"cockpit: {error}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        return 130


def run() -> NoReturn:
    """The ``cockpit`` command: :func:`main`, then leave at once.

    Once a command is done, everything it owns is already closed (the screen gave the
    terminal back, the engine and the simulator stopped, the audit log is fsynced per
    record), so the interpreter's own teardown of a large heap — over a second for the
    demo on a loaded machine, after SIGTERM or ``q`` — is skipped: output is flushed,
    ``atexit`` handlers run, then the process exits (``os._exit``).
    """
    try:
        status = main()
    except SystemExit as leaving:  # --help, --version, usage errors from argparse
        code = leaving.code
        status = code if isinstance(code, int) else (0 if code is None else 2)
        if isinstance(code, str):
            print(code, file=sys.stderr)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    atexit._run_exitfuncs()
    os._exit(status)


if __name__ == "__main__":  # pragma: no cover
    run()
