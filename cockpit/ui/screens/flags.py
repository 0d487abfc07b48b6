"""``f``: the feature flags of one service environment; ``space`` toggles one (confirmed).

Toggling is a write like any other: it asks the action layer for a ``flag-toggle`` plan
and goes through the confirm dialog.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from cockpit.intents import Intent
from cockpit.model import EnvKey, FeatureFlag, ServiceState
from cockpit.ui.screens.live import LiveScreen
from cockpit.ui.widgets.footer import KeyFooter
from cockpit.ui.widgets.tones import toned


def flag_prompt(flag: FeatureFlag) -> Content:
    state = ("● on ", "ok") if flag.active else ("○ off", "muted")
    scopes = sorted({scope for s in flag.strategies for scope in s.scopes})
    fragments = [state, (f" {flag.name}", "bold")]
    if scopes:
        fragments.append((f"  [{', '.join(scopes)}]", "muted"))
    if flag.description:
        fragments.append((f"  {flag.description}", "muted"))
    return toned(fragments)


class FlagsScreen(LiveScreen):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("space", "toggle", "Toggle", tooltip="Toggle the selected flag (asks first)"),
        Binding("j", "move('down')", "Down", show=False),
        Binding("k", "move('up')", "Up", show=False),
    ]

    def __init__(self, key: EnvKey) -> None:
        super().__init__()
        self.key = key
        self._flags: tuple[FeatureFlag, ...] = ()

    @property
    def selected_key(self) -> EnvKey | None:
        return self.key

    def compose(self) -> ComposeResult:
        yield Static(
            toned(
                [
                    (f"Feature flags · {self.key.service}", "bold"),
                    ("  space toggles (asks first)", "muted"),
                ]
            ),
            id="flags-title",
        )
        yield OptionList(id="flag-list")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.apply_update(self.cockpit.states, frozenset({self.key}))
        self.query_one(OptionList).focus()

    def apply_update(
        self, states: Mapping[EnvKey, ServiceState], changed: frozenset[EnvKey]
    ) -> None:
        state = states.get(self.key)
        if self.key not in changed or state is None or state.flags == self._flags:
            return
        selected = self.selected_flag
        self._flags = state.flags
        options = self.query_one(OptionList)
        highlighted = options.highlighted
        options.clear_options()
        if not state.flags:
            options.add_option(
                Option(toned([("this project has no feature flags", "muted")]), disabled=True)
            )
        options.add_options(Option(flag_prompt(flag), id=flag.name) for flag in state.flags)
        if state.flags:
            # The cursor stays on its flag, wherever the new list puts it: a second
            # space must not toggle the neighbour.
            names = [flag.name for flag in state.flags]
            if selected is not None and selected.name in names:
                options.highlighted = names.index(selected.name)
            else:
                options.highlighted = min(highlighted or 0, len(state.flags) - 1)

    @property
    def selected_flag(self) -> FeatureFlag | None:
        index = self.query_one(OptionList).highlighted
        if index is None or not (0 <= index < len(self._flags)):
            return None
        return self._flags[index]

    # "toggle" is the footer's name for this key (an essential one); Textual's own
    # DOMNode.action_toggle (flip a boolean attribute) is not used on this screen.
    def action_toggle(self) -> None:  # type: ignore[override]
        flag = self.selected_flag
        if flag is not None:
            self.cockpit.request_action(self.plan_for(Intent.FLAG_TOGGLE, flag=flag))

    @on(OptionList.OptionSelected)
    def _selected(self) -> None:
        self.action_toggle()

    def action_move(self, direction: str) -> None:
        options = self.query_one(OptionList)
        options.action_cursor_down() if direction == "down" else options.action_cursor_up()
