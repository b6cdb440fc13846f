"""A loopback HTTP server that answers from a script and records what it was sent."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from hyperoru.client import Client

Answer = tuple[int, dict[str, str], Any]
HEALTHY: Answer = (200, {}, {"status": "healthy"})


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


class Fake:
    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        self.requests: list[Seen] = []

    @property
    def seen(self) -> list[str]:
        return [str(r) for r in self.requests]


@contextmanager
def fake_server(answers: list[Answer]) -> Iterator[tuple[str, Fake]]:
    fake = Fake(answers)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append(Seen(self.command, self.path, headers, body))
            status, extra, answer = fake.answers.pop(0) if fake.answers else HEALTHY
            payload = b"" if answer is None else json.dumps(answer).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **extra}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@contextmanager
def scripted(answers: list[Answer], **options: Any) -> Iterator[tuple[Client, Fake, list[float]]]:
    """A sync client of the fake; its sleep only records the waits it was asked for."""
    waits: list[float] = []
    with fake_server(answers) as (url, fake), Client(url, sleep=waits.append, **options) as api:
        yield api, fake, waits
