"""The factor expression language: our own tokenizer and recursive-descent parser.

An expression becomes a small tree of four node types (numbers, base series, arithmetic,
whitelisted function calls). Nothing a user writes is ever handed to Python's ``eval``,
``exec`` or ``ast``: the only names that mean anything are the base series, the functions
of ``functions.FUNCTIONS`` and the built-in factors (inlined by the caller's resolver).
Everything is bounded (length, nesting, node count, constant size, window length) so
that a hostile expression is refused before any work, with the position of the mistake.

Grammar (docs/FACTORS.md)::

    expression := term (("+" | "-") term)*
    term       := unary (("*" | "/") unary)*
    unary      := ("-" | "+") unary | primary
    primary    := NUMBER | NAME | NAME "(" [expression ("," expression)*] ")"
                | "(" expression ")"
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from hyperoru.factors.functions import FUNCTIONS, FunctionSpec

MAX_LENGTH = 1000
MAX_DEPTH = 24
MAX_NODES = 300
MAX_CONSTANT = 1e9
MAX_NUMBER_CHARS = 24
# Work per bar, summed over the distinct calls: a window function costs its window (the
# Hurst estimate four windows). Bounds what one expression can cost however its windows
# are chosen (the 64 built-ins together cost about 3,600).
MAX_COST = 10_000

SERIES = ("open", "high", "low", "close", "volume", "returns")


class FactorSyntaxError(ValueError):
    """A refused expression: what is wrong and where (0-based character offset)."""

    def __init__(self, message: str, position: int) -> None:
        super().__init__(f"{message} (at position {position})")
        self.reason = message
        self.position = position


@dataclass(frozen=True, slots=True)
class Number:
    value: float


@dataclass(frozen=True, slots=True)
class Series:
    name: str


@dataclass(frozen=True, slots=True)
class Negate:
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary:
    op: str  # one of + - * /
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    inputs: tuple[Node, ...]
    params: tuple[float, ...]


Node = Number | Series | Negate | Binary | Call

# A name that is neither a series nor a function: the tree it stands for (a built-in
# factor), or None when it means nothing.
Resolver = Callable[[str], "Node | None"]


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "number", "name", "op", "end"
    text: str
    position: int


_NUMBER = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_OPERATORS = frozenset("+-*/(),")


def tokenize(text: str) -> list[_Token]:
    if len(text) > MAX_LENGTH:
        raise FactorSyntaxError(f"expression longer than {MAX_LENGTH} characters", MAX_LENGTH)
    tokens: list[_Token] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char in " \t\r\n":
            i += 1
            continue
        if char in _OPERATORS:
            if char == "*" and text[i + 1 : i + 2] == "*":
                raise FactorSyntaxError("'**' is not an operator here", i)
            tokens.append(_Token("op", char, i))
            i += 1
            continue
        number = _NUMBER.match(text, i)
        if number:
            if len(number.group()) > MAX_NUMBER_CHARS:
                raise FactorSyntaxError("number too long", i)
            tokens.append(_Token("number", number.group(), i))
            i = number.end()
            continue
        name = _NAME.match(text, i)
        if name:
            if name.group().startswith("_"):
                raise FactorSyntaxError("names may not start with '_'", i)
            tokens.append(_Token("name", name.group(), i))
            i = name.end()
            continue
        if char == ".":
            raise FactorSyntaxError("attribute access is not allowed", i)
        raise FactorSyntaxError(f"unexpected character {char!r}", i)
    tokens.append(_Token("end", "", len(text)))
    return tokens


def parse(text: str, resolve: Resolver | None = None) -> Node:
    """The tree of ``text``; raises FactorSyntaxError."""
    if not text.strip():
        raise FactorSyntaxError("expression is empty", 0)
    parser = _Parser(tokenize(text), resolve or (lambda _name: None))
    tree = parser.expression(0)
    parser.expect_end()
    if count_nodes(tree) > MAX_NODES:
        raise FactorSyntaxError(f"expression has more than {MAX_NODES} parts", 0)
    if cost(tree) > MAX_COST:
        raise FactorSyntaxError(
            f"expression too costly: its windows add up to more than {MAX_COST} bars", 0
        )
    return tree


_HEAVY = {"hurst": 4}


def cost(node: Node) -> int:
    """Work per bar of a tree: each distinct call counts its largest window once."""
    calls: set[Call] = set()

    def collect(item: Node) -> None:
        match item:
            case Negate(operand):
                collect(operand)
            case Binary(_, left, right):
                collect(left)
                collect(right)
            case Call(_, inputs, _):
                calls.add(item)
                for child in inputs:
                    collect(child)

    collect(node)
    return sum(
        _HEAVY.get(call.function, 1) * max(1, int(max(call.params, default=1))) for call in calls
    )


def count_nodes(node: Node) -> int:
    match node:
        case Negate(operand):
            return 1 + count_nodes(operand)
        case Binary(_, left, right):
            return 1 + count_nodes(left) + count_nodes(right)
        case Call(_, inputs, _):
            return 1 + sum(count_nodes(child) for child in inputs)
        case _:
            return 1


def tree_depth(node: Node) -> int:
    match node:
        case Negate(operand):
            return 1 + tree_depth(operand)
        case Binary(_, left, right):
            return 1 + max(tree_depth(left), tree_depth(right))
        case Call(_, inputs, _):
            return 1 + max((tree_depth(child) for child in inputs), default=0)
        case _:
            return 1


def lookback(node: Node) -> int:
    """Bars of history before the first value can exist (how many candles to read)."""
    match node:
        case Negate(operand):
            return lookback(operand)
        case Binary(_, left, right):
            return max(lookback(left), lookback(right))
        case Call(function, inputs, params):
            own = FUNCTIONS[function].warmup(params)
            return own + max((lookback(child) for child in inputs), default=1)
        case Series("returns"):
            return 1
        case _:
            return 0


class _Parser:
    def __init__(self, tokens: list[_Token], resolve: Resolver) -> None:
        self._tokens = tokens
        self._at = 0
        self._resolve = resolve
        self._nodes = 0

    def _peek(self) -> _Token:
        return self._tokens[self._at]

    def _next(self) -> _Token:
        token = self._tokens[self._at]
        self._at += 1
        return token

    def _count(self, position: int) -> None:
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise FactorSyntaxError(f"expression has more than {MAX_NODES} parts", position)

    def expect_end(self) -> None:
        token = self._peek()
        if token.kind != "end":
            raise FactorSyntaxError(f"unexpected {token.text!r}", token.position)

    def expression(self, depth: int) -> Node:
        node = self._term(depth)
        while self._peek().text in ("+", "-") and self._peek().kind == "op":
            op = self._next()
            self._count(op.position)
            node = Binary(op.text, node, self._term(depth))
        return node

    def _term(self, depth: int) -> Node:
        node = self._unary(depth)
        while self._peek().text in ("*", "/") and self._peek().kind == "op":
            op = self._next()
            self._count(op.position)
            node = Binary(op.text, node, self._unary(depth))
        return node

    def _unary(self, depth: int) -> Node:
        token = self._peek()
        if depth > MAX_DEPTH:
            raise FactorSyntaxError(f"nested deeper than {MAX_DEPTH} levels", token.position)
        if token.kind == "op" and token.text in ("-", "+"):
            self._next()
            operand = self._unary(depth + 1)
            if token.text == "+":
                return operand
            self._count(token.position)
            if isinstance(operand, Number):
                return Number(-operand.value)
            return Negate(operand)
        return self._primary(depth)

    def _primary(self, depth: int) -> Node:
        token = self._next()
        if token.kind == "number":
            self._count(token.position)
            value = float(token.text)
            if not math.isfinite(value) or abs(value) > MAX_CONSTANT:
                raise FactorSyntaxError(
                    f"constants must lie within ±{MAX_CONSTANT:g}", token.position
                )
            return Number(value)
        if token.kind == "name":
            if self._peek().text == "(" and self._peek().kind == "op":
                return self._call(token, depth)
            return self._name(token)
        if token.kind == "op" and token.text == "(":
            node = self.expression(depth + 1)
            self._expect(")", "missing ')'")
            return node
        if token.kind == "end":
            raise FactorSyntaxError("expression ends too early", token.position)
        raise FactorSyntaxError(f"unexpected {token.text!r}", token.position)

    def _expect(self, text: str, message: str) -> None:
        token = self._next()
        if token.kind != "op" or token.text != text:
            raise FactorSyntaxError(message, token.position)

    def _name(self, token: _Token) -> Node:
        self._count(token.position)
        if token.text in SERIES:
            return Series(token.text)
        if token.text in FUNCTIONS:
            raise FactorSyntaxError(f"{token.text} is a function: call it with ( )", token.position)
        resolved = self._resolve(token.text)
        if resolved is None:
            raise FactorSyntaxError(f"unknown name {token.text!r}", token.position)
        self._nodes += count_nodes(resolved) - 1
        if self._nodes > MAX_NODES:
            raise FactorSyntaxError(f"expression has more than {MAX_NODES} parts", token.position)
        return resolved

    def _call(self, token: _Token, depth: int) -> Node:
        spec = FUNCTIONS.get(token.text)
        if spec is None:
            raise FactorSyntaxError(f"unknown function {token.text!r}", token.position)
        self._count(token.position)
        self._next()  # "("
        args: list[tuple[Node, int]] = []
        if not (self._peek().kind == "op" and self._peek().text == ")"):
            while True:
                position = self._peek().position
                args.append((self.expression(depth + 1), position))
                if self._peek().kind == "op" and self._peek().text == ",":
                    self._next()
                    continue
                break
        self._expect(")", f"missing ')' after the arguments of {token.text}")
        return _bind(spec, token, args)


def _bind(spec: FunctionSpec, token: _Token, args: list[tuple[Node, int]]) -> Call:
    """Trailing number literals are the parameters; leading arguments the input series
    (missing ones default to the function's own, e.g. ``ema(20)`` is ``ema(close, 20)``)."""
    most = len(spec.inputs) + len(spec.params)
    if len(args) > most:
        raise FactorSyntaxError(f"{spec.usage} takes at most {most} arguments", args[most][1])
    literal_tail = 0
    for node, _position in reversed(args):
        if not isinstance(node, Number) or literal_tail == len(spec.params):
            break
        literal_tail += 1
    leading = len(args) - literal_tail
    if leading > len(spec.inputs):
        _node, position = args[len(spec.inputs)]
        raise FactorSyntaxError(f"{spec.usage}: this argument must be a number", position)
    inputs = [node for node, _ in args[:leading]]
    for default in spec.inputs[leading:]:
        if default is None:
            raise FactorSyntaxError(f"{spec.usage}: a series argument is missing", token.position)
        inputs.append(Series(default))
    given = [node.value for node, _ in args[leading:] if isinstance(node, Number)]
    params: list[float] = []
    for index, param in enumerate(spec.params):
        position = args[leading + index][1] if index < len(given) else token.position
        value = given[index] if index < len(given) else param.default
        if value is None:
            raise FactorSyntaxError(f"{spec.usage}: {param.name} is missing", position)
        problem = param.problem(value)
        if problem:
            raise FactorSyntaxError(f"{spec.usage}: {param.name} {problem}", position)
        params.append(value)
    return Call(spec.name, tuple(inputs), tuple(params))


def to_text(node: Node) -> str:
    """The canonical spelling of a tree (fully parenthesised binary operations)."""
    match node:
        case Number(value):
            return f"{value:g}"
        case Series(name):
            return name
        case Negate(operand):
            return f"-({to_text(operand)})"
        case Binary(op, left, right):
            return f"({to_text(left)} {op} {to_text(right)})"
        case Call(function, inputs, params):
            parts = [to_text(child) for child in inputs] + [f"{p:g}" for p in params]
            return f"{function}({', '.join(parts)})"
    raise AssertionError(node)
