"""A fake Binance USDⓈ-M futures venue: a real HTTP/1.1 server on 127.0.0.1:0.

It checks requests as the venue does: the API key (-2014/-2015), the HMAC-SHA256 over the
raw query string and raw form body exactly as received (-1022), and the timestamp against
its own settable clock (-1021). Behind that, a small matching model per account: MARKET
orders fill at the mark price the test sets, LIMIT orders rest until the test moves the
mark across them, GTX refuses to match (-5022), reduce-only (-2022), minimum notional
(-4164), tick and step (-4014/-1111), margin (-2019), conditional orders only on the algo
service (-4120 on the old path, -2021 if they would trigger at once), one-way positions,
userTrades with commission, income (commission, realized PnL, funding), leverage, margin
type, position mode, countdownCancelAll, listen keys, and the spot host's read of a key's
permissions (``/sapi/v1/account/apiRestrictions``), which the fake stands in for too.

The test drives time (``advance``), prices (``set_mark``), funding (``pay_funding``) and
faults (``fail_next``): 503 unknown outcome (order taken or not), accept-then-hang,
accept-then-drop, partial fill, 429 with Retry-After. ``client_clock`` is the clock to
hand to the adapter; ``client_skew_ms`` puts it off the venue's clock.

Any test can stand the fake in for Binance: ``async with fake_binance_futures(wall_clock=
True) as venue``, ``venue.add_key(key, secret)``, ``venue.set_mark("BTC", 60000)``, and
settings with ``binance_futures_base_url=venue.base_url``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_DOWN, Decimal
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.fakes.http_requests import read_request

D = Decimal
ZERO = D(0)
HALF = D("0.5")
START_MS = 1_767_225_600_000  # 2026-01-01T00:00:00Z
LISTEN_KEY_MS = 60 * 60 * 1000
WEEK_MS = 7 * 24 * 3600 * 1000
MAKER_FEE = D("0.0002")
TAKER_FEE = D("0.0005")
CONDITIONAL_TYPES = {"STOP", "STOP_MARKET", "TAKE_PROFIT", "TAKE_PROFIT_MARKET"}
OLD_PATH_REFUSED = CONDITIONAL_TYPES | {"TRAILING_STOP_MARKET"}


@dataclass(frozen=True)
class PairRules:
    tick: Decimal
    step: Decimal
    min_notional: Decimal
    max_leverage: int


DEFAULT_PAIRS = {
    "BTCUSDT": PairRules(D("0.1"), D("0.001"), D("100"), 125),
    "ETHUSDT": PairRules(D("0.01"), D("0.001"), D("20"), 100),
    "SOLUSDT": PairRules(D("0.01"), D("1"), D("5"), 50),
}


def text(value: Decimal) -> str:
    return format(value.normalize(), "f") if value else "0"


class VenueReject(Exception):
    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status


@dataclass
class Fault:
    """What the next matching request gets instead of (or after) normal handling.

    kind: ``"503"`` (answer 503 "Unknown error…"; ``taken`` says whether the order was
    processed first), ``"hang"`` (process, then never answer), ``"drop"`` (process, then
    close the connection), ``"partial"`` (fill only ``fraction`` of the order),
    ``"429"`` (refuse with Retry-After, nothing processed), ``"status"`` (answer
    ``status`` with ``body``, nothing processed).
    """

    kind: str
    path: str | None = "/fapi/v1/order"
    method: str | None = "POST"
    taken: bool = True
    fraction: Decimal = HALF
    retry_after: int = 7
    status: int = 500
    body: Any = None


@dataclass
class Order:
    order_id: int
    client_id: str
    pair: str
    side: str
    type: str
    qty: Decimal
    price: Decimal
    tif: str
    reduce_only: bool
    time: int
    status: str = "NEW"
    executed: Decimal = ZERO
    cum_quote: Decimal = ZERO
    update_time: int = 0

    def json(self) -> dict[str, Any]:
        avg = self.cum_quote / self.executed if self.executed else D(0)
        return {
            "orderId": self.order_id,
            "symbol": self.pair,
            "status": self.status,
            "clientOrderId": self.client_id,
            "price": text(self.price),
            "avgPrice": text(avg.quantize(D("0.00001"))) if avg else "0.00000",
            "origQty": text(self.qty),
            "executedQty": text(self.executed),
            "cumQuote": text(self.cum_quote),
            "timeInForce": self.tif,
            "type": self.type,
            "origType": self.type,
            "reduceOnly": self.reduce_only,
            "closePosition": False,
            "side": self.side,
            "positionSide": "BOTH",
            "stopPrice": "0",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "time": self.time,
            "updateTime": self.update_time or self.time,
        }


@dataclass
class AlgoOrder:
    algo_id: int
    client_id: str
    pair: str
    side: str
    type: str
    qty: Decimal
    trigger: Decimal
    price: Decimal
    tif: str
    reduce_only: bool
    working_type: str
    time: int
    status: str = "NEW"
    update_time: int = 0
    trigger_time: int = 0
    actual_order_id: int | None = None
    executed: Decimal = ZERO
    avg: Decimal = ZERO

    def triggers_at(self, mark: Decimal) -> bool:
        stop = self.type.startswith("STOP")
        if self.side == "BUY":
            return mark >= self.trigger if stop else mark <= self.trigger
        return mark <= self.trigger if stop else mark >= self.trigger

    def json(self) -> dict[str, Any]:
        return {
            "algoId": self.algo_id,
            "clientAlgoId": self.client_id,
            "algoType": "CONDITIONAL",
            "orderType": self.type,
            "symbol": self.pair,
            "side": self.side,
            "positionSide": "BOTH",
            "timeInForce": self.tif,
            "quantity": text(self.qty),
            "algoStatus": self.status,
            "triggerPrice": text(self.trigger),
            "price": text(self.price),
            "workingType": self.working_type,
            "closePosition": False,
            "priceProtect": False,
            "reduceOnly": self.reduce_only,
            "createTime": self.time,
            "updateTime": self.update_time or self.time,
            "triggerTime": self.trigger_time,
            "actualOrderId": str(self.actual_order_id) if self.actual_order_id else "",
            "executedQty": text(self.executed),
            "avgPrice": text(self.avg),
        }


@dataclass
class Position:
    amt: Decimal = ZERO
    entry: Decimal = ZERO


@dataclass
class Account:
    api_key: str
    secret: str
    balance: Decimal
    hedge_mode: bool = False
    fee_burn: bool = False
    positions: dict[str, Position] = field(default_factory=dict)
    orders: dict[int, Order] = field(default_factory=dict)
    algos: dict[int, AlgoOrder] = field(default_factory=dict)
    trades: list[dict[str, Any]] = field(default_factory=list)
    income: list[dict[str, Any]] = field(default_factory=list)
    leverage: dict[str, int] = field(default_factory=dict)
    margin_type: dict[str, str] = field(default_factory=dict)
    countdowns: dict[str, int] = field(default_factory=dict)  # pair → deadline (venue ms)
    countdowns_fired: list[str] = field(default_factory=list)
    # What /sapi/v1/account/apiRestrictions (the spot host's key permissions) says.
    permissions: dict[str, Any] = field(
        default_factory=lambda: {
            "ipRestrict": False,
            "enableReading": True,
            "enableFutures": True,
            "enableWithdrawals": False,
            "enableInternalTransfer": False,
            "permitsUniversalTransfer": False,
            "enableSpotAndMarginTrading": False,
        }
    )
    listen_key: str | None = None
    listen_key_expires: int = 0

    def open_orders(self, pair: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.status in ("NEW", "PARTIALLY_FILLED") and (pair is None or o.pair == pair)
        ]

    def open_algos(self, pair: str | None = None) -> list[AlgoOrder]:
        return [
            a for a in self.algos.values() if a.status == "NEW" and (pair is None or a.pair == pair)
        ]

    def orders_with_client_id(self, client_id: str) -> list[Order | AlgoOrder]:
        found: list[Order | AlgoOrder] = [
            o for o in self.orders.values() if o.client_id == client_id
        ]
        return found + [a for a in self.algos.values() if a.client_id == client_id]


@dataclass
class Recorded:
    method: str
    path: str
    params: dict[str, str]


class FakeBinanceFutures:
    def __init__(
        self, pairs: dict[str, PairRules] | None = None, *, wall_clock: bool = False
    ) -> None:
        self.pairs = dict(pairs or DEFAULT_PAIRS)
        # A test that drives time itself starts at START_MS and moves only by ``advance``.
        # ``wall_clock`` follows real time instead (plus whatever ``advance`` adds), for
        # tests whose client uses the real clock (an app opening adapters through its
        # settings).
        self._wall_clock = wall_clock
        self._clock_ms = 0 if wall_clock else START_MS
        self.client_skew_ms = 0
        self.marks: dict[str, Decimal] = {}
        self.accounts: dict[str, Account] = {}
        self.funding_history: dict[str, list[dict[str, Any]]] = {}
        self.faults: list[Fault] = []
        self.requests: list[Recorded] = []
        # Testnet and demo have no spot host that knows their keys: switch this off to
        # answer the permission read with a 404 as they would.
        self.serves_key_permissions = True
        self.port = 0
        self._ids = 1000
        self._trade_ids: dict[str, int] = {}
        self._tran_id = 9_000_000
        self._handlers: set[asyncio.Task[None]] = set()

    # -- the test's API ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def client_clock(self) -> datetime:
        """The adapter's clock: the venue's time, off by ``client_skew_ms``."""
        return datetime.fromtimestamp((self.now_ms + self.client_skew_ms) / 1000, tz=UTC)

    def add_key(self, api_key: str, secret: str, *, balance: Decimal = D("10000")) -> Account:
        account = Account(api_key, secret, balance)
        self.accounts[api_key] = account
        return account

    def account(self, api_key: str) -> Account:
        return self.accounts[api_key]

    def fail_next(self, fault: Fault) -> None:
        self.faults.append(fault)

    def requests_to(self, path: str, method: str | None = None) -> list[Recorded]:
        return [r for r in self.requests if r.path == path and method in (None, r.method)]

    def set_mark(self, symbol: str, price: Decimal | str | int) -> None:
        """Move the mark price; resting limits it crosses fill, conditional orders it
        reaches trigger."""
        pair = symbol if symbol.endswith("USDT") else f"{symbol}USDT"
        self.marks[pair] = D(str(price))
        for account in self.accounts.values():
            self._match_resting(account, pair)
            self._trigger_algos(account, pair)

    @property
    def now_ms(self) -> int:
        """The venue's clock."""
        return self._clock_ms + (int(time.time() * 1000) if self._wall_clock else 0)

    def advance(self, seconds: float) -> None:
        """Move the venue's clock (and the client's with it); countdowns that run out
        cancel their symbol's open orders."""
        self._clock_ms += int(seconds * 1000)
        self._fire_countdowns()

    def _fire_countdowns(self) -> None:
        for account in self.accounts.values():
            for pair, deadline in sorted(account.countdowns.items()):
                if deadline <= self.now_ms:
                    del account.countdowns[pair]
                    account.countdowns_fired.append(pair)
                    for order in account.open_orders(pair):
                        self._close(order, "CANCELED")

    def pay_funding(self, symbol: str, rate: Decimal | str) -> None:
        """Settle funding now at ``rate`` on every position in ``symbol``."""
        pair = symbol if symbol.endswith("USDT") else f"{symbol}USDT"
        rate = D(str(rate))
        mark = self.marks[pair]
        self.funding_history.setdefault(pair, []).append(
            {
                "symbol": pair,
                "fundingRate": text(rate),
                "fundingTime": self.now_ms,
                "markPrice": text(mark),
            }
        )
        for account in self.accounts.values():
            position = account.positions.get(pair)
            if position is None or position.amt == 0:
                continue
            payment = -position.amt * mark * rate
            account.balance += payment
            self._income(account, pair, "FUNDING_FEE", payment, time=self.now_ms + 3)

    # -- matching ----------------------------------------------------------------------

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def _rules(self, pair: str) -> PairRules:
        if pair not in self.pairs:
            raise VenueReject(-1121, "Invalid symbol.")
        return self.pairs[pair]

    def _income(
        self,
        account: Account,
        pair: str,
        kind: str,
        amount: Decimal,
        *,
        time: int,
        trade_id: str = "",
    ) -> None:
        self._tran_id += 1
        account.income.append(
            {
                "symbol": pair,
                "incomeType": kind,
                "income": text(amount),
                "asset": "USDT",
                "info": kind,
                "time": time,
                "tranId": self._tran_id,
                "tradeId": trade_id,
            }
        )

    def _fill(
        self, account: Account, order: Order, qty: Decimal, price: Decimal, maker: bool
    ) -> None:
        pair = order.pair
        position = account.positions.setdefault(pair, Position())
        signed = qty if order.side == "BUY" else -qty
        realized = D(0)
        if position.amt == 0 or (position.amt > 0) == (signed > 0):
            total = abs(position.amt) + qty
            position.entry = (abs(position.amt) * position.entry + qty * price) / total
            position.amt += signed
        else:
            closed = min(abs(position.amt), qty)
            direction = 1 if position.amt > 0 else -1
            realized = closed * (price - position.entry) * direction
            position.amt += signed
            if position.amt == 0:
                position.entry = D(0)
            elif (position.amt > 0) != (direction > 0):
                position.entry = price  # flipped: the rest opened at this price
        commission = (qty * price * (MAKER_FEE if maker else TAKER_FEE)).quantize(D("0.00000001"))
        account.balance += realized - commission
        trade_id = self._trade_ids.get(pair, 0) + 1
        self._trade_ids[pair] = trade_id
        account.trades.append(
            {
                "buyer": order.side == "BUY",
                "commission": text(commission),
                "commissionAsset": "USDT",
                "id": trade_id,
                "maker": maker,
                "orderId": order.order_id,
                "price": text(price),
                "qty": text(qty),
                "quoteQty": text(qty * price),
                "realizedPnl": text(realized),
                "side": order.side,
                "positionSide": "BOTH",
                "symbol": pair,
                "time": self.now_ms,
            }
        )
        self._income(
            account, pair, "COMMISSION", -commission, time=self.now_ms, trade_id=str(trade_id)
        )
        if realized:
            self._income(
                account, pair, "REALIZED_PNL", realized, time=self.now_ms, trade_id=str(trade_id)
            )
        order.executed += qty
        order.cum_quote += qty * price
        order.update_time = self.now_ms
        order.status = "FILLED" if order.executed >= order.qty else "PARTIALLY_FILLED"

    def _close(self, order: Order, status: str) -> None:
        order.status = status
        order.update_time = self.now_ms

    def _crosses(self, order: Order, mark: Decimal) -> bool:
        return mark <= order.price if order.side == "BUY" else mark >= order.price

    def _match_resting(self, account: Account, pair: str) -> None:
        mark = self.marks[pair]
        for order in account.open_orders(pair):
            if order.type == "LIMIT" and self._crosses(order, mark):
                self._fill(account, order, order.qty - order.executed, order.price, maker=True)

    def _trigger_algos(self, account: Account, pair: str) -> None:
        mark = self.marks[pair]
        for algo in account.open_algos(pair):
            if not algo.triggers_at(mark):
                continue
            algo.trigger_time = self.now_ms
            algo.update_time = self.now_ms
            market = algo.type.endswith("_MARKET")
            try:
                order = self._new_order(
                    account,
                    {
                        "symbol": pair,
                        "side": algo.side,
                        "type": "MARKET" if market else "LIMIT",
                        "quantity": text(algo.qty),
                        "price": text(algo.price),
                        "timeInForce": algo.tif,
                        "reduceOnly": "true" if algo.reduce_only else "false",
                        "newClientOrderId": f"autoalgo-{algo.algo_id}",
                    },
                    None,
                )
            except VenueReject:
                algo.status = "EXPIRED"
                continue
            algo.actual_order_id = order.order_id
            algo.executed = order.executed
            algo.avg = order.cum_quote / order.executed if order.executed else D(0)
            algo.status = (
                "FINISHED" if order.status not in ("NEW", "PARTIALLY_FILLED") else "TRIGGERED"
            )

    def _check_reduce_only(self, account: Account, pair: str, side: str, qty: Decimal) -> None:
        amt = account.positions.get(pair, Position()).amt
        reduces = (amt > 0 and side == "SELL") or (amt < 0 and side == "BUY")
        if not reduces or qty > abs(amt):
            raise VenueReject(-2022, "ReduceOnly Order is rejected.")

    def _available(self, account: Account) -> Decimal:
        used = D(0)
        unrealized = D(0)
        for pair, position in account.positions.items():
            mark = self.marks.get(pair, position.entry)
            used += abs(position.amt) * mark / account.leverage.get(pair, 20)
            unrealized += position.amt * (mark - position.entry)
        return account.balance + unrealized - used

    def _new_order(self, account: Account, p: dict[str, str], fault: Fault | None) -> Order:
        order_type = p.get("type", "")
        if order_type in OLD_PATH_REFUSED:
            raise VenueReject(
                -4120,
                "Order type not supported for this endpoint. Please use the Algo Order API"
                " endpoints instead.",
            )
        pair = p.get("symbol", "")
        rules = self._rules(pair)
        if order_type not in ("MARKET", "LIMIT"):
            raise VenueReject(-1116, "Invalid orderType.")
        side = p.get("side", "")
        qty = D(p.get("quantity", "0"))
        if qty <= 0 or qty % rules.step:
            raise VenueReject(-1111, "Precision is over the maximum defined for this asset.")
        price = D(p.get("price", "0"))
        if order_type == "LIMIT" and (price <= 0 or price % rules.tick):
            raise VenueReject(-4014, "Price not increased by tick size.")
        client_id = p.get("newClientOrderId") or f"auto-{self._next_id()}"
        if any(o.client_id == client_id for o in account.open_orders()):
            raise VenueReject(-4116, "ClientOrderId is duplicated.")
        reduce_only = p.get("reduceOnly") == "true"
        if reduce_only:
            self._check_reduce_only(account, pair, side, qty)
        mark = self.marks.get(pair)
        if mark is None:
            raise VenueReject(-1121, "Invalid symbol.")
        notional = qty * (price if order_type == "LIMIT" else mark)
        if not reduce_only and notional < rules.min_notional:
            raise VenueReject(
                -4164,
                f"Order's notional must be no smaller than {text(rules.min_notional)}"
                " (unless you choose reduce only).",
            )
        if not reduce_only and notional / account.leverage.get(pair, 20) > self._available(account):
            raise VenueReject(-2019, "Margin is insufficient.")
        tif = p.get("timeInForce", "GTC")
        crosses = order_type == "MARKET" or (mark <= price if side == "BUY" else mark >= price)
        if tif == "GTX" and crosses:
            raise VenueReject(
                -5022,
                "Due to the order could not be executed as maker, the Post Only order will be"
                " rejected. The order will not be recorded in the order history",
            )
        order = Order(
            self._next_id(),
            client_id,
            pair,
            side,
            order_type,
            qty,
            price,
            tif,
            reduce_only,
            self.now_ms,
        )
        account.orders[order.order_id] = order
        if crosses:
            fill_qty = qty
            if fault is not None and fault.kind == "partial":
                fill_qty = (qty * fault.fraction / rules.step).to_integral_value(
                    ROUND_DOWN
                ) * rules.step
            if fill_qty:
                self._fill(account, order, fill_qty, mark, maker=False)
            if order.executed < qty and (order_type == "MARKET" or tif == "IOC"):
                self._close(order, "EXPIRED")
        elif tif == "IOC":
            self._close(order, "EXPIRED")
        return order

    def _new_algo(self, account: Account, p: dict[str, str]) -> AlgoOrder:
        if p.get("algoType") != "CONDITIONAL":
            raise VenueReject(-1116, "Invalid algoType.")
        order_type = p.get("type", "")
        if order_type not in CONDITIONAL_TYPES:
            raise VenueReject(-1116, "Invalid orderType.")
        pair = p.get("symbol", "")
        rules = self._rules(pair)
        qty = D(p.get("quantity", "0"))
        if qty <= 0 or qty % rules.step:
            raise VenueReject(-1111, "Precision is over the maximum defined for this asset.")
        trigger = D(p.get("triggerPrice", "0"))
        if trigger <= 0 or trigger % rules.tick:
            raise VenueReject(-4014, "Price not increased by tick size.")
        client_id = p.get("clientAlgoId") or f"autoalgo-{self._next_id()}"
        if any(a.client_id == client_id for a in account.open_algos()):
            raise VenueReject(-4116, "ClientOrderId is duplicated.")
        algo = AlgoOrder(
            self._next_id(),
            client_id,
            pair,
            p.get("side", ""),
            order_type,
            qty,
            trigger,
            D(p.get("price", "0")),
            p.get("timeInForce", "GTC"),
            p.get("reduceOnly") == "true",
            p.get("workingType", "CONTRACT_PRICE"),
            self.now_ms,
        )
        if pair in self.marks and algo.triggers_at(self.marks[pair]):
            raise VenueReject(-2021, "Order would immediately trigger.")
        account.algos[algo.algo_id] = algo
        return algo

    # -- endpoints ---------------------------------------------------------------------

    def _find_order(self, account: Account, p: dict[str, str]) -> Order:
        for order in account.orders.values():
            if order.pair == p.get("symbol") and (
                str(order.order_id) == p.get("orderId")
                or order.client_id == p.get("origClientOrderId")
            ):
                return order
        raise VenueReject(-2013, "Order does not exist.")

    def _find_algo(self, account: Account, p: dict[str, str]) -> AlgoOrder:
        for algo in account.algos.values():
            if str(algo.algo_id) == p.get("algoId") or algo.client_id == p.get("clientAlgoId"):
                return algo
        raise VenueReject(-2013, "Order does not exist.")

    def _account_json(self, account: Account) -> dict[str, Any]:
        unrealized = D(0)
        initial = D(0)
        positions = []
        for pair, position in account.positions.items():
            if position.amt == 0:
                continue
            mark = self.marks.get(pair, position.entry)
            upnl = position.amt * (mark - position.entry)
            im = abs(position.amt) * mark / account.leverage.get(pair, 20)
            unrealized += upnl
            initial += im
            positions.append(
                {
                    "symbol": pair,
                    "positionSide": "BOTH",
                    "positionAmt": text(position.amt),
                    "unrealizedProfit": text(upnl),
                    "initialMargin": text(im),
                    "updateTime": self.now_ms,
                }
            )
        return {
            "totalInitialMargin": text(initial),
            "totalMaintMargin": text(initial / 10),
            "totalWalletBalance": text(account.balance),
            "totalUnrealizedProfit": text(unrealized),
            "totalMarginBalance": text(account.balance + unrealized),
            "availableBalance": text(self._available(account)),
            "maxWithdrawAmount": text(self._available(account)),
            "assets": [],
            "positions": positions,
        }

    def _position_risk(self, account: Account) -> list[dict[str, Any]]:
        rows = []
        for pair, position in account.positions.items():
            has_orders = bool(account.open_orders(pair))
            if position.amt == 0 and not has_orders:
                continue
            mark = self.marks.get(pair, position.entry)
            im = abs(position.amt) * mark / account.leverage.get(pair, 20)
            rows.append(
                {
                    "symbol": pair,
                    "positionSide": "BOTH",
                    "positionAmt": text(position.amt),
                    "entryPrice": text(position.entry),
                    "breakEvenPrice": text(position.entry),
                    "markPrice": text(mark),
                    "unRealizedProfit": text(position.amt * (mark - position.entry)),
                    "liquidationPrice": "0",
                    "isolatedMargin": "0",
                    "notional": text(position.amt * mark),
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": text(im),
                    "maintMargin": text(im / 10),
                    "positionInitialMargin": text(im),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": self.now_ms,
                }
            )
        return rows

    def _exchange_info(self) -> dict[str, Any]:
        symbols = []
        for pair, rules in self.pairs.items():
            symbols.append(
                {
                    "symbol": pair,
                    "pair": pair,
                    "contractType": "PERPETUAL",
                    "status": "TRADING",
                    "baseAsset": pair.removesuffix("USDT"),
                    "quoteAsset": "USDT",
                    "marginAsset": "USDT",
                    "filters": [
                        {
                            "filterType": "PRICE_FILTER",
                            "tickSize": text(rules.tick),
                            "minPrice": "0.1",
                            "maxPrice": "1000000",
                        },
                        {
                            "filterType": "LOT_SIZE",
                            "stepSize": text(rules.step),
                            "minQty": text(rules.step),
                            "maxQty": "1000",
                        },
                        {
                            "filterType": "MARKET_LOT_SIZE",
                            "stepSize": text(rules.step),
                            "minQty": text(rules.step),
                            "maxQty": "120",
                        },
                        {"filterType": "MIN_NOTIONAL", "notional": text(rules.min_notional)},
                        {
                            "filterType": "PERCENT_PRICE",
                            "multiplierUp": "1.05",
                            "multiplierDown": "0.95",
                        },
                    ],
                }
            )
        # A delivery contract and a USDC pair that are not ours to trade.
        symbols.append(
            {
                "symbol": "BTCUSDT_260327",
                "contractType": "CURRENT_QUARTER",
                "status": "TRADING",
                "quoteAsset": "USDT",
                "filters": [],
            }
        )
        symbols.append(
            {
                "symbol": "BTCUSDC",
                "contractType": "PERPETUAL",
                "status": "TRADING",
                "quoteAsset": "USDC",
                "filters": [],
            }
        )
        return {"timezone": "UTC", "serverTime": self.now_ms, "symbols": symbols}

    @staticmethod
    def _window(
        rows: list[dict[str, Any]], p: dict[str, str], *, time_key: str, default_limit: int
    ) -> list[dict[str, Any]]:
        start = int(p.get("startTime", "0"))
        end = int(p["endTime"]) if "endTime" in p else None
        limit = min(int(p.get("limit", default_limit)), 1000)
        chosen = [
            r
            for r in rows
            if int(r[time_key]) >= start and (end is None or int(r[time_key]) <= end)
        ]
        return sorted(chosen, key=lambda r: int(r[time_key]))[:limit]

    def _user_trades(self, account: Account, p: dict[str, str]) -> list[dict[str, Any]]:
        if "symbol" not in p:
            raise VenueReject(
                -1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed."
            )
        rows = [t for t in account.trades if t["symbol"] == p["symbol"]]
        if "fromId" in p:
            if "startTime" in p or "endTime" in p:
                raise VenueReject(-1128, "Combination of optional parameters invalid.")
            limit = min(int(p.get("limit", 500)), 1000)
            return sorted((t for t in rows if t["id"] >= int(p["fromId"])), key=lambda t: t["id"])[
                :limit
            ]
        if (
            "startTime" in p
            and "endTime" in p
            and int(p["endTime"]) - int(p["startTime"]) > WEEK_MS
        ):
            raise VenueReject(-1127, "More than 7 days between startTime and endTime.")
        if "startTime" not in p and "endTime" not in p:
            p = {**p, "startTime": str(self.now_ms - WEEK_MS)}
        return self._window(rows, p, time_key="time", default_limit=500)

    def _dispatch(
        self,
        method: str,
        path: str,
        account: Account | None,
        p: dict[str, str],
        fault: Fault | None,
    ) -> Any:
        assert account is not None or path in PUBLIC
        route = (method, path)
        if route == ("GET", "/fapi/v1/time"):
            return {"serverTime": self.now_ms}
        if route == ("GET", "/fapi/v1/exchangeInfo"):
            return self._exchange_info()
        if route == ("GET", "/fapi/v1/fundingRate"):
            return self._window(
                self.funding_history.get(p.get("symbol", ""), []),
                p,
                time_key="fundingTime",
                default_limit=100,
            )
        assert account is not None
        if route == ("POST", "/fapi/v1/listenKey"):
            if account.listen_key is None or account.listen_key_expires <= self.now_ms:
                account.listen_key = f"lk{self._next_id()}"
            account.listen_key_expires = self.now_ms + LISTEN_KEY_MS
            return {"listenKey": account.listen_key}
        if route == ("PUT", "/fapi/v1/listenKey"):
            if account.listen_key is None or account.listen_key_expires <= self.now_ms:
                account.listen_key = None
                raise VenueReject(-1125, "This listenKey does not exist.")
            account.listen_key_expires = self.now_ms + LISTEN_KEY_MS
            return {"listenKey": account.listen_key}
        if route == ("DELETE", "/fapi/v1/listenKey"):
            account.listen_key = None
            return {}
        if route == ("GET", "/fapi/v3/account"):
            return self._account_json(account)
        if route == ("GET", "/fapi/v3/positionRisk"):
            return self._position_risk(account)
        if route == ("GET", "/fapi/v1/symbolConfig"):
            return [
                {
                    "symbol": pair,
                    "marginType": account.margin_type.get(pair, "CROSSED"),
                    "isAutoAddMargin": "false",
                    "leverage": account.leverage.get(pair, 20),
                    "maxNotionalValue": "1000000",
                }
                for pair in self.pairs
                if p.get("symbol") in (None, pair)
            ]
        if route == ("GET", "/fapi/v1/positionSide/dual"):
            return {"dualSidePosition": account.hedge_mode}
        if route == ("GET", "/sapi/v1/account/apiRestrictions") and self.serves_key_permissions:
            return {**account.permissions, "createTime": START_MS}
        if route == ("GET", "/fapi/v1/feeBurn"):
            return {"feeBurn": account.fee_burn}
        if route == ("GET", "/fapi/v1/leverageBracket"):
            return [
                {
                    "symbol": pair,
                    "brackets": [
                        {
                            "bracket": 1,
                            "initialLeverage": rules.max_leverage,
                            "notionalCap": 50000,
                            "notionalFloor": 0,
                            "maintMarginRatio": 0.004,
                            "cum": 0,
                        }
                    ],
                }
                for pair, rules in self.pairs.items()
            ]
        if route == ("POST", "/fapi/v1/order"):
            return self._new_order(account, p, fault).json()
        if route == ("GET", "/fapi/v1/order"):
            return self._find_order(account, p).json()
        if route == ("DELETE", "/fapi/v1/order"):
            try:
                order = self._find_order(account, p)
            except VenueReject:
                raise VenueReject(-2011, "Unknown order sent.") from None
            if order.status not in ("NEW", "PARTIALLY_FILLED"):
                raise VenueReject(-2011, "Unknown order sent.")
            self._close(order, "CANCELED")
            return order.json()
        if route == ("GET", "/fapi/v1/openOrders"):
            return [o.json() for o in account.open_orders(p.get("symbol"))]
        if route == ("DELETE", "/fapi/v1/allOpenOrders"):
            for order in account.open_orders(p.get("symbol")):
                self._close(order, "CANCELED")
            return {"code": 200, "msg": "The operation of cancel all open order is done."}
        if route == ("POST", "/fapi/v1/algoOrder"):
            return self._new_algo(account, p).json()
        if route == ("GET", "/fapi/v1/algoOrder"):
            return self._find_algo(account, p).json()
        if route == ("DELETE", "/fapi/v1/algoOrder"):
            try:
                algo = self._find_algo(account, p)
            except VenueReject:
                raise VenueReject(-2011, "Unknown order sent.") from None
            if algo.status != "NEW":
                raise VenueReject(-2011, "Unknown order sent.")
            algo.status = "CANCELED"
            algo.update_time = self.now_ms
            return {
                "algoId": algo.algo_id,
                "clientAlgoId": algo.client_id,
                "code": "200",
                "msg": "success",
            }
        if route == ("GET", "/fapi/v1/openAlgoOrders"):
            return [a.json() for a in account.open_algos(p.get("symbol"))]
        if route == ("DELETE", "/fapi/v1/algoOpenOrders"):
            for algo in account.open_algos(p.get("symbol")):
                algo.status = "CANCELED"
                algo.update_time = self.now_ms
            return {"code": 200, "msg": "The operation of cancel all open order is done."}
        if route == ("GET", "/fapi/v1/userTrades"):
            return self._user_trades(account, p)
        if route == ("GET", "/fapi/v1/income"):
            rows = [e for e in account.income if p.get("incomeType") in (None, e["incomeType"])]
            return self._window(rows, p, time_key="time", default_limit=100)
        if route == ("POST", "/fapi/v1/leverage"):
            pair = p.get("symbol", "")
            leverage = int(p.get("leverage", "0"))
            if not 1 <= leverage <= self._rules(pair).max_leverage:
                raise VenueReject(-4028, f"Leverage {leverage} is not valid")
            account.leverage[pair] = leverage
            return {"leverage": leverage, "maxNotionalValue": "1000000", "symbol": pair}
        if route == ("POST", "/fapi/v1/marginType"):
            pair = p.get("symbol", "")
            self._rules(pair)
            wanted = p.get("marginType", "")
            if account.margin_type.get(pair, "CROSSED") == wanted:
                raise VenueReject(-4046, "No need to change margin type.")
            if account.positions.get(pair, Position()).amt != 0:
                raise VenueReject(-4048, "Margin type cannot be changed if there exists position.")
            if account.open_orders(pair):
                raise VenueReject(
                    -4047, "Margin type cannot be changed if there exists open orders."
                )
            account.margin_type[pair] = wanted
            return {"code": 200, "msg": "success"}
        if route == ("POST", "/fapi/v1/countdownCancelAll"):
            pair = p.get("symbol", "")
            self._rules(pair)
            countdown = int(p.get("countdownTime", "0"))
            if countdown == 0:
                account.countdowns.pop(pair, None)
            else:
                account.countdowns[pair] = self.now_ms + countdown
            return {"symbol": pair, "countdownTime": str(countdown)}
        raise VenueReject(-1000, f"unknown route {method} {path}", status=404)

    # -- the wire ----------------------------------------------------------------------

    def _authenticate(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        query: str,
        body: str,
        p: dict[str, str],
    ) -> Account | None:
        if path in PUBLIC:
            return None
        key = headers.get("x-mbx-apikey")
        if not key:
            raise VenueReject(-2014, "API-key format invalid.", status=401)
        account = self.accounts.get(key)
        if account is None:
            raise VenueReject(-2015, "Invalid API-key, IP, or permissions for action.", status=401)
        if path in KEY_ONLY:
            return account
        # The signature is the last parameter of whichever part carries it; the venue
        # signs the query string and the body joined with nothing between them.
        if "&signature=" in f"&{body}":
            signed_body, _, signature = f"&{body}".rpartition("&signature=")
            payload = query + signed_body[1:]
        elif "&signature=" in f"&{query}":
            signed_query, _, signature = f"&{query}".rpartition("&signature=")
            payload = signed_query[1:] + body
        else:
            raise VenueReject(
                -1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed."
            )
        expected = hmac.new(account.secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, signature):
            raise VenueReject(-1022, "Signature for this request is not valid.")
        timestamp = int(p.get("timestamp", "0"))
        recv_window = int(p.get("recvWindow", "5000"))
        if timestamp >= self.now_ms + 1000:
            raise VenueReject(
                -1021, "Timestamp for this request was 1000ms ahead of the server's time."
            )
        if self.now_ms - timestamp > recv_window:
            raise VenueReject(-1021, "Timestamp for this request is outside of the recvWindow.")
        return account

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for index, fault in enumerate(self.faults):
            if fault.path in (None, path) and fault.method in (None, method):
                return self.faults.pop(index)
        return None

    async def _respond(
        self, method: str, target: str, headers: dict[str, str], raw_body: bytes
    ) -> tuple[int, Any, dict[str, str]] | str:
        split = urlsplit(target)
        query = split.query
        body = raw_body.decode()
        params = dict(parse_qsl(query, keep_blank_values=True))
        if body and headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            params.update(parse_qsl(body, keep_blank_values=True))
        self.requests.append(Recorded(method, split.path, params))
        self._fire_countdowns()  # on the wall clock, time passes between requests
        fault = self._take_fault(method, split.path)
        if fault is not None and fault.kind == "429":
            return (
                429,
                {
                    "code": -1003,
                    "msg": "Too many requests; current limit is 2400 requests per minute.",
                },
                {"Retry-After": str(fault.retry_after)},
            )
        if fault is not None and fault.kind == "status":
            return fault.status, fault.body, {}
        try:
            account = self._authenticate(method, split.path, headers, query, body, params)
            if fault is not None and fault.kind == "503" and not fault.taken:
                return (
                    503,
                    {
                        "code": -1000,
                        "msg": "Unknown error, please check your request or try again later.",
                    },
                    {},
                )
            result = self._dispatch(method, split.path, account, params, fault)
        except VenueReject as reject:
            return reject.status, {"code": reject.code, "msg": reject.msg}, {}
        if fault is not None and fault.kind == "503":
            return (
                503,
                {
                    "code": -1000,
                    "msg": "Unknown error, please check your request or try again later.",
                },
                {},
            )
        if fault is not None and fault.kind in ("hang", "drop"):
            return fault.kind
        return 200, result, {}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await read_request(reader)
                method, target, headers, raw = (
                    request.method,
                    request.target,
                    request.headers,
                    request.body,
                )
                outcome = await self._respond(method, target, headers, raw)
                if outcome == "hang":
                    await asyncio.Event().wait()  # until the server shuts down
                if outcome == "drop":
                    return
                assert not isinstance(outcome, str)
                status, payload, extra = outcome
                data = json.dumps(payload).encode()
                head_lines = [
                    f"HTTP/1.1 {status} X",
                    "Content-Type: application/json",
                    f"Content-Length: {len(data)}",
                ]
                head_lines += [f"{name}: {value}" for name, value in extra.items()]
                writer.write(("\r\n".join(head_lines) + "\r\n\r\n").encode() + data)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            self._handlers.discard(task)


PUBLIC = {"/fapi/v1/time", "/fapi/v1/exchangeInfo", "/fapi/v1/fundingRate"}
KEY_ONLY = {"/fapi/v1/listenKey"}


@asynccontextmanager
async def fake_binance_futures(
    pairs: dict[str, PairRules] | None = None, *, wall_clock: bool = False
) -> AsyncIterator[FakeBinanceFutures]:
    venue = FakeBinanceFutures(pairs, wall_clock=wall_clock)
    server = await asyncio.start_server(venue._handle, "127.0.0.1", 0)
    venue.port = server.sockets[0].getsockname()[1]
    try:
        yield venue
    finally:
        server.close()
        for task in list(venue._handlers):
            task.cancel()
        await asyncio.gather(*venue._handlers, return_exceptions=True)
        await server.wait_closed()
