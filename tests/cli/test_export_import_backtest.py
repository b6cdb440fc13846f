"""The market's own candles, exported with `hyperoru candles export` and imported again
with `hyperoru candles import`, backtest exactly as the market's: same trades, fingerprint
and metrics, funding included (the export writes the funding rate a backtest charges at
each open, and the import carries it), on both databases."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest

from hyperoru.settings import Settings
from tests.backtests.support import create_program, settled, submit
from tests.cli.run import run_cli_for
from tests.helpers import Api
from tests.market.test_klines_import_api import TURNS, backtest_body

# backtest_body's range (72 hourly candles), as the export's options.
RANGE = ("--interval", "1h", "--from", "2026-01-01T00:00:00Z", "--to", "2026-01-04T00:00:00Z")


async def _backtest(api: Api, token: str, symbol: str) -> dict:
    program = await create_program(api, token, TURNS)
    job = await submit(api, token, backtest_body(program, symbol))
    done = await settled(api, token, job["id"])
    assert done["status"] == "completed", done
    return done


async def _export(settings: Settings, symbol: str, file: Path) -> list[dict[str, Any]]:
    exported = await run_cli_for(
        settings, "candles", "export", str(file), "--symbol", symbol, *RANGE
    )
    assert exported.returncode == 0, exported.stderr
    assert f"exported 72 1h candles of {symbol}" in exported.stdout
    if file.suffix == ".parquet":
        import pyarrow.parquet

        rows: list[dict[str, Any]] = pyarrow.parquet.read_table(file).to_pylist()
        return rows
    with file.open(newline="") as text:
        return list(csv.DictReader(text))


async def _import(settings: Settings, file: Path, symbol: str, username: str) -> None:
    imported = await run_cli_for(
        settings, "candles", "import", str(file), "--symbol", symbol, "--interval", "1h",
        "--user", username,
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert f"imported 72 1h candles of {symbol}" in imported.stdout


@pytest.mark.parametrize("suffix", ["csv", "parquet"])
async def test_the_markets_candles_exported_and_imported_backtest_identically(
    api: Api, settings: Settings, tmp_path: Path, suffix: str
) -> None:
    """Parquet holds floats, but the simulated market's prices, sizes and rates have few
    enough digits to come back as the same decimals."""
    if suffix == "parquet":
        pytest.importorskip("pyarrow", reason="the optional parquet extra is not installed")
    _, alice = await api.user()
    bob, bob_token = await api.user()
    fetched = await _backtest(api, alice, "BTC")
    assert fetched["config"]["imported_symbols"] == {}
    assert len(fetched["trades"]) >= 5
    # Funding matters here: without it the imported run could not match.
    assert fetched["metrics"]["funding_paid"] != 0

    file = tmp_path / f"btc-1h.{suffix}"
    rows = await _export(settings, "BTC", file)
    assert all(row["hourly_funding_rate"] not in (None, "") for row in rows)
    # Imported under the market's own name: bob's candles win over the market's for him.
    await _import(settings, file, "BTC", bob["username"])
    imported = await _backtest(api, bob_token, "BTC")

    assert imported["config"]["imported_symbols"] == {"BTC": f"imported-u{bob['id']}"}
    assert imported["trades"] == fetched["trades"]
    assert imported["fingerprint"] == fetched["fingerprint"]
    assert imported["metrics"] == fetched["metrics"]


async def test_under_a_new_name_only_the_symbol_differs(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """A symbol the market does not list has no venue metadata: it trades with the
    defaults, size decimals 4 and maximum leverage 20. ETH's size decimals are 4, and at
    leverage 2 nothing comes near a liquidation, so the trades are ETH's under the new
    name; the fingerprint, a hash over the trades, names the symbol too."""
    _, alice = await api.user()
    bob, bob_token = await api.user()
    fetched = await _backtest(api, alice, "ETH")
    assert len(fetched["trades"]) >= 5

    file = tmp_path / "eth-1h.csv"
    await _export(settings, "ETH", file)
    await _import(settings, file, "MYETH", bob["username"])
    imported = await _backtest(api, bob_token, "MYETH")

    assert imported["config"]["imported_symbols"] == {"MYETH": f"imported-u{bob['id']}"}
    assert imported["trades"] == [{**t, "symbol": "MYETH"} for t in fetched["trades"]]
    assert imported["metrics"] == fetched["metrics"]
    assert imported["metrics"]["funding_paid"] != 0


async def test_without_the_funding_column_no_funding_is_charged(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    """A vendor's file has no funding rates: the same candles then backtest with the same
    entries and exits and no funding (what the README says of such files)."""
    _, alice = await api.user()
    bob, bob_token = await api.user()
    fetched = await _backtest(api, alice, "BTC")

    file = tmp_path / "btc-1h.csv"
    rows = await _export(settings, "BTC", file)
    plain = tmp_path / "btc-plain.csv"
    with plain.open("w", newline="") as text:
        writer = csv.DictWriter(text, ["timestamp", "open", "high", "low", "close", "volume"])
        writer.writeheader()
        writer.writerows(
            {k: v for k, v in row.items() if k != "hourly_funding_rate"} for row in rows
        )
    await _import(settings, plain, "BTC", bob["username"])
    imported = await _backtest(api, bob_token, "BTC")

    assert imported["metrics"]["funding_paid"] == 0
    assert all(trade["funding"] == 0 for trade in imported["trades"])
    moves = ("side", "entry_time", "entry_price", "exit_time", "exit_price")
    assert [{k: t[k] for k in moves} for t in imported["trades"]] == [
        {k: t[k] for k in moves} for t in fetched["trades"]
    ]
