"""The sandbox process: ``python -I -S -B runner.py LIMITS_JSON``.

It limits itself with ``resource`` before reading anything, reads one JSON request on
stdin (``code``, ``params``, ``data``), checks the code against the AST policy again,
runs ``Strategy().should_trade(data)`` with restricted builtins, and writes one JSON
answer on stdout: ``{"status": "ok"|"error", "result", "logs", "error"}``. The server
trusts none of it: it caps, parses and validates the answer (see ``launcher``).
Standard library only; its sibling modules are imported from this file's directory.
"""

from __future__ import annotations

import json
import os
import resource
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

MAX_REQUEST_BYTES = 16 * 1024 * 1024


def limit_self(limits: dict[str, int]) -> None:
    # First of all: never outlive the server (its siblings are on sys.path by now).
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import lifeline
    else:
        import lifeline  # a sibling module, as in ``_run``

    lifeline.die_with_parent(limits.get("parent_pid"))
    # Soft < hard for CPU: SIGXCPU first, and SIGKILL at the hard limit even if caught.
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"], limits["memory_bytes"]))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"], limits["open_files"]))
    resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"], limits["processes"]))


def _plain(value: Any, depth: int = 0) -> Any:
    """Only JSON-shaped values leave the sandbox; anything else is refused by name."""
    if depth > 20:
        raise ValueError("the decision is nested too deeply")
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("the decision contains NaN or infinity")
        return value
    if isinstance(value, list | tuple):
        return [_plain(v, depth + 1) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, depth + 1) for k, v in value.items()}
    raise ValueError(f"should_trade returned a {type(value).__name__}, not a Decision")


def decision_result(value: Any, decision_type: type[Any]) -> Any:
    if value is None:
        return {"operation": "hold", "reasoning": "should_trade returned None"}
    if isinstance(value, decision_type):
        return _plain(value.to_dict())
    if isinstance(value, list | tuple):
        return [decision_result(v, decision_type) for v in value]
    return _plain(value)


def _run(request: dict[str, Any]) -> dict[str, Any]:
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import policy, program_api
    else:
        # The sandbox runs this file as a script: its siblings are top-level modules there.
        import policy
        import program_api

    # The server's own package, for ``hyperoru.market.indicator_catalog`` (standard library).
    if isinstance(request.get("package_root"), str):
        sys.path.append(request["package_root"])
    log = program_api.ProgramLog()
    tree, errors = policy.parse_program(request["code"])
    if errors or tree is None:
        return {"status": "error", "error": "; ".join(e.message for e in errors), "logs": []}
    # ``data.params`` are the run's params, as ``init`` gets them (and as in a backtest).
    payload = {**(request.get("data") or {}), "params": dict(request.get("params") or {})}
    data = program_api.MarketData(payload, log)
    answer = _run_program(tree, request, data, log)
    wanted = program_api.wanted_indicators(data)
    if wanted:
        # Whatever the program made of the missing value, this answer is not used: the
        # server adds the indicators and runs the program again.
        return {**answer, "status": "error", "indicators_wanted": wanted}
    return answer


def _run_program(tree: Any, request: dict[str, Any], data: Any, log: Any) -> dict[str, Any]:
    if TYPE_CHECKING:
        from hyperoru.programs.sandbox import program_api
    else:
        import program_api

    namespace: dict[str, Any] = {
        "__builtins__": program_api.restricted_builtins(log),
        "__name__": "program",
        "Decision": program_api.Decision,
    }
    try:
        exec(compile(tree, "<program>", "exec"), namespace)  # noqa: S102 - the sandbox's job
        strategy = namespace["Strategy"]()
        if callable(getattr(strategy, "init", None)):
            strategy.init(dict(request.get("params") or {}))
        result = decision_result(strategy.should_trade(data), program_api.Decision)
    except MemoryError:
        return {"status": "error", "error": "memory limit exceeded", "logs": log.lines}
    except RecursionError:
        return {"status": "error", "error": "maximum recursion depth exceeded", "logs": log.lines}
    except BaseException as exc:  # the program's own failure, reported by type and line
        line = program_line(exc)
        where = f" (line {line})" if line else ""
        message = f"{type(exc).__name__}{where}: {str(exc)[:500]}"
        return {"status": "error", "error": message, "logs": log.lines}
    return {"status": "ok", "result": result, "logs": log.lines}


def program_line(exc: BaseException) -> int | None:
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<program>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def answer_one_request(
    run: Callable[[dict[str, Any]], dict[str, Any]],
    max_bytes: int,
    read: Callable[[bytes], dict[str, Any]] = json.loads,
) -> None:
    """Read one request on stdin (at most ``max_bytes``; JSON unless ``read`` says
    otherwise), answer ``run(request)`` as one JSON object on stdout. Anything else the
    process writes goes to stderr, so only the answer is ever on stdout."""
    out = sys.stdout
    sys.stdout = sys.stderr
    raw = sys.stdin.buffer.read(max_bytes + 1)
    if len(raw) > max_bytes:
        answer: dict[str, Any] = {"status": "error", "error": "request too large", "logs": []}
    else:
        request = read(raw)
        del raw  # a backtest's request is large: do not hold it twice
        answer = run(request)
    try:
        text = json.dumps(answer, allow_nan=False)
    except (TypeError, ValueError) as exc:
        text = json.dumps({"status": "error", "error": f"unusable result: {exc}", "logs": []})
    out.write(text)
    out.flush()


def main() -> None:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    limit_self(json.loads(sys.argv[1]))
    answer_one_request(_run, MAX_REQUEST_BYTES)


if __name__ == "__main__":
    main()
