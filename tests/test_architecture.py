"""The package graph of src/hyperoru stays layered (docs/ARCHITECTURE.md, "Layers").

Every import counts, also one inside a function or under ``TYPE_CHECKING``: a lazy import
hides a dependency from start-up, not from the design. A package is the first name
under ``hyperoru`` (``hyperoru.quotas`` is the package ``quotas``).
"""

from __future__ import annotations

import ast
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "hyperoru"
ROOT = SRC.name

# Only these may import hyperoru.flows or the service container: they assemble the app.
ASSEMBLY = {"app", "cli", "flows", "services"}

# The layers of docs/ARCHITECTURE.md, lowest first: a package imports only packages
# earlier in this order. A new package takes its place here.
LAYERS = (
    (
        "__version__",
        "settings",
        "errors",
        "timeutils",
        "api_types",
        "paging",
        "strict_json",
        "decimal_text",
    ),
    ("stopping", "production"),
    ("logging_setup", "domain", "process_identity", "offload", "data_dir", "redis_connect", "db"),
    ("http", "ratelimit", "net", "vault", "exchanges", "health", "dashboard"),
    ("auth",),
    ("jobs", "quotas"),
    ("market",),
    ("factors",),
    ("accounts", "notifications"),
    ("realtime",),
    ("trading",),
    ("strategies", "replay", "analytics"),
    ("runtime",),
    ("prompts", "programs", "signals"),
    ("backtests", "prompt_backtests", "metrics"),
    ("assistant",),
    ("warmup", "services", "flows", "demo", "serving", "app", "cli", "__main__"),
    ("client",),  # the Python client imports no other package (tests/client checks)
)
ORDER = [package for layer in LAYERS for package in layer]


@dataclass(frozen=True, slots=True)
class Import:
    source: str  # the importing file, relative to src/hyperoru
    line: int
    target: str  # the imported package


def _module_of(path: Path) -> str:
    parts = list(path.relative_to(SRC.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == ROOT and len(parts) > 1 else None


def _imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:
            base = module.split(".")
            base = base[: len(base) - node.level + (1 if is_package else 0)]
            name = ".".join(base + ([node.module] if node.module else []))
        else:
            name = node.module or ""
        # ``from hyperoru import flows`` imports the package flows.
        return [name] + [f"{name}.{alias.name}" for alias in node.names]
    return []


def package_imports() -> dict[tuple[str, str], list[Import]]:
    """(package, imported package) -> every import making that edge."""
    edges: dict[tuple[str, str], list[Import]] = defaultdict(list)
    for path in sorted(SRC.rglob("*.py")):
        module = _module_of(path)
        own = _package(module)
        if own is None:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            for name in _imported_modules(node, module, path.name == "__init__.py"):
                other = _package(name)
                if other is not None and other != own:
                    source = path.relative_to(SRC).as_posix()
                    edges[(own, other)].append(Import(source, node.lineno, other))
                    break
    return edges


def strongly_connected(graph: dict[str, set[str]]) -> list[list[str]]:
    """Components of more than one package (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(set(graph) | {n for targets in graph.values() for n in targets}):
        if node not in index:
            visit(node)
    return found


def _describe(component: list[str], edges: dict[tuple[str, str], list[Import]]) -> str:
    lines = [f"import cycle between {', '.join(component)}:"]
    for a in component:
        for b in component:
            for imp in edges.get((a, b), []):
                lines.append(f"  {a} -> {b}: src/hyperoru/{imp.source}:{imp.line}")
    return "\n".join(lines)


def test_the_analysis_sees_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": {"b"}, "b": set()}) == []


def test_the_analysis_sees_lazy_and_relative_imports() -> None:
    # The sandbox launcher imports replay only under TYPE_CHECKING.
    edges = package_imports()
    assert any(i.source == "programs/sandbox/launcher.py" for i in edges[("programs", "replay")])
    relative = ast.parse("from ..market import klines\nfrom . import models")
    first, second = relative.body
    assert _imported_modules(first, "hyperoru.signals.config", False)[0] == "hyperoru.market"
    assert _imported_modules(second, "hyperoru.signals", True)[0] == "hyperoru.signals"


def test_packages_form_no_import_cycle() -> None:
    edges = package_imports()
    graph: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        graph[a].add(b)
    cycles = strongly_connected(graph)
    assert not cycles, "\n".join(_describe(c, edges) for c in cycles)


def test_imports_point_down_the_layers() -> None:
    edges = package_imports()
    packages = {p for edge in edges for p in edge}
    assert not packages - set(ORDER), f"place these packages in LAYERS: {packages - set(ORDER)}"
    rank = {package: index for index, package in enumerate(ORDER)}
    upward = [
        f"src/hyperoru/{imp.source}:{imp.line}: {a} imports {b}, which sits above it"
        for (a, b), imports in sorted(edges.items())
        if rank[b] > rank[a]
        for imp in imports
    ]
    assert not upward, "\n".join(upward)


def test_only_the_assembly_imports_flows_and_the_container() -> None:
    offenders = [
        f"src/hyperoru/{imp.source}:{imp.line} imports hyperoru.{imp.target}"
        for (package, target), imports in package_imports().items()
        if target in {"flows", "services"} and package not in ASSEMBLY
        for imp in imports
    ]
    assert not offenders, "domains never import flows or the container:\n" + "\n".join(offenders)


def test_every_redis_client_is_opened_through_redis_connect() -> None:
    """redis_connect bounds connecting and closing; a client opened elsewhere would not be."""
    opening = re.compile(r"\bRedis(\.from_url)?\(")
    offenders = [
        str(path.relative_to(SRC))
        for path in SRC.rglob("*.py")
        if path.name != "redis_connect.py" and opening.search(path.read_text())
    ]
    assert offenders == []
