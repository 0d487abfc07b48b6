"""What the commands that read one configured service from GitLab share: loading it.

The configuration and the GitLab source are imported only when a command runs. Finding
a service's environments and reading from GitLab are in :mod:`cockpit.gather`, which
the screens share.
"""

from __future__ import annotations

import argparse
import os
from typing import Any
from urllib.parse import urlsplit

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


def load_group_source(args: argparse.Namespace) -> tuple[Any, tuple[Any, ...]]:
    """(GitLab source, configured services) for a command about a whole group.

    With a configuration file, its GitLab and services. Without one, ``$GITLAB_URL`` and
    ``$GITLAB_TOKEN`` (what ``cockpit init`` reads, and ``cockpit sim`` writes to
    ``DIR/env``), and no services.
    """
    from cockpit.config import ConfigError, GitLabConfig, Secret, find
    from cockpit.sources.gitlab import GitLabSource

    url = os.environ.get("GITLAB_URL", "").strip().rstrip("/")
    token = os.environ.get("GITLAB_TOKEN", "").strip()
    if args.config is None and url and token:
        try:
            find()
        except ConfigError:
            gitlab = GitLabConfig(url=url, token=Secret(token), host=urlsplit(url).hostname or "")
            return GitLabSource(gitlab), ()
    source, config = load_source(args)
    return source, config.services


def load_service(args: argparse.Namespace) -> tuple[Any, Any]:
    """(GitLab source, service configuration) for ``args.service`` and ``args.config``."""
    from cockpit.config import load, print_warnings
    from cockpit.sources.gitlab import GitLabSource

    config = load(args.config)
    print_warnings(config)
    if config.gitlab is None:
        raise UsageError(f"{config.path} has no [gitlab] table: this command reads from GitLab")
    return GitLabSource(config.gitlab), config.service(args.service)
