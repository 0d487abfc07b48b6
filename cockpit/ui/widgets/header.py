"""The two lines at the top of every screen: where cockpit points, and how fresh each source is.

``CockpitHeader``: cluster context(s), GitLab host, a ``READ-ONLY`` marker and an HH:MM
clock that repaints only when the minute changes (a seconds clock would cost bytes on
every tick).
``SourceBar``: each source's state in words ("⚠ Prometheus: no data for 47s (connection
refused)", "⚠ GitLab: slow (4.2 s answers)"); it recomputes every second but repaints only when its words change, so a
calm screen writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime

from rich.text import Text
from textual.widgets import Static

from cockpit.model import LinkState, ServiceState, SourceStatus
from cockpit.ui.presenters import SOURCE_TITLES, source_words, worst_sources
from cockpit.ui.widgets.tones import toned


class CockpitHeader(Static):
    """``cockpit │ prod-eu, staging │ gitlab.example.com │ READ-ONLY │ 03:12``."""

    def __init__(
        self,
        *,
        contexts: tuple[str, ...],
        gitlab_host: str | None,
        read_only: bool,
        clock: Callable[[], datetime],
        title: str = "",
        **kwargs: object,
    ) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._contexts = contexts
        self._gitlab_host = gitlab_host
        self._read_only = read_only
        self._clock = clock
        self._title = title
        self._shown = ""

    def on_mount(self) -> None:
        # The clock may be a sped-up world's (``cockpit demo``): look every second, repaint
        # only when the minute changed.
        self._tick()
        self.set_interval(1.0, self._tick)

    def _tick(self) -> None:
        self._show(self._clock().strftime("%H:%M"))

    def _show(self, clock: str, *, force: bool = False) -> None:
        if clock == self._shown and not force:
            return
        self._shown = clock
        text = Text(no_wrap=True, overflow="ellipsis")
        text.append("cockpit", style="bold")
        if self._title:
            text.append(f" › {self._title}", style="bold")
        if self._contexts:
            text.append("  ⎈ " + ", ".join(self._contexts))
        if self._gitlab_host:
            text.append(f"  ⎇ {self._gitlab_host}")
        right = Text()
        if self._read_only:
            right.append(" READ-ONLY ", style="reverse bold")
            right.append(" ")
        right.append(clock)
        width = self.size.width or 80
        pad = max(1, width - text.cell_len - right.cell_len)
        if text.cell_len + right.cell_len >= width:
            text.truncate(max(0, width - right.cell_len - 1), overflow="ellipsis")
            pad = 1
        self.update(Text.assemble(text, " " * pad, right))

    def on_resize(self) -> None:
        self._show(self._shown, force=True)


class SourceBar(Static):
    """Each source's freshness; silent (no repaint) while nothing changes."""

    def __init__(self, *, clock: Callable[[], datetime], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self._clock = clock
        self._states: tuple[ServiceState, ...] = ()
        self._shown: tuple[tuple[str, str], ...] | None = None

    def on_mount(self) -> None:
        self.set_interval(1.0, self._recompute)
        self._recompute()

    def show_states(self, states: Iterable[ServiceState]) -> None:
        self._states = tuple(states)
        self._recompute()

    def _recompute(self) -> None:
        now = self._clock()
        fragments = tuple(_words(s, now) for s in worst_sources(self._states))
        if fragments == self._shown:
            return
        self._shown = fragments
        self.update(
            toned(fragments, separator="  ") if fragments else toned([("no data yet", "muted")])
        )
        self.set_class(any(t in ("bad", "warn") for _, t in fragments), "-trouble")


def _words(status: SourceStatus, now: datetime) -> tuple[str, str]:
    """A source's words; one that answers, but slowly, says how slowly."""
    if status.state is LinkState.OK and status.slow is not None:
        return (f"⚠ {SOURCE_TITLES[status.source]}: slow ({status.slow:.1f} s answers)", "warn")
    return source_words(status, now)
