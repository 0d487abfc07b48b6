"""The deployment history (last 10, rollbacks marked) and the feature flags of one environment."""

from __future__ import annotations

from datetime import datetime

from textual.widgets import Static

from cockpit.model import Deployment, FeatureFlag
from cockpit.ui.presenters import Fragment, age_words, short_sha, status_glyph
from cockpit.ui.widgets.tones import toned

HISTORY_LENGTH = 10


def deployment_lines(deployments: tuple[Deployment, ...], now: datetime) -> list[Fragment]:
    if not deployments:
        return [("no deployments recorded for this environment", "muted")]
    out: list[Fragment] = []
    shown = deployments[:HISTORY_LENGTH]
    # ✔ says success; any other outcome is also said in words (the column is as wide as
    # the longest of them, so the rest of the lines stay aligned).
    words = [("" if d.status == "success" else f" {d.status}") for d in shown]
    width = max(len(w) for w in words)
    # Number, user and the rollback mark are padded too, so the titles start in one column.
    iid_width = max(len(str(d.iid)) for d in shown)
    user_width = max(len(d.user or "?") for d in shown)
    mark = " ↺ rollback"
    mark_width = len(mark) if any(d.is_rollback for d in shown) else 0
    for index, (d, word) in enumerate(zip(shown, words, strict=True)):
        glyph, tone = status_glyph(d.status)
        when = d.finished_at or d.created_at
        prefix = "\n" if index else ""
        out.append((f"{prefix}{glyph}{word:<{width}}", tone))
        out.append(
            (
                f" #{d.iid:<{iid_width}} {short_sha(d.sha)} {age_words(when, now):>4} ago "
                f"{d.user or '?':<{user_width}}",
                "",
            )
        )
        if mark_width:
            out.append((mark if d.is_rollback else " " * mark_width, "warn"))
        if d.commit_title:
            out.append((f"  {d.commit_title}", "muted"))
    return out


def flag_lines(flags: tuple[FeatureFlag, ...]) -> list[Fragment]:
    if not flags:
        return [("no feature flags", "muted")]
    out: list[Fragment] = []
    for index, flag in enumerate(flags):
        prefix = "\n" if index else ""
        out.append(
            (
                f"{prefix}{'● on ' if flag.active else '○ off'} {flag.name}",
                "ok" if flag.active else "muted",
            )
        )
        if flag.description:
            out.append((f"  {flag.description}", "muted"))
    return out


class DeploymentsPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = object()

    def show(self, deployments: tuple[Deployment, ...], now: datetime, stale: str) -> None:
        key = (deployments, now.replace(second=0, microsecond=0), stale)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = "Deployments" + (f" · {stale}" if stale else "")
        self.update(toned(deployment_lines(deployments, now)))


class FlagsPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._shown: object = object()

    def show(self, flags: tuple[FeatureFlag, ...], stale: str) -> None:
        key = (flags, stale)
        if key == self._shown:
            return
        self._shown = key
        self.border_title = "Feature flags (f)" + (f" · {stale}" if stale else "")
        self.update(toned(flag_lines(flags)))
