"""Render the README screenshots from the real demo world, frozen at one moment.

The simulator serves the ``demo`` scenario (seed 7) with a manual clock, moved two
minutes on (the ``api`` canary has reached its first pause and measured its success
rate a few times; the ``checkout`` canary is failing); a real engine reads it over
HTTP with the simulator's clock as its own; the app runs with the real action layer
and insights. Nothing moves between or during the shots, so two runs write the same
bytes. Each shot is taken at 120×36 and at 80×24 and saved as SVG (``--png`` also
converts them with ``rsvg-convert``)::

    python screenshots/render.py            # writes screenshots/*.svg
    python screenshots/render.py --png      # and screenshots/*.png

The servers listen on fixed loopback ports (``PORTS``) because the confirm dialog
shows the apiserver's URL.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from textual.pilot import Pilot  # noqa: E402

from cockpit.engine import Engine  # noqa: E402
from cockpit.ui.app import CockpitApp  # noqa: E402
from cockpit.ui.screens.confirm import ConfirmScreen  # noqa: E402
from cockpit.ui.screens.dashboard import DashboardScreen  # noqa: E402
from cockpit.ui.screens.detail import DetailScreen  # noqa: E402
from cockpit.ui.screens.help import HelpScreen  # noqa: E402
from tests.helpers import eventually  # noqa: E402
from tests.ui.demo_world import FrozenDemo, frozen_demo, settled  # noqa: E402

SIZES = ((120, 36), (80, 24))
#: Simulated seconds after the demo's start at which every shot is taken.
MOMENT = 120.0
SEED = 7
PORTS = {"gitlab": 18929, "kube": 16443, "prometheus": 19090, "metrics": 19100}


def _insights_measured(app: CockpitApp) -> bool:
    screen = app.screen
    return isinstance(screen, DetailScreen) and "Maturity" in str(
        screen.query_one("#insights").render()
    )


def _dashboard_filled(app: CockpitApp) -> bool:
    screen = app.screen
    return (
        isinstance(screen, DashboardScreen) and screen.query_one("#dashboard-table").row_count > 0
    )


@dataclass(frozen=True)
class Shot:
    name: str
    #: Keys pressed on the overview, as a person would.
    keys: tuple[str, ...]
    #: What must be on screen before the picture is taken.
    ready: Callable[[CockpitApp], bool] = lambda app: True


SHOTS = (
    Shot("overview", ()),
    # The api canary in flight: filter to it, open it.
    Shot("detail-canary", ("slash", "a", "p", "i", "enter", "enter"), _insights_measured),
    Shot("help", ("question_mark",), lambda app: isinstance(app.screen, HelpScreen)),
    # The bad canary is the top row: r, and the dialog the action layer checked.
    Shot(
        "confirm-rollback",
        ("r",),
        lambda app: isinstance(app.screen, ConfirmScreen) and app.screen.armed,
    ),
    Shot("dashboard", ("d",), _dashboard_filled),
)


SHOT_NAMED = {shot.name: shot for shot in SHOTS}


async def prepare(app: CockpitApp, engine: Engine, pilot: Pilot[None], shot: Shot) -> None:
    """Bring a running app to the shot: every row in, the keys pressed, the screen ready.

    The snapshot tests call this too (``run_before``), so they guard these very screens.
    """
    await settled(app, engine)
    await pilot.press(*shot.keys)
    await eventually(lambda: shot.ready(app), timeout=30, message=f"the {shot.name} screen")
    await app.workers.wait_for_complete()
    await pilot.pause()
    # The health guard's toast depends on when the first bad sample arrived; the row
    # and its status line carry the same verdict, and they do not.
    app.clear_notifications()
    await pilot.pause()


async def take(demo: FrozenDemo, shot: Shot, size: tuple[int, int]) -> str:
    """One shot as SVG text."""
    app, engine = demo.app()
    async with app.run_test(size=size) as pilot:
        await prepare(app, engine, pilot, shot)
        return app.export_screenshot(title=f"cockpit {shot.name}")


async def render(
    out: Path, *, shots: tuple[Shot, ...] = SHOTS, sizes: tuple[tuple[int, int], ...] = SIZES
) -> list[Path]:
    """Every shot at every size, as SVG files in ``out`` (which must exist)."""
    written: list[Path] = []
    with frozen_demo("demo", seed=SEED, advance=MOMENT, ports=PORTS) as demo:
        for shot in shots:
            for width, height in sizes:
                path = out / f"{shot.name}-{width}x{height}.svg"
                path.write_text(await take(demo, shot, (width, height)), encoding="utf-8")
                written.append(path)
    return written


def to_png(svg: Path) -> Path:
    target = svg.with_suffix(".png")
    subprocess.run(["rsvg-convert", str(svg), "-o", str(target)], check=True)
    return target


def main(run: Callable[[Path], Awaitable[list[Path]]] = render) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out", type=Path, default=HERE, help="where to write (default: screenshots/)"
    )
    parser.add_argument("--png", action="store_true", help="also convert to PNG with rsvg-convert")
    args = parser.parse_args()
    if args.png and shutil.which("rsvg-convert") is None:
        print("render.py: --png needs rsvg-convert (apt-get install librsvg2-bin)", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    for svg in asyncio.run(run(args.out)):
        print(svg)
        if args.png:
            print(to_png(svg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
