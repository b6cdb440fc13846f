"""Every place in src/hyperoru that answers with an error code, found by reading the source.

The catalogue test (test_error_catalogue.py) checks these sites against
``hyperoru.error_codes``. A *producer* is a callable that turns a code argument into an
error answer: ``ApiError``, the response helpers of ``errors.py`` and the middleware,
``WsError``, and ``not_found`` (which builds ``<RESOURCE>_NOT_FOUND``). A function that
hands one of its own parameters on as a producer's code (``unauthorized(code, …)``,
``quotas.ensure_room(…, code=…)``, ``signals.service._owned(…, resource, …)``) becomes a
producer itself, so its callers' literal codes are the ones checked.

A code must be statically known where it is produced: a literal, a local or module-level
name bound to literals, or a lookup in a module-level dict of literals (a dict keyed by
HTTP status gives each code its key as status). Anything else is reported as unresolved,
so the test fails rather than silently missing a code. Re-raising a caught error
(``exc.code``) is a relay, not a new code.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

import hyperoru

SRC = Path(hyperoru.__file__).parent

# A status that is not one fixed number: the code is sent on /ws (no HTTP status), or
# with whatever status the framework raised (a status-keyed table's default).
WEBSOCKET = "websocket"
ANY_STATUS = "any"
Status = int | str


@dataclass(frozen=True)
class Arg:
    """Where a call passes a parameter: its position (None: keyword-only) and name."""

    index: int | None
    name: str

    def of(self, call: ast.Call) -> ast.expr | None:
        for keyword in call.keywords:
            if keyword.arg == self.name:
                return keyword.value
        positional = call.args
        if self.index is None or any(isinstance(a, ast.Starred) for a in positional):
            return None
        return positional[self.index] if self.index < len(positional) else None


@dataclass(frozen=True)
class Producer:
    code: Arg
    status: Status | Arg
    # not_found("order") answers ORDER_NOT_FOUND.
    resource: bool = False
    # The module defining a derived producer: a same-named function elsewhere is another one.
    module: str | None = None

    def code_of(self, raw: str) -> str:
        return f"{raw.upper()}_NOT_FOUND" if self.resource else raw


_STATUS = Arg(0, "status")
BASE_PRODUCERS: dict[str, Producer] = {
    "ApiError": Producer(code=Arg(1, "code"), status=_STATUS),
    "error_response": Producer(code=Arg(1, "code"), status=_STATUS),
    "send_error": Producer(code=Arg(2, "code"), status=Arg(1, "status")),
    "error_body": Producer(code=Arg(0, "code"), status=ANY_STATUS),
    "WsError": Producer(code=Arg(0, "code"), status=WEBSOCKET),
    "not_found": Producer(code=Arg(0, "resource"), status=404, resource=True),
}


@dataclass(frozen=True)
class Site:
    path: str
    line: int
    code: str
    status: Status


@dataclass
class Scan:
    sites: list[Site] = field(default_factory=list)
    # "path:line: why" for every producer call whose code or status could not be read.
    unresolved: list[str] = field(default_factory=list)
    producers: dict[str, Producer] = field(default_factory=dict)


class _Param:
    def __init__(self, name: str) -> None:
        self.name = name


class _Relay:
    """``exc.code``: a code produced (and checked) elsewhere, passed on."""


class Unresolved(Exception):
    pass


# (status override, code): the override is the key of a status-keyed table.
Found = set[tuple[Status | None, str]]


@dataclass
class _Module:
    path: str
    tree: ast.Module
    defined: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.defined = {f.name for f in _functions(self.tree)}

    def producer(self, producers: dict[str, Producer], call: ast.Call) -> Producer | None:
        name = _callee(call)
        producer = producers.get(name or "")
        if producer is None or producer.module in (None, self.path):
            return producer
        # A function of this module that merely shares a producer's name.
        return None if name in self.defined else producer

    def assignments(self, scope: ast.AST, name: str) -> Iterator[tuple[ast.expr, int | None]]:
        """Values bound to ``name`` in ``scope``, with the tuple position it was unpacked from."""
        for node in ast.walk(scope):
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                targets: list[ast.expr] = [node.target]
                value = node.value
            elif isinstance(node, ast.Assign):
                targets, value = node.targets, node.value
            else:
                continue
            for target in targets:
                if isinstance(target, ast.Name) and target.id == name:
                    yield value, None
                elif isinstance(target, ast.Tuple):
                    for position, element in enumerate(target.elts):
                        if isinstance(element, ast.Name) and element.id == name:
                            yield value, position

    def module_dict(self, name: str) -> ast.Dict:
        for value, position in self.assignments_at_top(name):
            if isinstance(value, ast.Dict) and position is None:
                return value
        raise Unresolved(f"{name} is not a module-level dict literal")

    def assignments_at_top(self, name: str) -> Iterator[tuple[ast.expr, int | None]]:
        for statement in self.tree.body:
            if isinstance(statement, ast.Assign | ast.AnnAssign):
                yield from self.assignments(statement, name)


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, Arg]:
    args = function.args
    positional = [*args.posonlyargs, *args.args]
    if positional and positional[0].arg in ("self", "cls"):
        positional = positional[1:]
    found = {a.arg: Arg(i, a.arg) for i, a in enumerate(positional)}
    found.update({a.arg: Arg(None, a.arg) for a in args.kwonlyargs})
    return found


def _resolve(
    expr: ast.expr,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    module: _Module,
    position: int | None = None,
) -> Found | _Param | _Relay:
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str) and position is None:
        return {(None, expr.value)}
    if isinstance(expr, ast.Tuple) and position is not None and position < len(expr.elts):
        return _resolve(expr.elts[position], function, module)
    if isinstance(expr, ast.IfExp):
        return _union(
            _resolve(expr.body, function, module, position),
            _resolve(expr.orelse, function, module, position),
        )
    if isinstance(expr, ast.Attribute) and expr.attr == "code" and position is None:
        return _Relay()
    if isinstance(expr, ast.Name):
        if function is not None and position is None and expr.id in _parameters(function):
            return _Param(expr.id)
        scope_values = list(module.assignments(function, expr.id)) if function else []
        values = scope_values or list(module.assignments_at_top(expr.id))
        if not values:
            raise Unresolved(f"nothing assigns {expr.id}")
        found: Found = set()
        for value, unpacked in values:
            if unpacked is not None and position is not None:
                raise Unresolved(f"{expr.id} is unpacked twice")
            part = _resolve(value, function, module, unpacked if unpacked is not None else position)
            if not isinstance(part, set):
                raise Unresolved(f"{expr.id} is bound to a parameter or a relayed code")
            found |= part
        return found
    if isinstance(expr, ast.Subscript) and isinstance(expr.value, ast.Name):
        return _table(module.module_dict(expr.value.id), None, function, module, position)
    if (
        isinstance(expr, ast.Call)
        and isinstance(expr.func, ast.Attribute)
        and expr.func.attr == "get"
        and isinstance(expr.func.value, ast.Name)
    ):
        default = expr.args[1] if len(expr.args) > 1 else None
        table = module.module_dict(expr.func.value.id)
        return _table(table, default, function, module, position)
    raise Unresolved(f"cannot read a code from {ast.unparse(expr)!r}")


def _table(
    table: ast.Dict,
    default: ast.expr | None,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    module: _Module,
    position: int | None,
) -> Found:
    found: Found = set()
    for key, value in zip(table.keys, table.values, strict=True):
        status = key.value if isinstance(key, ast.Constant) and type(key.value) is int else None
        part = _resolve(value, function, module, position)
        if not isinstance(part, set):
            raise Unresolved("a table value is not a literal")
        found |= {(status if status is not None else s, code) for s, code in part}
    if default is not None:
        part = _resolve(default, function, module, position)
        if not isinstance(part, set):
            raise Unresolved("a table default is not a literal")
        # A status-keyed table's default answers with whatever status came in.
        found |= {(ANY_STATUS, code) for _, code in part}
    return found


def _union(a: Found | _Param | _Relay, b: Found | _Param | _Relay) -> Found:
    if not isinstance(a, set) or not isinstance(b, set):
        raise Unresolved("a conditional code mixes literals with a parameter")
    return a | b


def _callee(call: ast.Call) -> str | None:
    if isinstance(call.func, ast.Name):
        return call.func.id
    if isinstance(call.func, ast.Attribute):
        return call.func.attr
    return None


def _functions(tree: ast.Module) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            yield node


def _calls_in(
    function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Module,
) -> Iterator[ast.Call]:
    """Calls directly in this function (nested functions are visited on their own)."""
    stack: list[ast.AST] = list(ast.iter_child_nodes(function))
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            continue
        if isinstance(node, ast.Call):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def _sources() -> dict[str, str]:
    return {str(p.relative_to(SRC.parent)): p.read_text() for p in sorted(SRC.rglob("*.py"))}


def _status_of(
    producer: Producer,
    call: ast.Call,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
) -> Status | _Param | None:
    """The status a call answers with; None when only its code's table says."""
    if not isinstance(producer.status, Arg):
        return producer.status
    expr = producer.status.of(call)
    if isinstance(expr, ast.Constant) and type(expr.value) is int:
        return expr.value
    if isinstance(expr, ast.Name) and function is not None and expr.id in _parameters(function):
        return _Param(expr.id)
    return None


def _derive(modules: list[_Module], producers: dict[str, Producer]) -> bool:
    """Make producers of functions that pass a parameter on as a producer's code."""
    grew = False
    for module in modules:
        for function in _functions(module.tree):
            if function.name in producers:
                continue
            for call in _calls_in(function):
                producer = module.producer(producers, call)
                expr = producer.code.of(call) if producer else None
                if producer is None or expr is None:
                    continue
                try:
                    code = _resolve(expr, function, module)
                except Unresolved:
                    continue
                if not isinstance(code, _Param):
                    continue
                status = _status_of(producer, call, function)
                parameters = _parameters(function)
                if status is None:
                    continue
                producers[function.name] = replace(
                    producer,
                    code=parameters[code.name],
                    status=parameters[status.name] if isinstance(status, _Param) else status,
                    module=module.path,
                )
                grew = True
                break
    return grew


def scan(sources: Mapping[str, str] | None = None) -> Scan:
    """The error sites of ``sources`` (path: text), by default every file of src/hyperoru."""
    modules = [
        _Module(path, ast.parse(text, path)) for path, text in (sources or _sources()).items()
    ]
    result = Scan(producers=dict(BASE_PRODUCERS))
    while _derive(modules, result.producers):
        pass
    for module in modules:
        scopes: list[ast.FunctionDef | ast.AsyncFunctionDef | ast.Module] = [module.tree]
        scopes.extend(_functions(module.tree))
        for scope in scopes:
            if not isinstance(scope, ast.Module) and scope.name in BASE_PRODUCERS:
                continue
            function = None if isinstance(scope, ast.Module) else scope
            for call in _calls_in(scope):
                producer = module.producer(result.producers, call)
                if producer is None:
                    continue
                _record(result, module, function, producer, call)
    return result


def _record(
    result: Scan,
    module: _Module,
    function: ast.FunctionDef | ast.AsyncFunctionDef | None,
    producer: Producer,
    call: ast.Call,
) -> None:
    where = f"{module.path}:{call.lineno}"
    expr = producer.code.of(call)
    try:
        if expr is None:
            raise Unresolved(f"no {producer.code.name!r} argument")
        code = _resolve(expr, function, module)
        if isinstance(code, _Relay):
            return
        status = _status_of(producer, call, function)
        if isinstance(code, _Param) or isinstance(status, _Param):
            own = result.producers.get(function.name) if function is not None else None
            if own is not None and own.module in (None, module.path):
                return  # a producer's own pass-through: its callers are checked
            raise Unresolved("a parameter is passed on but the function is no producer")
        for override, raw in code:
            answered = status if status is not None else override
            if answered is None:
                raise Unresolved(f"the status of {raw} is not statically known")
            result.sites.append(Site(module.path, call.lineno, producer.code_of(raw), answered))
    except Unresolved as exc:
        result.unresolved.append(f"{where}: {exc}")
