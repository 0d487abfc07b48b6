"""A PromQL subset: enough for success rates, latency quantiles and their usual variations.

Parsed into an expression tree (frozen dataclasses) and evaluated against a
:class:`Source` of counter series (the traffic model), at one instant or over a range.

Supported: number literals; vector selectors with ``=``, ``!=``, ``=~``, ``!~`` matchers
and ``offset``; range selectors ``[5m]`` as arguments of ``rate``, ``irate``,
``increase``; ``sum``, ``avg``, ``min``, ``max``, ``count`` with ``by``/``without``
(before or after the argument); ``histogram_quantile``, ``vector``, ``scalar``,
``abs``, ``ceil``, ``floor``, ``round``, ``clamp_min``, ``clamp_max``, ``time``;
arithmetic ``+ - * / % ^``, comparisons (with ``bool``), ``and``/``or``/``unless``, and
one-to-one vector matching with ``on``/``ignoring``. Anything else is a
:class:`PromQLError`, which the HTTP layer answers as Prometheus does: 400 ``bad_data``.

Evaluation follows Prometheus where the subset reaches: ``0/0`` is NaN, ``sum`` over
nothing is nothing (not 0), arithmetic drops ``__name__``, ``histogram_quantile``
interpolates linearly inside a bucket. ``rate`` is exact (the counters are functions
of time), so it has no extrapolation error.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

#: ``irate`` looks at the last two samples; the simulated scrape interval is this long.
SCRAPE_INTERVAL = 10.0
#: How far back an instant selector looks for a sample (Prometheus' default).
LOOKBACK = 300.0


class PromQLError(ValueError):
    """A query outside the subset, or malformed; ``str()`` is Prometheus-style."""

    def __init__(self, message: str, position: int | None = None) -> None:
        self.detail = message
        self.position = position
        where = f"1:{position + 1}: " if position is not None else ""
        super().__init__(f"{where}parse error: {message}")


class ExecutionError(PromQLError):
    """A well-formed query that fails while evaluated (Prometheus: 422 ``execution``)."""

    def __init__(self, message: str) -> None:
        ValueError.__init__(self, message)
        self.detail = message
        self.position = None


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Matcher:
    name: str
    op: str  # = != =~ !~
    value: str

    def matches(self, labels: dict[str, str]) -> bool:
        actual = labels.get(self.name, "")
        if self.op == "=":
            return actual == self.value
        if self.op == "!=":
            return actual != self.value
        full = re.fullmatch(self.value, actual) is not None
        return full if self.op == "=~" else not full


class Series(Protocol):
    """A counter: its labels (with ``__name__``) and its value at any instant."""

    labels: dict[str, str]

    def value(self, at: float) -> float: ...


class Source(Protocol):
    def select(
        self, name: str, matchers: Sequence[Matcher], start: float, end: float
    ) -> list[Series]:
        """Series of ``name`` matching all matchers that exist somewhere in [start, end]."""
        ...


@dataclass(frozen=True)
class Sample:
    labels: tuple[tuple[str, str], ...]
    value: float

    @property
    def metric(self) -> dict[str, str]:
        return dict(self.labels)


Vector = list[Sample]
Value = Vector | float


def _labels(mapping: dict[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted(mapping.items()))


# --------------------------------------------------------------------------- syntax tree


@dataclass(frozen=True)
class Number:
    value: float


@dataclass(frozen=True)
class Selector:
    name: str
    matchers: tuple[Matcher, ...]
    range: float | None = None
    offset: float = 0.0


@dataclass(frozen=True)
class Call:
    function: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Aggregate:
    op: str
    expr: Node
    grouping: tuple[str, ...] | None  # None: no clause (everything together)
    without: bool = False


@dataclass(frozen=True)
class Binary:
    op: str
    lhs: Node
    rhs: Node
    return_bool: bool = False
    on: tuple[str, ...] | None = None
    ignoring: tuple[str, ...] = ()


@dataclass(frozen=True)
class Negate:
    expr: Node


Node = Number | Selector | Call | Aggregate | Binary | Negate

AGGREGATIONS = ("sum", "avg", "min", "max", "count")
RANGE_FUNCTIONS = ("rate", "irate", "increase")
FUNCTIONS = (
    *RANGE_FUNCTIONS,
    "histogram_quantile",
    "vector",
    "scalar",
    "abs",
    "ceil",
    "floor",
    "round",
    "clamp_min",
    "clamp_max",
    "time",
)
#: Real PromQL that this subset does not evaluate (a clear refusal, not "unknown").
UNSUPPORTED = frozenset(
    [
        "topk",
        "bottomk",
        "quantile",
        "stddev",
        "stdvar",
        "count_values",
        "group",
        "limitk",
        "limit_ratio",
        "avg_over_time",
        "sum_over_time",
        "min_over_time",
        "max_over_time",
        "count_over_time",
        "quantile_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "present_over_time",
        "absent",
        "absent_over_time",
        "changes",
        "resets",
        "delta",
        "idelta",
        "deriv",
        "predict_linear",
        "holt_winters",
        "label_replace",
        "label_join",
        "sort",
        "sort_desc",
        "sort_by_label",
        "sort_by_label_desc",
        "timestamp",
        "exp",
        "ln",
        "log2",
        "log10",
        "sqrt",
        "sgn",
        "clamp",
        "histogram_count",
        "histogram_sum",
        "histogram_avg",
        "histogram_fraction",
        "histogram_stddev",
        "histogram_stdvar",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "hour",
        "minute",
        "month",
        "year",
    ]
)
#: Lowest to highest; ``^`` is right-associative.
_PRECEDENCE = [
    ("or",),
    ("and", "unless"),
    ("==", "!=", "<=", "<", ">=", ">"),
    ("+", "-"),
    ("*", "/", "%"),
    ("^",),
]

# --------------------------------------------------------------------------- lexer

_TOKEN = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<duration>(?:\d+(?:ms|y|w|d|h|m|s))+)(?![A-Za-z_0-9])
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>=~|!~|==|!=|<=|>=|[-+*/%^<>=(){}\[\],:@])
    """,
    re.VERBOSE,
)

_DURATION_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


def parse_duration(text: str) -> float:
    """``5m``, ``1h30m``, ``90s``; Prometheus durations (also bare seconds as a float)."""
    try:
        return float(text)
    except ValueError:
        pass
    parts = re.findall(r"(\d+)(ms|y|w|d|h|m|s)", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise PromQLError(f'bad duration "{text}"')
    return sum(int(number) * _DURATION_UNITS[unit] for number, unit in parts)


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    position: int


def _tokenize(query: str) -> list[_Token]:
    tokens, position = [], 0
    while position < len(query):
        match = _TOKEN.match(query, position)
        if match is None:
            raise PromQLError(f"unexpected character: {query[position]!r}", position)
        kind = match.lastgroup
        assert kind is not None
        if kind != "space":
            tokens.append(_Token(kind, match.group(kind), position))
        position = match.end()
    return tokens


# --------------------------------------------------------------------------- parser


class _Parser:
    def __init__(self, query: str) -> None:
        self.query = query
        self.tokens = _tokenize(query)
        self.index = 0

    def _peek(self, offset: int = 0) -> _Token | None:
        position = self.index + offset
        return self.tokens[position] if position < len(self.tokens) else None

    def _at(self, *texts: str) -> bool:
        token = self._peek()
        return token is not None and token.text in texts

    def _take(self, text: str | None = None) -> _Token:
        token = self._peek()
        if token is None:
            raise PromQLError(
                f"unexpected end of input{f', expected {text!r}' if text else ''}", len(self.query)
            )
        if text is not None and token.text != text:
            raise PromQLError(f"unexpected {token.text!r}, expected {text!r}", token.position)
        self.index += 1
        return token

    def parse(self) -> Node:
        if not self.tokens:
            raise PromQLError("no expression found in input", 0)
        node = self._binary(0)
        token = self._peek()
        if token is not None:
            raise PromQLError(f"unexpected {token.text!r}", token.position)
        return node

    def _binary(self, level: int) -> Node:
        if level == len(_PRECEDENCE):
            return self._unary()
        node = self._binary(level + 1)
        while self._at(*_PRECEDENCE[level]):
            op = self._take().text
            return_bool = False
            if self._at("bool"):
                self._take()
                return_bool = True
            on, ignoring = self._matching()
            if op == "^":
                rhs = self._binary(level)  # right-associative
                return Binary(op, node, rhs, return_bool, on, ignoring)
            rhs = self._binary(level + 1)
            node = Binary(op, node, rhs, return_bool, on, ignoring)
        return node

    def _matching(self) -> tuple[tuple[str, ...] | None, tuple[str, ...]]:
        on: tuple[str, ...] | None = None
        ignoring: tuple[str, ...] = ()
        if self._at("on"):
            self._take()
            on = self._label_list()
        elif self._at("ignoring"):
            self._take()
            ignoring = self._label_list()
        if self._at("group_left", "group_right"):
            token = self._take()
            raise PromQLError(
                f"{token.text} (many-to-one matching) is not supported by the simulated Prometheus",
                token.position,
            )
        return on, ignoring

    def _label_list(self) -> tuple[str, ...]:
        self._take("(")
        labels = []
        while not self._at(")"):
            token = self._take()
            if token.kind != "name":
                raise PromQLError(f"unexpected {token.text!r} in label list", token.position)
            labels.append(token.text)
            if self._at(","):
                self._take()
        self._take(")")
        return tuple(labels)

    def _unary(self) -> Node:
        if self._at("-"):
            self._take()
            return Negate(self._unary())
        if self._at("+"):
            self._take()
            return self._unary()
        return self._postfix(self._primary())

    def _postfix(self, node: Node) -> Node:
        if self._at("["):
            bracket = self._take("[")
            if not isinstance(node, Selector):
                raise PromQLError(
                    "ranges only allowed for vector selectors (subqueries are not supported)",
                    bracket.position,
                )
            token = self._take()
            following = self._peek()
            if following is not None and following.text.startswith(":"):
                raise PromQLError(
                    "subqueries are not supported by the simulated Prometheus", token.position
                )
            self._take("]")
            node = Selector(node.name, node.matchers, parse_duration(token.text), node.offset)
        if self._at("offset"):
            self._take()
            token = self._take()
            if not isinstance(node, Selector):
                raise PromQLError("offset modifier must be preceded by a selector", token.position)
            node = Selector(node.name, node.matchers, node.range, parse_duration(token.text))
        if self._at("@"):
            raise PromQLError(
                "the @ modifier is not supported by the simulated Prometheus", self._take().position
            )
        return node

    def _primary(self) -> Node:
        token = self._take()
        if token.kind == "number":
            if token.text.startswith("0x"):
                return Number(float(int(token.text, 16)))
            return Number(float(token.text))
        if token.kind == "name" and token.text.lower() in ("inf", "nan") and not self._at("{"):
            return Number(float(token.text))
        if token.kind == "duration":
            raise PromQLError(f"unexpected duration {token.text!r}", token.position)
        if token.text == "(":
            node = self._binary(0)
            self._take(")")
            return node
        if token.text == "{":
            self.index -= 1
            return self._selector("", token.position)
        if token.kind != "name":
            raise PromQLError(f"unexpected {token.text!r}", token.position)
        name = token.text
        if name in UNSUPPORTED and self._at("(", "by", "without"):
            raise PromQLError(
                f"{name}() is not supported by the simulated Prometheus", token.position
            )
        if name in AGGREGATIONS:
            return self._aggregation(name)
        if self._at("("):
            return self._call(name, token.position)
        return self._selector(name, token.position)

    def _aggregation(self, op: str) -> Node:
        grouping: tuple[str, ...] | None = None
        without = False
        if self._at("by", "without"):
            without = self._take().text == "without"
            grouping = self._label_list()
        self._take("(")
        expr = self._binary(0)
        if self._at(","):
            raise PromQLError(f"{op}() takes one argument", self._take().position)
        self._take(")")
        if self._at("by", "without"):
            if grouping is not None:
                raise PromQLError("aggregation with two grouping clauses", self._peek().position)  # type: ignore[union-attr]
            without = self._take().text == "without"
            grouping = self._label_list()
        return Aggregate(op, expr, grouping, without)

    def _call(self, name: str, position: int) -> Node:
        if name not in FUNCTIONS:
            raise PromQLError(f'unknown function with name "{name}"', position)
        self._take("(")
        args: list[Node] = []
        while not self._at(")"):
            args.append(self._binary(0))
            if self._at(","):
                self._take()
        self._take(")")
        expected = {
            "histogram_quantile": 2,
            "clamp_min": 2,
            "clamp_max": 2,
            "time": 0,
        }.get(name, 1)
        if len(args) != expected:
            raise PromQLError(
                f'expected {expected} argument(s) in call to "{name}", got {len(args)}', position
            )
        if name in RANGE_FUNCTIONS and not (isinstance(args[0], Selector) and args[0].range):
            raise PromQLError(
                f'expected type range vector in call to function "{name}", got instant vector',
                position,
            )
        return Call(name, tuple(args))

    def _selector(self, name: str, position: int) -> Node:
        matchers: list[Matcher] = []
        if self._at("{"):
            self._take("{")
            while not self._at("}"):
                label = self._take()
                if label.kind != "name":
                    raise PromQLError(
                        f"unexpected {label.text!r} in label matching", label.position
                    )
                op = self._take()
                if op.text not in ("=", "!=", "=~", "!~"):
                    raise PromQLError(f"unexpected {op.text!r} in label matching", op.position)
                value = self._take()
                if value.kind != "string":
                    raise PromQLError(
                        f"unexpected {value.text!r}, expected a string", value.position
                    )
                text = _unquote(value.text)
                if op.text in ("=~", "!~"):
                    try:
                        re.compile(text)
                    except re.error as error:
                        raise PromQLError(
                            f"invalid regular expression {text!r}: {error}", value.position
                        ) from None
                matchers.append(Matcher(label.text, op.text, text))
                if self._at(","):
                    self._take()
            self._take("}")
        for matcher in matchers:
            if matcher.name == "__name__" and matcher.op == "=":
                name = name or matcher.value
        if not name:
            raise PromQLError(
                "the simulated Prometheus needs a metric name in every selector", position
            )
        matchers = [m for m in matchers if not (m.name == "__name__" and m.op == "=")]
        return Selector(name, tuple(matchers))


def _unquote(text: str) -> str:
    if text.startswith("`"):
        return text[1:-1]
    body = text[1:-1]
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m.group(1), m.group(1)), body)


def parse(query: str) -> Node:
    """Parse a query; raises :class:`PromQLError` for anything outside the subset."""
    return _Parser(query).parse()


# --------------------------------------------------------------------------- evaluation


def _drop_name(labels: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    return tuple(item for item in labels if item[0] != "__name__")


def _arith(op: str, a: float, b: float) -> float:
    try:
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        if op == "/":
            if b == 0:
                if a == 0 or math.isnan(a):
                    return math.nan
                return math.copysign(math.inf, a) * (1 if math.copysign(1, b) > 0 else -1)
            return a / b
        if op == "%":
            return math.nan if b == 0 else math.fmod(a, b)
        if op == "^":
            return math.pow(a, b)
    except (OverflowError, ValueError):
        return math.nan
    raise PromQLError(f"unsupported operator {op!r}")


def _compare(op: str, a: float, b: float) -> bool:
    return {
        "==": a == b,
        "!=": a != b,
        "<": a < b,
        "<=": a <= b,
        ">": a > b,
        ">=": a >= b,
    }[op]


class _Evaluator:
    def __init__(self, source: Source, at: float) -> None:
        self.source = source
        self.at = at

    def eval(self, node: Node) -> Value:
        if isinstance(node, Number):
            return node.value
        if isinstance(node, Negate):
            value = self.eval(node.expr)
            if isinstance(value, float):
                return -value
            return [Sample(_drop_name(s.labels), -s.value) for s in value]
        if isinstance(node, Selector):
            if node.range is not None:
                raise PromQLError("range vectors can only be arguments of rate/irate/increase")
            at = self.at - node.offset
            return [
                Sample(_labels(series.labels), series.value(at))
                for series in self.source.select(node.name, node.matchers, at - LOOKBACK, at)
            ]
        if isinstance(node, Call):
            return self._call(node)
        if isinstance(node, Aggregate):
            return self._aggregate(node)
        return self._binary(node)

    def _vector(self, node: Node, context: str) -> Vector:
        value = self.eval(node)
        if isinstance(value, float):
            raise PromQLError(f"expected instant vector in {context}, got scalar")
        return value

    def _scalar(self, node: Node, context: str) -> float:
        value = self.eval(node)
        if not isinstance(value, float):
            raise PromQLError(f"expected scalar in {context}, got instant vector")
        return value

    def _call(self, node: Call) -> Value:
        name = node.function
        if name in RANGE_FUNCTIONS:
            selector = node.args[0]
            assert isinstance(selector, Selector) and selector.range is not None
            end = self.at - selector.offset
            window = selector.range
            span = min(SCRAPE_INTERVAL, window) if name == "irate" else window
            samples = []
            for series in self.source.select(selector.name, selector.matchers, end - window, end):
                increase = series.value(end) - series.value(end - span)
                value = increase if name == "increase" else increase / span
                samples.append(Sample(_drop_name(_labels(series.labels)), value))
            return samples
        if name == "time":
            return float(self.at)
        if name == "vector":
            return [Sample((), self._scalar(node.args[0], "vector()"))]
        if name == "scalar":
            samples = self._vector(node.args[0], "scalar()")
            return samples[0].value if len(samples) == 1 else math.nan
        if name == "histogram_quantile":
            return self._histogram_quantile(node)
        samples = self._vector(node.args[0], f"{name}()")
        function: Callable[[float], float]
        if name in ("clamp_min", "clamp_max"):
            bound = self._scalar(node.args[1], f"{name}()")
            function = (
                (lambda v: max(v, bound)) if name == "clamp_min" else (lambda v: min(v, bound))
            )
        else:
            function = {
                "abs": abs,
                "ceil": lambda v: float(math.ceil(v)) if math.isfinite(v) else v,
                "floor": lambda v: float(math.floor(v)) if math.isfinite(v) else v,
                "round": lambda v: float(math.floor(v + 0.5)) if math.isfinite(v) else v,
            }[name]
        return [Sample(_drop_name(s.labels), function(s.value)) for s in samples]

    def _histogram_quantile(self, node: Call) -> Vector:
        quantile = self._scalar(node.args[0], "histogram_quantile()")
        samples = self._vector(node.args[1], "histogram_quantile()")
        groups: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
        for sample in samples:
            labels = dict(sample.labels)
            if "le" not in labels:
                continue
            try:
                bound = float(labels.pop("le"))
            except ValueError:
                continue
            labels.pop("__name__", None)
            groups.setdefault(_labels(labels), []).append((bound, sample.value))
        return [
            Sample(labels, bucket_quantile(quantile, buckets)) for labels, buckets in groups.items()
        ]

    def _aggregate(self, node: Aggregate) -> Vector:
        samples = self._vector(node.expr, f"{node.op}()")
        groups: dict[tuple[tuple[str, str], ...], list[float]] = {}
        for sample in samples:
            labels = dict(_drop_name(sample.labels))
            if node.grouping is None:
                key: dict[str, str] = {}
            elif node.without:
                key = {k: v for k, v in labels.items() if k not in node.grouping}
            else:
                key = {k: v for k, v in labels.items() if k in node.grouping}
            groups.setdefault(_labels(key), []).append(sample.value)
        result = []
        for labels, values in groups.items():
            if node.op == "sum":
                value = math.fsum(values)
            elif node.op == "avg":
                value = math.fsum(values) / len(values)
            elif node.op == "min":
                value = min(values)
            elif node.op == "max":
                value = max(values)
            else:
                value = float(len(values))
            result.append(Sample(labels, value))
        return result

    def _signature(
        self, labels: tuple[tuple[str, str], ...], node: Binary
    ) -> tuple[tuple[str, str], ...]:
        if node.on is not None:
            return tuple(item for item in labels if item[0] in node.on)
        return tuple(item for item in _drop_name(labels) if item[0] not in node.ignoring)

    def _binary(self, node: Binary) -> Value:
        lhs, rhs = self.eval(node.lhs), self.eval(node.rhs)
        op = node.op
        comparison = op in ("==", "!=", "<", "<=", ">", ">=")
        if op in ("and", "or", "unless"):
            if isinstance(lhs, float) or isinstance(rhs, float):
                raise PromQLError(f'set operator "{op}" not allowed in binary scalar expression')
            right = {self._signature(s.labels, node) for s in rhs}
            if op == "and":
                return [s for s in lhs if self._signature(s.labels, node) in right]
            if op == "unless":
                return [s for s in lhs if self._signature(s.labels, node) not in right]
            left = {self._signature(s.labels, node) for s in lhs}
            return lhs + [s for s in rhs if self._signature(s.labels, node) not in left]
        if isinstance(lhs, float) and isinstance(rhs, float):
            if comparison:
                if not node.return_bool:
                    raise PromQLError("comparisons between scalars must use BOOL modifier")
                return float(_compare(op, lhs, rhs))
            return _arith(op, lhs, rhs)
        if isinstance(lhs, float) or isinstance(rhs, float):
            vector = rhs if isinstance(lhs, float) else lhs
            assert not isinstance(vector, float)
            result = []
            for sample in vector:
                a, b = (lhs, sample.value) if isinstance(lhs, float) else (sample.value, rhs)
                assert isinstance(a, float) and isinstance(b, float)
                if comparison:
                    keep = _compare(op, a, b)
                    if node.return_bool:
                        result.append(Sample(_drop_name(sample.labels), float(keep)))
                    elif keep:
                        result.append(sample)
                else:
                    result.append(Sample(_drop_name(sample.labels), _arith(op, a, b)))
            return result
        index: dict[tuple[tuple[str, str], ...], Sample] = {}
        for sample in rhs:
            signature = self._signature(sample.labels, node)
            if signature in index:
                raise ExecutionError(
                    "found duplicate series for the match group on the right hand-side of the "
                    "operation: many-to-many matching not allowed: matching labels must be "
                    "unique on one side"
                )
            index[signature] = sample
        result = []
        seen: set[tuple[tuple[str, str], ...]] = set()
        for sample in lhs:
            signature = self._signature(sample.labels, node)
            match = index.get(signature)
            if match is None:
                continue
            if signature in seen:
                raise ExecutionError(
                    "multiple matches for labels: many-to-one matching must be explicit "
                    "(group_left/group_right)"
                )
            seen.add(signature)
            if node.on is not None:
                labels = signature
            else:
                labels = (
                    self._signature(sample.labels, node)
                    if node.ignoring
                    else _drop_name(sample.labels)
                )
            if comparison:
                keep = _compare(op, sample.value, match.value)
                if node.return_bool:
                    result.append(Sample(labels, float(keep)))
                elif keep:
                    result.append(
                        Sample(sample.labels if node.on is None else labels, sample.value)
                    )
            else:
                result.append(Sample(labels, _arith(op, sample.value, match.value)))
        return result


def bucket_quantile(quantile: float, buckets: list[tuple[float, float]]) -> float:
    """Prometheus' ``bucketQuantile`` over (upper bound, cumulative count) pairs."""
    if math.isnan(quantile):
        return math.nan
    if quantile < 0:
        return -math.inf
    if quantile > 1:
        return math.inf
    buckets = sorted(buckets)
    if not buckets or not math.isinf(buckets[-1][0]):
        return math.nan
    counts = []
    running = 0.0
    for _, count in buckets:  # ensureMonotonic
        running = max(running, count)
        counts.append(running)
    if len(buckets) < 2:
        return math.nan
    observations = counts[-1]
    if observations == 0 or math.isnan(observations):
        return math.nan
    rank = quantile * observations
    position = next(i for i, count in enumerate(counts) if count >= rank)
    if position == len(buckets) - 1:
        return buckets[-2][0]
    if position == 0 and buckets[0][0] <= 0:
        return buckets[0][0]
    start, end, count = 0.0, buckets[position][0], counts[position]
    if position > 0:
        start = buckets[position - 1][0]
        count -= counts[position - 1]
        rank -= counts[position - 1]
    return start + (end - start) * (rank / count)


def evaluate(query: str | Node, source: Source, at: float) -> Value:
    """The query's value at ``at`` (unix seconds): an instant vector or a scalar."""
    node = parse(query) if isinstance(query, str) else query
    return _Evaluator(source, at).eval(node)


def evaluate_range(
    query: str | Node, source: Source, start: float, end: float, step: float
) -> tuple[bool, list[tuple[tuple[tuple[str, str], ...], list[tuple[float, float]]]]]:
    """(scalar?, series): the query at start, start+step, … ≤ end, grouped by labels."""
    node = parse(query) if isinstance(query, str) else query
    series: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = {}
    scalar = False
    steps = math.floor((end - start) / step + 1e-9) + 1
    for index in range(steps):
        at = start + index * step
        value = _Evaluator(source, at).eval(node)
        if isinstance(value, float):
            scalar = True
            series.setdefault((), []).append((at, value))
            continue
        for sample in value:
            series.setdefault(sample.labels, []).append((at, sample.value))
    return scalar, list(series.items())


# --------------------------------------------------------------------------- formatting


def format_value(value: float) -> str:
    """A sample value as Prometheus writes it (Go's ``FormatFloat(v, 'f', -1, 64)``)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    text = format(Decimal(repr(value)), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def format_time(moment: float) -> float | int:
    """A timestamp as Prometheus writes it: seconds, at most millisecond precision."""
    rounded = round(moment, 3)
    return int(rounded) if rounded == int(rounded) else rounded
