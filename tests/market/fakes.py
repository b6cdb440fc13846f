"""Loopback fakes of the Hyperliquid info API and Binance USDⓈ-M futures REST.

Real HTTP servers (``http.server`` in a thread) answering with the shapes of the venues'
public documentation: strings for numbers, milliseconds for times, their error bodies.
Tests queue faults (an HTTP status, a stall, a truncated or non-JSON body) that the next
requests receive.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

INTERVAL_MS = {"1m": 60_000, "5m": 300_000, "15m": 900_000, "1h": 3_600_000, "4h": 14_400_000}
INTERVAL_MS["1d"] = 86_400_000

# (coin, szDecimals, maxLeverage, price, open interest)
COINS = (
    ("BTC", 5, 40, 95_000, "28000.5"),
    ("ETH", 4, 25, 3_300, "650000.25"),
    ("SOL", 2, 20, 190, "3500000.1"),
)
PRICES = {coin: price for coin, _, _, price, _ in COINS}


@dataclass
class Fault:
    kind: str  # "status" | "stall" | "truncated" | "not_json"
    status: int = 500
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def now_ms() -> int:
    return int(time.time() * 1000)


def candle_rows(coin: str, interval: str, start_ms: int, end_ms: int, cap: int) -> list[dict]:
    """Aligned candles in [start, end] that have opened by now, at most ``cap``."""
    step = INTERVAL_MS[interval]
    first = -(-start_ms // step) * step
    last = min(end_ms, now_ms())
    rows = []
    base = PRICES[coin]
    for opened in range(first, last + 1, step):
        wobble = (opened // step) % 50
        open_ = base + wobble
        close = base + (wobble + 7) % 50
        rows.append(
            {
                "t": opened,
                "T": opened + step - 1,
                "o": str(open_),
                "c": str(close),
                "h": str(max(open_, close) + 3),
                "l": str(min(open_, close) - 3),
                "v": "12.5",
                "n": 42,
            }
        )
        if len(rows) == cap:
            break
    return rows


def book_levels(coin: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    price = PRICES[coin]
    bids = [(f"{price - 1 - i}", f"{1 + i * 0.5}") for i in range(20)]
    asks = [(f"{price + 1 + i}", f"{1 + i * 0.5}") for i in range(20)]
    return bids, asks


class FakeVenue:
    """Base: the server thread, fault queue and request log. Subclasses answer routes."""

    def __init__(self) -> None:
        self.faults: deque[Fault] = deque()
        self.requests: list[tuple[str, str, Any]] = []
        self._lock = threading.Lock()
        venue = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                venue._serve(self, "GET", None)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                raw = self.rfile.read(length) if length else b""
                venue._serve(self, "POST", raw)

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                # Clients that gave up on a stalled answer close the socket under us.
                return

        self._server = Server(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> FakeVenue:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reset(self) -> None:
        with self._lock:
            self.faults.clear()
            self.requests.clear()

    def fail_next(self, fault: Fault, times: int = 1) -> None:
        with self._lock:
            self.faults.extend(fault for _ in range(times))

    def _next_fault(self) -> Fault | None:
        with self._lock:
            return self.faults.popleft() if self.faults else None

    def _serve(self, handler: BaseHTTPRequestHandler, method: str, raw: bytes | None) -> None:
        parsed = urlparse(handler.path)
        body = json.loads(raw) if raw else None
        with self._lock:
            self.requests.append((method, parsed.path, body or parse_qs(parsed.query)))
        fault = self._next_fault()
        if fault is not None:
            self._send_fault(handler, fault)
            return
        status, payload, headers = self.answer(method, parsed.path, parse_qs(parsed.query), body)
        self._send(handler, status, json.dumps(payload).encode(), headers)

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        raise NotImplementedError

    @staticmethod
    def _send(
        handler: BaseHTTPRequestHandler,
        status: int,
        content: bytes,
        headers: dict[str, str] | None = None,
        declared_length: int | None = None,
    ) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(declared_length or len(content)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(content)
        handler.wfile.flush()

    def _send_fault(self, handler: BaseHTTPRequestHandler, fault: Fault) -> None:
        if fault.kind == "stall":
            time.sleep(fault.seconds)
            handler.close_connection = True
            return
        if fault.kind == "truncated":
            handler.close_connection = True
            self._send(handler, 200, b'{"BTC": "9500', declared_length=4096)
            return
        if fault.kind == "not_json":
            self._send(handler, 200, b"<html>maintenance</html>")
            return
        content = json.dumps(fault.body).encode() if fault.body is not None else b""
        self._send(handler, fault.status, content, fault.headers)


class FakeHyperliquid(FakeVenue):
    """``POST /info`` with a ``type``: the calls our provider makes."""

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        if method != "POST" or path != "/info" or not isinstance(body, dict):
            return 422, "Failed to deserialize the JSON body into the target type", {}
        kind = body.get("type")
        if kind == "metaAndAssetCtxs":
            universe = [
                {"name": coin, "szDecimals": sz, "maxLeverage": lev}
                for coin, sz, lev, _, _ in COINS
            ]
            universe.append({"name": "OLD", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True})
            contexts = [
                {
                    "dayNtlVlm": "1169046.29406",
                    "funding": "0.0000125",
                    "impactPxs": [f"{price - 1}", f"{price + 1}"],
                    "markPx": f"{price + 0.5}",
                    "midPx": f"{price}.0",
                    "openInterest": oi,
                    "oraclePx": f"{price}.2",
                    "premium": "0.00031774",
                    "prevDayPx": f"{price - 100}",
                }
                for _, _, _, price, oi in COINS
            ]
            contexts.append(dict(contexts[0]))
            return 200, [{"universe": universe}, contexts], {}
        if kind == "allMids":
            return 200, {coin: f"{price}.0" for coin, price in PRICES.items()} | {"@1": "1.0"}, {}
        if kind == "l2Book":
            coin = body.get("coin")
            if coin not in PRICES:
                return 200, None, {}
            bids, asks = book_levels(coin)
            levels = [
                [{"px": px, "sz": sz, "n": 3} for px, sz in bids],
                [{"px": px, "sz": sz, "n": 2} for px, sz in asks],
            ]
            return 200, {"coin": coin, "time": now_ms(), "levels": levels}, {}
        if kind == "candleSnapshot":
            req = body["req"]
            if req["coin"] not in PRICES:
                return 500, None, {}
            rows = candle_rows(req["coin"], req["interval"], req["startTime"], req["endTime"], 500)
            for row in rows:
                row["s"], row["i"] = req["coin"], req["interval"]
            return 200, rows, {}
        if kind == "fundingHistory":
            step = 3_600_000
            first = -(-body["startTime"] // step) * step
            last = min(body.get("endTime") or now_ms(), now_ms())
            rows = [
                {"coin": body["coin"], "fundingRate": "0.0000125", "premium": "0.0001", "time": t}
                for t in range(first, last + 1, step)
            ][:500]
            return 200, rows, {}
        return 422, "Failed to deserialize the JSON body into the target type", {}


class FakeBinance(FakeVenue):
    """``/fapi/v1/*`` public market endpoints, with the weight header Binance sends."""

    used_weight = 0

    def answer(
        self, method: str, path: str, query: dict[str, list[str]], body: Any
    ) -> tuple[int, Any, dict[str, str]]:
        status, payload = self._route(path, {k: v[0] for k, v in query.items()})
        return status, payload, {"X-MBX-USED-WEIGHT-1M": str(self.used_weight)}

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, Any]:
        invalid = (400, {"code": -1121, "msg": "Invalid symbol."})
        coin = query.get("symbol", "").removesuffix("USDT")
        if "symbol" in query and coin not in PRICES:
            return invalid
        if path == "/fapi/v1/exchangeInfo":
            return 200, self._exchange_info()
        if path == "/fapi/v1/premiumIndex":
            rows = [
                {
                    "symbol": f"{c}USDT",
                    "markPrice": f"{p}.50000000",
                    "indexPrice": f"{p}.20000000",
                    "estimatedSettlePrice": f"{p}.10000000",
                    "lastFundingRate": "0.00010000",
                    "interestRate": "0.00010000",
                    "nextFundingTime": now_ms() + 3_600_000,
                    "time": now_ms(),
                }
                for c, p in PRICES.items()
                if not coin or c == coin
            ]
            return 200, rows[0] if coin else rows
        if path == "/fapi/v1/ticker/bookTicker":
            rows = [
                {
                    "symbol": f"{c}USDT",
                    "bidPrice": f"{p - 1}.00",
                    "bidQty": "3.100",
                    "askPrice": f"{p + 1}.00",
                    "askQty": "2.400",
                    "time": now_ms(),
                }
                for c, p in PRICES.items()
            ]
            return 200, rows
        if path == "/fapi/v1/depth":
            bids, asks = book_levels(coin)
            limit = int(query.get("limit", "500"))
            return 200, {
                "lastUpdateId": 1027024,
                "E": now_ms(),
                "T": now_ms(),
                "bids": [list(level) for level in bids[:limit]],
                "asks": [list(level) for level in asks[:limit]],
            }
        if path == "/fapi/v1/klines":
            cap = min(int(query.get("limit", "500")), 1500)
            rows = candle_rows(
                coin, query["interval"], int(query["startTime"]), int(query["endTime"]), cap
            )
            return 200, [
                [
                    r["t"],
                    r["o"],
                    r["h"],
                    r["l"],
                    r["c"],
                    r["v"],
                    r["T"],
                    "1187500.0",
                    42,
                    "6.2",
                    "589000.0",
                    "0",
                ]
                for r in rows
            ]
        if path == "/fapi/v1/fundingRate":
            step = 8 * 3_600_000
            first = -(-int(query["startTime"]) // step) * step
            last = min(int(query.get("endTime", now_ms())), now_ms())
            return 200, [
                {
                    "symbol": f"{coin}USDT",
                    "fundingRate": "0.00010000",
                    "fundingTime": t,
                    "markPrice": "95000.5",
                }
                for t in range(first, last + 1, step)
            ]
        if path == "/fapi/v1/openInterest":
            oi = next(o for c, _, _, _, o in COINS if c == coin)
            return 200, {"openInterest": oi, "symbol": f"{coin}USDT", "time": now_ms()}
        return 404, {"code": -5000, "msg": "Path not found"}

    @staticmethod
    def _exchange_info() -> dict[str, Any]:
        def symbol(coin: str, sz: int, pair: str, contract: str, quote: str) -> dict[str, Any]:
            return {
                "symbol": pair,
                "pair": pair,
                "contractType": contract,
                "status": "TRADING",
                "baseAsset": coin,
                "quoteAsset": quote,
                "marginAsset": quote,
                "pricePrecision": 2,
                "quantityPrecision": sz,
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": "0.10", "minPrice": "0.1"},
                    {"filterType": "LOT_SIZE", "stepSize": "0.001", "minQty": "0.001"},
                    {"filterType": "MIN_NOTIONAL", "notional": "100"},
                ],
            }

        symbols = [symbol(c, min(sz, 3), f"{c}USDT", "PERPETUAL", "USDT") for c, sz, *_ in COINS]
        symbols.append(symbol("BTC", 3, "BTCUSDT_270326", "CURRENT_QUARTER", "USDT"))
        symbols.append(symbol("ETH", 3, "ETHUSDC", "PERPETUAL", "USDC"))
        return {
            "timezone": "UTC",
            "serverTime": now_ms(),
            "rateLimits": [
                {
                    "rateLimitType": "REQUEST_WEIGHT",
                    "interval": "MINUTE",
                    "intervalNum": 1,
                    "limit": 2400,
                },
                {"rateLimitType": "ORDERS", "interval": "MINUTE", "intervalNum": 1, "limit": 1200},
            ],
            "exchangeFilters": [],
            "symbols": symbols,
        }
