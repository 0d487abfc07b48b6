"""How states read on screen: glyphs, words, bars, sparklines, ages and the overview columns.

Pure functions from model objects to text fragments. A fragment is ``(text, tone)``;
the tone (``ok``, ``bad``, ``warn``, ``info``, ``muted`` or ``""``) becomes a colour
through the stylesheet, and every status also carries a glyph and a word, so nothing is
said by colour alone (``NO_COLOR`` stays readable). No Textual here.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from cockpit.insights.health_guard import rate_percent
from cockpit.model import (
    Deployment,
    Health,
    HealthStatus,
    LinkState,
    Pipeline,
    Rollout,
    ServiceState,
    SourceName,
    SourceStatus,
    Strategy,
)

Fragment = tuple[str, str]
Cell = tuple[Fragment, ...]

# --------------------------------------------------------------------------- words


def duration_words(seconds: float | None) -> str:
    """``42s``, ``3m 05s``, ``2h 07m``, ``3d 4h``; an empty string when unknown."""
    if seconds is None:
        return ""
    total = max(0, round(seconds))
    if total < 60:
        return f"{total}s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes}m {secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    if hours < 24:
        return f"{hours}h {minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d {hours}h"


def age_words(then: datetime | None, now: datetime) -> str:
    """How long ago, short: ``47s``, ``12m``, ``3h``, ``5d``; ``?`` when unknown."""
    if then is None:
        return "?"
    seconds = max(0.0, (now - then).total_seconds())
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def threshold_words(threshold: float) -> str:
    """A threshold as people write it: ``99 %``, ``99.5 %``, ``99.95 %``."""
    return f"{round(threshold * 100, 3):g} %"


def rate_words(rate: float, threshold: float, *, decimals: int = 1) -> str:
    """A success rate with enough decimals that its side of the threshold shows:
    0.98957 against 0.99 is ``98.96 %`` (never ``99.0 %`` under 99 %)."""
    return rate_percent(rate, threshold, decimals=decimals)


def guard_reason(
    bad_streak: int,
    threshold: float,
    latest: float | None,
    action: str | None = None,
    *,
    read_only: bool = False,
) -> str:
    """The health guard's verdict in words short enough for one line, with its numbers and
    the key to press (and what the guard did, if anything). A read-only session cannot
    roll back, and says so instead of suggesting ``r``."""
    now = f", now {rate_words(latest, threshold)}" if latest is not None else ""
    advice = (
        "roll back from a session that can write (this one is read-only)"
        if read_only
        else "press r to roll back"
    )
    text = f"{bad_streak} samples in a row under {threshold_words(threshold)}{now}: {advice}"
    return f"{text}; {action}" if action else text


def tight(text: str) -> str:
    """``98.96 %`` → ``98.96%``, for a narrow column or a chart's scale."""
    return text.replace(" %", "%")


def short_sha(sha: str | None) -> str:
    return (sha or "")[:8]


def image_tag(image: str) -> str:
    """``registry/shop/checkout:1.4.2`` → ``1.4.2``; digests shorten to 12 hex digits."""
    if "@" in image:
        return image.rsplit("@", 1)[1].removeprefix("sha256:")[:12]
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else last


# --------------------------------------------------------------------------- statuses

_JOB_GLYPHS = {
    "success": ("✔", "ok"),
    "failed": ("✖", "bad"),
    "running": ("◌", "info"),
    "canceling": ("◌", "warn"),
    "pending": ("◷", "muted"),
    "preparing": ("◷", "muted"),
    "waiting_for_resource": ("◷", "muted"),
    "waiting_for_callback": ("◷", "muted"),
    "created": ("○", "muted"),
    "scheduled": ("◷", "warn"),
    "manual": ("▶", "warn"),
    "canceled": ("⊘", "muted"),
    "skipped": ("»", "muted"),
}

_STATUS_WORDS = {
    "waiting_for_resource": "waiting",
    "waiting_for_callback": "waiting",
    "manual": "manual",
}


def status_glyph(status: str, *, allow_failure: bool = False) -> Fragment:
    """A job, stage or pipeline status as one glyph with its tone."""
    if status == "failed" and allow_failure:
        return ("!", "warn")
    return _JOB_GLYPHS.get(status, ("?", "muted"))


def status_word(status: str, *, allow_failure: bool = False) -> str:
    word = _STATUS_WORDS.get(status, status)
    return f"{word} (allowed)" if status == "failed" and allow_failure else word


_PHASE_GLYPHS = {
    "Healthy": ("✔", "ok"),
    "Progressing": ("◌", "info"),
    "Paused": ("‖", "warn"),
    "Degraded": ("✖", "bad"),
}


def phase_glyph(phase: str) -> Fragment:
    return _PHASE_GLYPHS.get(phase, ("?", "muted"))


_ANALYSIS_GLYPHS = {
    "Successful": ("✔", "ok"),
    "Running": ("◌", "info"),
    "Pending": ("◷", "muted"),
    "Inconclusive": ("?", "warn"),
    "Failed": ("✖", "bad"),
    "Error": ("⚠", "bad"),
}


def analysis_glyph(phase: str) -> Fragment:
    return _ANALYSIS_GLYPHS.get(phase, ("?", "muted"))


#: Words in a metric's name that say its values are ratios (0..1), shown as percentages.
_RATIO_WORDS = ("success", "rate", "ratio", "availability", "error", "percent")


def measurement_words(metric: str, value: str | None) -> str:
    """An analysis measurement as a person reads it.

    Argo Rollouts stores a query's result as text, often a list: ``[0.9995076817433826]``.
    Numbers lose the brackets and the noise; a ratio-named metric's 0..1 values become
    percentages (``99.95 %``); anything else keeps four significant digits (``0.2531``);
    text that is not numbers is shown as it is. ``—`` when nothing was measured.
    """
    if value is None or not value.strip():
        return "—"
    text = value.strip()
    inner = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        numbers = [float(part) for part in inner.split(",") if part.strip()]
    except ValueError:
        return text if len(text) <= 24 else text[:23] + "…"
    if not numbers:
        return "—"
    ratio = any(word in metric.lower() for word in _RATIO_WORDS) and all(
        0.0 <= n <= 1.0 for n in numbers
    )
    shown = [f"{n * 100:.2f} %" if ratio else f"{n:.4g}" for n in numbers]
    return ", ".join(shown)


# --------------------------------------------------------------------------- bars

_EIGHTHS = " ▏▎▍▌▋▊▉█"
_SPARKS = "▁▂▃▄▅▆▇█"


def weight_bar(weight: int, width: int) -> str:
    """A bar of ``width`` cells filled to ``weight`` %, in eighths; ``░`` marks the rest."""
    width = max(1, width)
    eighths = round(max(0, min(100, weight)) * width * 8 / 100)
    full, part = divmod(eighths, 8)
    bar = "█" * full + (_EIGHTHS[part] if part else "")
    return bar + "░" * (width - len(bar))


def sparkline(values: Sequence[float | None], width: int, *, low: float, high: float) -> str:
    """The last ``width`` values as block heights between ``low`` and ``high``.

    A missing value (no traffic) is ``·``; values outside the range are clamped.
    """
    if width <= 0:
        return ""
    tail = list(values)[-width:]
    span = high - low
    out: list[str] = []
    for value in tail:
        if value is None:
            out.append("·")
            continue
        ratio = 1.0 if span <= 0 else (min(high, max(low, value)) - low) / span
        out.append(_SPARKS[min(len(_SPARKS) - 1, int(ratio * (len(_SPARKS) - 1) + 0.5))])
    return "".join(out).rjust(width)


_RISING = " ▁▂▃▄▅▆▇█"


def block_chart(
    values: Sequence[float | None], width: int, height: int, *, low: float, high: float
) -> list[str]:
    """The last ``width`` values as columns ``height`` rows tall, in eighths of a row,
    top row first; right-aligned (the newest value is the last column).

    A missing value (no traffic) is ``·`` on the bottom row; values outside the range
    are clamped, and a value at ``low`` still shows a sliver so it is not taken for a gap.
    """
    if width <= 0 or height <= 0:
        return []
    tail = list(values)[-width:]
    pad = width - len(tail)
    span = high - low
    levels: list[int | None] = []
    for value in tail:
        if value is None:
            levels.append(None)
            continue
        ratio = 1.0 if span <= 0 else (min(high, max(low, value)) - low) / span
        levels.append(max(1, round(ratio * height * 8)))
    rows = []
    for row in range(height - 1, -1, -1):
        cells = []
        for level in levels:
            if level is None:
                cells.append("·" if row == 0 else " ")
            else:
                cells.append(_RISING[max(0, min(8, level - row * 8))])
        rows.append(" " * pad + "".join(cells))
    return rows


def success_rate_range(health: Health) -> tuple[float, float]:
    """The vertical range for a success-rate chart: from a bit under the threshold to 100 %."""
    seen = [s.value for s in health.history if s.value is not None]
    floor = min([*seen, health.threshold - 0.01]) if seen else health.threshold - 0.01
    return (max(0.0, floor), 1.0)


# --------------------------------------------------------------------------- row cells


#: Deployment records that say nothing happened (GitLab keeps them for skipped or
#: canceled deploy jobs, and creates one before a manual job is played).
_NOT_DEPLOYED = frozenset({"skipped", "canceled", "created", "blocked"})


def last_deployed(state: ServiceState) -> Deployment | None:
    """The newest deployment that happened (succeeded, failed or is running)."""
    return next((d for d in state.deployments if d.status not in _NOT_DEPLOYED), None)


def version_text(state: ServiceState) -> str:
    """Image tag of the running version, else the last deployed sha, else the pipeline sha."""
    rollout = state.rollout
    if rollout is not None and rollout.images:
        return image_tag(rollout.images[0])
    deployed = last_deployed(state)
    if deployed is not None:
        return short_sha(deployed.sha)
    if state.pipeline is not None:
        return short_sha(state.pipeline.sha)
    return "—"


def pipeline_cell(pipeline: Pipeline | None) -> Cell:
    """One glyph per stage, then what the pipeline is doing in words: ``passed``, or the
    current stage's status then its name (``failed test``, ``manual production_deploy``),
    so that a narrow column cuts the stage name, not the status."""
    if pipeline is None:
        return (("— no pipeline", "muted"),)
    fragments: list[Fragment] = [status_glyph(stage.status) for stage in pipeline.stages]
    current = pipeline.current_stage
    if pipeline.status == "success" or (current is not None and current.status == "success"):
        _, tone = status_glyph(pipeline.status)
        fragments.append(
            (f" {'passed' if pipeline.status == 'success' else status_word(pipeline.status)}", tone)
        )
    elif current is not None:
        _, tone = status_glyph(current.status)
        fragments.append((f" {status_word(current.status)} {current.name}", tone))
    else:
        glyph, tone = status_glyph(pipeline.status)
        fragments.append((f"{glyph} {status_word(pipeline.status)}", tone))
    return tuple(fragments)


def rollout_state_words(rollout: Rollout) -> Fragment:
    """The rollout's state as a word a person acts on, with its tone."""
    if rollout.aborted:
        return ("✖ aborted", "bad")
    if rollout.phase == "Degraded":
        return ("✖ degraded", "bad")
    if rollout.preview_ready:
        return ("‖ preview ready", "warn")
    if rollout.paused:
        return ("‖ paused", "warn")
    if rollout.phase == "Progressing":
        return ("◌ progressing", "info")
    if rollout.phase == "Healthy":
        return ("✔ healthy", "ok")
    return (f"? {rollout.phase.lower()}", "muted")


#: A weight bar narrower than this says nothing; it is left out instead.
MIN_BAR = 3


def rollout_cell(rollout: Rollout | None, *, bar_width: int = 6, room: int | None = None) -> Cell:
    """Strategy, step i/n, the state in words, and while a canary is under way (or was
    aborted) its weight and a bar of it.

    The bar comes last and, given the column's ``room``, shrinks to what is left after
    the words (or goes, under ``MIN_BAR`` cells), so the cell is never cut; a finished
    canary's 100 % says nothing and is left out.
    """
    if rollout is None:
        return (("— no workload", "muted"),)
    state = rollout_state_words(rollout)
    if rollout.strategy is Strategy.CANARY:
        step = f"{rollout.step_index or 0}/{rollout.step_count}"
        cell: tuple[Fragment, ...] = ((f"canary {step} ", ""), state)
        if rollout.in_progress or rollout.aborted:
            weight = f" {rollout.actual_weight:>3}%"  # aligned down the column
            if room is not None:
                left = room - sum(len(text) for text, _ in cell)  # one-cell glyphs only
                if len(weight) > left:
                    weight = f" {rollout.actual_weight}%"
                bar_width = min(bar_width, left - len(weight) - 1)
            cell += ((weight, ""),)
            if bar_width >= MIN_BAR:
                cell += ((" " + weight_bar(rollout.actual_weight, bar_width), "info"),)
        return cell
    if rollout.strategy is Strategy.BLUEGREEN:
        return (("blue-green ", ""), state)
    ready = f"{rollout.ready_replicas}/{rollout.replicas}"
    return ((f"rolling {ready} ", ""), state)


def health_glyph(status: HealthStatus) -> Fragment:
    return {
        HealthStatus.OK: ("✔", "ok"),
        HealthStatus.BAD: ("✖", "bad"),
        HealthStatus.NO_TRAFFIC: ("·", "muted"),
        HealthStatus.UNKNOWN: ("?", "muted"),
    }[status]


def health_cell(health: Health | None, *, spark_width: int = 0) -> Cell:
    """Success rate against the threshold (``✔ 99.8% ≥99%``), then a sparkline if room."""
    if health is None:
        return (("? not measured", "muted"),)
    glyph, tone = health_glyph(health.status)
    if health.status is HealthStatus.NO_TRAFFIC:
        head: Cell = ((glyph, tone), (" no traffic", tone))
    elif health.status is HealthStatus.UNKNOWN or health.success_rate is None:
        head = ((glyph, tone), (" unknown", tone))
    else:
        relation = "≥" if health.success_rate >= health.threshold else "<"
        head = (
            (glyph, tone),
            (f" {tight(rate_words(health.success_rate, health.threshold)):>6}", tone),
            (f" {relation}{tight(threshold_words(health.threshold))}", "muted"),
        )
    if spark_width <= 0 or not health.history:
        return head
    low, high = success_rate_range(health)
    line = sparkline([s.value for s in health.history], spark_width, low=low, high=high)
    return (*head, (" ", ""), (line, tone))


def deployed_cell(deployment: Deployment | None, now: datetime) -> Cell:
    """``12m alice`` (the column says DEPLOYED: how long ago, by whom); a rollback is
    marked ``↺``, a failed or running deploy says so, before the name (a narrow column
    cuts the name, not the news)."""
    if deployment is None:
        return (("— never", "muted"),)
    when = deployment.finished_at or deployment.created_at
    fragments: list[Fragment] = [(age_words(when, now), "")]
    if deployment.is_rollback:
        fragments.append((" ↺ rollback", "warn"))
    if deployment.status not in ("success", "running", "created"):
        glyph, tone = status_glyph(deployment.status)
        fragments.append((f" {glyph} {deployment.status}", tone))
    elif deployment.status == "running":
        fragments.append((" ◌ deploying", "info"))
    if deployment.user:
        fragments.append((f" {deployment.user}", "muted"))
    return tuple(fragments)


# --------------------------------------------------------------------------- columns


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    min_width: int
    #: The width at which the column reads well; spare room fills these first.
    comfort: int
    max_width: int
    #: Lower is kept longer when the terminal is narrow.
    priority: int


#: The overview's columns in display order. When the terminal is narrow, the columns
#: with the highest ``priority`` number go first: deployed, version, pipeline, …
COLUMNS: tuple[Column, ...] = (
    Column("service", "SERVICE", 10, 14, 18, 0),
    Column("env", "ENV", 10, 11, 12, 1),
    Column("version", "VERSION", 8, 10, 14, 5),
    Column("pipeline", "PIPELINE", 15, 19, 28, 4),
    Column("rollout", "ROLLOUT", 23, 31, 34, 3),
    Column("health", "HEALTH", 14, 21, 32, 2),
    Column("deployed", "DEPLOYED", 10, 12, 24, 6),
)
#: Which columns take spare room first, up to their comfortable width, then up to their
#: maximum: the rollout's words and bar, the pipeline's status word and stage, the
#: health sparkline, who deployed. At 120 columns each gets its comfortable width.
GROW_ORDER = ("rollout", "pipeline", "health", "deployed", "service", "env", "version")
#: The cell before every row: cursor mark and attention mark.
GUTTER = 3
GAP = 1


def layout_columns(width: int) -> tuple[tuple[Column, int], ...]:
    """The columns that fit in ``width`` cells, each with its width, in display order.

    Columns are dropped by priority until their minimum widths fit; the room left is
    shared out in ``GROW_ORDER``, first up to each column's comfortable width, then up
    to its maximum; any rest goes to the last column.
    """
    chosen = sorted(COLUMNS, key=lambda c: c.priority)
    room = width - GUTTER

    def needed(columns: Iterable[Column]) -> int:
        cols = list(columns)
        return sum(c.min_width for c in cols) + GAP * (len(cols) - 1)

    while len(chosen) > 1 and needed(chosen) > room:
        chosen.pop()
    widths = {c.key: c.min_width for c in chosen}
    spare = max(0, room - needed(chosen))
    growing = sorted(chosen, key=lambda c: GROW_ORDER.index(c.key))
    for limit in ("comfort", "max_width"):
        for column in growing:
            grow = min(spare, getattr(column, limit) - widths[column.key])
            widths[column.key] += grow
            spare -= grow
    in_order = [c for c in COLUMNS if c.key in widths]
    if spare and in_order:
        widths[in_order[-1].key] += spare
    return tuple((c, widths[c.key]) for c in in_order)


#: Where each overview column's data comes from (the version has two: left alone).
COLUMN_SOURCES = {
    "pipeline": SourceName.GITLAB,
    "deployed": SourceName.GITLAB,
    "rollout": SourceName.KUBE,
    "health": SourceName.PROMETHEUS,
}


def stale_cell(cell: Cell, *, verdict: bool = False) -> Cell:
    """A cell whose source has been down for a while: the last known words, greyed, and
    (for a verdict such as health's ✔/✖) a ``?`` instead of a judgement that may no
    longer hold. The header says which source and for how long."""
    fragments = [(text, "muted") for text, _ in cell]
    if verdict and fragments:
        fragments[0] = ("?", "muted")
    return tuple(fragments)


def row_cells(state: ServiceState, now: datetime, widths: dict[str, int]) -> dict[str, Cell]:
    """Every overview cell for one row (only for the columns in ``widths``); a cell whose
    source is down is drawn stale (:func:`stale_cell`)."""
    cells = _fresh_row_cells(state, now, widths)
    for key, source in COLUMN_SOURCES.items():
        if key in cells and state.source(source).state is LinkState.DOWN:
            cells[key] = stale_cell(cells[key], verdict=key == "health")
    return cells


def _fresh_row_cells(state: ServiceState, now: datetime, widths: dict[str, int]) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    for key, width in widths.items():
        if key == "service":
            cells[key] = ((state.key.service, "bold"),)
        elif key == "env":
            cells[key] = ((state.key.environment, ""),)
        elif key == "version":
            cells[key] = ((version_text(state), ""),)
        elif key == "pipeline":
            cells[key] = pipeline_cell(state.pipeline)
        elif key == "rollout":
            cells[key] = rollout_cell(state.rollout, room=width)
        elif key == "health":
            spark = max(0, width - 15)
            cells[key] = health_cell(state.health, spark_width=min(spark, 12))
        elif key == "deployed":
            cells[key] = deployed_cell(last_deployed(state), now)
    return cells


def fit(cell: Cell, width: int) -> Cell:
    """Cut a cell to ``width`` cells (ending with ``…`` when cut) and pad it with spaces."""
    out: list[Fragment] = []
    used = 0
    for text, tone in cell:
        if used + len(text) > width:
            keep = max(0, width - used - 1)
            out.append((text[:keep] + "…", tone))
            used = width
            break
        out.append((text, tone))
        used += len(text)
    if used < width:
        out.append((" " * (width - used), ""))
    return tuple(out)


# --------------------------------------------------------------------------- sources

SOURCE_TITLES = {
    SourceName.GITLAB: "GitLab",
    SourceName.KUBE: "Kubernetes",
    SourceName.PROMETHEUS: "Prometheus",
}


def source_words(status: SourceStatus, now: datetime) -> Fragment:
    """One source's freshness in words: ``Prometheus ✔``, ``Prometheus: no data for 47s``."""
    title = SOURCE_TITLES[status.source]
    if status.state is LinkState.OK:
        return (f"{title} ✔", "ok")
    if status.state is LinkState.UNKNOWN and status.last_error is None:
        return (f"{title}: connecting", "muted")
    age = status.age(now)
    since = "no data yet" if age is None else f"no data for {duration_words(age)}"
    reason = f" ({status.last_error})" if status.last_error else ""
    tone = "bad" if status.state is LinkState.DOWN else "warn"
    glyph = "✖" if status.state is LinkState.DOWN else "⚠"
    return (f"{glyph} {title}: {since}{reason}", tone)


def worst_sources(states: Iterable[ServiceState]) -> tuple[SourceStatus, ...]:
    """Per source, the least healthy status across rows (the one a person must hear about)."""
    rank = {LinkState.DOWN: 0, LinkState.DEGRADED: 1, LinkState.UNKNOWN: 2, LinkState.OK: 3}
    worst: dict[SourceName, SourceStatus] = {}
    for state in states:
        for status in state.sources:
            current = worst.get(status.source)
            if current is None or (rank[status.state], _ts(status.last_success)) < (
                rank[current.state],
                _ts(current.last_success),
            ):
                worst[status.source] = status
    return tuple(worst[name] for name in SourceName if name in worst)


def _ts(moment: datetime | None) -> float:
    return moment.timestamp() if moment is not None else float("-inf")


def stale_note(state: ServiceState, source: SourceName, now: datetime) -> str:
    """For a panel title: empty when the source is fine, else its staleness in words."""
    status = state.source(source)
    if status.state is LinkState.OK:
        return ""
    return source_words(status, now)[0]


# --------------------------------------------------------------------------- wrapping


class _SlashWrapper(textwrap.TextWrapper):
    """Wraps at spaces and also just after a ``/``, so a URL or a path breaks between
    its segments (``…/rollouts/`` ``checkout/status``), not inside a name."""

    def _split(self, text: str) -> list[str]:
        return [
            piece
            for chunk in super()._split(text)
            for piece in re.split(r"(?<=/)(?=[^/])", chunk)
            if piece
        ]


def item_lines(text: str, width: int) -> list[str]:
    """One item of a list in ``width`` cells: indented two, continuation lines four,
    broken at spaces or between path segments."""
    wrapper = _SlashWrapper(
        width=width, initial_indent="  ", subsequent_indent="    ", break_on_hyphens=False
    )
    return wrapper.wrap(text) or ["  "]
