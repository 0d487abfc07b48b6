"""Render the README screenshots: the overview, a detail during a canary, and help.

Each shot is taken at 120×36 and at 80×24 from an engine at a fixed moment, and saved
as SVG (``--png`` also converts them with ``rsvg-convert``)::

    python screenshots/render.py            # writes screenshots/*.svg
    python screenshots/render.py --png      # and screenshots/*.png

``demo_engine()`` is the only place that decides what the screen shows: today the
hand-built demo states of ``tests/ui/fake_engine.py``; to render from the simulator,
make it start ``cockpit.sim`` with a manual clock and seed and return the real engine.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from cockpit.ui.app import CockpitApp  # noqa: E402

SIZES = ((120, 36), (80, 24))


@dataclass(frozen=True)
class Shot:
    name: str
    keys: tuple[str, ...]


SHOTS = (
    Shot("overview", ()),
    Shot("detail-canary", ("enter",)),
    Shot("help", ("question_mark",)),
)


def demo_engine():  # type: ignore[no-untyped-def]
    """The engine the screenshots are taken from (fixed clock, fixed data)."""
    from tests.ui.fake_actions import FakeActions
    from tests.ui.fake_engine import demo_engine as fake_demo_engine

    return fake_demo_engine(), FakeActions()


def build_app(make_engine: Callable = demo_engine) -> CockpitApp:  # type: ignore[type-arg]
    engine, actions = make_engine()
    return CockpitApp(engine, actions=actions)


async def render(out: Path) -> list[Path]:
    """Every shot at every size, as SVG files in ``out`` (which must exist)."""
    written: list[Path] = []
    for shot in SHOTS:
        for width, height in SIZES:
            app = build_app()
            async with app.run_test(size=(width, height)) as pilot:
                await pilot.press(*shot.keys)
                await pilot.pause()
                name = f"{shot.name}-{width}x{height}.svg"
                app.save_screenshot(filename=name, path=str(out))
            written.append(out / name)
    return written


def to_png(svg: Path) -> Path:
    target = svg.with_suffix(".png")
    subprocess.run(["rsvg-convert", str(svg), "-o", str(target)], check=True)
    return target


def main() -> int:
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
    for svg in asyncio.run(render(args.out)):
        print(svg)
        if args.png:
            print(to_png(svg))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
