"""POST /api/klines/import: your own candles, checked, stored for you alone, backtestable."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from hyperoru.http import middleware
from tests.backtests.support import create_program, settled, submit
from tests.helpers import Api, assert_error
from tests.market.candle_csv import as_csv, hourly_walk

CSV = {"Content-Type": "text/csv"}
WALK = hourly_walk(72)

# Trades the imported symbol (the program names it through its params).
TURNS = """
class Strategy:
    def init(self, params):
        self.bars = 0
        self.symbol = params["symbol"]

    def should_trade(self, data):
        self.bars += 1
        if self.bars % 5:
            return Decision("hold")
        if data.get_positions():
            return Decision("close", self.symbol, reasoning="turn over")
        return Decision("long", self.symbol, leverage=2, size_pct=20, reasoning="turn over")
"""


def backtest_body(program_id: int, symbol: str = "MYCOIN") -> dict:
    return {
        "program_id": program_id,
        "config": {
            "symbols": [symbol],
            "start_date": "2026-01-01T00:00:00Z",
            "end_date": "2026-01-04T00:00:00Z",
            "interval": "1h",
            "params": {"symbol": symbol},
        },
    }


async def upload(api: Api, token: str, body: bytes | str, **params: str):
    query = {"symbol": "MYCOIN", "interval": "1h", **params}
    return await api.client.post(
        "/api/klines/import",
        params=query,
        content=body,
        headers={**CSV, **api.bearer(token)},
    )


async def test_an_upload_is_stored_for_the_uploader_and_backtests(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    stored = await upload(api, alice, as_csv(WALK), symbol="mycoin")
    assert stored.status_code == 201, stored.text
    assert stored.json() == {
        "symbol": "MYCOIN",
        "interval": "1h",
        "candles": 72,
        "first": "2026-01-01T00:00:00Z",
        "last": "2026-01-03T23:00:00Z",
        "replaced": 0,
    }
    mine = await api.client.get("/api/klines/imported", headers=api.bearer(alice))
    assert mine.json() == [
        {
            "symbol": "MYCOIN",
            "interval": "1h",
            "earliest": "2026-01-01T00:00:00Z",
            "latest": "2026-01-03T23:00:00Z",
            "total_candles": 72,
        }
    ]
    assert (await api.client.get("/api/klines/imported", headers=api.bearer(bob))).json() == []

    program = await create_program(api, alice, TURNS)
    job = await submit(api, alice, backtest_body(program))
    done = await settled(api, alice, job["id"])
    assert done["status"] == "completed", done
    assert done["config"]["imported_symbols"] == {"MYCOIN": "imported-u1"}
    assert done["trades"], "the program trades every fifth bar"
    # Entries fill at the next bar's open (plus slippage) of the uploaded candles.
    opens = {c.open_time.isoformat().replace("+00:00", "Z"): c.open for c in WALK}
    first = done["trades"][0]
    assert float(first["entry_price"]) == pytest.approx(float(opens[first["entry_time"]]), rel=1e-3)

    # Nobody else sees it: for bob, MYCOIN is a symbol the market does not list.
    bobs = await create_program(api, bob, TURNS)
    refused = await api.client.post(
        "/api/backtests", json=backtest_body(bobs), headers=api.bearer(bob)
    )
    assert_error(refused, 404, "SYMBOL_NOT_FOUND")


async def test_reimporting_replaces_the_span(api: Api) -> None:
    _, token = await api.user()
    assert (await upload(api, token, as_csv(WALK))).status_code == 201
    corrected = hourly_walk(24, seed=8)
    again = await upload(api, token, as_csv(corrected))
    assert again.json()["replaced"] == 24
    mine = (await api.client.get("/api/klines/imported", headers=api.bearer(token))).json()
    assert mine[0]["total_candles"] == 72


async def test_a_bad_line_is_named_in_the_contract_shape(api: Api) -> None:
    _, token = await api.user()
    text = as_csv(WALK[:5]).splitlines()
    text[3], text[4] = text[4], text[3]  # lines 4 and 5 swapped
    response = await upload(api, token, "\n".join(text) + "\n")
    body = assert_error(response, 400, "CANDLE_FILE_INVALID")
    assert body["details"] == {"line": 5}
    assert body["message"].startswith("line 5: not sorted")
    # Nothing of a refused file is stored.
    assert (await api.client.get("/api/klines/imported", headers=api.bearer(token))).json() == []


@pytest.mark.parametrize(
    ("params", "field"),
    [({"symbol": "MY/COIN"}, "symbol"), ({"interval": "2h"}, "interval")],
)
async def test_bad_targets_are_refused(api: Api, params: dict[str, str], field: str) -> None:
    _, token = await api.user()
    body = assert_error(await upload(api, token, as_csv(WALK), **params), 400, "VALIDATION_ERROR")
    assert [f["field"] for f in body["details"]["fields"]] == [field]


@pytest.mark.parametrize(
    "content_type", ["application/json", "application/x-www-form-urlencoded", "image/png"]
)
async def test_other_content_types_are_refused(api: Api, content_type: str) -> None:
    _, token = await api.user()
    body = b'{"a": 1}' if content_type == "application/json" else b"a=1"
    response = await api.client.post(
        "/api/klines/import",
        params={"symbol": "MYCOIN", "interval": "1h"},
        content=body,
        headers={"Content-Type": content_type, **api.bearer(token)},
    )
    assert_error(response, 415, "UNSUPPORTED_MEDIA_TYPE")


async def test_uploads_need_a_login(api: Api) -> None:
    response = await api.client.post(
        "/api/klines/import", params={"symbol": "X", "interval": "1h"}, content=b"", headers=CSV
    )
    assert_error(response, 401, "AUTH_REQUIRED")


async def test_a_body_over_one_mebibyte_streams_through(api: Api) -> None:
    # Far more than the JSON cap: eight thousand hours of candles, about 1.9 MiB of CSV.
    _, token = await api.user()
    big = hourly_walk(8000, start=datetime(2024, 1, 1, tzinfo=UTC))
    text = as_csv(big, header="timestamp,open,high,low,close,volume") + "\n" * 1_500_000
    assert len(text) > middleware.MAX_BODY_BYTES

    async def chunks() -> AsyncIterator[bytes]:
        data = text.encode()
        for at in range(0, len(data), 65536):
            yield data[at : at + 65536]

    response = await api.client.post(
        "/api/klines/import",
        params={"symbol": "BIG", "interval": "1h"},
        content=chunks(),
        headers={**CSV, **api.bearer(token)},
    )
    assert response.status_code == 201, response.text
    assert response.json()["candles"] == 8000


async def test_the_upload_cap_answers_413(api: Api, monkeypatch: pytest.MonkeyPatch) -> None:
    _, token = await api.user()
    monkeypatch.setitem(middleware.UPLOAD_ROUTES, ("POST", "/api/klines/import"), 1024)
    declared = await upload(api, token, as_csv(WALK))
    assert_error(declared, 413, "PAYLOAD_TOO_LARGE")

    async def chunks() -> AsyncIterator[bytes]:
        data = as_csv(WALK).encode()
        for at in range(0, len(data), 512):
            yield data[at : at + 512]

    streamed = await api.client.post(
        "/api/klines/import",
        params={"symbol": "MYCOIN", "interval": "1h"},
        content=chunks(),
        headers={**CSV, **api.bearer(token)},
    )
    assert_error(streamed, 413, "PAYLOAD_TOO_LARGE")


async def test_parquet_upload(api: Api) -> None:
    pytest.importorskip("pyarrow", reason="the optional parquet extra is not installed")
    from hyperoru.market.candle_files import write_parquet

    _, token = await api.user()
    binary = io.BytesIO()
    write_parquet(WALK, binary)
    for content_type in ("application/vnd.apache.parquet", "application/octet-stream"):
        response = await api.client.post(
            "/api/klines/import",
            params={"symbol": "PQ", "interval": "1h"},
            content=binary.getvalue(),
            headers={"Content-Type": content_type, **api.bearer(token)},
        )
        assert response.status_code == 201, response.text
        assert response.json()["candles"] == 72


async def test_delete_removes_only_the_callers_candles(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    assert (await upload(api, alice, as_csv(WALK))).status_code == 201
    assert (await upload(api, bob, as_csv(WALK))).status_code == 201

    gone = await api.client.delete(
        "/api/klines/imported",
        params={"symbol": "mycoin", "interval": "1h"},
        headers=api.bearer(alice),
    )
    assert gone.status_code == 200, gone.text
    assert gone.json() == {"symbol": "MYCOIN", "interval": "1h", "removed": len(WALK)}
    mine = await api.client.get("/api/klines/imported", headers=api.bearer(alice))
    assert mine.json() == []
    theirs = await api.client.get("/api/klines/imported", headers=api.bearer(bob))
    assert [(c["symbol"], c["total_candles"]) for c in theirs.json()] == [("MYCOIN", len(WALK))]
    # Nothing left: 404, and a backtest of the symbol is refused as before any import.
    again = await api.client.delete(
        "/api/klines/imported", params={"symbol": "MYCOIN"}, headers=api.bearer(alice)
    )
    assert_error(again, 404, "CANDLES_NOT_FOUND")
    assert "MYCOIN" in again.json()["message"]
    program = await create_program(api, alice, TURNS)
    refused = await api.client.post(
        "/api/backtests", json=backtest_body(program), headers=api.bearer(alice)
    )
    assert_error(refused, 404, "SYMBOL_NOT_FOUND")


async def test_delete_of_every_interval_and_bad_targets(api: Api) -> None:
    _, token = await api.user()
    assert (await upload(api, token, as_csv(WALK))).status_code == 201
    assert (await upload(api, token, as_csv(WALK), symbol="OTHER")).status_code == 201
    gone = await api.client.delete(
        "/api/klines/imported", params={"symbol": "MYCOIN"}, headers=api.bearer(token)
    )
    assert gone.json() == {"symbol": "MYCOIN", "interval": None, "removed": len(WALK)}
    left = await api.client.get("/api/klines/imported", headers=api.bearer(token))
    assert [c["symbol"] for c in left.json()] == ["OTHER"]
    bad = (({"symbol": "MY-COIN"}, "symbol"), ({"symbol": "X", "interval": "7m"}, "interval"))
    for params, field in bad:
        refused = await api.client.delete(
            "/api/klines/imported", params=params, headers=api.bearer(token)
        )
        body = assert_error(refused, 400, "VALIDATION_ERROR")
        assert [f["field"] for f in body["details"]["fields"]] == [field]
    anonymous = await api.client.delete("/api/klines/imported", params={"symbol": "OTHER"})
    assert anonymous.status_code == 401
