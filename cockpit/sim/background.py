"""The simulator on its own event loop in a background thread (how ``cockpit demo`` runs it).

The screen owns the main thread's event loop; the simulated world steps, serves and
streams watches on another, so neither can slow the other down.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping

from cockpit.sim.clock import SimClock
from cockpit.sim.server import Simulator


class BackgroundSimulator:
    """Start with :meth:`start` (returns the running :class:`Simulator`), end with :meth:`stop`."""

    def __init__(
        self,
        scenario: str = "demo",
        *,
        seed: int = 7,
        time_scale: float = 1.0,
        services: int | None = None,
        clock: SimClock | None = None,
        ports: Mapping[str, int] | None = None,
    ) -> None:
        self._arguments = {
            "seed": seed,
            "time_scale": time_scale,
            "services": services,
            "clock": clock,
            "ports": ports,
        }
        self._scenario = scenario
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.simulator: Simulator | None = None

    def start(self, timeout: float = 60.0) -> Simulator:
        self._thread = threading.Thread(target=self._main, name="cockpit-sim", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise TimeoutError(f"the simulator did not start within {timeout:.0f} s")
        if self._error is not None:
            raise self._error
        assert self.simulator is not None
        return self.simulator

    def stop(self, timeout: float = 10.0) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def call(self, function, *args):  # type: ignore[no-untyped-def]
        """Run ``function(*args)`` on the simulator's loop and return its result (thread-safe)."""
        assert self._loop is not None

        async def invoke():  # type: ignore[no-untyped-def]
            result = function(*args)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(invoke(), self._loop).result()

    def _main(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        try:
            simulator = Simulator(self._scenario, **self._arguments)  # type: ignore[arg-type]
            await simulator.start()
        except BaseException as error:
            self._error = error
            self._ready.set()
            return
        self.simulator = simulator
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            await simulator.stop()
