"""Paging through Binance's history reads: ``userTrades`` and ``income``.

Both answer at most ``limit`` rows a call. ``userTrades`` also answers at most 7 days
between ``startTime`` and ``endTime`` and refuses ``fromId`` together with either, so it
walks 7-day windows by time until a page comes back full, then follows trade ids to the
end. ``income`` pages by time; rows sharing the last page's final millisecond come again
and are dropped by their ``tranId``.
"""

from __future__ import annotations

from typing import Any

from hyperoru.exchanges.binance.rest import BinanceRest

TRADE_WINDOW_MS = 7 * 24 * 3600 * 1000


async def trades_since(
    rest: BinanceRest, pair: str, since_ms: int, *, page_size: int
) -> list[dict[str, Any]]:
    """Every trade of ``pair`` at or after ``since_ms``, oldest first, each once."""
    trades: dict[int, dict[str, Any]] = {}

    async def page(params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = await rest.call(
            "GET",
            "/fapi/v1/userTrades",
            [("symbol", pair), *params, ("limit", str(page_size))],
        )
        trades.update((int(row["id"]), row) for row in rows)
        return rows

    now_ms = rest.clock.now_ms()
    start = since_ms
    while start <= now_ms:
        end = min(start + TRADE_WINDOW_MS - 1, now_ms)
        rows = await page([("startTime", str(start)), ("endTime", str(end))])
        if len(rows) >= page_size:
            while len(rows) >= page_size:
                next_id = max(int(row["id"]) for row in rows) + 1
                rows = await page([("fromId", str(next_id))])
            break
        start = end + 1
    return [trades[key] for key in sorted(trades) if int(trades[key]["time"]) >= since_ms]


async def income_since(
    rest: BinanceRest, income_type: str, since_ms: int, *, page_size: int
) -> list[dict[str, Any]]:
    """Income entries of one type at or after ``since_ms``, oldest first, each once."""
    entries: dict[str, dict[str, Any]] = {}
    start = since_ms
    while True:
        rows: list[dict[str, Any]] = await rest.call(
            "GET",
            "/fapi/v1/income",
            [("incomeType", income_type), ("startTime", str(start)), ("limit", str(page_size))],
        )
        before = len(entries)
        for row in rows:
            entries.setdefault(f"{row.get('tranId')}-{row.get('symbol')}", row)
        if len(rows) < page_size or len(entries) == before:
            break
        start = max(int(row["time"]) for row in rows)
    return sorted(entries.values(), key=lambda row: int(row["time"]))
