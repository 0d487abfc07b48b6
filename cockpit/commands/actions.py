"""``cockpit promote|rollback|abort SERVICE``: the one-key actions from a shell.

The same :mod:`cockpit.actions` as the screen: the row's state is built by the engine —
restricted to this one service × environment, so it asks each system for one row only
— until each source has answered once, then :func:`~cockpit.actions.plan`,
:func:`~cockpit.actions.enrich` (exact request, live re-check, migrations a rollback
crosses) and, once confirmed, :func:`~cockpit.actions.execute`. Building the state with
the engine rather than a lighter one-shot read keeps one definition of a row (gate,
revisions, deployments, health) for the screen and the command line.

Confirmation: ``--yes``, or ``[y/N]`` on a terminal; without a terminal and without
``--yes`` nothing is sent (exit 2). ``--dry-run`` prints the exact request(s) and the
warnings and sends nothing. Exit 0 when the write was accepted or what was asked is
already so (a rollback of a rollout already aborted: nothing is sent; going further back
is ``--to-revision N``), 1 when it was refused (read-only, state moved, the system said
no, the key does nothing here), 2 on usage and configuration errors.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TextIO

from cockpit.errors import UsageError
from cockpit.intents import Intent

#: How long to wait for every source to answer once before planning anyway.
READY_TIMEOUT = 20.0

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2


def promote(args: argparse.Namespace) -> int:
    return run(args, Intent.PROMOTE_FULL if getattr(args, "full", False) else Intent.PROMOTE)


def rollback(args: argparse.Namespace) -> int:
    return run(args, Intent.ROLLBACK)


def abort(args: argparse.Namespace) -> int:
    return run(args, Intent.ABORT)


def choose_environment(service: Any, name: str | None) -> Any:
    """``--env``, or the service's only environment; a usage error naming the choices."""
    names = [e.name for e in service.environments]
    if name is None:
        if len(names) == 1:
            return service.environments[0]
        raise UsageError(
            f"service {service.name!r} has {len(names)} environments: give --env "
            f"(one of: {', '.join(names)})"
        )
    return service.environment(name)


def run(args: argparse.Namespace, intent: Intent) -> int:
    from cockpit.config import load, print_warnings

    config = load(args.config)
    print_warnings(config)
    service = config.service(args.service)
    env = choose_environment(service, args.env)
    one_row = replace(config, services=(replace(service, environments=(env,)),))
    return asyncio.run(
        _act(
            one_row,
            env.key,
            intent,
            read_only=bool(getattr(args, "read_only", False)),
            yes=bool(args.yes),
            dry_run=bool(args.dry_run),
            to_revision=int(getattr(args, "to_revision", None) or 0),
        )
    )


async def _act(
    config: Any,
    key: Any,
    intent: Intent,
    *,
    read_only: bool,
    yes: bool,
    dry_run: bool,
    to_revision: int = 0,
) -> int:
    from cockpit.actions import ActionContext, NoAction, enrich, execute
    from cockpit.engine import Engine

    engine = Engine(config)
    ctx = ActionContext(engine=engine, read_only=read_only)
    await engine.start()
    try:
        await engine.wait_ready(READY_TIMEOUT)
        state = engine.states[key]
        outcome = ctx.plan(state, intent, to_revision=to_revision)
        if isinstance(outcome, NoAction):
            if outcome.satisfied:
                print(outcome.reason)
                return EXIT_OK
            print(f"cockpit: {outcome.reason}", file=sys.stderr)
            return EXIT_REFUSED
        plan = await enrich(outcome, ctx)
        print_plan(plan, sys.stdout, ctx.base_url)
        if dry_run:
            print("dry run: nothing was sent", file=sys.stdout)
            return EXIT_OK
        if plan.read_only is None and not yes:
            if not sys.stdin.isatty():
                print(
                    "cockpit: error: not sending without confirmation: there is no terminal "
                    "to ask on; add --yes to send it",
                    file=sys.stderr,
                )
                return EXIT_USAGE
            answer = await asyncio.to_thread(_ask, f"{plan.title}: send it? [y/N] ")
            if answer not in ("y", "yes"):
                print("cancelled: nothing was sent", file=sys.stderr)
                return EXIT_REFUSED
        result = await execute(plan, ctx)
    finally:
        await engine.stop()
    if result.ok or result.satisfied:
        print(result.message)
        return EXIT_OK
    print(f"cockpit: {result.message}", file=sys.stderr)
    return EXIT_REFUSED


def _ask(prompt: str) -> str:
    try:
        return input(prompt).strip().lower()
    except EOFError:
        return ""


def print_plan(plan: Any, out: TextIO, base_url: Callable[[str, str | None], str]) -> None:
    """The plan as the confirm dialog shows it, for a terminal; each request as method and
    URL (``base_url(source, kube_context)`` gives the server), content type and body."""
    from cockpit.actions.requests import body_text

    lines: list[str] = []
    if plan.production:
        lines.append("▲ PRODUCTION ▲  this changes what users get now")
    lines += [plan.title, f"  {plan.summary}"]
    sections = (("Target", plan.target), ("Also changes", plan.changes))
    for title, items in sections:
        if items:
            lines.append(f"{title}:")
            lines += [f"  {item}" for item in items]
    if plan.warnings:
        lines.append("WARNING:" if plan.severity == "strong" else "Warning:")
        lines += [f"  {warning}" for warning in plan.warnings]
    lines.append("Request:" if len(plan.request) == 1 else "Requests:")
    if plan.writes:
        for write in plan.writes:
            request = write.request
            context = write.kube.context if write.kube is not None else None
            lines.append(
                f"  {request.method} {base_url(request.source.value, context)}{request.path}"
            )
            if request.content_type:
                lines.append(f"  Content-Type: {request.content_type}")
            if request.body is not None:
                lines.append(f"  {body_text(request)}")
    else:
        lines += [f"  {line}" for line in plan.request]
    out.write("\n".join(lines) + "\n")
    out.flush()
