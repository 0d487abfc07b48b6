"""The README's screenshots are current and reproducible: rendering them again from the
frozen demo world gives the very bytes committed in ``screenshots/``, and every image
the README shows exists.

A few of the shots are rendered (the whole set takes half a minute): the overview and
the confirm dialog, which carries the apiserver's URL. When this fails after a deliberate
change to the screen, run ``python screenshots/render.py`` and look at the result.
"""

from __future__ import annotations

import re
from pathlib import Path

from screenshots import render
from tests.helpers import REPO

SCREENSHOTS = REPO / "screenshots"


async def test_rendering_again_gives_the_committed_screenshots(tmp_path: Path) -> None:
    shots = tuple(render.SHOT_NAMED[name] for name in ("overview", "confirm-rollback"))
    written = await render.render(tmp_path, shots=shots, sizes=((80, 24),))
    assert [p.name for p in written] == ["overview-80x24.svg", "confirm-rollback-80x24.svg"]
    for path in written:
        committed = SCREENSHOTS / path.name
        assert committed.exists(), f"{committed} is missing: run python screenshots/render.py"
        assert path.read_bytes() == committed.read_bytes(), (
            f"{path.name} differs from the committed one: run python screenshots/render.py "
            "and look at it"
        )


def test_every_screenshot_the_readme_shows_is_rendered_by_the_script() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    shown = set(re.findall(r"\(screenshots/([\w.-]+\.svg)\)", readme))
    assert {"overview-120x36.svg", "confirm-rollback-120x36.svg"} <= shown
    rendered = {
        f"{shot.name}-{width}x{height}.svg"
        for shot in render.SHOTS
        for width, height in render.SIZES
    }
    assert shown <= rendered
    assert all((SCREENSHOTS / name).exists() for name in rendered)
