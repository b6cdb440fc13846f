"""What grew in a process between two samples of bench/scale/memory_probe (written by
``bench/soak.py --memory-probe``): object counts by type and tracemalloc's allocation
sites, biggest growth first.

    .venv/bin/python bench/memory_probe_diff.py WORKFOLDER/memory-worker-2.jsonl --from 120
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument(
        "--from", dest="start", type=float, default=0.0, help="first sample at/after (s)"
    )
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    lines = [json.loads(line) for line in args.file.read_text().splitlines() if line.strip()]
    first = next(line for line in lines if line["t"] >= args.start)
    last = lines[-1]
    span = last["t"] - first["t"]
    print(
        f"{args.file.name}: {first['t']} s -> {last['t']} s ({span:.0f} s); RSS "
        f"{first['rss'] / 2**20:.1f} -> {last['rss'] / 2**20:.1f} MB; traced "
        f"{first['traced'] / 2**20:.1f} -> {last['traced'] / 2**20:.1f} MB"
    )
    grown = sorted(
        ((last["types"].get(k, 0) - first["types"].get(k, 0), k) for k in last["types"]),
        reverse=True,
    )
    print("objects by type (growth, type, count at the end):")
    for delta, name in grown[: args.top]:
        print(f"  {delta:+8d}  {name}  {last['types'][name]}")
    before = {site: size for site, size, _ in first["sites"]}
    sites = sorted(
        ((size - before.get(site, 0), site, size, count) for site, size, count in last["sites"]),
        reverse=True,
    )
    print("allocation sites (growth KiB, site, KiB at the end, blocks):")
    for delta, site, size, count in sites[: args.top]:
        print(f"  {delta / 1024:+10.1f}  {site}  {size / 1024:.1f}  {count}")


if __name__ == "__main__":
    main()
