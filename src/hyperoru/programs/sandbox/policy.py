"""The second wall: an AST policy over program source, applied by ``/validate`` and again
inside the sandbox process before anything is compiled.

It is lint for clear, line-numbered errors, not the security boundary (the separate,
limited process is, see docs/SECURITY.md). It refuses what the known in-process escapes
need: names and attributes starting with ``_`` (no ``__class__``/``__mro__``/
``__globals__`` walks, no private module members), frame, code and traceback attributes
without underscores (``gi_frame``, ``f_back``, ``tb_frame``...), ``str.format`` (format
strings reach attributes by name), imports outside ``ALLOWED_MODULES``, and the builtins
that reach the interpreter (``eval``, ``exec``, ``open``, ``getattr``, ``globals``...),
which the runner does not provide anyway. Standard library only: the runner imports it.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

MAX_SOURCE_BYTES = 64 * 1024
# Modules a program may import; the runner hands out proxies holding only their public
# functions and classes (``statistics.sys`` would otherwise reach ``sys.modules``).
ALLOWED_MODULES = frozenset({"math", "statistics", "datetime"})
FORBIDDEN_NAMES = frozenset(
    {
        "eval",
        "exec",
        "compile",
        "open",
        "input",
        "breakpoint",
        "help",
        "globals",
        "locals",
        "vars",
        "dir",
        "getattr",
        "setattr",
        "delattr",
        "hasattr",
        "type",
        "object",
        "super",
        "memoryview",
        "classmethod",
        "staticmethod",
        "property",
        "exit",
        "quit",
    }
)
# Attributes that lead from an ordinary object to frames, code or the host's globals.
FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "format",
        "format_map",
        "mro",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "cr_await",
        "ag_frame",
        "ag_code",
        "ag_await",
        "tb_frame",
        "tb_next",
        "f_back",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_code",
        "co_code",
        "func_globals",
        "with_traceback",
    }
)
MISSING_STRATEGY = "the program must define 'class Strategy' with should_trade(self, data)"
_ASYNC_NODES = (ast.AsyncFunctionDef, ast.AsyncFor, ast.AsyncWith, ast.Await)


@dataclass(frozen=True, slots=True)
class PolicyError:
    line: int | None
    message: str

    def as_dict(self) -> dict[str, object]:
        return {"line": self.line, "message": self.message}


def _attribute_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"attribute '{name}' is not allowed (names starting with '_' are private)"
    if name in FORBIDDEN_ATTRIBUTES:
        return f"attribute '{name}' is not allowed in programs"
    return None


def _name_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"name '{name}' is not allowed (names starting with '_' are private)"
    if name in FORBIDDEN_NAMES:
        return f"'{name}' is not available in programs"
    return None


def _node_problems(node: ast.AST) -> list[str | None]:
    """Problems of one node; None entries mean "fine" and are dropped by the caller."""
    allowed = ", ".join(sorted(ALLOWED_MODULES))
    if isinstance(node, ast.Import):
        return [
            f"import of '{a.name}' is not allowed (allowed: {allowed})"
            for a in node.names
            if a.name not in ALLOWED_MODULES
        ]
    if isinstance(node, ast.ImportFrom):
        problems: list[str | None] = [_name_problem(a.name) for a in node.names]
        if node.level or node.module not in ALLOWED_MODULES:
            problems.append(f"import from '{node.module}' is not allowed (allowed: {allowed})")
        if any(a.name == "*" for a in node.names):
            problems.append("'*' imports are not allowed")
        return problems
    if isinstance(node, ast.Attribute):
        return [_attribute_problem(node.attr)]
    if isinstance(node, ast.MatchClass):
        return [_attribute_problem(a) for a in node.kwd_attrs]
    if isinstance(node, ast.Name):
        return [_name_problem(node.id)]
    if isinstance(node, ast.FunctionDef | ast.ClassDef):
        return [_name_problem(node.name)]
    if isinstance(node, ast.arg):
        return [_name_problem(node.arg)]
    if isinstance(node, ast.keyword) and node.arg is not None:
        return [_name_problem(node.arg)]
    if isinstance(node, ast.Global | ast.Nonlocal):
        return [_name_problem(n) for n in node.names]
    if isinstance(node, _ASYNC_NODES):
        return ["async code is not allowed in programs"]
    return []


def parse_program(source: str) -> tuple[ast.Module | None, list[PolicyError]]:
    """The parsed program and every policy violation (empty when the program may run)."""
    if len(source.encode("utf-8", "surrogatepass")) > MAX_SOURCE_BYTES:
        return None, [PolicyError(None, f"the program is larger than {MAX_SOURCE_BYTES} bytes")]
    try:
        tree = ast.parse(source, filename="<program>", mode="exec")
    except SyntaxError as exc:
        return None, [PolicyError(exc.lineno, f"syntax error: {exc.msg}")]
    except (ValueError, RecursionError, MemoryError, SystemError) as exc:
        # SystemError: CPython 3.11 can report an internal AST depth mismatch on hostile
        # nesting; the program is refused, the request never fails with a 500.
        return None, [PolicyError(None, f"the program cannot be parsed: {type(exc).__name__}")]
    errors = [
        PolicyError(getattr(node, "lineno", None), message)
        for node in ast.walk(tree)
        for message in _node_problems(node)
        if message is not None
    ]
    if not _defines_strategy(tree):
        errors.append(PolicyError(None, MISSING_STRATEGY))
    return tree, sorted(errors, key=lambda e: (e.line or 0, e.message))


def _defines_strategy(tree: ast.Module) -> bool:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == "Strategy":
            for item in node.body:
                if (
                    isinstance(item, ast.FunctionDef)
                    and item.name == "should_trade"
                    and len(item.args.args) == 2
                ):
                    return True
    return False
