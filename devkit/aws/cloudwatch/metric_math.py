"""CloudWatch metric math, as alarms use it: arithmetic, comparisons, IF, FILL and the aggregates.

https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
A time series is a mapping from period start to value; a period without a value has no key.
Series combine only where both have a value; a scalar combines with every value; FILL supplies
values for every period of the query's time range.
"""

import itertools
import math
import operator
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Series = dict[float, float]
Value = float | Series | list[Series]

TOKENS = re.compile(
    r"\s*(?:(?P<number>\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)|(?P<string>\"[^\"]*\"|'[^']*')"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<op>>=|<=|==|!=|&&|\|\||[-+*/^(),<>\[\]]))"
)
FUNCTIONS = {"IF", "FILL", "SUM", "MAX", "MIN", "AVG", "METRICS", "DIFF", "ABS", "CEIL", "FLOOR"}
BINARY: dict[str, Callable[[float, float], float]] = {
    "+": operator.add,
    "-": operator.sub,
    "*": operator.mul,
    "/": operator.truediv,
    "^": operator.pow,
    ">": lambda a, b: float(a > b),
    "<": lambda a, b: float(a < b),
    ">=": lambda a, b: float(a >= b),
    "<=": lambda a, b: float(a <= b),
    "==": lambda a, b: float(a == b),
    "!=": lambda a, b: float(a != b),
    "AND": lambda a, b: float(bool(a) and bool(b)),
    "OR": lambda a, b: float(bool(a) or bool(b)),
}
PRECEDENCE = [("OR", "||"), ("AND", "&&"), (">", "<", ">=", "<=", "==", "!="), ("+", "-"), ("*", "/")]


class UnsupportedExpression(ValueError):
    """An expression, or a function in it, this evaluator does not support."""


@dataclass(frozen=True)
class Node:
    """A parsed expression: a number, a string, an id, an operation or a function call."""

    kind: str  # "number", "string", "id", "binary", "negate", "call", "list"
    value: Any = None
    children: tuple["Node", ...] = ()


def _tokens(text: str) -> list[str]:
    tokens, position = [], 0
    while position < len(text):
        found = TOKENS.match(text, position)
        if not found or found.end() == position:
            if text[position:].strip():
                raise UnsupportedExpression(f"cannot read {text[position:]!r}")
            break
        tokens.append(found.group().strip())
        position = found.end()
    return [token for token in tokens if token]


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = _tokens(text)
        self.at = 0

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        symbol = self.peek()
        if symbol is None or (expected is not None and symbol.upper() != expected):
            raise UnsupportedExpression(f"expected {expected or 'more'}, found {symbol!r}")
        self.at += 1
        return symbol

    def parse(self) -> Node:
        node = self.level(0)
        if self.peek() is not None:
            raise UnsupportedExpression(f"unexpected {self.peek()!r}")
        return node

    def level(self, depth: int) -> Node:
        if depth == len(PRECEDENCE):
            return self.unary()
        node = self.level(depth + 1)
        while (token := self.peek()) is not None and token.upper() in PRECEDENCE[depth]:
            self.take()
            name = {"&&": "AND", "||": "OR"}.get(token, token.upper())
            node = Node("binary", name, (node, self.level(depth + 1)))
        return node

    def unary(self) -> Node:
        if self.peek() == "-":
            self.take()
            return Node("negate", None, (self.unary(),))
        if (self.peek() or "").upper() == "NOT":
            raise UnsupportedExpression("NOT is not supported")
        node = self.atom()
        if self.peek() == "^":
            self.take()
            return Node("binary", "^", (node, self.unary()))
        return node

    def atom(self) -> Node:
        symbol = self.take()
        if symbol in {"(", "["}:
            return self.group(symbol)
        if symbol[0].isdigit():
            return Node("number", float(symbol))
        if symbol[0] in "\"'":
            return Node("string", symbol[1:-1])
        if self.peek() == "(":
            return self.call(symbol)
        if symbol.upper() in {"REPEAT", "LINEAR"}:
            return Node("string", symbol.upper())
        return Node("id", symbol)

    def group(self, opening: str) -> Node:
        if opening == "(":
            node = self.level(0)
            self.take(")")
            return node
        items = [self.level(0)]
        while self.peek() == ",":
            self.take()
            items.append(self.level(0))
        self.take("]")
        return Node("list", None, tuple(items))

    def call(self, function: str) -> Node:
        name = function.upper()
        if name not in FUNCTIONS:
            raise UnsupportedExpression(f"function {function} is not supported")
        self.take("(")
        arguments: list[Node] = []
        while self.peek() != ")":
            arguments.append(self.level(0))
            if self.peek() == ",":
                self.take()
        self.take(")")
        return Node("call", name, tuple(arguments))


def parse(expression: str) -> Node:
    """Parse an expression; raise ``UnsupportedExpression`` naming what is not supported."""
    return _Parser(expression).parse()


def references(node: Node) -> set[str]:
    """The ids an expression refers to."""
    found = {node.value} if node.kind == "id" else set()
    for child in node.children:
        found |= references(child)
    return found


def _combine(left: Value, right: Value, apply: Callable[[float, float], float]) -> Value:
    def safe(a: float, b: float) -> float | None:
        try:
            result = apply(a, b)
        except (ZeroDivisionError, OverflowError):
            return None
        return None if math.isnan(result) or math.isinf(result) else result

    if isinstance(left, list):
        return [_combine(series, right, apply) for series in left]  # type: ignore[misc]
    if isinstance(right, list):
        return [_combine(left, series, apply) for series in right]  # type: ignore[misc]
    if isinstance(left, dict) and isinstance(right, dict):
        pairs = ((t, safe(left[t], right[t])) for t in left.keys() & right.keys())
    elif isinstance(left, dict):
        pairs = ((t, safe(v, float(right))) for t, v in left.items())  # type: ignore[arg-type]
    elif isinstance(right, dict):
        pairs = ((t, safe(float(left), v)) for t, v in right.items())
    else:
        result = safe(float(left), float(right))
        return math.nan if result is None else result
    return {t: v for t, v in pairs if v is not None}


UNARY: dict[str, Callable[[float], float]] = {
    "ABS": abs,
    "CEIL": lambda a: float(math.ceil(a)),
    "FLOOR": lambda a: float(math.floor(a)),
}
AGGREGATES: dict[str, Callable[[Sequence[float]], float]] = {
    "SUM": math.fsum,
    "MAX": max,
    "MIN": min,
    "AVG": lambda values: math.fsum(values) / len(values),
}


def evaluate(node: Node, variables: Mapping[str, Value], grid: Sequence[float]) -> Value:  # noqa: C901, PLR0911
    """The value of ``node`` over the periods ``grid``, with ``variables`` the other queries' results."""
    match node.kind:
        case "number":
            return float(node.value)
        case "id":
            if node.value not in variables:
                raise UnsupportedExpression(f"{node.value} is not a metric or expression of the alarm")
            return variables[node.value]
        case "negate":
            return _combine(0.0, evaluate(node.children[0], variables, grid), operator.sub)
        case "binary":
            left, right = (evaluate(child, variables, grid) for child in node.children)
            return _combine(left, right, BINARY[node.value])
        case "list":
            items = [evaluate(child, variables, grid) for child in node.children]
            return [item for item in items if isinstance(item, dict)]
        case "string":
            raise UnsupportedExpression(f"a string ({node.value}) is only an argument of FILL or METRICS")
    name, arguments = node.value, node.children
    if name == "METRICS":
        wanted = arguments[0].value if arguments else ""
        return [
            s
            for key, s in variables.items()
            if isinstance(s, dict) and wanted in key and key.startswith("__m_")
        ]
    if name == "FILL":
        return _fill(evaluate(arguments[0], variables, grid), arguments[1], variables, grid)
    if name == "IF":
        return _if([evaluate(a, variables, grid) for a in arguments], grid)
    value = evaluate(arguments[0], variables, grid)
    if name in AGGREGATES:
        return _aggregate(AGGREGATES[name], value, grid)
    if name == "DIFF":
        return _each(value, _diff)
    unary = UNARY[name]
    return _combine(value, 0.0, lambda a, _: unary(a))


def _each(value: Value, apply: Callable[[Series], Series]) -> Value:
    if isinstance(value, list):
        return [apply(series) for series in value]
    if isinstance(value, dict):
        return apply(value)
    raise UnsupportedExpression("this function takes a time series")


def _diff(series: Series) -> Series:
    times = sorted(series)
    return {t: series[t] - series[previous] for previous, t in itertools.pairwise(times)}


def _fill(value: Value, how: Node, variables: Mapping[str, Value], grid: Sequence[float]) -> Value:
    if how.kind == "string" and how.value == "REPEAT":

        def repeat(series: Series) -> Series:
            filled, last = {}, None
            for t in grid:
                last = series.get(t, last)
                if last is not None:
                    filled[t] = last
            return filled

        return _each(value, repeat)
    if how.kind == "string":
        raise UnsupportedExpression(f"FILL with {how.value} is not supported")
    constant = evaluate(how, variables, grid)
    if not isinstance(constant, float):
        raise UnsupportedExpression("FILL takes a number or REPEAT")
    return _each(value, lambda series: {t: series.get(t, constant) for t in grid})


def _if(arguments: list[Value], grid: Sequence[float]) -> Value:
    condition, when_true = arguments[0], arguments[1]
    when_false = arguments[2] if len(arguments) > 2 else None

    def at(value: Value | None, t: float) -> float | None:
        if value is None:
            return None
        if isinstance(value, dict):
            return value.get(t)
        if isinstance(value, list):
            raise UnsupportedExpression("IF takes time series or numbers, not arrays")
        return None if math.isnan(value) else float(value)

    result: Series = {}
    for t in grid:
        test = at(condition, t)
        if test is None:
            continue
        chosen = at(when_true if test else when_false, t)
        if chosen is not None:
            result[t] = chosen
    return result


def _aggregate(apply: Callable[[Sequence[float]], float], value: Value, grid: Sequence[float]) -> Value:
    if isinstance(value, list):
        result: Series = {}
        for t in grid:
            present = [series[t] for series in value if t in series]
            if present:
                result[t] = apply(present)
        return result
    if isinstance(value, dict):
        return apply(list(value.values())) if value else math.nan
    return value
