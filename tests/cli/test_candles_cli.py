"""`hyperoru candles import/export` and `hyperoru backtest` on both databases: a CSV
imported through the command line backtests exactly as the same file uploaded through
the API, on the server and on the command line."""

from __future__ import annotations

import io
import json
from datetime import timedelta
from pathlib import Path

import backtesting

from hyperoru.market.candle_files import checked_candles, read_rows
from hyperoru.settings import Settings
from tests.backtests.support import create_program, settled, submit
from tests.cli.run import run_cli_for
from tests.helpers import Api, assert_error
from tests.market.candle_csv import as_csv, hourly_walk
from tests.market.test_klines_import_api import TURNS, backtest_body, upload

WALK = hourly_walk(96, seed=11)
# The range of ``backtest_body``: the first 72 of the 96 candles.
RANGE = ("--from", "2026-01-01T00:00:00Z", "--to", "2026-01-04T00:00:00Z", "--interval", "1h")


async def _backtest(api: Api, token: str) -> dict:
    program = await create_program(api, token, TURNS)
    job = await submit(api, token, backtest_body(program))
    done = await settled(api, token, job["id"])
    assert done["status"] == "completed", done
    return done


async def test_cli_import_backtests_exactly_like_an_api_upload(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    alice, alice_token = await api.user()
    _, bob_token = await api.user()
    csv_file = tmp_path / "mycoin-1h.csv"
    csv_file.write_text(as_csv(WALK))

    imported = await run_cli_for(
        settings,
        "candles",
        "import",
        str(csv_file),
        "--symbol",
        "MYCOIN",
        "--interval",
        "1h",
        "--user",
        alice["username"],
    )
    assert imported.returncode == 0, imported.stderr
    assert "imported 96 1h candles of MYCOIN" in imported.stdout
    assert (await upload(api, bob_token, csv_file.read_bytes())).status_code == 201

    through_cli = await _backtest(api, alice_token)
    through_api = await _backtest(api, bob_token)
    assert through_cli["trades"], "the program trades every fifth bar"
    assert through_cli["trades"] == through_api["trades"]
    assert through_cli["fingerprint"] == through_api["fingerprint"]
    assert through_cli["metrics"] == through_api["metrics"]

    program = tmp_path / "turns.py"
    program.write_text(TURNS)
    local = await run_cli_for(
        settings,
        "backtest",
        str(program),
        "--symbols",
        "MYCOIN",
        *RANGE,
        "--params",
        '{"symbol": "MYCOIN"}',
        "--user",
        alice["username"],
        "--json",
    )
    assert local.returncode == 0, local.stderr
    result = json.loads(local.stdout)  # nothing but the JSON on stdout
    assert result["fingerprint"] == through_api["fingerprint"]
    assert result["trades"] == through_api["trades"]
    assert result["metrics"] == through_api["metrics"]
    assert result["imported_symbols"] == {"MYCOIN": f"imported-u{alice['id']}"}
    assert result["bars"] == 72


async def test_export_gives_back_the_imported_candles(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    source = tmp_path / "in.csv"
    source.write_text(as_csv(WALK))
    args = ("--symbol", "MYCOIN", "--interval", "1h")
    assert (await run_cli_for(settings, "candles", "import", str(source), *args)).returncode == 0
    exported = await run_cli_for(
        settings, "candles", "export", "-", *args, "--from", "2026-01-01", "--to", "2026-01-03"
    )
    assert exported.returncode == 0, exported.stderr
    rows = read_rows(io.BytesIO(exported.stdout.encode()), "csv")
    after_all = WALK[-1].open_time + timedelta(hours=1)
    back = list(checked_candles(rows, interval="1h", now=after_all))
    assert back == WALK[:48]


async def test_an_operator_import_serves_every_user_and_a_users_own_wins(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    shared = tmp_path / "shared.csv"
    shared.write_text(as_csv(WALK))
    done = await run_cli_for(
        settings, "candles", "import", str(shared), "--symbol", "MYCOIN", "--interval", "1h"
    )
    assert done.returncode == 0, done.stderr
    assert "for every user" in done.stdout
    listed = await run_cli_for(settings, "candles", "list")
    assert "MYCOIN" in listed.stdout and "96" in listed.stdout
    assert (await upload(api, alice, as_csv(hourly_walk(96, seed=12)))).status_code == 201

    for_bob = await _backtest(api, bob)
    for_alice = await _backtest(api, alice)
    assert for_bob["config"]["imported_symbols"] == {"MYCOIN": "imported"}
    assert for_alice["config"]["imported_symbols"]["MYCOIN"].startswith("imported-u")
    assert for_bob["fingerprint"] != for_alice["fingerprint"]


async def test_a_bad_file_fails_with_its_line_and_stores_nothing(
    api: Api, settings: Settings, tmp_path: Path
) -> None:
    _, token = await api.user()
    lines = as_csv(WALK[:10]).splitlines()
    lines[6] = lines[6].replace(",", ",-", 1)  # a negative open on line 7
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(lines) + "\n")
    failed = await run_cli_for(
        settings, "candles", "import", str(bad), "--symbol", "MYCOIN", "--interval", "1h"
    )
    assert failed.returncode == 1
    assert "line 7: open must be positive" in failed.stderr
    assert "CANDLE_FILE_INVALID" in failed.stderr
    assert failed.stdout == ""
    program = await create_program(api, token, TURNS)
    refused = await api.client.post(
        "/api/backtests", json=backtest_body(program), headers=api.bearer(token)
    )
    assert_error(refused, 404, "SYMBOL_NOT_FOUND")


async def test_import_for_an_unknown_user_fails(settings: Settings, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_text(as_csv(WALK[:5]))
    failed = await run_cli_for(
        settings,
        "candles",
        "import",
        str(source),
        "--symbol",
        "MYCOIN",
        "--interval",
        "1h",
        "--user",
        "ghost",
    )
    assert failed.returncode == 1
    assert "no such user: ghost" in failed.stderr


async def test_delete_removes_the_shared_import(settings: Settings, tmp_path: Path) -> None:
    shared = tmp_path / "shared.csv"
    shared.write_text(as_csv(WALK))
    done = await run_cli_for(
        settings, "candles", "import", str(shared), "--symbol", "MYCOIN", "--interval", "1h"
    )
    assert done.returncode == 0, done.stderr
    deleted = await run_cli_for(settings, "candles", "delete", "mycoin", "--interval", "1h")
    assert deleted.returncode == 0, deleted.stderr
    assert f"deleted {len(WALK)} imported candles of MYCOIN" in deleted.stdout
    listed = await run_cli_for(settings, "candles", "list")
    assert "nothing imported yet" in listed.stdout
    again = await run_cli_for(settings, "candles", "delete", "MYCOIN")
    assert again.returncode == 1
    assert "no imported candles of MYCOIN" in again.stderr


# Real hourly candles (EUR/USD, April 2017 to February 2018, with the market's weekend
# gaps) as shipped with backtesting.py, a test dependency: a pandas CSV whose time index
# column has no name and whose times have no zone (UTC).
EURUSD = Path(backtesting.__file__).parent / "test" / "EURUSD.csv"


async def test_real_hourly_candles_backtest_alike_from_the_cli_and_the_api(
    api: Api, settings: Settings
) -> None:
    alice, alice_token = await api.user()
    _, bob_token = await api.user()
    imported = await run_cli_for(
        settings, "candles", "import", str(EURUSD), "--symbol", "EURUSD", "--interval", "1h",
        "--user", alice["username"],
    )  # fmt: skip
    assert imported.returncode == 0, imported.stderr
    assert "imported 5000 1h candles of EURUSD" in imported.stdout
    uploaded = await upload(api, bob_token, EURUSD.read_bytes(), symbol="EURUSD")
    assert uploaded.status_code == 201, uploaded.text
    assert uploaded.json()["candles"] == 5000

    body = backtest_body(0, "EURUSD")
    body["config"].update(start_date="2017-05-01T00:00:00Z", end_date="2017-06-01T00:00:00Z")
    results = []
    for token in (alice_token, bob_token):
        body["program_id"] = await create_program(api, token, TURNS)
        job = await submit(api, token, body)
        done = await settled(api, token, job["id"])
        assert done["status"] == "completed", done
        results.append(done)
    through_cli, through_api = results
    assert len(through_cli["trades"]) > 50  # a trade every fifth bar of a month
    assert through_cli["trades"] == through_api["trades"]
    assert through_cli["fingerprint"] == through_api["fingerprint"]
    assert through_cli["metrics"] == through_api["metrics"]
