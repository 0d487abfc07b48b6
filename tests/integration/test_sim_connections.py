"""The simulator's servers when clients misbehave at the connection level."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urlparse

import httpx
import pytest

from cockpit.sim.server import simulate
from tests.helpers import eventually

pytestmark = pytest.mark.asyncio


async def test_a_client_hanging_up_mid_body_is_routine_not_a_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="aiohttp")
    async with simulate("healthy") as sim:
        assert sim.urls is not None
        gitlab = urlparse(sim.urls.gitlab)
        _reader, writer = await asyncio.open_connection(gitlab.hostname, gitlab.port)
        writer.write(
            b"PUT /api/v4/projects/1/feature_flags/dark-mode HTTP/1.1\r\n"
            b'Host: gitlab\r\nContent-Length: 1000\r\n\r\n{"active"'
        )
        await writer.drain()
        writer.close()
        await eventually(lambda: sim.faults.abandoned["gitlab"] == 1, message="the hang-up")
        errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert errors == [], [r.getMessage() for r in errors]
        async with httpx.AsyncClient(base_url=sim.urls.gitlab) as client:
            answer = await client.get("/api/v4/projects", headers={"PRIVATE-TOKEN": "x"})
        assert answer.status_code == 401  # still serving, and still asking for a token
