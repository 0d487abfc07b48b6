"""Handlers of cockpit's subcommands that run without the terminal UI.

Each module has a ``run(args) -> int`` that ``cockpit.cli`` imports only when its command
runs. The part that talks to GitLab is a small async function taking the source object,
so it can be exercised with a stand-in source.
"""
