"""A small HTTP/1.1 load generator: keep-alive connections on loopback, one request in
flight per connection, every answer checked, latencies kept.

Runs as its own process (``api_read_paths.py`` starts one or more), so it never shares
the server's event loop or GIL; on uvloop when it imports. Two kinds of load:

- ``get``: the same authenticated GET again and again; anything but a 200 is an error.
- ``order``: ``POST /api/orders/create`` then ``POST /api/orders/execute/{id}``, a buy and
  a sell of 0.001 BTC in turn; an error is anything but 201 then 200 with a fill. One
  sample is the pair.

Writes one JSON object to ``--out``: completed samples in the measured window, their
latencies (µs), the window's length and the errors seen (status and a body excerpt of the
first few). A file, not standard output: libuv may leave an inherited pipe non-blocking,
and a large write to it would be cut short.

    python bench/http_load.py --port 8080 --path /api/users/profile --token T --out r.json
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Tally:
    latencies_us: list[int] = field(default_factory=list)
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < 5:
            self.error_samples.append(what[:300])


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        headers = head.lower()
        length_at = headers.find(b"\r\ncontent-length:")
        if length_at >= 0:
            end = headers.index(b"\r\n", length_at + 2)
            length = int(headers[length_at + 17 : end])
            return status, await self.reader.readexactly(length)
        if b"\r\ntransfer-encoding: chunked" in headers:
            return status, await self._chunked()
        return status, b""

    async def _chunked(self) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
            chunk = await self.reader.readexactly(size + 2)
            if size == 0:
                return bytes(body)
            body += chunk[:-2]


def _get(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\r\n"
    ).encode()


def _post(path: str, token: str, body: bytes = b"") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def _order_body(account_id: int, side: str) -> bytes:
    order = {
        "account_id": account_id,
        "symbol": "BTC",
        "side": side,
        "order_type": "market",
        "quantity": 0.001,
    }
    return json.dumps(order).encode()


async def _one_order(connection: Connection, token: str, account_id: int, n: int) -> str | None:
    """One create + execute; None when both answered as they must, else what went wrong."""
    side = "buy" if n % 2 == 0 else "sell"
    status, body = await connection.request(
        _post("/api/orders/create", token, _order_body(account_id, side))
    )
    if status != 201:
        return f"create {status}: {body!r}"
    order_id = json.loads(body)["id"]
    status, body = await connection.request(_post(f"/api/orders/execute/{order_id}", token))
    if status != 200 or b'"execution_status":"filled"' not in body:
        return f"execute {status}: {body!r}"
    return None


async def _worker(args: argparse.Namespace, index: int, window: tuple[float, float], tally: Tally):
    reader, writer = await asyncio.open_connection("127.0.0.1", args.port)
    connection = Connection(reader, writer)
    start, stop = window
    account_ids = args.account_ids or [0]
    account_id = account_ids[index % len(account_ids)]
    raw = _get(args.path, args.token)
    n = 0
    try:
        while True:
            began = time.perf_counter()
            if began >= stop:
                return
            if args.kind == "order":
                problem = await _one_order(connection, args.token, account_id, n)
            else:
                status, body = await connection.request(raw)
                problem = None if status == 200 else f"{status}: {body!r}"
            n += 1
            done = time.perf_counter()
            if began < start or done > stop:
                continue  # warm-up, or finished after the window closed
            if problem is None:
                tally.latencies_us.append(int((done - began) * 1_000_000))
            else:
                tally.error(problem)
    except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
        tally.error(f"connection {index}: {exc!r}")
    finally:
        writer.close()


async def run(args: argparse.Namespace) -> dict[str, object]:
    tally = Tally()
    now = time.perf_counter()
    window = (now + args.warmup, now + args.warmup + args.seconds)
    await asyncio.gather(*(_worker(args, i, window, tally) for i in range(args.connections)))
    return {
        "samples": len(tally.latencies_us),
        "seconds": args.seconds,
        "latencies_us": tally.latencies_us,
        "errors": tally.errors,
        "error_samples": tally.error_samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--kind", choices=("get", "order"), default="get")
    parser.add_argument("--path", default="/", help="the GET's path (kind get)")
    parser.add_argument("--account-ids", type=int, nargs="*", help="traders (kind order)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--out", type=Path, required=True, help="where the JSON result goes")
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    args.out.write_text(json.dumps(result))


if __name__ == "__main__":
    main()
