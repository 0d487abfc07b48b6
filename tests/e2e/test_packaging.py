"""cockpit as a user installs it: the wheel carries the stylesheets, and the app finds them."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import REPO


def test_the_wheel_ships_every_stylesheet_and_the_app_finds_them_there(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(REPO)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("cockpit-*.whl")
    stylesheets = sorted(path.name for path in (REPO / "styles").glob("*.tcss"))
    assert stylesheets
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert sorted(n.rsplit("/", 1)[1] for n in names if n.startswith("cockpit/styles/")) == (
            stylesheets
        )
        assert any(n.startswith("cockpit/sim/scenarios/") and n.endswith(".toml") for n in names)
        archive.extractall(tmp_path / "site")
    # Imported from the unpacked wheel (not from this checkout), the app's stylesheets
    # resolve inside the installed package.
    probe = (
        f"import sys; sys.path.insert(0, {str(tmp_path / 'site')!r})\n"
        "from cockpit.locations import styles_dir\n"
        "from cockpit.ui.app import CockpitApp\n"
        "print(styles_dir())\n"
        "missing = [str(p) for p in CockpitApp.CSS_PATH if not p.is_file()]\n"
        "print('missing', missing)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    where, missing = result.stdout.splitlines()
    assert Path(where) == tmp_path / "site" / "cockpit" / "styles"
    assert missing == "missing []"
    assert not Path(where).is_relative_to(REPO)
