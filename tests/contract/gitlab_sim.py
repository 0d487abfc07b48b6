"""Serve one world's simulated GitLab over HTTP on 127.0.0.1 for a test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

from aiohttp import web

from cockpit.sim.faults import FaultSet
from cockpit.sim.gitlab.api import create_app
from cockpit.sim.tokens import Tokens
from tests.fake_world import FakeWorld


@dataclass
class ServedGitLab:
    world: FakeWorld
    url: str
    faults: FaultSet
    tokens: Tokens


@contextlib.asynccontextmanager
async def serve_gitlab(world: FakeWorld) -> AsyncIterator[ServedGitLab]:
    faults, tokens = FaultSet(), Tokens()
    runner = web.AppRunner(create_app(world, faults, tokens), access_log=None)  # type: ignore[arg-type]
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield ServedGitLab(world, f"http://{host}:{port}", faults, tokens)
    finally:
        await runner.cleanup()
