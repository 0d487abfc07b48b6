"""What a person can ask for (:class:`Intent`), and the answer "nothing to do" (:class:`NoAction`).

One table from key binding to audit record: the key that asks for an intent, its label
in the footer, its name in the command palette and its tooltip live here, beside its
value, which is what ``cockpit.actions.plan`` takes and what the audit log records
(``"intent": "promote-full"``).

Beneath both the screens and ``cockpit.actions``, and light on purpose: the screen
imports it when it starts, while ``cockpit.actions`` (and the GitLab and Kubernetes
clients behind it) loads only when the first action is planned.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Intent(StrEnum):
    """One thing a key (or a command) asks the action layer for."""

    PROMOTE = "promote"
    PROMOTE_FULL = "promote-full"
    ROLLBACK = "rollback"
    ABORT = "abort"
    RETRY = "retry"
    JOB_RETRY = "job-retry"
    JOB_PLAY = "job-play"
    JOB_CANCEL = "job-cancel"
    FLAG_TOGGLE = "flag-toggle"

    @property
    def key(self) -> str | None:
        """The key that asks for it on a service row (None: not a row key)."""
        return _WORDS[self].key

    @property
    def label(self) -> str:
        """Its word in the footer."""
        return _WORDS[self].label

    @property
    def palette_name(self) -> str:
        """Its name in the command palette."""
        return _WORDS[self].palette_name

    @property
    def tooltip(self) -> str:
        return _WORDS[self].tooltip

    @classmethod
    def row_intents(cls) -> tuple[Intent, ...]:
        """The intents that act on a whole row (job and flag intents need a job or a flag)."""
        return tuple(intent for intent in cls if intent.key is not None)


@dataclass(frozen=True)
class _Words:
    key: str | None
    label: str
    palette_name: str
    tooltip: str


_WORDS: dict[Intent, _Words] = {
    Intent.PROMOTE: _Words(
        "p",
        "Promote",
        "Promote",
        "Promote: next canary step, switch blue-green, or play the gate",
    ),
    Intent.PROMOTE_FULL: _Words(
        "P", "Full promote", "Full promote", "Skip the remaining steps and analysis"
    ),
    Intent.ROLLBACK: _Words(
        "r",
        "Rollback",
        "Rollback",
        "Abort the rollout in flight, or undo to the previous revision",
    ),
    Intent.ABORT: _Words("a", "Abort", "Abort", "Abort the rollout: traffic back to stable"),
    Intent.RETRY: _Words("R", "Retry", "Retry rollout", "Retry an aborted rollout"),
    Intent.JOB_RETRY: _Words(None, "Retry job", "Retry job", "Retry the selected job"),
    Intent.JOB_PLAY: _Words(None, "Play job", "Play job", "Play the selected manual job"),
    Intent.JOB_CANCEL: _Words(None, "Cancel job", "Cancel job", "Cancel the selected job"),
    Intent.FLAG_TOGGLE: _Words(None, "Toggle flag", "Toggle flag", "Toggle the selected flag"),
}


@dataclass(frozen=True)
class NoAction:
    """The key does nothing here; ``reason`` says why, in words.

    ``satisfied``: what the key asks for is already so (a rollback of a rollout already
    aborted to its stable version): not an error, and nothing to send.
    """

    reason: str
    satisfied: bool = False
