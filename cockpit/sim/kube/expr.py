"""AnalysisTemplate conditions (``successCondition``, ``failureCondition``), the subset we evaluate.

Argo Rollouts evaluates these with expr-lang over ``result`` (a list of floats for a
Prometheus vector, a float for a scalar). Supported here: numbers, strings, ``true``,
``false``, ``nil``, ``result``, indexing, ``len``, ``isNaN``, ``isInf``, ``asInt``,
``asFloat``, ``default``, ``isNil``, ``all``/``any`` with ``#`` as the element,
arithmetic, comparisons, and ``!``/``&&``/``||`` (also ``not``/``and``/``or``) with
short-circuit evaluation, so ``len(result) == 0 || result[0] >= 0.99`` never indexes
an empty list. A failure to evaluate raises :class:`ExprError`, which makes the
measurement an ``Error``, as in Argo.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any


class ExprError(ValueError):
    """The condition could not be parsed or evaluated."""


_TOKEN = re.compile(
    r"\s*(?:(?P<number>\d+\.\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?|\d+(?:[eE][-+]?\d+)?)"
    r"|(?P<string>\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<op>\|\||&&|==|!=|<=|>=|[-+*/%<>!()\[\],#]))"
)


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.strip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise ExprError(f"unexpected character {text[position]!r} at {position} in {text!r}")
        position = match.end()
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
    return tokens


@dataclass(frozen=True)
class _Node:
    kind: str
    value: Any = None
    children: tuple[_Node, ...] = ()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.position = 0

    def parse(self) -> _Node:
        node = self._or()
        if self.position != len(self.tokens):
            raise ExprError(f"unexpected {self.tokens[self.position][1]!r} in {self.text!r}")
        return node

    def _peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def _take(self, expected: str | None = None) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExprError(f"unexpected end of {self.text!r}")
        token = self.tokens[self.position]
        if expected is not None and token[1] != expected:
            raise ExprError(f"expected {expected!r} but found {token[1]!r} in {self.text!r}")
        self.position += 1
        return token

    def _or(self) -> _Node:
        node = self._and()
        while self._peek() in ("||", "or"):
            self._take()
            node = _Node("or", children=(node, self._and()))
        return node

    def _and(self) -> _Node:
        node = self._not()
        while self._peek() in ("&&", "and"):
            self._take()
            node = _Node("and", children=(node, self._not()))
        return node

    def _not(self) -> _Node:
        if self._peek() in ("!", "not"):
            self._take()
            return _Node("not", children=(self._not(),))
        return self._comparison()

    def _comparison(self) -> _Node:
        node = self._sum()
        if self._peek() in ("==", "!=", "<", "<=", ">", ">="):
            op = self._take()[1]
            node = _Node("binary", op, (node, self._sum()))
        return node

    def _sum(self) -> _Node:
        node = self._product()
        while self._peek() in ("+", "-"):
            op = self._take()[1]
            node = _Node("binary", op, (node, self._product()))
        return node

    def _product(self) -> _Node:
        node = self._unary()
        while self._peek() in ("*", "/", "%"):
            op = self._take()[1]
            node = _Node("binary", op, (node, self._unary()))
        return node

    def _unary(self) -> _Node:
        if self._peek() == "-":
            self._take()
            return _Node("negate", children=(self._unary(),))
        return self._postfix()

    def _postfix(self) -> _Node:
        node = self._primary()
        while self._peek() == "[":
            self._take("[")
            index = self._or()
            self._take("]")
            node = _Node("index", children=(node, index))
        return node

    def _primary(self) -> _Node:
        kind, text = self._take()
        if kind == "number":
            return _Node("literal", float(text) if any(c in text for c in ".eE") else int(text))
        if kind == "string":
            return _Node("literal", bytes(text[1:-1], "utf-8").decode("unicode_escape"))
        if text == "(":
            node = self._or()
            self._take(")")
            return node
        if text == "#":
            return _Node("element")
        if kind == "name":
            if text in ("true", "false"):
                return _Node("literal", text == "true")
            if text == "nil":
                return _Node("literal", None)
            if self._peek() == "(":
                self._take("(")
                args: list[_Node] = []
                while self._peek() != ")":
                    args.append(self._or())
                    if self._peek() == ",":
                        self._take(",")
                self._take(")")
                return _Node("call", text, tuple(args))
            return _Node("name", text)
        raise ExprError(f"unexpected {text!r} in {self.text!r}")


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ExprError(f"{value!r} is not a number")
    return float(value)


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "==":
        return bool(left == right)
    if op == "!=":
        return bool(left != right)
    a, b = _number(left), _number(right)
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _arithmetic(op: str, left: Any, right: Any) -> float:
    a, b = _number(left), _number(right)
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if b == 0:
        raise ExprError("division by zero")
    return a / b if op == "/" else math.fmod(a, b)


class _Evaluator:
    def __init__(self, env: dict[str, Any]) -> None:
        self.env = env
        self.element: list[Any] = []

    def eval(self, node: _Node) -> Any:
        kind = node.kind
        if kind == "literal":
            return node.value
        if kind == "name":
            if node.value not in self.env:
                raise ExprError(f"unknown name {node.value!r}")
            return self.env[node.value]
        if kind == "element":
            if not self.element:
                raise ExprError("'#' outside of all()/any()")
            return self.element[-1]
        if kind == "or":
            return bool(self.eval(node.children[0])) or bool(self.eval(node.children[1]))
        if kind == "and":
            return bool(self.eval(node.children[0])) and bool(self.eval(node.children[1]))
        if kind == "not":
            return not self.eval(node.children[0])
        if kind == "negate":
            return -_number(self.eval(node.children[0]))
        if kind == "binary":
            left, right = (self.eval(child) for child in node.children)
            if node.value in ("==", "!=", "<", "<=", ">", ">="):
                return _compare(node.value, left, right)
            return _arithmetic(node.value, left, right)
        if kind == "index":
            container = self.eval(node.children[0])
            index = self.eval(node.children[1])
            if not isinstance(container, list):
                raise ExprError(f"cannot index {container!r}")
            position = int(_number(index))
            if not -len(container) <= position < len(container):
                raise ExprError(
                    f"index out of range: {position} (array length is {len(container)})"
                )
            return container[position]
        return self._call(node)

    def _call(self, node: _Node) -> Any:
        name, args = node.value, node.children
        if name in ("all", "any"):
            if len(args) != 2:
                raise ExprError(f"{name}() takes a list and a predicate")
            items = self.eval(args[0])
            if not isinstance(items, list):
                raise ExprError(f"{name}() needs a list, got {items!r}")
            results = []
            for item in items:
                self.element.append(item)
                try:
                    results.append(bool(self.eval(args[1])))
                finally:
                    self.element.pop()
            return all(results) if name == "all" else any(results)
        values = [self.eval(arg) for arg in args]
        if name == "len" and len(values) == 1:
            if not isinstance(values[0], list | str):
                raise ExprError(f"invalid argument for len (type {type(values[0]).__name__})")
            return len(values[0])
        if name == "isNaN" and len(values) == 1:
            return math.isnan(_number(values[0]))
        if name == "isInf" and len(values) in (1, 2):
            number = _number(values[0])
            sign = int(_number(values[1])) if len(values) == 2 else 0
            return math.isinf(number) and (sign == 0 or (number > 0) == (sign > 0))
        if name == "asFloat" and len(values) == 1:
            try:
                return float(values[0])
            except (TypeError, ValueError):
                raise ExprError(f"cannot convert {values[0]!r} to float") from None
        if name == "asInt" and len(values) == 1:
            try:
                return int(float(values[0]))
            except (TypeError, ValueError):
                raise ExprError(f"cannot convert {values[0]!r} to int") from None
        if name == "default" and len(values) == 2:
            return values[1] if values[0] is None else values[0]
        if name == "isNil" and len(values) == 1:
            return values[0] is None
        raise ExprError(f"unknown function {name}() with {len(values)} argument(s)")


def evaluate(condition: str, result: Any) -> bool:
    """Evaluate a condition with ``result`` bound; raises :class:`ExprError`."""
    value = _Evaluator({"result": result}).eval(_Parser(condition).parse())
    if not isinstance(value, bool):
        raise ExprError(f"condition {condition!r} returned {value!r}, not a boolean")
    return value
