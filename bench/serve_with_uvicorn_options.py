"""``hyperoru serve`` with some of uvicorn's keyword arguments replaced, to measure them.

    python bench/serve_with_uvicorn_options.py '{"ws": "wsproto"}' serve --port 8080

The first argument is a JSON object merged over what ``hyperoru serve`` passes to
``uvicorn.run``; the rest is the ``hyperoru`` command line. With ``{}`` this is exactly
``hyperoru serve``.
"""

from __future__ import annotations

import json
import signal
import sys
from typing import Any

import uvicorn

from hyperoru.cli import app


def main() -> None:
    overrides: dict[str, Any] = json.loads(sys.argv.pop(1))
    original = uvicorn.run

    def run(application: Any, **options: Any) -> None:
        original(application, **{**options, **overrides})

    uvicorn.run = run
    # uvicorn re-raises the SIGTERM it handled once it has shut down; exiting through
    # SystemExit instead lets a wrapping profiler (python -m cProfile) write its stats.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app(prog_name="hyperoru")


if __name__ == "__main__":
    main()
