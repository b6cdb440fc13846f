"""The client side of bench/ws_fanout.py: one process holding many WebSocket clients.

Each client is a bare asyncio protocol that speaks just enough RFC 6455 for the bench
(the upgrade, masked text frames out, unmasked frames in, pong, close): a full client
library costs several times more CPU per frame, and on a 2-core machine the clients'
CPU is taken from the server being measured. A frame's arrival time is read first
thing in ``data_received``, before any parsing.

The parent talks to the process over a ``multiprocessing`` pipe: it sends the socket
paths, gets ``("ready", opened, failures)`` once every socket is subscribed; ``"count"``
answers ``("count", frames recorded so far)``; ``"stop"`` answers ``("receipts",
[(seq, delay_s), ...], close_codes)`` and ends the process.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import struct
import time
from collections import Counter
from multiprocessing.connection import Connection as Pipe

SYMBOL = "BENCH"
_OPEN_BATCH = 100
_TEXT, _CLOSE, _PING, _PONG = 0x1, 0x8, 0x9, 0xA


def _client_frame(opcode: int, payload: bytes) -> bytes:
    """A client frame: clients must mask (RFC 6455 §5.3); a zero mask keeps it cheap."""
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", 0x80 | opcode, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, length)
    return header + b"\x00\x00\x00\x00" + payload


class Receipts:
    def __init__(self) -> None:
        self.delays: list[tuple[int, float]] = []
        self.closes: Counter[int] = Counter()


class BenchClient(asyncio.Protocol):
    def __init__(self, host: str, path: str, receipts: Receipts) -> None:
        self._request = (
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\n"
            "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
            f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}\r\n\r\n"
        ).encode()
        self._receipts = receipts
        self._buffer = b""
        self._upgraded = False
        self._transport: asyncio.Transport | None = None
        # Resolved by the first text frames: `connected`, then `subscribed`.
        self.replies: asyncio.Queue[dict[str, object]] = asyncio.Queue()
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        transport.write(self._request)

    def send_text(self, text: str) -> None:
        assert self._transport is not None
        self._transport.write(_client_frame(_TEXT, text.encode()))

    def data_received(self, data: bytes) -> None:
        received = time.time()
        buffer = self._buffer + data if self._buffer else data
        if not self._upgraded:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                self._buffer = buffer
                return
            if not buffer.startswith(b"HTTP/1.1 101"):
                self._finish(-1)
                return
            self._upgraded = True
            buffer = buffer[end + 4 :]
        offset = 0
        size = len(buffer)
        while size - offset >= 2:
            first, second = buffer[offset], buffer[offset + 1]
            length = second & 0x7F
            start = offset + 2
            if length == 126:
                if size - start < 2:
                    break
                (length,) = struct.unpack_from("!H", buffer, start)
                start += 2
            elif length == 127:
                if size - start < 8:
                    break
                (length,) = struct.unpack_from("!Q", buffer, start)
                start += 8
            if size - start < length:
                break
            payload = buffer[start : start + length]
            offset = start + length
            self._frame(first & 0x0F, payload, received)
        self._buffer = buffer[offset:]

    def _frame(self, opcode: int, payload: bytes, received: float) -> None:
        if opcode == _TEXT:
            if b'"price_update"' in payload and SYMBOL.encode() in payload:
                data = json.loads(payload)["data"]
                self._receipts.delays.append((data["seq"], received - data["sent_at"]))
            elif not payload.startswith(b'{"type":"price_update"'):
                self.replies.put_nowait(json.loads(payload))
        elif opcode == _PING and self._transport is not None:
            self._transport.write(_client_frame(_PONG, payload))
        elif opcode == _CLOSE:
            code = struct.unpack_from("!H", payload)[0] if len(payload) >= 2 else 1005
            self._finish(code)

    def _finish(self, code: int) -> None:
        if not self.closed.done():
            self._receipts.closes[code] += 1
            self.closed.set_result(code)
        if self._transport is not None:
            self._transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self._finish(1006)


async def _open(host: str, port: int, path: str, receipts: Receipts) -> BenchClient:
    loop = asyncio.get_running_loop()
    _, client = await loop.create_connection(
        lambda: BenchClient(f"{host}:{port}", path, receipts), host, port
    )
    connected = await asyncio.wait_for(client.replies.get(), 60)
    assert connected.get("type") == "connected", connected
    client.send_text(json.dumps({"type": "subscribe", "data": {"channels": ["prices"]}}))
    subscribed = await asyncio.wait_for(client.replies.get(), 60)
    assert subscribed.get("type") == "subscribed", subscribed
    return client


async def _serve(pipe: Pipe, host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    paths: list[str] = pipe.recv()
    receipts = Receipts()
    clients: list[BenchClient] = []
    failures = 0
    for start in range(0, len(paths), _OPEN_BATCH):
        batch = paths[start : start + _OPEN_BATCH]
        opened = await asyncio.gather(
            *(_open(host, port, path, receipts) for path in batch), return_exceptions=True
        )
        for result in opened:
            if isinstance(result, BaseException):
                failures += 1
            else:
                clients.append(result)
    pipe.send(("ready", len(clients), failures))
    commands: asyncio.Queue[str] = asyncio.Queue()
    loop.add_reader(pipe.fileno(), lambda: commands.put_nowait(pipe.recv()))
    while (command := await commands.get()) == "count":
        pipe.send(("count", len(receipts.delays)))
    loop.remove_reader(pipe.fileno())
    assert command == "stop", command
    pipe.send(("receipts", receipts.delays, dict(receipts.closes)))


def run_clients(pipe: Pipe, host: str, port: int) -> None:
    """The entry point of one client process."""
    asyncio.run(_serve(pipe, host, port))
