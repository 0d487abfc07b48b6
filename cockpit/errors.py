"""The errors cockpit reports to a person, and which exit status each one means.

Anything raised as one of these carries a message meant for the user: one line that
says what is wrong and what to do. The command line maps them to exit statuses.
"""

from __future__ import annotations


class CockpitError(Exception):
    """Base class: the message is for the person at the terminal."""


class UsageError(CockpitError):
    """A mistake in how cockpit was invoked (exit status 2)."""


class ConfigError(UsageError):
    """A mistake in the configuration file (exit status 2).

    The message names the file, the key, what is wrong and an example fix.
    """


class CommandFailed(CockpitError):
    """The command ran, but the outcome is a failure: a refused write, a failing row (exit 1)."""


def words(error: BaseException) -> str:
    """What went wrong, for a person: the error's ``message`` when it has one (the
    sources' errors carry one meant for people), else its text, else its class name."""
    return str(getattr(error, "message", None) or error) or type(error).__name__
