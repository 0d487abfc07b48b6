"""What an error message may show of a value it quotes: a short line, never a secret.

Every message that quotes something a person or a server gave us (a configuration
value, a key, an API answer) quotes it through :func:`shown`: one line, cut to
:data:`LIMIT` characters with a note of the full length, so that a 5 MB value cannot
become a 5 MB error line. :func:`url_shown` hides the password of a URL, and
:func:`yaml_problem` describes a YAML syntax error by its position only, because
PyYAML's own message quotes the offending line (in a kubeconfig, often a bearer token).
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit, urlunsplit

#: Characters of a quoted value kept in a message.
LIMIT = 80

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def shown(value: Any, limit: int = LIMIT) -> str:
    """``value`` as text on one line, at most about ``limit`` characters.

    Control characters (newlines, escapes that would move a terminal's cursor) become
    ``?``; a longer text keeps its beginning, then ``…`` and its full length.
    """
    text = value if isinstance(value, str) else _text(value)
    cut = text[:limit]
    cut = _CONTROL.sub("?", cut)
    if len(text) <= limit:
        return cut
    return f"{cut}… ({len(text)} characters)"


def quoted(value: Any, limit: int = LIMIT) -> str:
    """``value`` for a message, in double quotes when it is a string: ``"checkout"``."""
    return f'"{shown(value, limit)}"' if isinstance(value, str) else shown(value, limit)


def url_shown(url: str, limit: int = LIMIT) -> str:
    """A URL for a message, its password (``https://user:***@host``) hidden."""
    try:
        parts = urlsplit(url)
        if parts.password is not None:
            host = parts.netloc.rpartition("@")[2]
            url = urlunsplit(parts._replace(netloc=f"{parts.username}:***@{host}"))
    except ValueError:
        pass
    return shown(url, limit)


def yaml_problem(error: BaseException) -> str:
    """What is wrong with a YAML text and where, without quoting any of it.

    ``str()`` of a PyYAML error shows a snippet of the offending lines; the mark's line
    and column and the ``problem`` phrase (PyYAML's ``MarkedYAMLError`` attributes) say
    enough to find it.
    """
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None)
    where = (
        f" at line {mark.line + 1}, column {mark.column + 1}"
        if mark is not None and hasattr(mark, "line")
        else ""
    )
    what = f" ({shown(problem, 60)})" if isinstance(problem, str) and problem else ""
    return f"not valid YAML{where}{what}"


def _text(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # a value whose __str__ fails is still shown as something
        return f"<{type(value).__name__}>"
