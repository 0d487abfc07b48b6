"""``python -m cockpit``: the same as the ``cockpit`` command."""

from cockpit.cli import run

run()
