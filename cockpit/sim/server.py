"""Start the simulated world's HTTP servers on loopback and keep the world moving.

Four servers, each on a free port of 127.0.0.1:

* GitLab REST API v4 (``/api/v4/...``),
* the Kubernetes apiserver (``/api``, ``/apis``, ``/version``) over HTTPS with a
  throwaway self-signed certificate, because kubectl sends a kubeconfig's token only
  over TLS (the written kubeconfig carries the certificate as its authority); plain
  HTTP when no certificate can be made (no ``trustme``), where kubectl gets 401s but
  token-sending clients such as lightkube still work,
* a Prometheus-compatible query API (``/api/v1/query``, ``/api/v1/query_range``),
* metrics targets (``/metrics`` for every service, ``/services/<name>/metrics`` for
  one) plus the simulator's own admin API (``/_sim/...``: faults, dropped watches,
  manual time, the log of requests received).

Use :func:`simulate` in tests (``async with simulate("bad-canary", clock=...) as sim``)
or ``cockpit sim`` from a shell. With a manual clock nothing moves until
:meth:`Simulator.advance`; otherwise a ticker steps the world a few times a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import ssl
import tempfile
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from cockpit.sim import scenario as scenarios
from cockpit.sim.clock import SimClock
from cockpit.sim.faults import APIS, Fault, FaultSet, RecordedRequest
from cockpit.sim.kube.tls import CertificateError, ServingCertificate, self_signed
from cockpit.sim.statedir import poll_for_time_scale, write_state_dir
from cockpit.sim.tokens import Tokens
from cockpit.sim.world import World

#: Real seconds between world steps when the clock runs by itself.
TICK_SECONDS = 0.2


@dataclass(frozen=True)
class SimURLs:
    gitlab: str
    kube: str
    prometheus: str
    metrics: str

    @property
    def admin(self) -> str:
        return f"{self.metrics}/_sim"


class Simulator:
    """The running world and its servers."""

    def __init__(
        self,
        scenario: str | scenarios.Scenario = "demo",
        *,
        seed: int = 7,
        time_scale: float = 1.0,
        clock: SimClock | None = None,
        services: int | None = None,
        tokens: Tokens | None = None,
        ports: Mapping[str, int] | None = None,
        bookmark_interval: float | None = None,
    ) -> None:
        #: Real seconds between BOOKMARK events on watches that allow them (None: the
        #: apiserver's usual minute).
        self.bookmark_interval = bookmark_interval
        loaded = scenarios.load(scenario) if isinstance(scenario, str) else scenario
        if services is not None:
            loaded = scenarios.scaled(loaded, services)
        self.scenario = loaded
        self.seed = seed
        self.clock = clock or SimClock(scale=time_scale)
        self.tokens = tokens or Tokens()
        self.faults = FaultSet()
        self.world = World(loaded, seed=seed, clock=self.clock)
        self._runners: list[web.AppRunner] = []
        self._ticker: asyncio.Task[None] | None = None
        self.urls: SimURLs | None = None
        #: Fixed ports per server (``gitlab``, ``kube``, ``prometheus``, ``metrics``), for
        #: output that must not change between runs (the README's screenshots show the
        #: apiserver's URL); any server not named gets a free port.
        self._ports = dict(ports or {})
        #: The apiserver's certificate, once started (clients trust it as their CA).
        self.kube_certificate: ServingCertificate | None = None
        self._tls_dir: tempfile.TemporaryDirectory[str] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> SimURLs:
        from cockpit.sim.gitlab.api import create_app as gitlab_app
        from cockpit.sim.kube.api import create_app as kube_app
        from cockpit.sim.metrics.api import create_metrics_app, create_prometheus_app

        gitlab = await self._serve(
            gitlab_app(self.world, self.faults, self.tokens), port=self._ports.get("gitlab", 0)
        )
        self._tls_dir = tempfile.TemporaryDirectory(prefix="cockpit-sim-tls-")
        try:
            self.kube_certificate = await asyncio.to_thread(self_signed, Path(self._tls_dir.name))
        except CertificateError:
            self.kube_certificate = None
        options = {}
        if self.bookmark_interval is not None:
            options["bookmark_interval"] = self.bookmark_interval
        kube = await self._serve(
            kube_app(self.world, self.faults, self.tokens, **options),
            ssl_context=self.kube_certificate.ssl_context() if self.kube_certificate else None,
            port=self._ports.get("kube", 0),
        )
        prometheus = await self._serve(
            create_prometheus_app(self.world, self.faults), port=self._ports.get("prometheus", 0)
        )
        metrics_app = create_metrics_app(self.world)
        metrics_app.add_routes(self._admin_routes())
        metrics = await self._serve(metrics_app, port=self._ports.get("metrics", 0))
        self.urls = SimURLs(gitlab=gitlab, kube=kube, prometheus=prometheus, metrics=metrics)
        if not self.clock.manual:
            self._ticker = asyncio.create_task(self._tick(), name="cockpit-sim-ticker")
        return self.urls

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        self.world.kube.store.drop_watches()
        for runner in reversed(self._runners):
            await runner.cleanup()
        self._runners.clear()
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
            self._tls_dir = None

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def _serve(
        self, app: web.Application, *, ssl_context: ssl.SSLContext | None = None, port: int = 0
    ) -> str:
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", port, ssl_context=ssl_context)
        await site.start()
        self._runners.append(runner)
        host, port = runner.addresses[0][:2]
        scheme = "https" if ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    async def _tick(self) -> None:
        while True:
            self.world.step()
            await asyncio.sleep(TICK_SECONDS)

    # ------------------------------------------------------------------ control

    async def advance(self, seconds: float, *, step: float = 1.0) -> None:
        """Move simulated time forward in ``step``-second increments, stepping the world.

        Yields to the event loop after each step so that watch streams and other
        servers see every intermediate state, as they would in real time.
        """
        remaining = seconds
        while remaining > 1e-9:
            delta = min(step, remaining)
            self.clock.advance(delta)
            self.world.step()
            remaining -= delta
            await asyncio.sleep(0)

    def set_fault(self, api: str, fault: Fault | None) -> None:
        self.faults.set(api, fault)

    def requests_seen(
        self, api: str | None = None, *, writes_only: bool = False
    ) -> list[RecordedRequest]:
        """The requests the GitLab, Kubernetes and Prometheus servers received, oldest first."""
        return [
            r
            for r in self.faults.request_log
            if (api is None or r.api == api) and (r.is_write or not writes_only)
        ]

    def drop_watches(self, *, expire: bool = False) -> int:
        """Close every open watch; with ``expire`` their resume gets 410 Expired."""
        if expire:
            self.world.kube.store.compact()
        return self.world.kube.store.drop_watches()

    def write_state_dir(self, directory: Path) -> None:
        assert self.urls is not None, "start() first"
        write_state_dir(
            directory,
            self.scenario,
            gitlab_url=self.urls.gitlab,
            kube_url=self.urls.kube,
            prometheus_url=self.urls.prometheus,
            admin_url=self.urls.admin,
            gitlab_token=self.tokens.gitlab,
            kube_token=self.tokens.kube,
            kube_certificate_authority=self.kube_certificate.pem if self.kube_certificate else None,
            poll=poll_for_time_scale(self.clock.scale),
        )

    # ------------------------------------------------------------------ admin API

    def _admin_routes(self) -> list[web.RouteDef]:
        async def state(request: web.Request) -> web.Response:
            return web.json_response(
                {
                    "scenario": self.scenario.name,
                    "seed": self.seed,
                    "now": self.clock.now().isoformat(),
                    "time_scale": self.clock.scale,
                    "manual_clock": self.clock.manual,
                    "faults": {api: vars(f) for api, f in self.faults.active().items()},
                    "requests": dict(self.faults.requests),
                    "open_watches": self.world.kube.store.open_watches,
                }
            )

        async def put_fault(request: web.Request) -> web.Response:
            api = request.match_info["api"]
            if api not in APIS:
                return web.json_response({"error": f"unknown API {api!r}"}, status=404)
            try:
                fault = Fault.from_json(await request.json())
            except (ValueError, TypeError, json.JSONDecodeError) as error:
                return web.json_response({"error": str(error)}, status=400)
            self.set_fault(api, fault)
            return web.json_response({"api": api, "fault": vars(fault)})

        async def delete_fault(request: web.Request) -> web.Response:
            api = request.match_info["api"]
            if api not in APIS:
                return web.json_response({"error": f"unknown API {api!r}"}, status=404)
            self.set_fault(api, None)
            return web.json_response({"api": api, "fault": None})

        async def drop(request: web.Request) -> web.Response:
            expire = request.query.get("expire", "") in ("1", "true", "yes")
            return web.json_response({"dropped": self.drop_watches(expire=expire)})

        async def requests(request: web.Request) -> web.Response:
            api = request.query.get("api") or None
            writes_only = request.query.get("writes", "") in ("1", "true", "yes")
            return web.json_response(
                [
                    {
                        "api": r.api,
                        "method": r.method,
                        "path": r.path,
                        "query": r.query,
                        "content_type": r.content_type,
                        "body": r.body.decode("utf-8", errors="replace"),
                    }
                    for r in self.requests_seen(api, writes_only=writes_only)
                ]
            )

        async def advance(request: web.Request) -> web.Response:
            try:
                seconds = float(request.query["seconds"])
            except (KeyError, ValueError):
                return web.json_response({"error": "give ?seconds=N"}, status=400)
            await self.advance(seconds)
            return web.json_response({"now": self.clock.now().isoformat()})

        return [
            web.get("/_sim/state", state),
            web.put("/_sim/faults/{api}", put_fault),
            web.delete("/_sim/faults/{api}", delete_fault),
            web.post("/_sim/watches/drop", drop),
            web.post("/_sim/advance", advance),
            web.get("/_sim/requests", requests),
        ]


@contextlib.asynccontextmanager
async def simulate(
    scenario: str | scenarios.Scenario = "demo",
    *,
    seed: int = 7,
    time_scale: float = 1.0,
    clock: SimClock | None = None,
    services: int | None = None,
    state_dir: Path | None = None,
    bookmark_interval: float | None = None,
) -> AsyncIterator[Simulator]:
    """Run the simulated world for the duration of the block; yields the :class:`Simulator`.

    ``sim.urls`` holds the four base URLs; with ``state_dir`` the kubeconfig,
    cockpit.toml and env files are written there once the servers listen.
    """
    sim = Simulator(
        scenario,
        seed=seed,
        time_scale=time_scale,
        clock=clock,
        services=services,
        bookmark_interval=bookmark_interval,
    )
    await sim.start()
    try:
        if state_dir is not None:
            sim.write_state_dir(state_dir)
        yield sim
    finally:
        await sim.stop()
