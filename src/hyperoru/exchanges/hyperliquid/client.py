"""The Hyperliquid perps adapter: our async httpx client over ``/info`` and ``/exchange``.

Signing is the SDK's (``signing.py``), with the network taken from the credentials'
environment; ``base_url`` only says where the venue is (a test points it at the loopback
fake and still signs for the credentials' network). Reads retry with backoff; an action
is sent once: when it may have reached the venue and no answer came back (a timeout or a
reset after sending, a 5xx, an answer that is not the venue's), ``UnknownOutcome`` is
raised and the caller asks ``order_status`` for its client order id.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx

from hyperoru.exchanges.hyperliquid.nonces import PROCESS_NONCES, NonceSource
from hyperoru.exchanges.hyperliquid.parsing import (
    Filled,
    MalformedReply,
    Resting,
    Waiting,
    account_of,
    cancel_outcomes,
    decimal,
    fill_of,
    funding_of,
    http_error,
    open_order_state,
    order_outcomes,
    order_status_state,
    raise_for_request_error,
)
from hyperoru.exchanges.hyperliquid.rules import (
    Market,
    check_order,
    markets_from_meta,
    price_is_valid,
    worst_price,
)
from hyperoru.exchanges.hyperliquid.signing import (
    JsonDict,
    L1Signer,
    Tif,
    cancel_action,
    cancel_by_cloid_action,
    cloid_for,
    limit_order_wire,
    order_action,
    schedule_cancel_action,
    trigger_order_wire,
    update_leverage_action,
)
from hyperoru.exchanges.venue import (
    CredentialCheck,
    HyperliquidCredentials,
    SymbolRules,
    UnknownOutcome,
    Venue,
    VenueAccount,
    VenueEnvironment,
    VenueError,
    VenueFill,
    VenueFunding,
    VenueOrder,
    VenueOrderState,
    VenueOrderStatus,
)
from hyperoru.offload import off_loop
from hyperoru.timeutils import utcnow

MAINNET_URL = "https://api.hyperliquid.xyz"
TESTNET_URL = "https://api.hyperliquid-testnet.xyz"
FILLS_PAGE_SIZE = 2000  # userFillsByTime's most per answer
FUNDING_PAGE_SIZE = 500  # userFunding's
READ_ATTEMPTS = 3
READ_BACKOFF_SECONDS = 0.25
MIN_DEAD_MAN_SECONDS = 5  # the venue refuses a scheduleCancel sooner than 5 s ahead

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TIF: dict[str, Tif] = {"gtc": "Gtc", "ioc": "Ioc", "alo": "Alo"}

Clock = Callable[[], datetime]
Sleep = Callable[[float], Awaitable[None]]


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class HyperliquidAdapter:
    """One trader's Hyperliquid account, traded by its API (agent) wallet."""

    venue: Venue = "hyperliquid"

    def __init__(
        self,
        credentials: HyperliquidCredentials,
        *,
        base_url: str | None,
        http: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        nonces: NonceSource = PROCESS_NONCES,
        sleep: Sleep = asyncio.sleep,
        fills_page_size: int = FILLS_PAGE_SIZE,
        funding_page_size: int = FUNDING_PAGE_SIZE,
    ) -> None:
        if not _ADDRESS.fullmatch(credentials.master_address):
            raise VenueError("VENUE_AUTH", "the master address is not a 0x address")
        self.environment: VenueEnvironment = credentials.environment
        self._signer = L1Signer(
            credentials.agent_private_key, is_mainnet=credentials.environment == "mainnet"
        )
        self._master = credentials.master_address.lower()
        default_url = MAINNET_URL if credentials.environment == "mainnet" else TESTNET_URL
        self._base_url = (base_url or default_url).rstrip("/")
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(timeout=10.0)
        self._clock: Clock = clock or utcnow
        self._nonces = nonces
        self._sleep = sleep
        self._fills_page_size = fills_page_size
        self._funding_page_size = funding_page_size
        self._markets: dict[str, Market] | None = None

    @property
    def agent_address(self) -> str:
        return self._signer.address

    # -- transport -------------------------------------------------------------------

    async def _info(self, request: JsonDict) -> Any:
        """An unsigned read; retried with backoff when the venue is unreachable or failing."""
        failure = VenueError("VENUE_UNAVAILABLE", "the venue could not be reached")
        for attempt in range(READ_ATTEMPTS):
            if attempt:
                await self._sleep(READ_BACKOFF_SECONDS * 2 ** (attempt - 1))
            try:
                response = await self._http.post(f"{self._base_url}/info", json=request)
            except httpx.TransportError as error:
                failure = VenueError(
                    "VENUE_UNAVAILABLE", f"the venue could not be reached: {error!r}"
                )
                continue
            if response.status_code >= 500:
                failure = VenueError(
                    "VENUE_UNAVAILABLE", f"the venue answered {response.status_code}"
                )
                continue
            if response.status_code >= 400:
                raise http_error(
                    response.status_code, response.text, response.headers.get("retry-after")
                )
            try:
                return response.json()
            except ValueError:
                failure = VenueError("VENUE_UNAVAILABLE", "the venue answered something not JSON")
        raise failure

    async def _exchange(self, action: JsonDict) -> Any:
        """One signed action, sent once. Its answer body, not yet checked."""
        nonce = await self._nonces.take(self._signer.address, _ms(self._clock()))
        # Signing takes milliseconds of pure-Python elliptic-curve work: off the loop.
        body = await off_loop(self._signer.request, action, nonce)
        try:
            response = await self._http.post(f"{self._base_url}/exchange", json=body)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            # No connection was made: nothing reached the venue.
            raise VenueError(
                "VENUE_UNAVAILABLE", f"the venue could not be reached: {error!r}"
            ) from error
        except httpx.TransportError as error:
            raise UnknownOutcome(f"{action['type']} sent, no answer: {error!r}") from error
        if response.status_code >= 500:
            raise UnknownOutcome(
                f"{action['type']} sent, the venue answered {response.status_code}"
            )
        if response.status_code >= 400:
            raise http_error(
                response.status_code, response.text, response.headers.get("retry-after")
            )
        try:
            return response.json()
        except ValueError as error:
            raise UnknownOutcome(f"{action['type']} sent, the answer is not JSON") from error

    async def _act(self, action: JsonDict) -> JsonDict:
        """A signed action whose answer is a plain ``default`` response."""
        body = await self._exchange(action)
        try:
            return raise_for_request_error(body)
        except MalformedReply as error:
            raise UnknownOutcome(f"{action['type']} sent, the answer is not the venue's") from error

    # -- rules -----------------------------------------------------------------------

    async def _all_markets(self) -> dict[str, Market]:
        if self._markets is None:
            meta = await self._info({"type": "meta"})
            try:
                self._markets = markets_from_meta(meta)
            except (KeyError, TypeError, ValueError) as error:
                raise VenueError("VENUE_UNAVAILABLE", "the venue's meta is not readable") from error
        return self._markets

    async def _market(self, symbol: str) -> Market:
        markets = await self._all_markets()
        if symbol not in markets:
            raise VenueError("VENUE_REJECTED", f"{symbol} is not traded on Hyperliquid")
        return markets[symbol]

    async def rules(self) -> dict[str, SymbolRules]:
        return {symbol: market.rules for symbol, market in (await self._all_markets()).items()}

    async def mid_price(self, symbol: str) -> Decimal:
        mids = await self._info({"type": "allMids"})
        if not isinstance(mids, dict) or symbol not in mids:
            raise VenueError("VENUE_NO_LIQUIDITY", f"the venue has no mid price for {symbol}")
        return decimal(mids[symbol])

    # -- credentials -----------------------------------------------------------------

    async def validate(self) -> CredentialCheck:
        agent = self._signer.address.lower()
        if agent == self._master:
            return CredentialCheck(
                problems=(
                    "this is the master wallet's own key, which can withdraw: create an API "
                    "wallet and use its key instead",
                ),
                can_withdraw=True,
            )
        problems: list[str] = []
        if not await self._agent_approved(agent):
            problems.append(
                f"the API wallet {self._signer.address} is not approved for {self._master} "
                f"on {self.environment}"
            )
        await self.account()  # the account is readable (raises when the venue is not)
        if not problems:
            problems.extend(await self._signed_probe())
        return CredentialCheck(problems=tuple(problems), can_withdraw=False)

    async def _agent_approved(self, agent: str) -> bool:
        now_ms = _ms(self._clock())
        agents = await self._info({"type": "extraAgents", "user": self._master})
        for entry in agents if isinstance(agents, list) else []:
            if str(entry.get("address", "")).lower() == agent:
                valid_until = entry.get("validUntil")
                return valid_until is None or int(valid_until) > now_ms
        # Unnamed agents are not always listed; the agent's own role names its master.
        role = await self._info({"type": "userRole", "user": agent})
        if not isinstance(role, dict) or role.get("role") != "agent":
            return False
        return str((role.get("data") or {}).get("user", "")).lower() == self._master

    async def _signed_probe(self) -> list[str]:
        """Sign one harmless action (cancel an order that cannot exist): the venue checks the
        signature, the signer's approval and the network only on signed requests."""
        markets = await self._all_markets()
        asset = min(market.asset for market in markets.values())
        try:
            body = await self._exchange(cancel_by_cloid_action(asset, "0x" + secrets.token_hex(16)))
            cancel_outcomes(body)
        except VenueError as error:
            if error.code in ("VENUE_TIMESTAMP", "VENUE_UNAVAILABLE", "VENUE_RATE_LIMITED"):
                raise  # says nothing about the credentials: the caller may try again
            if error.code == "VENUE_AUTH":
                return [
                    f"the venue does not accept this API wallet's signature for {self._master}: "
                    f"is the wallet approved on {self.environment}?"
                ]
            return [f"the venue refused a signed check: {error.message}"]
        except (UnknownOutcome, MalformedReply) as error:
            raise VenueError(
                "VENUE_UNAVAILABLE", "the venue did not answer a signed check"
            ) from error
        return []

    # -- orders ----------------------------------------------------------------------

    async def submit(self, order: VenueOrder) -> VenueOrderState:
        market = await self._market(order.symbol)
        rules = market.rules
        cloid = cloid_for(order.client_order_id)
        is_buy = order.side == "buy"
        wire: JsonDict
        if order.trigger is not None:
            if not price_is_valid(order.trigger.trigger_price, rules):
                raise VenueError(
                    "VENUE_PRECISION", f"trigger price {order.trigger.trigger_price} is not valid"
                )
            if order.order_type == "limit" and order.price is None:
                raise ValueError("a limit trigger order needs the price of the limit it places")
            # The limit of the order a trigger fires; for a market trigger, its slippage cap.
            price = order.price or worst_price(order.trigger.trigger_price, order.side, rules)
            check_order(
                price=price, size=order.quantity, reduce_only=order.reduce_only, rules=rules
            )
            wire = trigger_order_wire(
                market.asset,
                is_buy=is_buy,
                price=price,
                size=order.quantity,
                reduce_only=order.reduce_only,
                trigger_price=order.trigger.trigger_price,
                is_market=order.order_type == "market",
                tpsl=order.trigger.kind,
                cloid=cloid,
            )
        else:
            if order.order_type == "market":
                tif: Tif = "Ioc"
                price = order.price or worst_price(
                    await self.mid_price(order.symbol), order.side, rules
                )
            elif order.price is None:
                raise ValueError("a limit order needs a price")
            else:
                tif, price = _TIF[order.time_in_force], order.price
            check_order(
                price=price, size=order.quantity, reduce_only=order.reduce_only, rules=rules
            )
            wire = limit_order_wire(
                market.asset,
                is_buy=is_buy,
                price=price,
                size=order.quantity,
                reduce_only=order.reduce_only,
                tif=tif,
                cloid=cloid,
            )
        body = await self._exchange(order_action([wire]))
        try:
            outcomes = order_outcomes(body)
        except MalformedReply as error:
            raise UnknownOutcome(
                f"order {order.client_order_id} sent, answer unreadable"
            ) from error
        if len(outcomes) != 1:
            raise UnknownOutcome(
                f"order {order.client_order_id} sent, {len(outcomes)} statuses back"
            )
        return await self._state_after_submit(order, price, outcomes[0])

    async def _state_after_submit(
        self, order: VenueOrder, price: Decimal, outcome: Any
    ) -> VenueOrderState:
        if isinstance(outcome, VenueError):
            raise outcome
        if isinstance(outcome, Waiting):
            found = await self.order_status(
                symbol=order.symbol, client_order_id=order.client_order_id
            )
            if found is not None:
                return found
        oid, filled, average = "", Decimal(0), None
        if isinstance(outcome, Resting):
            oid = str(outcome.oid)
        if isinstance(outcome, Filled):
            oid, filled, average = str(outcome.oid), outcome.total_size, outcome.average_price
        immediate = order.order_type == "market" or order.time_in_force == "ioc"
        reason: str | None = None
        status: VenueOrderStatus
        if filled >= order.quantity:
            status = "filled"
        elif filled > 0 and immediate and order.trigger is None:
            status, reason = "canceled", "the unfilled rest of an immediate order was cancelled"
        elif filled > 0:
            status = "partially_filled"
        else:
            status = "open"
        return VenueOrderState(
            client_order_id=order.client_order_id,
            venue_order_id=oid,
            symbol=order.symbol,
            side=order.side,
            status=status,
            quantity=order.quantity,
            filled_quantity=filled,
            average_price=average,
            price=price,
            reduce_only=order.reduce_only,
            trigger=order.trigger,
            reason=reason,
            updated_at=self._clock(),
        )

    async def cancel(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        market = await self._market(symbol)
        body = await self._exchange(
            cancel_by_cloid_action(market.asset, cloid_for(client_order_id))
        )
        try:
            (refusal,) = cancel_outcomes(body)
        except (MalformedReply, ValueError) as error:
            raise UnknownOutcome(f"cancel of {client_order_id} sent, answer unreadable") from error
        state = await self.order_status(symbol=symbol, client_order_id=client_order_id)
        if (
            refusal is not None
            and state is not None
            and state.status in ("open", "partially_filled")
        ):
            raise refusal
        # A refused cancel of an order that is gone (filled, cancelled, never placed) is
        # not a failure: the state after says what happened.
        return state

    async def cancel_all(self, *, symbols: Sequence[str] | None = None) -> int:
        markets = await self._all_markets()
        orders = await self._info({"type": "frontendOpenOrders", "user": self._master})
        try:
            targets = [
                (markets[entry["coin"]].asset, int(entry["oid"]))
                for entry in orders
                if entry["coin"] in markets and (symbols is None or entry["coin"] in symbols)
            ]
        except (KeyError, TypeError, ValueError) as error:
            raise VenueError("VENUE_UNAVAILABLE", f"open orders unreadable: {error!r}") from error
        if not targets:
            return 0
        body = await self._exchange(cancel_action(targets))
        try:
            return sum(1 for refusal in cancel_outcomes(body) if refusal is None)
        except MalformedReply as error:
            raise UnknownOutcome("cancel of all orders sent, answer unreadable") from error

    async def order_status(self, *, symbol: str, client_order_id: str) -> VenueOrderState | None:
        body = await self._info(
            {"type": "orderStatus", "user": self._master, "oid": cloid_for(client_order_id)}
        )
        try:
            return order_status_state(body)
        except MalformedReply as error:
            raise VenueError("VENUE_UNAVAILABLE", str(error)) from error

    async def open_orders(self) -> list[VenueOrderState]:
        orders = await self._info({"type": "frontendOpenOrders", "user": self._master})
        try:
            return [open_order_state(entry) for entry in orders]
        except (MalformedReply, TypeError) as error:
            raise VenueError("VENUE_UNAVAILABLE", f"open orders unreadable: {error}") from error

    # -- history ---------------------------------------------------------------------

    async def _paged(self, kind: str, since: datetime, page_size: int) -> list[JsonDict]:
        """Every entry of a by-time history from ``since`` on: the next page starts at the
        last page's latest time (inclusive, so entries of that millisecond come again and
        the caller drops them by id)."""
        start = _ms(since)
        entries: list[JsonDict] = []
        while True:
            page = await self._info({"type": kind, "user": self._master, "startTime": start})
            if not isinstance(page, list):
                raise VenueError("VENUE_UNAVAILABLE", f"{kind} is not a list")
            entries.extend(page)
            try:
                latest = max((int(entry["time"]) for entry in page), default=start)
            except (KeyError, TypeError, ValueError) as error:
                raise VenueError("VENUE_UNAVAILABLE", f"{kind} entry without a time") from error
            # A full page within one millisecond cannot be paged past by time (the venue
            # offers no cursor); at 2,000 fills per page that is not a trader's volume.
            if len(page) < page_size or latest <= start:
                return entries
            start = latest

    async def fills(self, *, since: datetime) -> list[VenueFill]:
        seen: dict[str, VenueFill] = {}
        try:
            for entry in await self._paged("userFillsByTime", since, self._fills_page_size):
                fill = fill_of(entry)
                seen.setdefault(fill.venue_fill_id, fill)
        except MalformedReply as error:
            raise VenueError("VENUE_UNAVAILABLE", str(error)) from error
        return sorted(seen.values(), key=lambda fill: (fill.time, int(fill.venue_fill_id)))

    async def funding(self, *, since: datetime) -> list[VenueFunding]:
        seen: dict[tuple[datetime, str], VenueFunding] = {}
        try:
            for entry in await self._paged("userFunding", since, self._funding_page_size):
                payment = funding_of(entry)
                seen.setdefault((payment.time, payment.symbol), payment)
        except MalformedReply as error:
            raise VenueError("VENUE_UNAVAILABLE", str(error)) from error
        return sorted(seen.values(), key=lambda payment: (payment.time, payment.symbol))

    async def account(self) -> VenueAccount:
        state = await self._info({"type": "clearinghouseState", "user": self._master})
        try:
            return account_of(state, taken_at=self._clock())
        except MalformedReply as error:
            raise VenueError("VENUE_UNAVAILABLE", str(error)) from error

    # -- settings and the dead-man switch --------------------------------------------

    async def set_leverage(self, *, symbol: str, leverage: int, isolated: bool) -> None:
        market = await self._market(symbol)
        if not 1 <= leverage <= market.rules.max_leverage:
            raise VenueError(
                "VENUE_REJECTED",
                f"leverage {leverage} is outside 1..{market.rules.max_leverage} for {symbol}",
            )
        await self._act(
            update_leverage_action(market.asset, leverage=leverage, is_cross=not isolated)
        )

    async def arm_dead_man(self, *, seconds: int) -> None:
        if seconds < MIN_DEAD_MAN_SECONDS:
            raise ValueError(f"the venue needs the cancel at least {MIN_DEAD_MAN_SECONDS} s ahead")
        await self._act(schedule_cancel_action(_ms(self._clock()) + seconds * 1000))

    async def disarm_dead_man(self) -> None:
        await self._act(schedule_cancel_action(None))

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()
