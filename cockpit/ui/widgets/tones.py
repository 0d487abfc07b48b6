"""Tones (``ok``, ``bad``, ``warn``, ``info``, ``muted``, ``bold``) as theme-aware text styles.

The presenters say *what* a fragment means; this says how that reads on screen, using
the theme's variables so "Change theme" recolours everything. Every toned fragment
already carries a glyph and a word, so the colour is never the only signal.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.content import Content

from cockpit.ui.presenters import Fragment

TONE_STYLES = {
    "ok": "$text-success",
    "bad": "$text-error bold",
    "warn": "$text-warning",
    "info": "$text-accent",
    "muted": "$text-muted",
    "bold": "bold",
    "": "",
}


def toned(fragments: Iterable[Fragment], *, separator: str = "") -> Content:
    """Fragments as ``Content`` whose styles follow the current theme."""
    parts: list[str | tuple[str, str]] = []
    for index, (text, tone) in enumerate(fragments):
        if index and separator:
            parts.append(separator)
        parts.append((text, TONE_STYLES.get(tone, "")))
    return Content.assemble(*parts)
