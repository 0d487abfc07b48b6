"""GitLab CI variable expressions (``rules: if:``, ``only: variables:``), evaluated in three values.

GitLab decides whether a job runs by evaluating expressions such as
``$CI_COMMIT_BRANCH == $CI_DEFAULT_BRANCH && $CI_PIPELINE_SOURCE == "push"``. Reading a
``.gitlab-ci.yml`` offline, some variables are known for the pipeline we imagine (the
branch, the pipeline source), some are known to be unset (``$CI_COMMIT_TAG`` on a branch
push), and the rest (project variables, ``$CI_PROJECT_PATH`` …) are unknown. So an
expression is true, false, or unknown (``None``), and ``&&`` / ``||`` follow Kleene's
three-valued logic: ``false && unknown`` is false, ``true || unknown`` is true.

Supported syntax, as GitLab documents it: ``$VAR`` / ``${VAR}``, string literals in single
or double quotes, ``null``, ``==``, ``!=``, ``=~`` and ``!~`` against ``/pattern/flags``
(or a variable holding one), ``&&``, ``||`` (``&&`` binds tighter) and parentheses.
Anything else makes the whole expression unknown rather than wrong.

Pure functions only; no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

#: A three-valued truth: True, False, or None for "cannot tell offline".
Truth = bool | None


class ExpressionError(ValueError):
    """The expression is not valid GitLab CI expression syntax."""


class _Unknown:
    """The value of a variable nobody told us about."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN = _Unknown()

_TOKEN = re.compile(
    r"""
    \s*(?:
      (?P<var>\$\{?[A-Za-z_][A-Za-z0-9_]*\}?)
    | (?P<dq>"(?:[^"\\]|\\.)*")
    | (?P<sq>'(?:[^'\\]|\\.)*')
    | (?P<regex>/(?:[^/\\]|\\.)*/[a-z]*)
    | (?P<null>null\b)
    | (?P<op>==|!=|=~|!~|&&|\|\||\(|\))
    )
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class _Token:
    kind: str  # var | str | regex | null | op
    text: str


@dataclass(frozen=True)
class _Pattern:
    """A ``/pattern/flags`` literal."""

    source: str

    def compile(self) -> re.Pattern[str]:
        body, _, flags = self.source[1:].rpartition("/")
        options = 0
        if "i" in flags:
            options |= re.IGNORECASE
        if "m" in flags:
            options |= re.MULTILINE
        if "s" in flags:
            options |= re.DOTALL
        try:
            return re.compile(body.replace(r"\/", "/"), options)
        except re.error as error:
            raise ExpressionError(f"invalid pattern {self.source}: {error}") from error


def _tokenize(expression: str) -> list[_Token]:
    tokens: list[_Token] = []
    position = 0
    text = expression.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {text[position:]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind in ("dq", "sq"):
            tokens.append(_Token("str", value))
        else:
            tokens.append(_Token(kind, value))
        position = match.end()
        while position < len(text) and text[position].isspace():
            position += 1
    return tokens


def _unquote(literal: str) -> str:
    return re.sub(r"\\(.)", r"\1", literal[1:-1])


def _and(left: Truth, right: Truth) -> Truth:
    if left is False or right is False:
        return False
    if left is None or right is None:
        return None
    return True


def _or(left: Truth, right: Truth) -> Truth:
    if left is True or right is True:
        return True
    if left is None or right is None:
        return None
    return False


def _not(value: Truth) -> Truth:
    return None if value is None else not value


class _Evaluator:
    def __init__(self, tokens: list[_Token], variables: Mapping[str, str | None]) -> None:
        self.tokens = tokens
        self.index = 0
        self.variables = variables

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            raise ExpressionError("unexpected end of expression")
        self.index += 1
        return token

    def run(self) -> Truth:
        value = self.disjunction()
        extra = self.peek()
        if extra is not None:
            raise ExpressionError(f"unexpected {extra.text!r}")
        return value

    def disjunction(self) -> Truth:
        value = self.conjunction()
        while (token := self.peek()) is not None and token.text == "||":
            self.take()
            value = _or(value, self.conjunction())
        return value

    def conjunction(self) -> Truth:
        value = self.primary()
        while (token := self.peek()) is not None and token.text == "&&":
            self.take()
            value = _and(value, self.primary())
        return value

    def primary(self) -> Truth:
        token = self.peek()
        if token is not None and token.text == "(":
            self.take()
            value = self.disjunction()
            closing = self.take()
            if closing.text != ")":
                raise ExpressionError(f"expected ')' but found {closing.text!r}")
            return value
        left = self.operand()
        following = self.peek()
        if following is None or following.text not in ("==", "!=", "=~", "!~"):
            return self.truthy(left)
        operator = self.take().text
        right = self.operand()
        if operator == "==":
            return self.equal(left, right)
        if operator == "!=":
            return _not(self.equal(left, right))
        if operator == "=~":
            return self.matches(left, right)
        return _not(self.matches(left, right))

    def operand(self) -> str | _Unknown | _Pattern | None:
        token = self.take()
        if token.kind == "var":
            name = token.text.lstrip("$").strip("{}")
            if name not in self.variables:
                return UNKNOWN
            return self.variables[name]
        if token.kind == "str":
            return _unquote(token.text)
        if token.kind == "null":
            return None
        if token.kind == "regex":
            return _Pattern(token.text)
        raise ExpressionError(f"expected a value but found {token.text!r}")

    @staticmethod
    def truthy(value: str | _Unknown | _Pattern | None) -> Truth:
        if isinstance(value, _Unknown):
            return None
        if isinstance(value, _Pattern):
            raise ExpressionError(f"a pattern ({value.source}) needs =~ or !~")
        return bool(value)

    @staticmethod
    def equal(left: object, right: object) -> Truth:
        if isinstance(left, _Unknown) or isinstance(right, _Unknown):
            return None
        if isinstance(left, _Pattern) or isinstance(right, _Pattern):
            raise ExpressionError("patterns compare with =~ or !~, not == or !=")
        return left == right

    @staticmethod
    def matches(left: object, right: object) -> Truth:
        if isinstance(left, _Unknown) or isinstance(right, _Unknown):
            return None
        if isinstance(right, str) and right.startswith("/") and right.rfind("/") > 0:
            right = _Pattern(right)  # a variable holding a pattern
        if not isinstance(right, _Pattern):
            raise ExpressionError("=~ and !~ need a /pattern/ on the right")
        if left is None:
            return False
        if isinstance(left, _Pattern):
            raise ExpressionError("a pattern cannot be matched against a pattern")
        return right.compile().search(str(left)) is not None


def evaluate(expression: str, variables: Mapping[str, str | None]) -> Truth:
    """Evaluate ``expression`` where ``variables`` maps names to values.

    A name mapped to ``None`` is known to be unset; a name absent from the mapping is
    unknown. Returns True, False, or None when the answer depends on what is unknown
    (or when the expression cannot be read: GitLab would reject it, we cannot judge it).
    """
    try:
        return _Evaluator(_tokenize(expression), variables).run()
    except ExpressionError:
        return None
