"""Where cockpit keeps files: XDG config and state directories, and the shipped styles."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_config_path, user_state_path

APP_NAME = "cockpit"


def config_dir() -> Path:
    """``$XDG_CONFIG_HOME/cockpit`` (``~/.config/cockpit``)."""
    return user_config_path(APP_NAME, appauthor=False)


def state_dir() -> Path:
    """``$XDG_STATE_HOME/cockpit`` (``~/.local/state/cockpit``): the audit log lives here."""
    return user_state_path(APP_NAME, appauthor=False)


def audit_log_path() -> Path:
    return state_dir() / "audit.jsonl"


def styles_dir() -> Path:
    """The directory of ``.tcss`` files.

    In a wheel they ship as ``cockpit/styles``; in a source checkout (editable install)
    they sit in ``styles/`` at the top of the repository.
    """
    package = Path(__file__).resolve().parent
    for candidate in (package / "styles", package.parent / "styles"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cockpit's stylesheets are missing (looked in {package / 'styles'} and "
        f"{package.parent / 'styles'}); reinstall cockpit"
    )
