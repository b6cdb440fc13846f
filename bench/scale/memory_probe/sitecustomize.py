"""Bench only (bench/soak.py --memory-probe): what a process's memory is made of, over
time. Python imports ``sitecustomize`` at start-up from this folder when the soak puts
it on PYTHONPATH; with ``HYPERORU_BENCH_MEMORY_PROBE=<seconds>`` and
``HYPERORU_BENCH_MEMORY_PROBE_OUT=<file>`` set, a daemon thread appends a JSON line every
<seconds>: the RSS, the live objects counted by type and tracemalloc's biggest
allocation sites (one frame each, to keep its cost down). ``bench/memory_probe_diff.py``
compares two lines of a file. Never loaded by the server itself."""

from __future__ import annotations

import os

_EVERY = os.environ.get("HYPERORU_BENCH_MEMORY_PROBE")
_OUT = os.environ.get("HYPERORU_BENCH_MEMORY_PROBE_OUT")


def _rss() -> int:
    with open(f"/proc/{os.getpid()}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _probe(every: float, out: str) -> None:
    import gc
    import json
    import time
    import tracemalloc
    from collections import Counter

    started = time.monotonic()
    while True:
        time.sleep(every)
        types = Counter(type(o).__qualname__ for o in gc.get_objects())
        snapshot = tracemalloc.take_snapshot().filter_traces(
            [tracemalloc.Filter(False, tracemalloc.__file__)]
        )
        sites = [
            [str(stat.traceback[0]), stat.size, stat.count]
            for stat in snapshot.statistics("lineno")[:200]
        ]
        line = {
            "t": round(time.monotonic() - started, 1),
            "rss": _rss(),
            "traced": tracemalloc.get_traced_memory()[0],
            "types": dict(types.most_common(300)),
            "sites": sites,
        }
        with open(out, "a") as file:
            file.write(json.dumps(line) + "\n")


if _EVERY and _OUT:
    import threading
    import tracemalloc

    tracemalloc.start(1)
    threading.Thread(
        target=_probe, args=(float(_EVERY), _OUT), name="memory-probe", daemon=True
    ).start()
