"""The Binance USDⓈ-M futures ``VenueAdapter``: one trader's API key, one-way mode.

A pure venue client: no database, no risk limits (the live ``ExchangeClient`` owns
those). Orders carry our client order id as ``newClientOrderId`` (plain orders) or
``clientAlgoId`` (take-profit and stop-loss, which since 2025-12 live on the algo
service: the old order path answers -4120 for them). A conditional order's
``venue_order_id`` is ``"algo:<algoId>"`` so the two id spaces never mix.

Several reads need a symbol at Binance (``userTrades``, ``countdownCancelAll``), so the
adapter works over "the symbols in play": those it sent orders for in this process, those
with open orders or a position, and, for fills, those that paid commission since then.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from hyperoru.exchanges.binance import parsing
from hyperoru.exchanges.binance.history import income_since, trades_since
from hyperoru.exchanges.binance.parsing import BinanceError, is_unknown_order
from hyperoru.exchanges.binance.rest import DEFAULT_BACKOFF, BinanceRest
from hyperoru.exchanges.binance.rules import (
    pair_of,
    parse_exchange_info,
    parse_leverage_brackets,
    symbol_of,
    wire,
)
from hyperoru.exchanges.binance.signing import ServerClock
from hyperoru.exchanges.venue import (
    BinanceCredentials,
    CredentialCheck,
    SymbolRules,
    Venue,
    VenueAccount,
    VenueEnvironment,
    VenueError,
    VenueFill,
    VenueFunding,
    VenueOrder,
    VenueOrderState,
)
from hyperoru.timeutils import utcnow

HOSTS: dict[str, str] = {
    "mainnet": "https://fapi.binance.com",
    "testnet": "https://testnet.binancefuture.com",
    "demo": "https://demo-fapi.binance.com",
}
# Where a key's permissions can be read (``/sapi/v1/account/apiRestrictions``): the spot
# host. Only mainnet keys exist there; testnet and demo keys cannot be asked.
PERMISSION_HOSTS: dict[str, str] = {"mainnet": "https://api.binance.com"}
PAGE_SIZE = 1000
_TIME_IN_FORCE = {"gtc": "GTC", "ioc": "IOC", "alo": "GTX"}


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _side(side: str) -> str:
    return "BUY" if side == "buy" else "SELL"


class BinanceFuturesAdapter:
    venue: Venue = "binance"
    environment: VenueEnvironment

    def __init__(
        self,
        credentials: BinanceCredentials,
        *,
        base_url: str,
        permissions_url: str | None = None,
        http: httpx.AsyncClient | None = None,
        clock: Callable[[], datetime] = utcnow,
        timeout: float = 10.0,
        attempts: int = 3,
        backoff: Sequence[float] = DEFAULT_BACKOFF,
        sleep: Callable[[float], Awaitable[None]] | None = None,
        page_size: int = PAGE_SIZE,
    ) -> None:
        self.environment = credentials.environment
        self._own_http = http is None
        self._http = http or httpx.AsyncClient(timeout=timeout)
        self._clock = clock
        self._rest = BinanceRest(
            base_url=base_url,
            api_key=credentials.api_key,
            api_secret=credentials.api_secret,
            http=self._http,
            clock=ServerClock(lambda: _ms(self._clock())),
            attempts=attempts,
            backoff=backoff,
            sleep=sleep or asyncio.sleep,
        )
        self._page_size = page_size
        self._permissions_url = permissions_url
        self._rules: dict[str, SymbolRules] | None = None
        self._traded: set[str] = set()  # pairs we sent orders for in this process
        self._client_ids: dict[str, str] = {}  # venue order id → our client order id
        self._dead_man_ms: int | None = None
        self._armed: set[str] = set()

    # -- rules and credentials -------------------------------------------------------

    async def rules(self) -> dict[str, SymbolRules]:
        if self._rules is None:
            await self.refresh_rules()
        assert self._rules is not None
        return self._rules

    async def refresh_rules(self) -> dict[str, SymbolRules]:
        info = await self._rest.call("GET", "/fapi/v1/exchangeInfo", auth="none")
        brackets = await self._rest.call("GET", "/fapi/v1/leverageBracket")
        self._rules = parse_exchange_info(info, parse_leverage_brackets(brackets))
        return self._rules

    async def validate(self) -> CredentialCheck:
        """The key works, the futures account is readable, the account is in one-way mode,
        fees are paid in USDT, and (where the venue lets us see it) the key cannot withdraw.

        A key's permissions are readable only on the spot host
        (``/sapi/v1/account/apiRestrictions``), which knows mainnet keys only: for testnet
        and demo keys ``can_withdraw`` stays None. A key that may withdraw is reported as a
        problem: the server must never hold one.
        """
        try:
            account = await self._rest.call("GET", "/fapi/v3/account")
        except VenueError as exc:
            if exc.code != "VENUE_AUTH":
                raise
            return CredentialCheck(problems=(f"Binance refused the API key ({exc.message})",))
        problems: list[str] = []
        if account.get("canTrade") is False:
            problems.append("trading is disabled on this Binance futures account")
        mode = await self._rest.call("GET", "/fapi/v1/positionSide/dual")
        if mode.get("dualSidePosition"):
            problems.append(
                "the Binance futures account is in hedge mode; switch it to one-way mode"
                " (Position Mode: One-way) before trading live"
            )
        try:
            burn = await self._rest.call("GET", "/fapi/v1/feeBurn")
        except BinanceError:
            burn = {}  # not served everywhere (older testnet); nothing to report then
        if burn.get("feeBurn"):
            problems.append(
                "the BNB fee discount is on, so fees would be paid in BNB; turn it off so"
                " fees are paid in USDT"
            )
        restrictions = await self._key_permissions()
        can_withdraw = None
        if restrictions is not None:
            can_withdraw = bool(restrictions.get("enableWithdrawals"))
            if can_withdraw:
                problems.append(
                    "this API key may withdraw funds; create a key with withdrawals disabled"
                )
            if restrictions.get("enableFutures") is False:
                problems.append("this API key is not enabled for futures trading")
        return CredentialCheck(problems=tuple(problems), can_withdraw=can_withdraw)

    async def _key_permissions(self) -> dict[str, Any] | None:
        if self._permissions_url is None:
            return None
        try:
            data = await self._rest.call(
                "GET", "/sapi/v1/account/apiRestrictions", host=self._permissions_url
            )
        except VenueError:
            return None  # not served there, or not for this key: unknown, not a refusal
        return data if isinstance(data, dict) and "enableWithdrawals" in data else None

    # -- orders ----------------------------------------------------------------------

    async def submit(self, order: VenueOrder) -> VenueOrderState:
        pair = pair_of(order.symbol)
        if order.order_type == "limit" and order.price is None:
            raise VenueError("VENUE_REJECTED", "a limit order needs a price")
        # The dead-man switch is per symbol: a symbol traded for the first time while it
        # is armed is covered before the order goes out.
        if self._dead_man_ms is not None and pair not in self._armed:
            await self._countdown(pair, self._dead_man_ms)
            self._armed.add(pair)
        self._traded.add(pair)
        if order.trigger is not None:
            return await self._submit_conditional(pair, order)
        params: list[tuple[str, str]] = [
            ("symbol", pair),
            ("side", _side(order.side)),
            ("type", "LIMIT" if order.order_type == "limit" else "MARKET"),
            ("quantity", wire(order.quantity)),
        ]
        if order.order_type == "limit":
            assert order.price is not None
            params += [
                ("price", wire(order.price)),
                ("timeInForce", _TIME_IN_FORCE[order.time_in_force]),
            ]
        if order.reduce_only:
            params.append(("reduceOnly", "true"))
        params += [("newClientOrderId", order.client_order_id), ("newOrderRespType", "RESULT")]
        data = await self._rest.call("POST", "/fapi/v1/order", params, kind="order")
        return self._remember(parsing.order_state(data))

    async def _submit_conditional(self, pair: str, order: VenueOrder) -> VenueOrderState:
        assert order.trigger is not None
        market = order.order_type == "market"
        kind = "TAKE_PROFIT" if order.trigger.kind == "tp" else "STOP"
        params: list[tuple[str, str]] = [
            ("algoType", "CONDITIONAL"),
            ("symbol", pair),
            ("side", _side(order.side)),
            ("type", f"{kind}_MARKET" if market else kind),
            ("quantity", wire(order.quantity)),
            ("triggerPrice", wire(order.trigger.trigger_price)),
            # The mark price, not the last trade, decides: one print cannot set it off.
            ("workingType", "MARK_PRICE"),
        ]
        if not market:
            assert order.price is not None
            params += [
                ("price", wire(order.price)),
                ("timeInForce", _TIME_IN_FORCE[order.time_in_force]),
            ]
        if order.reduce_only:
            params.append(("reduceOnly", "true"))
        params.append(("clientAlgoId", order.client_order_id))
        data = await self._rest.call("POST", "/fapi/v1/algoOrder", params, kind="order")
        return self._remember_algo(data)

    def _remember(self, state: VenueOrderState) -> VenueOrderState:
        # userTrades rows carry the venue's order id only.
        if state.client_order_id:
            self._client_ids[state.venue_order_id] = state.client_order_id
        return state

    def _remember_algo(self, data: dict[str, Any]) -> VenueOrderState:
        # A triggered conditional order executes as a plain order with an id of its own
        # (``actualOrderId``); its fills carry that id, so it maps to our client id too.
        state = parsing.algo_order_state(data)
        actual = data.get("actualOrderId")
        if actual and state.client_order_id:
            self._client_ids[str(actual)] = state.client_order_id
        return state

    async def cancel(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        pair = pair_of(symbol)
        try:
            data = await self._rest.call(
                "DELETE",
                "/fapi/v1/order",
                [("symbol", pair), ("origClientOrderId", client_order_id)],
                kind="write",
            )
            return self._remember(parsing.order_state(data))
        except VenueError as exc:
            if not is_unknown_order(exc):
                raise
        try:
            await self._rest.call(
                "DELETE", "/fapi/v1/algoOrder", [("clientAlgoId", client_order_id)], kind="write"
            )
        except VenueError as exc:
            if not is_unknown_order(exc):
                raise
        # Already done (filled, cancelled, triggered) or never seen: its state says which.
        return await self.order_status(symbol=symbol, client_order_id=client_order_id)

    async def cancel_all(self, *, symbols: Sequence[str] | None = None) -> int:
        open_now = await self.open_orders()
        if symbols is None:
            pairs = {pair_of(o.symbol) for o in open_now} | self._traded
        else:
            pairs = {pair_of(s) for s in symbols}
        cancelled = 0
        for pair in sorted(pairs):
            # Both calls go out even when the listing showed nothing: an order placed
            # since the listing is cancelled too (it just is not counted).
            await self._rest.call(
                "DELETE", "/fapi/v1/allOpenOrders", [("symbol", pair)], kind="write"
            )
            await self._rest.call(
                "DELETE", "/fapi/v1/algoOpenOrders", [("symbol", pair)], kind="write"
            )
            cancelled += sum(1 for o in open_now if pair_of(o.symbol) == pair)
        return cancelled

    async def order_status(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        pair = pair_of(symbol)
        try:
            data = await self._rest.call(
                "GET", "/fapi/v1/order", [("symbol", pair), ("origClientOrderId", client_order_id)]
            )
            return self._remember(parsing.order_state(data))
        except VenueError as exc:
            if not is_unknown_order(exc):
                raise
        try:
            data = await self._rest.call(
                "GET", "/fapi/v1/algoOrder", [("clientAlgoId", client_order_id)]
            )
        except VenueError as exc:
            if not is_unknown_order(exc):
                raise
            return None
        return self._remember_algo(data)

    async def open_orders(self) -> list[VenueOrderState]:
        plain = await self._rest.call("GET", "/fapi/v1/openOrders")
        algo = await self._rest.call("GET", "/fapi/v1/openAlgoOrders")
        states = [self._remember(parsing.order_state(o)) for o in plain]
        states += [self._remember_algo(o) for o in algo]
        return states

    # -- fills and funding ------------------------------------------------------------

    async def fills(self, *, since: datetime) -> list[VenueFill]:
        since_ms = _ms(since)
        pairs = await self._pairs_in_play() | await self._pairs_with_commission(since_ms)
        found: dict[str, VenueFill] = {}
        for pair in sorted(pairs):
            for trade in await trades_since(self._rest, pair, since_ms, page_size=self._page_size):
                client_id = self._client_ids.get(str(trade["orderId"]))
                fill = parsing.fill(trade, client_id)
                found.setdefault(fill.venue_fill_id, fill)
        return sorted(
            found.values(), key=lambda f: (f.time, f.symbol, int(f.venue_fill_id.split("-")[-1]))
        )

    async def _pairs_with_commission(self, since_ms: int) -> set[str]:
        return {
            str(e["symbol"])
            for e in await income_since(
                self._rest, "COMMISSION", since_ms, page_size=self._page_size
            )
            if e.get("symbol")
        }

    async def funding(self, *, since: datetime) -> list[VenueFunding]:
        """Funding payments from the income history. The venue's entry has the amount only;
        the rate and the mark price come from the public funding history, and the
        position size is what the payment implies (payment = -size × mark × rate)."""
        entries = await income_since(
            self._rest, "FUNDING_FEE", _ms(since), page_size=self._page_size
        )
        rates: dict[str, list[dict[str, Any]]] = {}
        for pair in sorted({str(e["symbol"]) for e in entries}):
            rates[pair] = await self._rest.call(
                "GET",
                "/fapi/v1/fundingRate",
                [
                    ("symbol", pair),
                    ("startTime", str(_ms(since) - parsing.FUNDING_MATCH_MS)),
                    ("limit", str(PAGE_SIZE)),
                ],
                auth="none",
            )
        rules = await self.rules() if entries else {}
        return [
            parsing.funding_payment(
                entry,
                rates.get(str(entry["symbol"]), []),
                rules.get(symbol_of(str(entry["symbol"]))),
            )
            for entry in entries
        ]

    # -- account ----------------------------------------------------------------------

    async def account(self) -> VenueAccount:
        account = await self._rest.call("GET", "/fapi/v3/account")
        risks = await self._rest.call("GET", "/fapi/v3/positionRisk")
        held = parsing.held(risks)
        configs: dict[str, dict[str, Any]] = {}
        if held:
            # v3 positionRisk no longer carries leverage or margin type; symbolConfig does.
            for entry in await self._rest.call("GET", "/fapi/v1/symbolConfig"):
                configs[str(entry["symbol"])] = entry
        positions = tuple(parsing.position(r, configs.get(str(r["symbol"]), {})) for r in held)
        return VenueAccount(
            equity=Decimal(str(account["totalMarginBalance"])),
            available=Decimal(str(account["availableBalance"])),
            margin_used=Decimal(str(account["totalInitialMargin"])),
            unrealized_pnl=Decimal(str(account["totalUnrealizedProfit"])),
            positions=positions,
            taken_at=self._clock(),
        )

    async def set_leverage(self, *, symbol: str, leverage: int, isolated: bool) -> None:
        pair = pair_of(symbol)
        try:
            await self._rest.call(
                "POST",
                "/fapi/v1/marginType",
                [("symbol", pair), ("marginType", "ISOLATED" if isolated else "CROSSED")],
                kind="write",
            )
        except BinanceError as exc:
            if exc.venue_code != parsing.MARGIN_TYPE_UNCHANGED:
                raise
        await self._rest.call(
            "POST",
            "/fapi/v1/leverage",
            [("symbol", pair), ("leverage", str(leverage))],
            kind="write",
        )

    # -- dead-man switch ---------------------------------------------------------------

    async def _pairs_in_play(self) -> set[str]:
        pairs = set(self._traded)
        pairs |= {pair_of(o.symbol) for o in await self.open_orders()}
        risks = await self._rest.call("GET", "/fapi/v3/positionRisk")
        pairs |= {str(r["symbol"]) for r in parsing.held(risks)}
        return pairs

    async def _countdown(self, pair: str, milliseconds: int) -> None:
        await self._rest.call(
            "POST",
            "/fapi/v1/countdownCancelAll",
            [("symbol", pair), ("countdownTime", str(milliseconds))],
            kind="write",
        )

    async def arm_dead_man(self, *, seconds: int) -> None:
        """Arm (or re-arm) the venue's countdown on every symbol in play; a symbol first
        traded later is armed by ``submit`` before its first order."""
        if seconds <= 0:
            raise ValueError("the dead-man countdown must be positive")
        self._dead_man_ms = seconds * 1000
        pairs = await self._pairs_in_play()
        for pair in sorted(pairs):
            await self._countdown(pair, self._dead_man_ms)
        self._armed = pairs

    async def disarm_dead_man(self) -> None:
        self._dead_man_ms = None
        for pair in sorted(self._armed):
            await self._countdown(pair, 0)  # countdownTime 0 stops the timer
        self._armed = set()

    # -- user data stream --------------------------------------------------------------

    async def open_listen_key(self) -> str:
        """A user-data stream key: valid 60 minutes, extended by ``keep_listen_key``."""
        data = await self._rest.call("POST", "/fapi/v1/listenKey", auth="key", kind="write")
        return str(data["listenKey"])

    async def keep_listen_key(self) -> None:
        await self._rest.call("PUT", "/fapi/v1/listenKey", auth="key", kind="write")

    async def close_listen_key(self) -> None:
        await self._rest.call("DELETE", "/fapi/v1/listenKey", auth="key", kind="write")

    async def aclose(self) -> None:
        if self._own_http:
            await self._http.aclose()


def connect(
    credentials: BinanceCredentials,
    *,
    base_url: str | None,
    http: httpx.AsyncClient | None = None,
    clock: Callable[[], datetime] | None = None,
) -> BinanceFuturesAdapter:
    """An adapter for ``credentials``: at ``base_url`` when given (a fake, a proxy: it then
    stands in for the spot host's permission read too), else the venue's hosts for the
    credentials' environment."""
    return BinanceFuturesAdapter(
        credentials,
        base_url=base_url or HOSTS[credentials.environment],
        permissions_url=base_url or PERMISSION_HOSTS.get(credentials.environment),
        http=http,
        clock=clock or utcnow,
    )
