"""What an error message may show of a value it quotes: a short line, never a secret.

Every message that quotes something a person or a server gave us (a configuration
value, a key, an API answer) quotes it through :func:`shown`: one line, cut to
:data:`LIMIT` characters with a note of the full length, so that a 5 MB value cannot
become a 5 MB error line. It masks the password of a URL and a GitLab token wherever
they were written. :func:`yaml_problem` describes a YAML syntax error by its position
only, because PyYAML's own message quotes the offending line (in a kubeconfig, often a
bearer token).
"""

from __future__ import annotations

import re
from typing import Any

#: Characters of a quoted value kept in a message.
LIMIT = 80

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
#: The password of a URL (``scheme://user:password@host``).
_URL_PASSWORD = re.compile(r"(://[^/\s:@]*:)[^/\s@]*@")
#: GitLab tokens by their documented prefixes (GitLab docs, "Token prefixes").
_GITLAB_TOKEN = re.compile(
    r"\b(glpat|gldt|glrt|glptt|glft|glimt|glagent|gloas|glcbt|glsoat|glffct)-[A-Za-z0-9_.-]+"
)


def shown(value: Any, limit: int = LIMIT) -> str:
    """``value`` as text on one line, at most about ``limit`` characters, secrets masked.

    Control characters (newlines, escapes that would move a terminal's cursor) become
    ``?``; a longer text keeps its beginning, then ``…`` and its full length.
    """
    text = value if isinstance(value, str) else _text(value)
    length = len(text)
    # Masked before the cut, so that a secret is not half shown: a URL's password, a
    # GitLab token wherever it was written.
    text = _GITLAB_TOKEN.sub(r"\1-***", _URL_PASSWORD.sub(r"\1***@", text[: limit + 200]))
    cut = _CONTROL.sub("?", text[:limit])
    if length <= limit:
        return cut
    return f"{cut}… ({length} characters)"


def quoted(value: Any, limit: int = LIMIT) -> str:
    """``value`` for a message, in double quotes when it is a string: ``"checkout"``."""
    return f'"{shown(value, limit)}"' if isinstance(value, str) else shown(value, limit)


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
