"""exchangeInfo filters into SymbolRules, and rounding to them."""

from __future__ import annotations

from decimal import Decimal as D

from hyperoru.exchanges.binance.rules import (
    meets_min_notional,
    pair_of,
    parse_exchange_info,
    parse_leverage_brackets,
    round_price,
    round_quantity,
    symbol_of,
    wire,
)
from tests.fakes.binance_venue import FakeBinanceFutures


def _rules() -> dict:
    fake = FakeBinanceFutures()
    brackets = [
        {"symbol": "BTCUSDT", "brackets": [{"initialLeverage": 125}, {"initialLeverage": 100}]},
        {"symbol": "ETHUSDT", "brackets": [{"initialLeverage": 100}]},
    ]
    return parse_exchange_info(fake._exchange_info(), parse_leverage_brackets(brackets))


def test_symbols_map_to_usdt_pairs() -> None:
    assert pair_of("btc") == "BTCUSDT"
    assert symbol_of("BTCUSDT") == "BTC"
    assert symbol_of("BTCUSDC") == "BTCUSDC"


def test_only_trading_usdt_perpetuals_become_rules() -> None:
    rules = _rules()
    assert set(rules) == {"BTC", "ETH", "SOL"}
    btc = rules["BTC"]
    assert (btc.tick_size, btc.step_size, btc.min_notional, btc.max_leverage) == (
        D("0.1"),
        D("0.001"),
        D("100"),
        125,
    )
    assert rules["ETH"].max_leverage == 100
    assert rules["SOL"].max_leverage == 20  # no bracket read: the default ceiling


def test_the_coarser_of_lot_and_market_lot_step_serves_both() -> None:
    info = {
        "symbols": [
            {
                "symbol": "XUSDT",
                "contractType": "PERPETUAL",
                "status": "TRADING",
                "quoteAsset": "USDT",
                "filters": [
                    {"filterType": "PRICE_FILTER", "tickSize": "0.01"},
                    {"filterType": "LOT_SIZE", "stepSize": "0.001"},
                    {"filterType": "MARKET_LOT_SIZE", "stepSize": "0.01"},
                ],
            },
            {
                "symbol": "YUSDT",
                "contractType": "PERPETUAL",
                "status": "SETTLING",
                "quoteAsset": "USDT",
            },
        ]
    }
    rules = parse_exchange_info(info)
    assert list(rules) == ["X"]
    assert rules["X"].step_size == D("0.01")
    assert rules["X"].min_notional == 0


def test_rounding_never_worsens_the_order() -> None:
    btc = _rules()["BTC"]
    assert round_quantity(btc, D("0.0129")) == D("0.012")
    assert round_price(btc, D("60000.17"), "buy") == D("60000.1")
    assert round_price(btc, D("60000.11"), "sell") == D("60000.2")
    assert round_price(btc, D("60000.1"), "sell") == D("60000.1")


def test_min_notional_is_waived_for_reduce_only() -> None:
    btc = _rules()["BTC"]
    assert not meets_min_notional(btc, D("0.001"), D("60000"), reduce_only=False)
    assert meets_min_notional(btc, D("0.001"), D("60000"), reduce_only=True)
    assert meets_min_notional(btc, D("0.002"), D("60000"), reduce_only=False)


def test_wire_form_has_no_exponent_or_trailing_zeros() -> None:
    assert wire(D("1E+2")) == "100"
    assert wire(D("0.0100")) == "0.01"
    assert wire(D("60000.10")) == "60000.1"
