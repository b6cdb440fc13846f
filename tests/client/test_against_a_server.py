"""The client against a real server on loopback: the async client through a trader's
life (orders, positions, a backtest), the sync client from a thread, errors in the
contract's shape, and the token kept and dropped by login and logout."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from hyperoru.client import (
    AsyncClient,
    Backtest,
    Client,
    HyperoruError,
    Order,
    Position,
    Trader,
    User,
)
from tests.backtests.support import END, START, TAKING_TURNS
from tests.client.conftest import base_url
from tests.helpers import STRONG_PASSWORD
from tests.realtime.conftest import LiveServer


async def test_a_trader_places_an_order_and_reads_its_position(server: LiveServer) -> None:
    async with AsyncClient(base_url(server)) as api:
        user = await api.register("alice", STRONG_PASSWORD)
        assert isinstance(user, User) and user.username == "alice"
        login = await api.login("alice", STRONG_PASSWORD)
        assert api.token == login.session_token and api.token.startswith("hyo_")
        assert login.user.id == user.id
        assert (await api.get_profile()).id == user.id

        trader = await api.create_trader("client-bot")
        assert isinstance(trader, Trader) and trader.name == "client-bot"
        assert [t.id for t in await api.list_traders()] == [trader.id]

        order = await api.create_order(
            account_id=trader.id, symbol="BTC", side="buy", order_type="market",
            quantity=Decimal("0.01"), leverage=2,
        )  # fmt: skip
        assert isinstance(order, Order) and order.status == "pending"
        assert order.quantity == Decimal("0.01")
        execution = await api.execute_order(order.id)
        assert execution.execution_status == "filled", execution.raw

        positions = await api.list_positions(trader.id)
        assert [(p.symbol, p.side, p.size) for p in positions] == [("BTC", "long", Decimal("0.01"))]
        assert isinstance(positions[0], Position) and isinstance(positions[0].entry_price, Decimal)
        assert positions[0].opened_at is not None and positions[0].opened_at.tzinfo is not None
        fills = await api.list_trades(trader.id)
        assert [f.order_id for f in fills] == [order.id]
        # Fields the model does not declare are still there, by attribute and by key.
        assert positions[0].liquidation_price == positions[0]["liquidation_price"]


async def test_a_backtest_is_submitted_and_polled_to_its_end(server: LiveServer) -> None:
    polls: list[float] = []

    async def poll_pause(seconds: float) -> None:
        polls.append(seconds)
        await asyncio.sleep(0.05)  # lets the server's job run; no timing is asserted

    async with AsyncClient(base_url(server), sleep=poll_pause) as api:
        await api.register("bob", STRONG_PASSWORD)
        await api.login("bob", STRONG_PASSWORD)
        program = await api.create_program("turns", TAKING_TURNS)
        assert program.enabled is True
        assert (await api.validate_program(TAKING_TURNS))["valid"] is True
        job = await api.create_backtest(
            program_id=program.id,
            config={"symbols": ["BTC"], "start_date": START, "end_date": END, "interval": "1h"},
        )
        assert isinstance(job, Backtest) and not job.done
        done = await api.wait_backtest(job.id, interval=0.25)
        assert done.status == "completed", done.raw
        assert done.total_trades and done.total_trades > 0
        assert set(polls) <= {0.25}
        trades = await api.list_backtest_trades(job.id, limit=2)
        assert len(trades) == min(2, done.total_trades)
        paged = [t async for t in api.pages("list_backtest_trades", job.id, page_size=2)]
        assert paged == await api.list_backtest_trades(job.id, limit=1000)
        assert len(paged) == done.total_trades
        assert [b.id for b in await api.list_backtests()] == [job.id]


async def test_errors_carry_the_contract_shape_and_logout_drops_the_token(
    server: LiveServer,
) -> None:
    async with AsyncClient(base_url(server)) as api:
        await api.register("carol", STRONG_PASSWORD)
        with pytest.raises(HyperoruError) as wrong:
            await api.login("carol", "not the password at all")
        assert (wrong.value.status, wrong.value.code) == (401, "INVALID_CREDENTIALS")
        await api.login("carol", STRONG_PASSWORD)
        with pytest.raises(HyperoruError) as missing:
            await api.get_trader(424242)
        error = missing.value
        assert (error.status, error.code) == (404, "ACCOUNT_NOT_FOUND")
        assert error.message and error.request_id and error.request_id.startswith("req_")
        token = api.token
        await api.logout()
        assert api.token is None
        # The server forgot the token too, not only the client.
        async with AsyncClient(base_url(server), token=token) as stale:
            with pytest.raises(HyperoruError) as refused:
                await stale.get_profile()
            assert refused.value.status == 401


async def test_the_sync_client_does_the_same_from_a_thread(server: LiveServer) -> None:
    url = base_url(server)

    def script() -> tuple[str, list[str], str]:
        with Client(url) as api:
            api.register("dave", STRONG_PASSWORD)
            token = api.login(username="dave", password=STRONG_PASSWORD).session_token
        with Client(url, token=token) as api:
            api.create_trader(name="sync-bot", description="made by the sync client")
            api.create_trader(name="second-bot")
            names = [t.name for t in api.pages("list_traders", page_size=1)]
            try:
                api.get_backtest(999)
            except HyperoruError as error:
                code = error.code
        return token, names, code

    # The server runs in this test's event loop: the blocking client must not.
    token, names, code = await asyncio.to_thread(script)
    assert token.startswith("hyo_")
    assert sorted(names) == ["second-bot", "sync-bot"]
    assert code == "BACKTEST_NOT_FOUND"
