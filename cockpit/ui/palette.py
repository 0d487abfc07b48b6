"""The command palette (``ctrl+p`` or ``:``): the actions that apply to the selection, and
"go to service …" for every row.

Actions are offered only when the action layer has a plan for the selected row; picking
one opens the same confirm dialog the key would.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider

from cockpit.intents import Intent, NoAction
from cockpit.model import EnvKey

if TYPE_CHECKING:
    from cockpit.ui.app import CockpitApp


class CockpitCommands(Provider):
    def _commands(self) -> list[tuple[str, object, str]]:
        from cockpit.ui.screens.live import LiveScreen
        from cockpit.ui.screens.overview import OverviewScreen

        app: CockpitApp = self.app  # type: ignore[assignment]
        commands: list[tuple[str, object, str]] = []
        screen = self.screen
        if isinstance(screen, LiveScreen) and (state := screen.selected_state) is not None:
            for intent in Intent.row_intents():
                outcome = app.plan(state, intent)
                if not isinstance(outcome, NoAction):
                    commands.append(
                        (
                            f"{intent.palette_name} {state.key}",
                            partial(app.request_action, outcome),
                            getattr(outcome, "summary", ""),
                        )
                    )
        overview = next((s for s in app.screen_stack if isinstance(s, OverviewScreen)), None)
        if overview is not None:
            for key in sorted(app.states):
                commands.append(
                    (f"Go to service {key}", partial(self._go_to, overview, key), "open its detail")
                )
        return commands

    def _go_to(self, overview: object, key: EnvKey) -> None:
        from cockpit.ui.screens.overview import OverviewScreen

        app = self.app
        while app.screen is not overview and len(app.screen_stack) > 1:
            app.pop_screen()
        if isinstance(overview, OverviewScreen):
            overview.open_service(key)

    async def discover(self) -> Hits:
        for title, callback, help_text in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, callback, help_text in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)  # type: ignore[arg-type]
