"""The detail's insights panel: the service's maturity level and this environment's DORA figures.

Both are measured from GitLab when the detail opens (``InsightsProvider``), so the panel
says "measuring…" until they arrive, and says in words why when GitLab refused.
"""

from __future__ import annotations

import textwrap

from textual.widgets import Static

from cockpit.ui.insight_rows import DoraFigure, InsightRow, Maturity
from cockpit.ui.presenters import Fragment
from cockpit.ui.widgets.tones import toned

#: DORA classes as tones: the better two read as good, medium as a warning, low as bad.
CLASS_TONES = {"elite": "ok", "high": "ok", "medium": "warn", "low": "bad"}


def class_fragment(figure: DoraFigure) -> Fragment:
    """``● elite``; ``–`` when there was nothing to classify."""
    if figure.cls is None:
        return ("–", "muted")
    glyph = {"elite": "●", "high": "●", "medium": "◐", "low": "○"}.get(figure.cls, "?")
    return (f"{glyph} {figure.cls}", CLASS_TONES.get(figure.cls, "muted"))


def _wrapped(head: str, text: str, width: int, tone: str) -> list[Fragment]:
    """``head`` and ``text`` wrapped at ``width``, continuation lines indented under it."""
    lines = textwrap.wrap(text, width=max(20, width), initial_indent=head, subsequent_indent="    ")
    return [(f"\n{line}", tone) for line in lines]


def maturity_lines(maturity: Maturity, width: int = 60) -> list[Fragment]:
    if maturity.level is None:
        return [
            ("Maturity ", "bold"),
            ("? not assessed", "muted"),
            *_wrapped("  ", maturity.error or "GitLab gave no answer", width, "bad"),
        ]
    bound = " (at least: included CI files were not read)" if not maturity.complete else ""
    out: list[Fragment] = [
        ("Maturity ", "bold"),
        (f"level {maturity.level} of 4 · {maturity.name}{bound}", ""),
    ]
    if maturity.present:
        out += _wrapped("  ✔ present: ", ", ".join(maturity.present), width, "ok")
    if maturity.missing:
        out += _wrapped("  ✖ missing: ", ", ".join(maturity.missing), width, "warn")
    if maturity.unknown:
        out += _wrapped("  ? unknown: ", ", ".join(maturity.unknown), width, "muted")
    if maturity.next_step:
        reason = f": {maturity.next_step_reason}" if maturity.next_step_reason else ""
        out += _wrapped("  ➜ next step: ", f"{maturity.next_step}{reason}", width, "")
    return out


def dora_lines(row: InsightRow) -> list[Fragment]:
    out: list[Fragment] = [
        ("\nDORA ", "bold"),
        (f"{row.environment} · last {row.window_days} days", "muted"),
    ]
    if not row.dora:
        out.append((f"\n  ✖ {row.dora_error or 'no deployment history'}", "bad"))
        return out
    width = max(len(f.title) for f in row.dora)
    value_width = max(len(f.value) for f in row.dora)
    for figure in row.dora:
        out.append((f"\n  {figure.title:<{width}}  {figure.value:>{value_width}}  ", ""))
        if figure.cls is None and figure.detail:
            out.append((figure.detail, "muted"))  # why there is no figure
        else:
            out.append(class_fragment(figure))
    return out


def insight_lines(row: InsightRow, width: int = 60) -> list[Fragment]:
    return [*maturity_lines(row.maturity, width), *dora_lines(row)]


class InsightsPanel(Static, can_focus=True):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._row: InsightRow | None = None

    def on_mount(self) -> None:
        self.border_title = "Maturity and DORA"

    def show_measuring(self) -> None:
        self.update(toned([("◌ measuring… (CI configuration and deployment history)", "info")]))

    def show_unavailable(self, reason: str) -> None:
        self.update(toned([(reason, "muted")]))

    def show_failure(self, reason: str) -> None:
        self.update(toned([(f"✖ {reason}", "bad")]))

    def show_row(self, row: InsightRow) -> None:
        self._row = row
        self.update(toned(insight_lines(row, self.content_size.width or 60)))

    def on_resize(self) -> None:
        if self._row is not None:
            self.update(toned(insight_lines(self._row, self.content_size.width or 60)))
