"""Mutation testing of the pure engine and the replay: would a wrong number be caught?

A small purpose-built mutator (mutmut copies the package into ``mutants/`` and fights the
src layout and the editable install): each mutant is one small change to one module,
written into a private copy of ``src/``, and the fast engine and replay tests are run
against that copy (``PYTHONPATH`` puts it ahead of the editable install). A mutant the
tests fail on is killed; one they pass is a survivor to explain or to kill with a test.

Operators: arithmetic (+ -, * /), comparisons (< <=, > >=, == !=, is / is not), and/or,
dropped ``not`` and unary minus, integer constants (n -> n + 1), True/False, min/max,
dropped augmented assignments, swapped attribute pairs that mean opposite things
(bid/ask, mark/mid, remaining/quantity, taker/maker, low/high, BUY/SELL).

Not part of the timed suite. Run niced on a shared machine, e.g.

    nice -n 19 .venv/bin/python scripts/mutation.py --out /tmp/mutation.json
    .venv/bin/python scripts/mutation.py --list            # the mutants, without running
    .venv/bin/python scripts/mutation.py MODULE --from 59  # resume at the 59th mutant

The score and every survivor are recorded in bench/README.md (Mutation testing).
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "src"

ENGINE_TESTS = (
    # The exact answers first: most mutants die there in a second.
    "tests/trading/engine/test_exact_answers.py",
    "tests/trading/engine/test_known_answer.py",
    "tests/trading/engine",
)
REPLAY_TESTS = (
    "tests/replay/test_metrics_edges.py",
    "tests/replay/test_fingerprint_form.py",
    "tests/replay/test_metrics_and_fingerprint.py",
    "tests/replay/test_bar_rules.py",
    "tests/replay/test_inputs.py",
    "tests/replay/test_shared_bar_path.py",
    "tests/replay/test_skip_equivalence.py",
)
# The replay's bar-by-bar rules (driver, round trips, the shared bar path): the scripted
# replays with hand-computed answers and the pinned known answer, without the sandbox.
DRIVER_TESTS = (
    "tests/replay/test_driver_exact.py",
    "tests/replay/test_bar_rules.py",
    "tests/replay/test_known_answers.py::"
    "test_a_scripted_replay_gives_its_known_fingerprint_and_result",
    *REPLAY_TESTS,
    "tests/replay/test_venue_rules.py::"
    "test_a_gap_beyond_ten_percent_fills_a_binance_stop_but_not_a_hyperliquid_one",
    "tests/replay/test_venue_rules.py::test_a_gap_within_ten_percent_fills_both_venues_alike",
    "tests/replay/test_venue_rules.py::"
    "test_an_isolated_traders_position_is_liquidated_on_its_own_margin",
)
BAR_PATH_TESTS = ("tests/trading/engine/test_trigger_fills.py", *DRIVER_TESTS)
# The modules mutated and the fast tests run against each (no sandbox processes, no
# third-party reference backtester): the engine's money and matching rules, and the
# replay's rules, metrics and fingerprint.
MODULES = {
    "hyperoru/trading/engine/matching.py": ENGINE_TESTS,
    "hyperoru/trading/engine/margin.py": ENGINE_TESTS,
    "hyperoru/trading/engine/liquidation.py": ENGINE_TESTS,
    "hyperoru/trading/engine/ledger.py": ENGINE_TESTS,
    "hyperoru/trading/engine/config.py": ENGINE_TESTS,  # FeeSchedule: the fee rule
    "hyperoru/replay/metrics.py": REPLAY_TESTS,
    "hyperoru/replay/fingerprint.py": REPLAY_TESTS,
    # Added after the first run (7 December 2026).
    "hyperoru/trading/engine/netting.py": ENGINE_TESTS,
    "hyperoru/trading/engine/funding.py": ENGINE_TESTS,
    "hyperoru/trading/engine/triggers.py": ENGINE_TESTS,
    "hyperoru/trading/engine/orders.py": ENGINE_TESTS,
    "hyperoru/trading/engine/resting.py": ENGINE_TESTS,
    "hyperoru/trading/engine/lifecycle.py": ENGINE_TESTS,
    "hyperoru/trading/engine/bar_path.py": BAR_PATH_TESTS,
    "hyperoru/replay/trips.py": ("tests/replay/test_trips_exact.py", *DRIVER_TESTS),
    "hyperoru/replay/driver.py": DRIVER_TESTS,
}

_BINOPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.Mult,
}
_COMPARES: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
# One way only where the reverse names an attribute the object does not have.
_ONE_WAY_ATTRIBUTES = {"reference_mid": "mark_price", "remaining": "quantity"}
_ATTRIBUTE_PAIRS = (
    ("taker_rate", "maker_rate"),
    ("best_bid", "best_ask"),
    ("bids", "asks"),
    ("low", "high"),
    ("BUY", "SELL"),
    ("TAKER", "MAKER"),
)
_ATTRIBUTES = {
    **{a: b for pair in _ATTRIBUTE_PAIRS for a, b in (pair, pair[::-1])},
    **_ONE_WAY_ATTRIBUTES,
}
_CALLS = {"min": "max", "max": "min"}
# Changes found by reading that no operator above makes: (module, text, replacement).
HAND_WRITTEN = (
    (
        "hyperoru/trading/engine/margin.py",
        "(rest_maintenance - rest_equity + size",
        "(-rest_equity + size",
    ),
    (
        "hyperoru/trading/engine/margin.py",
        "rest_equity = equity_of(state.cash, others)",
        "rest_equity = state.cash",
    ),
    (
        "hyperoru/trading/engine/ledger.py",
        "mark_price=self.mark_of(symbol, execution.price)",
        "mark_price=execution.price",
    ),
)


@dataclass(frozen=True)
class Mutant:
    module: str
    index: int
    line: int
    operator: str
    detail: str


def _is_docstring(node: ast.AST, parent: ast.AST | None) -> bool:
    return isinstance(parent, ast.Expr) and isinstance(node, ast.Constant)


class _Mutator(ast.NodeTransformer):
    """Walks a module; counts mutation points and, when ``target`` is set, applies that one."""

    def __init__(self, target: int | None = None) -> None:
        self.target = target
        self.points: list[tuple[int, str, str]] = []
        self._in_annotation = 0

    def _point(self, node: ast.AST, operator: str, detail: str) -> bool:
        index = len(self.points)
        self.points.append((getattr(node, "lineno", 0), operator, detail))
        return index == self.target

    # Annotations, imports and docstrings are not behaviour.
    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.body = [self.visit(s) for s in node.body]
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [self.visit(d) if d else d for d in node.args.kw_defaults]
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        # Decorators (``frozen=True, slots=True``) change no number.
        node.body = [self.visit(s) for s in node.body]
        return node

    def visit_Import(self, node: ast.Import) -> ast.AST:
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return node

    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        if isinstance(node.value, ast.Constant):
            return node
        self.generic_visit(node)
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = _BINOPS.get(type(node.op))
        if swap is not None and self._point(
            node, "binop", f"{type(node.op).__name__} -> {swap.__name__}"
        ):
            node.op = swap()
        return node

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for position, op in enumerate(node.ops):
            swap = _COMPARES.get(type(op))
            if swap is not None and self._point(
                node, "compare", f"{type(op).__name__} -> {swap.__name__}"
            ):
                node.ops[position] = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        swap = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._point(node, "boolop", f"{type(node.op).__name__} -> {swap.__name__}"):
            node.op = swap()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not | ast.USub) and self._point(
            node, "unary", f"drop {type(node.op).__name__}"
        ):
            return node.operand
        return node

    def visit_IfExp(self, node: ast.IfExp) -> ast.AST:
        self.generic_visit(node)
        if self._point(node, "ifexp", "negate condition"):
            node.test = ast.UnaryOp(op=ast.Not(), operand=node.test)
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._point(node, "constant", f"{value} -> {not value}"):
                return ast.Constant(not value)
        elif isinstance(value, int) and self._point(node, "constant", f"{value} -> {value + 1}"):
            return ast.Constant(value + 1)
        return node

    def visit_Attribute(self, node: ast.Attribute) -> ast.AST:
        self.generic_visit(node)
        swap = _ATTRIBUTES.get(node.attr)
        if swap is not None and self._point(node, "attribute", f".{node.attr} -> .{swap}"):
            node.attr = swap
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in _CALLS:
            swap = _CALLS[node.func.id]
            if self._point(node, "call", f"{node.func.id} -> {swap}"):
                node.func = ast.Name(swap, ast.Load())
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if self._point(node, "statement", f"drop `{ast.unparse(node)}`"):
            return ast.Pass()
        return node


def mutants_of(module: str) -> list[Mutant]:
    tree = ast.parse((SRC / module).read_text())
    walker = _Mutator()
    walker.visit(tree)
    return [Mutant(module, i, *point) for i, point in enumerate(walker.points)]


def hand_written_mutants(modules: list[str]) -> list[Mutant]:
    return [
        Mutant(module, -1 - number, _line_of(module, text), "hand", f"`{text}` -> `{new}`")
        for number, (module, text, new) in enumerate(HAND_WRITTEN)
        if module in modules
    ]


def _line_of(module: str, text: str) -> int:
    source = (SRC / module).read_text()
    if text not in source:
        raise SystemExit(f"hand-written mutant no longer applies: {module}: {text}")
    return source[: source.index(text)].count("\n") + 1


def mutated_source(mutant: Mutant) -> str:
    if mutant.index < 0:
        module, text, new = HAND_WRITTEN[-1 - mutant.index]
        return (SRC / module).read_text().replace(text, new, 1)
    tree = ast.parse((SRC / mutant.module).read_text())
    walker = _Mutator(target=mutant.index)
    tree = ast.fix_missing_locations(walker.visit(copy.deepcopy(tree)))
    return ast.unparse(tree)


def _run_tests(copy_root: Path, tests: list[str], timeout: float) -> tuple[str, float]:
    # scripts/ for the plugin that stops hypothesis at its first failure (no shrinking).
    path = os.pathsep.join((str(copy_root / "src"), str(ROOT / "scripts")))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONHASHSEED": "0"}
    started = time.monotonic()
    try:
        completed = subprocess.run(  # noqa: S603 (our own interpreter and arguments)
            [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-n", "0",
             "--noconftest", "-p", "mutation_no_shrink", *tests],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return "timeout", time.monotonic() - started
    # 1: a test failed; 2: collection failed (the mutant broke an import). Anything else
    # (no tests ran, pytest itself broke) is an error, never counted as a kill.
    outcome = {0: "survived", 1: "killed", 2: "killed"}.get(completed.returncode, "error")
    return outcome, time.monotonic() - started


def _install(copy_root: Path, module: str, source: str) -> None:
    target = copy_root / "src" / module
    target.write_text(source)
    shutil.rmtree(target.parent / "__pycache__", ignore_errors=True)


def run(mutants: list[Mutant], out: Path) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="hyperoru-mutation-") as work:
        copy_root = Path(work)
        shutil.copytree(SRC, copy_root / "src", ignore=shutil.ignore_patterns("__pycache__"))
        # The baseline must pass against the copy, or every mutant would look killed.
        timeouts: dict[tuple[str, ...], float] = {}
        for tests in {MODULES[m.module] for m in mutants}:
            baseline, seconds = _run_tests(copy_root, list(tests), timeout=1800)
            if baseline != "survived":
                raise SystemExit(f"the tests fail without any mutant ({baseline}): {tests}")
            timeouts[tests] = max(30.0, seconds * 2)
        results: list[dict[str, object]] = []
        for number, mutant in enumerate(mutants, 1):
            tests = MODULES[mutant.module]
            original = (SRC / mutant.module).read_text()
            _install(copy_root, mutant.module, mutated_source(mutant))
            outcome, took = _run_tests(copy_root, list(tests), timeouts[tests])
            if outcome == "timeout":
                # The machine is shared: a load that grew since the baseline was timed
                # must not count a mutant as killed. One more try with four times the
                # time; only a mutant that still runs past it (a loop) is a timeout.
                outcome, took = _run_tests(copy_root, list(tests), timeouts[tests] * 4)
            _install(copy_root, mutant.module, original)
            results.append({**asdict(mutant), "outcome": outcome, "seconds": round(took, 1)})
            print(f"[{number}/{len(mutants)}] {outcome:8} {mutant.module}:{mutant.line} "
                  f"{mutant.detail}", flush=True)  # fmt: skip
            out.write_text(json.dumps({"results": results}, indent=1))
    return _summary(results)


def _summary(results: list[dict[str, object]]) -> dict[str, object]:
    killed = sum(r["outcome"] in ("killed", "timeout") for r in results)
    summary = {
        "mutants": len(results),
        "killed": killed,
        "score": round(100 * killed / len(results), 1) if results else None,
        "survivors": [r for r in results if r["outcome"] == "survived"],
        "errors": [r for r in results if r["outcome"] == "error"],
        "timeouts": [r for r in results if r["outcome"] == "timeout"],
    }
    return summary


def _selected(modules: list[str]) -> Iterator[Mutant]:
    for module in modules:
        yield from mutants_of(module)
    yield from hand_written_mutants(modules)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", default=list(MODULES), help=", ".join(MODULES))
    parser.add_argument("--list", action="store_true", help="print the mutants and stop")
    parser.add_argument("--out", type=Path, default=Path("mutation-results.json"))
    parser.add_argument(
        "--rerun",
        type=Path,
        help="a previous --out file: run only its survivors and timeouts again (after "
        "adding tests)",
    )
    parser.add_argument(
        "--from",
        dest="first",
        type=int,
        default=1,
        help="start at this mutant of the --list order (1-based): resume a run cut short",
    )
    args = parser.parse_args()
    # A kill ends the run cleanly: the private copy of src/ is removed, the pytest child
    # killed (subprocess.run kills it on the way out).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    mutants = list(_selected(args.modules))
    if args.rerun:
        previous = json.loads(args.rerun.read_text())
        rows = previous.get("results") or [*previous["survivors"], *previous.get("timeouts", [])]
        # Timeouts too: a run on a loaded machine may have cut short a passing run.
        again = ("survived", "timeout")
        survived = {(r["module"], r["index"]) for r in rows if r["outcome"] in again}
        mutants = [m for m in mutants if (m.module, m.index) in survived]
    mutants = mutants[args.first - 1 :]
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.line} [{m.index}] {m.operator}: {m.detail}")
        print(f"{len(mutants)} mutants")
        return
    summary = run(mutants, args.out)
    args.out.write_text(json.dumps(summary, indent=1))
    print(f"score {summary['score']}% ({summary['killed']}/{summary['mutants']} killed)")
    for survivor in summary["survivors"]:  # type: ignore[union-attr]
        print(f"survived {survivor['module']}:{survivor['line']} {survivor['detail']}")


if __name__ == "__main__":
    main()
