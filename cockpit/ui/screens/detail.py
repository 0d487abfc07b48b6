"""One service × environment in full: health, rollout, deployments, pipeline, insights, flags.

``tab`` moves between the panels, ``esc`` goes back. In the pipeline panel ``enter``
opens the selected job's log and ``t``/``m``/``c`` retry, play or cancel it; the write
keys of ``LiveScreen`` act on this environment. Each panel names its source when that
source's data is old. The maturity level and DORA figures are measured from GitLab when
the detail opens.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, VerticalScroll
from textual.widgets import Static

from cockpit.errors import words
from cockpit.model import EnvKey, ServiceState, SourceName
from cockpit.ui.presenters import stale_note
from cockpit.ui.screens.live import LiveScreen, write_bindings
from cockpit.ui.screens.presence import is_shown
from cockpit.ui.widgets.detail.health import HealthPanel
from cockpit.ui.widgets.detail.history import DeploymentsPanel, FlagsPanel
from cockpit.ui.widgets.detail.insights import InsightsPanel
from cockpit.ui.widgets.detail.pipeline import PipelinePanel
from cockpit.ui.widgets.detail.rollout import RolloutPanel
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.header import CockpitHeader, SourceBar
from cockpit.ui.widgets.tones import toned

#: Below this width the panels stack instead of sitting side by side.
WIDE = 110


class DetailScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        *write_bindings(),
        Binding("f", "flags", "Flags", tooltip="Toggle this service's feature flags"),
    ]

    def __init__(self, key: EnvKey) -> None:
        super().__init__()
        self.key = key

    @property
    def selected_key(self) -> EnvKey | None:
        return self.key

    def compose(self) -> ComposeResult:
        engine = self.cockpit.engine
        yield CockpitHeader(
            contexts=engine.header.kube_contexts,
            gitlab_host=engine.header.gitlab_host,
            read_only=self.cockpit.read_only,
            clock=engine.now,
            title=str(self.key),
            id="header",
        )
        yield SourceBar(clock=engine.wall_now, id="sources")
        yield Static(id="attention")
        # What a canary at 3 a.m. needs first: health and the rollout, then what it could go
        # back to, then the pipeline (across the whole width: its stages run left to
        # right), then the slower facts. Wide: a two-column grid with the long rollout
        # panel down the right beside health and deployments; narrow: stacked, same order.
        with VerticalScroll(id="panels", can_focus=False):
            with Container(id="now", classes="band"):
                yield HealthPanel(id="health", classes="panel")
                yield RolloutPanel(id="rollout", classes="panel")
                yield DeploymentsPanel(id="deployments", classes="panel")
            yield PipelinePanel(id="pipeline", classes="panel")
            with Container(id="slower", classes="band"):
                yield InsightsPanel(id="insights", classes="panel")
                yield FlagsPanel(id="flags", classes="panel")
        yield KeyFooter()

    def on_mount(self) -> None:
        self._show(self.cockpit.states)
        self.query_one(PipelinePanel).focus(scroll_visible=False)
        # Pause countdowns and ages move with time; panels repaint only if their text changed.
        self.set_interval(1.0, lambda: self._show(self.cockpit.states))
        panel = self.query_one(InsightsPanel)
        if self.cockpit.insights is None:
            panel.show_unavailable("maturity and DORA are not measured in this session")
        else:
            panel.show_measuring()
            self._measure()

    @work(exclusive=True, group="insights", exit_on_error=False)
    async def _measure(self) -> None:
        provider = self.cockpit.insights
        assert provider is not None
        panel = self.query_one(InsightsPanel)
        try:
            rows = await provider(self.key.service)
        except Exception as error:  # the panel says why; the rest of the detail is unaffected
            if not is_shown(self):
                return
            panel.show_failure(words(error))
            return
        if not is_shown(self):  # closed (or the app quit) while GitLab answered
            return
        row = next((r for r in rows if r.environment == self.key.environment), None)
        if row is None:
            panel.show_unavailable(f"GitLab has nothing to measure for {self.key}")
        else:
            panel.show_row(row)

    def on_resize(self, event: events.Resize) -> None:
        self.set_class(event.size.width < WIDE, "-narrow")
        # Charts and measurements fit the panels' new width once they are laid out.
        self.call_after_refresh(lambda: self._show(self.cockpit.states))

    def apply_update(
        self, states: Mapping[EnvKey, ServiceState], changed: frozenset[EnvKey]
    ) -> None:
        if self.key in changed:
            self._show(states)
            self.refresh_bindings()

    def _show(self, states: Mapping[EnvKey, ServiceState]) -> None:
        if not is_shown(self):  # a tick or a resize that comes due as the screen goes
            return
        state = states.get(self.key)
        now = self.cockpit.engine.now()
        wall = self.cockpit.engine.wall_now()
        self.query_one(SourceBar).show_states([state] if state is not None else [])
        attention = self.query_one("#attention", Static)
        if state is None:
            attention.update(toned([(f"{self.key} is not in the configuration any more", "bad")]))
            return
        fragments = self.row_status(state)
        if state.read_only:
            fragments.append((" · read-only environment", "warn"))
        attention.update(toned(fragments))
        gitlab = stale_note(state, SourceName.GITLAB, wall)
        self.query_one(PipelinePanel).show(state.pipeline, now)
        self.query_one(PipelinePanel).border_subtitle = gitlab
        self.query_one(RolloutPanel).show(
            state.rollout, now, stale_note(state, SourceName.KUBE, wall)
        )
        self.query_one(HealthPanel).show(
            state.health, now, stale_note(state, SourceName.PROMETHEUS, wall)
        )
        self.query_one(DeploymentsPanel).show(state.deployments, now, gitlab)
        self.query_one(FlagsPanel).show(state.flags, gitlab)

    # ------------------------------------------------------------------ jobs

    @on(PipelinePanel.LogRequested)
    def _open_log(self, event: PipelinePanel.LogRequested) -> None:
        from cockpit.ui.screens.job_log import JobLogScreen

        self.app.push_screen(JobLogScreen(self.key, event.job))

    @on(PipelinePanel.JobActionRequested)
    def _job_action(self, event: PipelinePanel.JobActionRequested) -> None:
        self.cockpit.request_action(self.plan_for(event.intent, job=event.job))

    @on(PipelinePanel.JobSelected)
    def _job_selected(self) -> None:
        self.refresh_bindings()

    def action_flags(self) -> None:
        from cockpit.ui.screens.flags import FlagsScreen

        self.app.push_screen(FlagsScreen(self.key))
