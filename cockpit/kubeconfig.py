"""Reading a kubeconfig, and saying in one line why it cannot be read.

A kubeconfig holds credentials (bearer tokens, client keys), so a failure to read one
is described by file, line and column, never by quoting it: PyYAML's own messages and
lightkube's ``KeyError``/``TypeError`` from a document of the wrong shape can carry
parts of it.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from cockpit.redact import shown, yaml_problem

if TYPE_CHECKING:
    from lightkube import KubeConfig

#: Where lightkube's ``KubeConfig.from_env`` looks when ``$KUBECONFIG`` is unset.
DEFAULT_KUBECONFIG = "~/.kube/config"


class KubeconfigUnreadable(Exception):
    """The kubeconfig cannot be used; the message is one line for a person."""


def load(file: Path | None, environ: Mapping[str, str] = os.environ) -> KubeConfig:
    """The kubeconfig at ``file`` (None: lightkube's discovery: in-cluster, ``$KUBECONFIG``,
    ``~/.kube/config``); :class:`KubeconfigUnreadable` when it cannot be used."""
    import yaml
    from lightkube import KubeConfig
    from lightkube.core.exceptions import ConfigError as KubeConfigError

    where = str(file) if file is not None else environ.get("KUBECONFIG") or DEFAULT_KUBECONFIG
    try:
        if file is not None:
            return KubeConfig.from_file(file)
        return KubeConfig.from_env()
    except yaml.YAMLError as error:
        raise KubeconfigUnreadable(problem(where, yaml_problem(error))) from None
    except UnicodeDecodeError as error:
        raise KubeconfigUnreadable(
            problem(where, f"not valid UTF-8 (at offset {error.start})")
        ) from None
    except KubeConfigError as error:
        raise KubeconfigUnreadable(problem(where, shown(str(error), 120))) from None
    except OSError as error:
        raise KubeconfigUnreadable(
            problem(where, f"cannot read it ({error.strerror or type(error).__name__})")
        ) from None
    except KeyError as error:
        raise KubeconfigUnreadable(
            problem(where, f"not a kubeconfig: it has no {shown(error.args[0], 40)} section")
        ) from None
    except Exception as error:  # any other shape lightkube cannot take; its text may quote it
        raise KubeconfigUnreadable(
            problem(where, f"not a kubeconfig ({type(error).__name__} while reading it)")
        ) from None


def problem(where: str, what: str) -> str:
    """``kubeconfig FILE: WHAT; fix the file or point [kubernetes] kubeconfig at another``."""
    return (
        f"kubeconfig {shown(where, 120)}: {what}; fix the file or point [kubernetes] "
        "kubeconfig at another"
    )
