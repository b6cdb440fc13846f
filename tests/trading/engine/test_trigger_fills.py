"""A fired take-profit or stop-loss fills by its venue's rule (``TriggerFill``).

Hyperliquid: a market trigger is a limit at the trigger price ± 10% (worse for the
closer), so a gap beyond 10% leaves it unfilled. Binance: a ``*_MARKET`` conditional
order is a plain market order once the mark reaches it (the engine's mid ± 5% cap).
Both pay the taker fee (Hyperliquid 0.045%, Binance 0.05%).

The long below is 0.1 BTC bought at 50010 with its stop at 45000: Hyperliquid's worst
fill for the stop is 45000 * 0.9 = 40500.
"""

from __future__ import annotations

from datetime import timedelta

from hyperoru.trading.engine import (
    AccountState,
    EngineConfig,
    EngineResult,
    OrderStatus,
    RejectCode,
    TriggerFill,
    Venue,
    on_market,
    place_order,
)
from hyperoru.trading.engine.bar_path import BarPrices, BarWalk
from tests.trading.engine.kit import BTC, ETH, T0, D, account, at, order, quoted

HYPERLIQUID = EngineConfig.of(BTC, ETH)
BINANCE = EngineConfig.of(BTC, ETH, venue=Venue.BINANCE)


def test_each_venue_has_its_rule() -> None:
    assert HYPERLIQUID.trigger_fill == TriggerFill(cap=D("0.10"))
    assert BINANCE.trigger_fill == TriggerFill(cap=None)
    assert BINANCE.fees.taker_rate == D("0.0005")


def _protected_long(config: EngineConfig) -> AccountState:
    request = order("buy", "0.1", leverage=5, take_profit="55000", stop_loss="45000")
    return place_order(account(), request, markets=quoted(50000), config=config, now=T0).state


def _stop(config: EngineConfig, mark: int) -> EngineResult:
    return on_market(_protected_long(config), quoted(mark), config=config, now=at(1))


def test_a_touch_fills_at_the_book_on_both_venues() -> None:
    for config, fee in ((HYPERLIQUID, D("2.02455")), (BINANCE, D("2.2495"))):
        (fill,) = _stop(config, 45000).fills
        # The bid under the mark: 44990; fee 4499 * 0.00045 (HL) or * 0.0005 (Binance).
        assert (fill.order_id, fill.price, fill.fee) == ("o1:sl", D(44990), fee)


def test_a_gap_within_the_cap_fills_at_the_next_price() -> None:
    # The mark is first seen at 42000, 3000 beyond the stop: the bid 41990 is above 40500.
    for config in (HYPERLIQUID, BINANCE):
        (fill,) = _stop(config, 42000).fills
        assert fill.price == D(41990)
        assert fill.realized_pnl == D(-802)  # 0.1 * (41990 - 50010)


def test_a_gap_beyond_the_cap_leaves_a_hyperliquid_stop_unfilled() -> None:
    # At 40000 the bid 39990 is below Hyperliquid's limit of 40500: nothing fills, the
    # trigger is spent and the position stays open. Binance's market order fills.
    result = _stop(HYPERLIQUID, 40000)
    assert result.fills == ()
    statuses = {e.order_id: (e.status, e.reason) for e in result.events if hasattr(e, "reason")}
    assert statuses["o1:sl"] == (OrderStatus.TRIGGERED, RejectCode.NO_LIQUIDITY)
    assert result.state.position("BTC") is not None and result.state.triggers == ()
    (fill,) = _stop(BINANCE, 40000).fills
    assert fill.price == D(39990)


def test_a_take_profit_gap_fills_at_the_better_price() -> None:
    # A sell's limit is below the trigger (55000 * 0.9), so a gap up only helps it.
    result = on_market(_protected_long(HYPERLIQUID), quoted(60000), config=HYPERLIQUID, now=at(1))
    (fill,) = result.fills
    assert (fill.order_id, fill.price) == ("o1:tp", D(59990))


def _bar(config: EngineConfig, bar: BarPrices) -> list[EngineResult]:
    """One hour bar through the bar path at 0.1% slippage (book at price * (1 ∓ 0.001))."""
    results: list[EngineResult] = []
    walk = BarWalk(
        _protected_long(config),
        config,
        {"BTC": bar},
        start=T0 + timedelta(hours=1),
        length=timedelta(hours=1),
        slippage=D("0.001"),
        strict=False,
        with_funding=False,
        record=results.append,
    )
    walk.at_open()
    walk.to_close()
    return results


def _fill_prices(results: list[EngineResult]) -> list[D]:
    return [f.price for r in results for f in r.fills]


def test_a_bar_that_touches_the_stop_fills_at_the_stop_less_slippage() -> None:
    bar = BarPrices(open=D(46000), high=D(46500), low=D(44000), close=D(44500))
    for config in (HYPERLIQUID, BINANCE):
        # The path stops at 45000 on its way down: 45000 * 0.999.
        assert _fill_prices(_bar(config, bar)) == [D("44955.000")]


def test_a_bar_that_opens_beyond_the_stop_fills_at_the_open() -> None:
    bar = BarPrices(open=D(44000), high=D(44500), low=D(43000), close=D(44000))
    for config in (HYPERLIQUID, BINANCE):
        # The gap fills at the open's bid: 44000 * 0.999, within 40500.
        assert _fill_prices(_bar(config, bar)) == [D("43956.000")]


def test_a_bar_that_gaps_beyond_the_cap_fills_only_on_binance() -> None:
    bar = BarPrices(open=D(40000), high=D(40200), low=D(39000), close=D(40100))
    # 40000 * 0.999 = 39960 is below Hyperliquid's 40500: no fill, position kept.
    assert _fill_prices(_bar(HYPERLIQUID, bar)) == []
    assert _fill_prices(_bar(BINANCE, bar)) == [D("39960.000")]
