"""What the commands that read one configured service from GitLab share: loading it.

The configuration and the GitLab source are imported only when a command runs. Finding
a service's environments and reading from GitLab are in :mod:`cockpit.gather`, which
the screens share.
"""

from __future__ import annotations

import argparse
from typing import Any

from cockpit.errors import UsageError


def load_source(args: argparse.Namespace) -> tuple[Any, Any]:
    """(GitLab source, the whole configuration) for ``args.config``."""
    from cockpit.config import load, print_warnings
    from cockpit.sources.gitlab import GitLabSource

    config = load(args.config)
    print_warnings(config)
    if config.gitlab is None:
        raise UsageError(f"{config.path} has no [gitlab] table: this command reads from GitLab")
    return GitLabSource(config.gitlab), config


def load_service(args: argparse.Namespace) -> tuple[Any, Any]:
    """(GitLab source, service configuration) for ``args.service`` and ``args.config``."""
    from cockpit.config import load, print_warnings
    from cockpit.sources.gitlab import GitLabSource

    config = load(args.config)
    print_warnings(config)
    if config.gitlab is None:
        raise UsageError(f"{config.path} has no [gitlab] table: this command reads from GitLab")
    return GitLabSource(config.gitlab), config.service(args.service)
