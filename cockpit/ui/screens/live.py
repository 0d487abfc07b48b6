"""What the overview and the detail share: live updates and the write keys for one row.

A ``LiveScreen`` receives every engine update (``apply_update``) and has a selected row.
Its write keys (``p`` promote, ``P`` full promote, ``r`` rollback, ``a`` abort, ``R``
retry) never write: each asks the action layer for a plan and opens the confirm dialog.
A key whose action does not apply is left out of the footer, and pressing it says why
(a second, hidden binding on the same key catches the press; ``?`` lists it as such).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Input

from cockpit.intents import Intent, NoAction
from cockpit.model import EnvKey, FeatureFlag, Job, ServiceState

if TYPE_CHECKING:
    from cockpit.actions import ActionPlan
    from cockpit.ui.app import CockpitApp


def write_bindings() -> list[Binding]:
    """Two bindings per row key (see the module docstring), from :class:`Intent`'s table."""
    bindings: list[Binding] = []
    for intent in Intent.row_intents():
        key, label, tooltip = intent.key or "", intent.label, intent.tooltip
        bindings.append(Binding(key, f"intent('{intent}')", label, tooltip=tooltip, id=intent))
        bindings.append(Binding(key, f"explain('{intent}')", label, tooltip=tooltip, show=False))
    return bindings


class LiveScreen(Screen[None]):
    """A screen that follows the engine's snapshots and acts on one selected row."""

    @property
    def cockpit(self) -> CockpitApp:
        return self.app  # type: ignore[return-value]

    @property
    def selected_key(self) -> EnvKey | None:
        """The row the write keys act on (each screen says which)."""
        return None

    @property
    def selected_state(self) -> ServiceState | None:
        key = self.selected_key
        return None if key is None else self.cockpit.states.get(key)

    def apply_update(
        self, states: Mapping[EnvKey, ServiceState], changed: frozenset[EnvKey]
    ) -> None:
        """A new snapshot arrived; ``changed`` names the rows that differ."""

    def on_screen_resume(self) -> None:
        # The footer keeps its keys while a dialog is on top (KeyFooter); what applies may
        # have changed meanwhile (an abort was just sent), so it reads them again now.
        self.refresh_bindings()

    def row_status(self, state: ServiceState) -> list[tuple[str, str]]:
        """One row's status line: a plan being checked, the last action's result, then why
        the row needs a person (or that nothing does). The line is cut at the screen's
        edge, so what just happened comes before what stays true."""
        app = self.cockpit
        fragments: list[tuple[str, str]] = []
        if app.checking == state.key:
            fragments.append((" ◌ checking what this would do…", "info"))
        note = app.action_notes.get(state.key)
        if note is not None:
            fragments.append((" last action: " + note[0], note[1]))
        reasons = app.attention(state)
        if reasons:
            fragments.append((" ⚠ " + "; ".join(reasons), "bad"))
        else:
            fragments.append((" ✔ nothing needs you here", "ok"))
        return fragments

    # ------------------------------------------------------------------ actions

    def plan_for(
        self, intent: Intent | str, *, job: Job | None = None, flag: FeatureFlag | None = None
    ) -> ActionPlan | NoAction:
        """``intent`` may come as a binding's text (``intent('promote')``)."""
        state = self.selected_state
        if state is None:
            return NoAction("no service selected")
        return self.cockpit.plan(state, Intent(intent), job=job, flag=flag)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("intent", "explain") and isinstance(self.focused, Input):
            return False  # a key typed into a text field is never a write key
        if action == "intent":
            return not isinstance(self.plan_for(str(parameters[0])), NoAction)
        return True

    def action_intent(self, intent: str) -> None:
        self.cockpit.request_action(self.plan_for(intent))

    def action_explain(self, intent: str) -> None:
        """A dimmed write key was pressed: say why it does not apply."""
        outcome = self.plan_for(intent)
        if isinstance(outcome, NoAction):
            title = intent.replace("-", " ").capitalize()
            self.notify(outcome.reason, title=title, severity="warning")
