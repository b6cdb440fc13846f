"""Reads and account upkeep through the adapter at the fake venue: fills (paged and
deduplicated), funding, the account, leverage, validation, the dead-man switch, clock
re-sync, rate limits, listen keys, and the connector's wiring."""

from __future__ import annotations

import uuid
from datetime import timedelta
from decimal import Decimal as D

import pytest

from hyperoru.exchanges.binance.client import HOSTS, BinanceFuturesAdapter
from hyperoru.exchanges.connect import venue_connector
from hyperoru.exchanges.venue import BinanceCredentials, VenueError, VenueOrder
from hyperoru.settings import Settings
from tests.exchanges.binance.conftest import KEY, SECRET, AdapterFactory
from tests.fakes.binance_venue import FakeBinanceFutures, Fault, fake_binance_futures


def order(side: str, qty: str, symbol: str = "BTC", price: str | None = None) -> VenueOrder:
    return VenueOrder(
        uuid.uuid4().hex,
        symbol,
        side,  # type: ignore[arg-type]
        "limit" if price else "market",
        D(qty),
        D(price) if price else None,
    )


async def test_fills_page_by_time_then_id_and_dedupe(
    make_adapter: AdapterFactory, venue: FakeBinanceFutures
) -> None:
    start = venue.client_clock()
    adapter = make_adapter(page_size=3)
    sent = []
    for _ in range(4):  # four BTC fills in the first week
        sent.append(await adapter.submit(order("buy", "0.002")))
        venue.advance(3600)
    venue.advance(9 * 24 * 3600)  # then a gap longer than one userTrades window
    for _ in range(3):
        sent.append(await adapter.submit(order("sell", "0.002")))
        venue.advance(60)
    await adapter.submit(order("buy", "0.01", symbol="ETH"))

    fills = await adapter.fills(since=start)
    btc = [f for f in fills if f.symbol == "BTC"]
    assert len(btc) == 7
    assert len({f.venue_fill_id for f in fills}) == len(fills) == 8
    assert [f.time for f in fills] == sorted(f.time for f in fills)
    assert [f.client_order_id for f in btc] == [s.client_order_id for s in sent]
    assert sum(f.fee for f in fills) == sum(D(t["commission"]) for t in venue.account(KEY).trades)
    trade_reads = venue.requests_to("/fapi/v1/userTrades")
    assert any("fromId" in r.params for r in trade_reads)  # a full page switched to ids
    assert all(
        int(r.params["endTime"]) - int(r.params["startTime"]) < 7 * 24 * 3600 * 1000
        for r in trade_reads
        if "startTime" in r.params
    )
    # Only fills at or after ``since``.
    later = await adapter.fills(since=start + timedelta(days=5))
    assert [f.side for f in later if f.symbol == "BTC"] == ["sell"] * 3


async def test_fills_after_a_restart_find_their_symbols(
    make_adapter: AdapterFactory, venue: FakeBinanceFutures
) -> None:
    start = venue.client_clock()
    first = make_adapter()
    await first.submit(order("buy", "0.01", symbol="ETH"))
    await first.submit(order("sell", "0.01", symbol="ETH"))  # flat again: no position left
    restarted = make_adapter()
    fills = await restarted.fills(since=start)
    assert [(f.symbol, f.side) for f in fills] == [("ETH", "buy"), ("ETH", "sell")]
    assert all(f.client_order_id is None for f in fills)  # trades do not carry it
    assert fills[1].realized_pnl == 0


async def test_funding_payments(adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures) -> None:
    start = venue.client_clock()
    await adapter.submit(order("buy", "0.01"))
    venue.advance(3600)
    venue.pay_funding("BTC", "0.0001")
    venue.advance(8 * 3600)
    venue.set_mark("BTC", 61000)
    venue.pay_funding("BTC", "-0.0002")
    payments = await adapter.funding(since=start)
    assert [(p.symbol, p.rate, p.payment, p.position_size) for p in payments] == [
        ("BTC", D("0.0001"), D("-0.06"), D("0.010")),
        ("BTC", D("-0.0002"), D("0.122"), D("0.010")),
    ]


async def test_account_reading(adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures) -> None:
    await adapter.set_leverage(symbol="BTC", leverage=10, isolated=True)
    await adapter.submit(order("buy", "0.01"))
    venue.set_mark("BTC", 61000)
    account = await adapter.account()
    wallet = venue.account(KEY).balance
    assert account.unrealized_pnl == D("10")
    assert account.equity == wallet + 10
    assert account.margin_used == D("61")
    (position,) = account.positions
    assert (position.symbol, position.size, position.entry_price, position.mark_price) == (
        "BTC",
        D("0.01"),
        D("60000"),
        D("61000"),
    )
    assert (position.leverage, position.isolated, position.liquidation_price) == (10, True, None)
    assert account.taken_at == venue.client_clock()


async def test_leverage_and_an_unchanged_margin_type(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.set_leverage(symbol="ETH", leverage=5, isolated=False)  # already cross: -4046
    await adapter.set_leverage(symbol="ETH", leverage=7, isolated=False)
    assert venue.account(KEY).leverage["ETHUSDT"] == 7
    assert venue.account(KEY).margin_type.get("ETHUSDT", "CROSSED") == "CROSSED"
    with pytest.raises(VenueError):
        await adapter.set_leverage(symbol="ETH", leverage=500, isolated=False)


async def test_rules_from_exchange_info_and_brackets(adapter: BinanceFuturesAdapter) -> None:
    rules = await adapter.rules()
    assert set(rules) == {"BTC", "ETH", "SOL"}
    assert (rules["BTC"].tick_size, rules["BTC"].max_leverage) == (D("0.1"), 125)
    assert await adapter.rules() is rules  # cached


async def test_validate_accepts_a_one_way_account(adapter: BinanceFuturesAdapter) -> None:
    check = await adapter.validate()
    assert check.problems == ()
    assert check.can_withdraw is None


async def test_validate_reports_hedge_mode_and_bnb_fees(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    venue.account(KEY).hedge_mode = True
    venue.account(KEY).fee_burn = True
    problems = (await adapter.validate()).problems
    assert len(problems) == 2
    assert "hedge mode" in problems[0]
    assert "BNB" in problems[1]


async def test_validate_reads_the_key_permissions_where_served(
    make_adapter: AdapterFactory, venue: FakeBinanceFutures
) -> None:
    adapter = make_adapter(permissions_url=venue.base_url)
    check = await adapter.validate()
    assert (check.problems, check.can_withdraw) == ((), False)
    venue.account(KEY).permissions["enableWithdrawals"] = True
    venue.account(KEY).permissions["enableFutures"] = False
    check = await adapter.validate()
    assert check.can_withdraw is True
    assert [p.split(";")[0] for p in check.problems] == [
        "this API key may withdraw funds",
        "this API key is not enabled for futures trading",
    ]
    venue.serves_key_permissions = False  # as on testnet and demo: unknown, not a problem
    check = await adapter.validate()
    assert (check.problems, check.can_withdraw) == ((), None)


@pytest.mark.parametrize(("key", "secret"), [("unknown-key", SECRET), (KEY, "wrong-secret")])
async def test_validate_reports_a_refused_key(
    make_adapter: AdapterFactory, key: str, secret: str
) -> None:
    check = await make_adapter(key=key, secret=secret).validate()
    assert len(check.problems) == 1
    assert "refused the API key" in check.problems[0]


async def test_dead_man_switch_fires_at_the_venue(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    resting = await adapter.submit(order("buy", "0.01", price="59000"))
    await adapter.arm_dead_man(seconds=30)
    assert venue.requests_to("/fapi/v1/countdownCancelAll")[-1].params["countdownTime"] == "30000"
    venue.advance(29)
    assert (await adapter.open_orders())[0].client_order_id == resting.client_order_id
    venue.advance(2)
    assert await adapter.open_orders() == []
    assert venue.account(KEY).countdowns_fired == ["BTCUSDT"]


async def test_dead_man_re_armed_and_disarmed_does_not_fire(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.submit(order("buy", "0.01", price="59000"))
    await adapter.arm_dead_man(seconds=30)
    venue.advance(20)
    await adapter.arm_dead_man(seconds=30)  # the heartbeat
    venue.advance(20)
    assert len(await adapter.open_orders()) == 1
    await adapter.disarm_dead_man()
    assert venue.requests_to("/fapi/v1/countdownCancelAll")[-1].params["countdownTime"] == "0"
    venue.advance(120)
    assert len(await adapter.open_orders()) == 1
    assert venue.account(KEY).countdowns_fired == []


async def test_dead_man_covers_a_symbol_traded_after_arming(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    await adapter.arm_dead_man(seconds=10)
    assert venue.requests_to("/fapi/v1/countdownCancelAll") == []  # nothing in play yet
    await adapter.submit(order("sell", "0.1", symbol="ETH", price="3100"))
    paths = [r.path for r in venue.requests if r.method == "POST"]
    assert paths.index("/fapi/v1/countdownCancelAll") < paths.index("/fapi/v1/order")
    venue.advance(11)
    assert await adapter.open_orders() == []


@pytest.mark.parametrize("jump_ms", [-30_000, 5_000])  # past recvWindow; > 1 s ahead
async def test_reads_resync_the_clock_after_1021(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures, jump_ms: int
) -> None:
    venue.client_skew_ms = 3_000  # ahead by 3 s: measured at the first call
    await adapter.account()
    assert len(venue.requests_to("/fapi/v1/time")) == 1
    venue.client_skew_ms = 3_000 + jump_ms  # then our clock jumps
    await adapter.account()
    assert len(venue.requests_to("/fapi/v1/time")) == 2
    assert len(venue.requests_to("/fapi/v3/account")) == 3  # ok, -1021, ok


async def test_reads_retry_a_5xx(adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures) -> None:
    venue.fail_next(Fault("status", path="/fapi/v3/account", method="GET", status=502, body="down"))
    account = await adapter.account()
    assert account.equity == D("10000")
    assert len(venue.requests_to("/fapi/v3/account")) == 2


async def test_reads_give_up_after_the_attempts(
    make_adapter: AdapterFactory, venue: FakeBinanceFutures
) -> None:
    adapter = make_adapter(attempts=2)
    for _ in range(2):
        venue.fail_next(Fault("status", path="/fapi/v3/account", method="GET", status=503))
    with pytest.raises(VenueError) as failed:
        await adapter.account()
    assert failed.value.code == "VENUE_UNAVAILABLE"


async def test_a_rate_limit_is_not_retried(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    venue.fail_next(Fault("429", path="/fapi/v3/account", method="GET", retry_after=7))
    with pytest.raises(VenueError) as limited:
        await adapter.account()
    assert (limited.value.code, limited.value.retry_after) == ("VENUE_RATE_LIMITED", 7.0)
    assert len(venue.requests_to("/fapi/v3/account")) == 1
    # Until the pause has passed nothing reaches the venue, orders included.
    venue.advance(5)
    before = len(venue.requests)
    with pytest.raises(VenueError) as still:
        await adapter.open_orders()
    assert (still.value.code, still.value.retry_after) == ("VENUE_RATE_LIMITED", 2.0)
    assert len(venue.requests) == before
    venue.advance(2)
    assert (await adapter.account()).equity == D("10000")


async def test_listen_key_keepalive_and_expiry(
    adapter: BinanceFuturesAdapter, venue: FakeBinanceFutures
) -> None:
    key = await adapter.open_listen_key()
    venue.advance(50 * 60)
    await adapter.keep_listen_key()
    venue.advance(50 * 60)  # within the extended hour
    await adapter.keep_listen_key()
    assert venue.account(KEY).listen_key == key
    venue.advance(61 * 60)
    with pytest.raises(VenueError) as expired:
        await adapter.keep_listen_key()
    assert "-1125" in expired.value.message
    assert await adapter.open_listen_key() != key


async def test_the_connector_opens_binance_at_the_configured_url(
    venue: FakeBinanceFutures,
) -> None:
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        binance_futures_base_url=venue.base_url,
        secret_key="x" * 40,
    )
    adapter = venue_connector(settings)(BinanceCredentials("demo", KEY, SECRET))
    try:
        assert (adapter.venue, adapter.environment) == ("binance", "demo")
        check = await adapter.validate()
        assert (check.problems, check.can_withdraw) == ((), False)
    finally:
        await adapter.aclose()
    assert venue.requests_to("/fapi/v1/positionSide/dual")


def test_hosts_by_environment() -> None:
    assert HOSTS == {
        "mainnet": "https://fapi.binance.com",
        "testnet": "https://testnet.binancefuture.com",
        "demo": "https://demo-fapi.binance.com",
    }


async def test_the_fake_can_follow_the_wall_clock_for_a_real_time_client() -> None:
    async with fake_binance_futures(wall_clock=True) as wall:
        wall.add_key(KEY, SECRET)
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            binance_futures_base_url=wall.base_url,
            secret_key="x" * 40,
        )
        adapter = venue_connector(settings)(BinanceCredentials("testnet", KEY, SECRET))
        try:
            assert (await adapter.account()).equity == D("10000")
        finally:
            await adapter.aclose()
        # The adapter's real clock needed no correction: one time read, no -1021.
        assert len(wall.requests_to("/fapi/v3/account")) == 1
