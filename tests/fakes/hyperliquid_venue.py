"""A fake Hyperliquid venue: a real HTTP server on 127.0.0.1 that checks what the venue
checks and holds a tiny exchange.

``/exchange`` recovers the signer with the SDK's own function over the JSON exactly as
received (and the venue's network flag), refuses a signer that is neither an account's
master nor an approved agent with the venue's ``status: "err"`` text, and keeps each
signer's nonces the way the venue does (unused, above the smallest of the kept highest,
within the window around block time). Orders follow the venue's shape rules (price
figures and decimals, size decimals, $10 minimum, reduce-only, margin) and a tiny matching
model: market and IOC orders fill at the mid the test set, limits rest until the test moves
the mid across them, TP/SL triggers fire when the mid crosses them. ``scheduleCancel`` fires
when the test advances the clock past it.

Tests drive it through a small API (``set_mid``, ``open_account``, ``approve_agent``,
``advance_clock``, ``faults``, ``orders_of``, ``position``) and read ``exchange_requests``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from hyperliquid.utils.signing import recover_agent_or_user_from_l1_action

from tests.fakes.http_requests import read_request

UNIVERSE: list[dict[str, Any]] = [
    {"name": "BTC", "szDecimals": 5, "maxLeverage": 40},
    {"name": "ETH", "szDecimals": 4, "maxLeverage": 25},
    {"name": "SOL", "szDecimals": 2, "maxLeverage": 20},
    {"name": "OLD", "szDecimals": 1, "maxLeverage": 3, "isDelisted": True},
]
TAKER_FEE = Decimal("0.00045")
MAKER_FEE = Decimal("0.00015")
NONCES_KEPT = 20
NONCE_WINDOW_BEFORE_MS = 2 * 24 * 3600 * 1000
NONCE_WINDOW_AFTER_MS = 24 * 3600 * 1000
NEVER_PLACED = "Order was never placed, already canceled, or filled."
DESERIALIZE = "Failed to deserialize the JSON body into the target type"


def wire(value: Decimal) -> str:
    """A decimal as the venue writes numbers: a plain string, no exponent."""
    text = f"{value.normalize():f}"
    return "0.0" if text in ("0", "-0") else text


@dataclass
class Faults:
    """Switches a test flips; each applies to the next request it concerns, then clears
    (``partial_fill`` stays until reset)."""

    # The next state-changing /exchange request takes effect, then its connection is
    # dropped with no answer ("drop") or the answer never comes ("hang").
    after_accept: Literal["drop", "hang"] | None = None
    # Answer the next /exchange with this 5xx status after it took effect.
    server_error: int | None = None
    # Every immediate fill fills only this fraction (rounded down to the size step).
    partial_fill: Decimal | None = None
    # The next order is refused with this text as its per-order status.
    reject_next: str | None = None
    # The next request (any path) gets HTTP 429 with this Retry-After.
    rate_limit_retry_after: int | None = None
    # The next /exchange fails as a whole: {"status": "err", "response": text}.
    request_error: str | None = None
    # The next /exchange is refused as if its nonce had been used before.
    duplicate_nonce: bool = False
    # The next order's status comes back as this bare string ("waitingForFill"), as the
    # venue answers for the children of a normalTpsl group.
    bare_status: str | None = None


@dataclass
class FakeOrder:
    oid: int
    user: str
    coin: str
    is_buy: bool
    limit_px: Decimal
    orig_sz: Decimal
    sz: Decimal  # what is left
    reduce_only: bool
    tif: str | None
    trigger: dict[str, Any] | None  # {"triggerPx": Decimal, "isMarket": bool, "tpsl": str}
    cloid: str | None
    timestamp: int
    status: str = "open"
    status_ts: int = 0

    @property
    def is_open(self) -> bool:
        return self.status in ("open", "triggered")

    def open_fields(self) -> dict[str, Any]:
        return {
            "coin": self.coin,
            "side": "B" if self.is_buy else "A",
            "limitPx": wire(self.limit_px),
            "sz": wire(self.sz),
            "oid": self.oid,
            "timestamp": self.timestamp,
        }

    def frontend_fields(self) -> dict[str, Any]:
        trigger = self.trigger
        order_type = "Limit"
        if trigger is not None:
            kind = "Take Profit" if trigger["tpsl"] == "tp" else "Stop"
            order_type = f"{kind} {'Market' if trigger['isMarket'] else 'Limit'}"
        return {
            **self.open_fields(),
            "triggerCondition": "N/A"
            if trigger is None
            else f"Price crosses {trigger['triggerPx']}",
            "isTrigger": trigger is not None,
            "triggerPx": wire(trigger["triggerPx"]) if trigger else "0.0",
            "children": [],
            "isPositionTpsl": False,
            "reduceOnly": self.reduce_only,
            "orderType": order_type,
            "origSz": wire(self.orig_sz),
            "tif": self.tif,
            "cloid": self.cloid,
        }


@dataclass
class FakePosition:
    szi: Decimal
    entry_px: Decimal


@dataclass
class FakeAccount:
    master: str
    usdc: Decimal
    agents: dict[str, tuple[str | None, int | None]] = field(default_factory=dict)
    positions: dict[str, FakePosition] = field(default_factory=dict)
    leverage: dict[str, tuple[int, bool]] = field(default_factory=dict)  # value, is_cross
    fills: list[dict[str, Any]] = field(default_factory=list)
    funding: list[dict[str, Any]] = field(default_factory=list)
    scheduled_cancel: int | None = None


class _Reply(Exception):
    """Ends a request early with this answer."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.status, self.body, self.headers = status, body, headers or {}


@dataclass
class FakeHyperliquid:
    is_mainnet: bool = False
    port: int = 0
    # Read from the wall clock once, then moved only by the test: an adapter on the real
    # clock (the app's connector) stays inside the nonce window, and time stands still
    # unless the test advances it.
    now_ms: int = field(default_factory=lambda: int(time.time() * 1000))
    skew_ms: int = 0  # the venue's block time minus the clock tests hand to the adapter
    fills_page_size: int = 2000
    funding_page_size: int = 500
    universe: list[dict[str, Any]] = field(default_factory=lambda: list(UNIVERSE))
    mids: dict[str, Decimal] = field(default_factory=dict)
    accounts: dict[str, FakeAccount] = field(default_factory=dict)
    orders: list[FakeOrder] = field(default_factory=list)
    nonces: dict[str, list[int]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    exchange_requests: list[dict[str, Any]] = field(default_factory=list)
    info_requests: list[dict[str, Any]] = field(default_factory=list)
    _next_oid: int = 1000
    _next_tid: int = 1
    _handlers: set[asyncio.Task[None]] = field(default_factory=set)

    # -- the test's API ----------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def clock(self) -> datetime:
        """The adapter's clock in tests: the venue's time without the skew."""
        return datetime.fromtimestamp(self.now_ms / 1000, UTC)

    def advance_clock(self, seconds: float) -> None:
        self.now_ms += int(seconds * 1000)
        for account in self.accounts.values():
            if account.scheduled_cancel is not None and self._block_ms >= account.scheduled_cancel:
                account.scheduled_cancel = None
                for order in self.orders_of(account.master):
                    if order.is_open:
                        self._finish(order, "scheduledCancel")

    def open_account(self, master: str, usdc: Decimal = Decimal(10_000)) -> FakeAccount:
        account = FakeAccount(master=master.lower(), usdc=usdc)
        self.accounts[account.master] = account
        return account

    def approve_agent(
        self, master: str, agent: str, *, name: str | None = None, valid_until: int | None = None
    ) -> None:
        self.accounts[master.lower()].agents[agent.lower()] = (name, valid_until)

    def revoke_agent(self, master: str, agent: str) -> None:
        self.accounts[master.lower()].agents.pop(agent.lower(), None)

    def set_mid(self, coin: str, price: Decimal | str) -> None:
        """Move the market: resting limits it crosses fill (as maker), triggers it crosses fire."""
        self.mids[coin] = Decimal(price)
        mid = self.mids[coin]
        for order in [o for o in self.orders if o.coin == coin and o.is_open]:
            if order.trigger is not None:
                if self._trigger_fires(order, mid):
                    self._fire(order)
            elif (order.is_buy and mid <= order.limit_px) or (
                not order.is_buy and mid >= order.limit_px
            ):
                self._fill(order, order.sz, order.limit_px, crossed=False)

    def add_funding(self, master: str, coin: str, rate: Decimal, usdc: Decimal) -> None:
        account = self.accounts[master.lower()]
        position = account.positions.get(coin)
        account.usdc += usdc
        account.funding.append(
            {
                "time": self.now_ms,
                "hash": f"0x{len(account.funding) + 1:064x}",
                "delta": {
                    "type": "funding",
                    "coin": coin,
                    "usdc": wire(usdc),
                    "szi": wire(position.szi if position else Decimal(0)),
                    "fundingRate": wire(rate),
                },
            }
        )

    def orders_of(self, master: str) -> list[FakeOrder]:
        return [order for order in self.orders if order.user == master.lower()]

    def order_by_cloid(self, master: str, cloid: str) -> list[FakeOrder]:
        return [o for o in self.orders_of(master) if o.cloid == cloid.lower()]

    def position(self, master: str, coin: str) -> Decimal:
        held = self.accounts[master.lower()].positions.get(coin)
        return held.szi if held else Decimal(0)

    # -- HTTP --------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._handlers.add(task)
        try:
            while True:
                request = await read_request(reader)
                path, raw = request.target, request.body
                status, body, extra, then = self._answer(path, raw)
                if then == "drop":
                    writer.transport.abort()
                    return
                if then == "hang":
                    await asyncio.Event().wait()  # until the server closes
                self._write(writer, status, body, extra)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # The server is closing under a waiting connection; ending quietly keeps
            # asyncio's stream callback from logging the cancellation as an error.
            pass
        finally:
            writer.close()

    @staticmethod
    def _write(
        writer: asyncio.StreamWriter, status: int, body: Any, headers: dict[str, str]
    ) -> None:
        payload = (body if isinstance(body, str) else json.dumps(body)).encode()
        lines = [f"HTTP/1.1 {status} Status", "Content-Type: application/json"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        lines.append(f"Content-Length: {len(payload)}")
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)

    def _answer(
        self, path: str, raw: bytes
    ) -> tuple[int, Any, dict[str, str], Literal["drop", "hang"] | None]:
        """The answer to one request, and what to do instead of sending it."""
        try:
            if self.faults.rate_limit_retry_after is not None:
                retry_after = self.faults.rate_limit_retry_after
                self.faults.rate_limit_retry_after = None
                raise _Reply(429, "null", {"Retry-After": str(retry_after)})
            try:
                body = json.loads(raw)
            except ValueError as error:
                raise _Reply(422, DESERIALIZE) from error
            if not isinstance(body, dict):
                raise _Reply(422, DESERIALIZE)
            if path == "/info":
                self.info_requests.append(body)
                return 200, self._info(body), {}, None
            if path == "/exchange":
                self.exchange_requests.append(body)
                answer = self._exchange(body)
                if answer.get("status") != "ok":
                    return 200, answer, {}, None
                if self.faults.server_error is not None:
                    status, self.faults.server_error = self.faults.server_error, None
                    raise _Reply(status, "upstream error")
                then, self.faults.after_accept = self.faults.after_accept, None
                return 200, answer, {}, then
            raise _Reply(404, "not found")
        except _Reply as reply:
            return reply.status, reply.body, reply.headers, None

    # -- /info -------------------------------------------------------------------------

    def _info(self, body: dict[str, Any]) -> Any:
        kind = body.get("type")
        user = str(body.get("user", "")).lower()
        account = self.accounts.get(user)
        if kind == "meta":
            return {"universe": self.universe}
        if kind == "allMids":
            return {coin: wire(px) for coin, px in self.mids.items()}
        if kind == "clearinghouseState":
            return self._clearinghouse(account)
        if kind == "openOrders":
            return [o.open_fields() for o in self.orders_of(user) if o.is_open]
        if kind == "frontendOpenOrders":
            return [o.frontend_fields() for o in self.orders_of(user) if o.is_open]
        if kind == "orderStatus":
            return self._order_status(user, body.get("oid"))
        if kind == "userFills":
            return list(reversed(account.fills))[:2000] if account else []
        if kind == "userFillsByTime":
            entries = account.fills if account else []
            return self._by_time(entries, body, self.fills_page_size)
        if kind == "userFunding":
            entries = account.funding if account else []
            return self._by_time(entries, body, self.funding_page_size)
        if kind == "extraAgents":
            agents = account.agents.items() if account else []
            return [
                {"name": name, "address": address, "validUntil": until}
                for address, (name, until) in agents
                if name is not None  # unnamed agents show only through userRole
            ]
        if kind == "userRole":
            if account is not None:
                return {"role": "user"}
            for holder in self.accounts.values():
                if user in holder.agents:
                    return {"role": "agent", "data": {"user": holder.master}}
            return {"role": "missing"}
        raise _Reply(422, DESERIALIZE)

    @staticmethod
    def _by_time(entries: list[dict[str, Any]], body: dict[str, Any], size: int) -> Any:
        start = int(body["startTime"])
        end = int(body.get("endTime") or 2**62)
        return [e for e in entries if start <= e["time"] <= end][:size]

    def _order_status(self, user: str, oid: Any) -> Any:
        for order in self.orders_of(user):
            if order.oid == oid or (isinstance(oid, str) and order.cloid == oid.lower()):
                return {
                    "status": "order",
                    "order": {
                        "order": order.frontend_fields(),
                        "status": order.status,
                        "statusTimestamp": order.status_ts,
                    },
                }
        return {"status": "unknownOid"}

    def _clearinghouse(self, account: FakeAccount | None) -> Any:
        positions = []
        upnl = margin = notional = Decimal(0)
        for coin, held in (account.positions if account else {}).items():
            mid = self.mids.get(coin, held.entry_px)
            value = abs(held.szi) * mid
            pnl = held.szi * (mid - held.entry_px)
            lev, is_cross = account.leverage.get(coin, self._default_leverage(coin))  # type: ignore[union-attr]
            used = value / lev
            upnl, margin, notional = upnl + pnl, margin + used, notional + value
            positions.append(
                {
                    "type": "oneWay",
                    "position": {
                        "coin": coin,
                        "szi": wire(held.szi),
                        "entryPx": wire(held.entry_px),
                        "leverage": {"type": "cross" if is_cross else "isolated", "value": lev},
                        "liquidationPx": None,
                        "marginUsed": wire(used),
                        "positionValue": wire(value),
                        "returnOnEquity": wire(pnl / used if used else Decimal(0)),
                        "unrealizedPnl": wire(pnl),
                        "maxLeverage": self._asset_info(coin)[1]["maxLeverage"],
                    },
                }
            )
        usdc = account.usdc if account else Decimal(0)
        summary = {
            "accountValue": wire(usdc + upnl),
            "totalMarginUsed": wire(margin),
            "totalNtlPos": wire(notional),
            "totalRawUsd": wire(usdc),
        }
        return {
            "marginSummary": summary,
            "crossMarginSummary": summary,
            "crossMaintenanceMarginUsed": wire(margin / 2),
            "withdrawable": wire(max(Decimal(0), usdc + upnl - margin)),
            "assetPositions": positions,
            "time": self._block_ms,
        }

    # -- /exchange ---------------------------------------------------------------------

    @property
    def _block_ms(self) -> int:
        return self.now_ms + self.skew_ms

    def _exchange(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            action, nonce, signature = body["action"], body["nonce"], body["signature"]
            signer = recover_agent_or_user_from_l1_action(
                action,
                signature,
                body.get("vaultAddress"),
                nonce,
                body.get("expiresAfter"),
                self.is_mainnet,
            ).lower()
        except Exception as error:  # whatever the SDK cannot read, the venue cannot either
            raise _Reply(422, DESERIALIZE) from error
        account = self._account_of_signer(signer)
        if account is None:
            return {"status": "err", "response": f"User or API Wallet {signer} does not exist."}
        refusal = self._take_nonce(signer, int(nonce))
        if refusal is not None:
            return {"status": "err", "response": refusal}
        if self.faults.request_error is not None:
            text, self.faults.request_error = self.faults.request_error, None
            return {"status": "err", "response": text}
        kind = action.get("type")
        if kind == "order":
            statuses = [self._place(account, wire_order) for wire_order in action["orders"]]
            if self.faults.bare_status is not None:
                statuses[0], self.faults.bare_status = self.faults.bare_status, None
            return _ok("order", statuses)
        if kind == "cancel":
            return _ok(
                "cancel", [self._cancel(account, c["a"], oid=c["o"]) for c in action["cancels"]]
            )
        if kind == "cancelByCloid":
            statuses = [
                self._cancel(account, c["asset"], cloid=c["cloid"]) for c in action["cancels"]
            ]
            return _ok("cancel", statuses)
        if kind == "updateLeverage":
            coin, info = self._asset(action["asset"])
            if not 1 <= action["leverage"] <= info["maxLeverage"]:
                return {"status": "err", "response": "Invalid leverage value."}
            account.leverage[coin] = (int(action["leverage"]), bool(action["isCross"]))
            return {"status": "ok", "response": {"type": "default"}}
        if kind == "scheduleCancel":
            when = action.get("time")
            if when is not None and when < self._block_ms + 5000:
                return {
                    "status": "err",
                    "response": "Scheduled cancel time too early, must be at least 5 seconds "
                    "from now.",
                }
            account.scheduled_cancel = when
            return {"status": "ok", "response": {"type": "default"}}
        raise _Reply(422, DESERIALIZE)

    def _account_of_signer(self, signer: str) -> FakeAccount | None:
        if signer in self.accounts:
            return self.accounts[signer]
        for account in self.accounts.values():
            if signer in account.agents:
                _, until = account.agents[signer]
                if until is None or until > self._block_ms:
                    return account
        return None

    def _take_nonce(self, signer: str, nonce: int) -> str | None:
        kept = self.nonces.setdefault(signer, [])
        if self.faults.duplicate_nonce:
            self.faults.duplicate_nonce = False
            return f"Invalid nonce: duplicate nonce {nonce}"
        if nonce in kept:
            return f"Invalid nonce: duplicate nonce {nonce}"
        if len(kept) >= NONCES_KEPT and nonce < kept[0]:
            return f"Invalid nonce: nonce {nonce} is lower than the lowest kept nonce {kept[0]}"
        if (
            not self._block_ms - NONCE_WINDOW_BEFORE_MS
            < nonce
            < self._block_ms + NONCE_WINDOW_AFTER_MS
        ):
            return f"Invalid nonce: nonce {nonce} is too far from the block time {self._block_ms}"
        kept.append(nonce)
        kept.sort()
        del kept[:-NONCES_KEPT]
        return None

    def _asset(self, asset: int) -> tuple[str, dict[str, Any]]:
        if not 0 <= asset < len(self.universe):
            raise _Reply(422, DESERIALIZE)
        info = self.universe[asset]
        return info["name"], info

    def _asset_info(self, coin: str) -> tuple[int, dict[str, Any]]:
        for asset, info in enumerate(self.universe):
            if info["name"] == coin:
                return asset, info
        raise KeyError(coin)

    def _default_leverage(self, coin: str) -> tuple[int, bool]:
        return min(20, int(self._asset_info(coin)[1]["maxLeverage"])), True

    def _place(self, account: FakeAccount, order_wire: dict[str, Any]) -> Any:
        coin, info = self._asset(order_wire["a"])
        try:
            px, sz = Decimal(order_wire["p"]), Decimal(order_wire["s"])
        except (InvalidOperation, TypeError) as error:
            raise _Reply(422, DESERIALIZE) from error
        order_type = order_wire["t"]
        trigger = None
        if "trigger" in order_type:
            raw = order_type["trigger"]
            trigger = {
                "triggerPx": Decimal(raw["triggerPx"]),
                "isMarket": bool(raw["isMarket"]),
                "tpsl": raw["tpsl"],
            }
        cloid = order_wire.get("c")
        order = FakeOrder(
            oid=self._next_oid,
            user=account.master,
            coin=coin,
            is_buy=bool(order_wire["b"]),
            limit_px=px,
            orig_sz=sz,
            sz=sz,
            reduce_only=bool(order_wire["r"]),
            tif=order_type["limit"]["tif"] if "limit" in order_type else None,
            trigger=trigger,
            cloid=cloid.lower() if isinstance(cloid, str) else None,
            timestamp=self._block_ms,
            status_ts=self._block_ms,
        )
        self._next_oid += 1
        self.orders.append(order)
        refusal = self._refusal(account, order, info)
        if refusal is not None:
            status, text = refusal
            self._finish(order, status)
            return {"error": text}
        if trigger is not None:
            return {"resting": {"oid": order.oid}}
        mid = self.mids.get(coin)
        crosses = mid is not None and (px >= mid if order.is_buy else px <= mid)
        if order.tif == "Alo" and crosses:
            self._finish(order, "badAloPxRejected")
            return {"error": f"Post only order would have immediately matched, bbo was {mid}@{mid}"}
        if not crosses:
            if order.tif == "Ioc":
                if mid is None:
                    self._finish(order, "marketOrderNoLiquidityRejected")
                    return {"error": "No liquidity available for market order."}
                self._finish(order, "iocCancelRejected")
                return {
                    "error": "Order could not immediately match against any resting orders. "
                    f"asset={order_wire['a']}"
                }
            return {"resting": {"oid": order.oid}}
        assert mid is not None
        taken = self._fill(order, self._fillable(order, info), mid, crossed=True)
        if order.tif == "Ioc":
            if order.sz > 0:
                self._finish(order, "canceled")
            return {"filled": {"totalSz": wire(taken), "avgPx": wire(mid), "oid": order.oid}}
        if order.sz > 0:
            return {"resting": {"oid": order.oid}}
        return {"filled": {"totalSz": wire(taken), "avgPx": wire(mid), "oid": order.oid}}

    def _fillable(self, order: FakeOrder, info: dict[str, Any]) -> Decimal:
        fraction = self.faults.partial_fill
        if fraction is None:
            return order.sz
        step = Decimal(1).scaleb(-int(info["szDecimals"]))
        return (order.sz * fraction).quantize(step, rounding="ROUND_DOWN")

    def _refusal(
        self, account: FakeAccount, order: FakeOrder, info: dict[str, Any]
    ) -> tuple[str, str] | None:
        sz_decimals = int(info["szDecimals"])
        if order.sz <= 0 or -int(order.sz.normalize().as_tuple().exponent) > sz_decimals:
            return "rejected", "Order has invalid size."
        for px in (order.limit_px, *([order.trigger["triggerPx"]] if order.trigger else [])):
            if not _price_ok(px, sz_decimals):
                return "tickRejected", "Price must be divisible by tick size."
        held = account.positions.get(order.coin)
        if order.reduce_only and (held is None or (held.szi > 0) == order.is_buy):
            return "reduceOnlyRejected", "Reduce only order would increase position."
        if not order.reduce_only and order.limit_px * order.sz < 10:
            return "minTradeNtlRejected", "Order must have minimum value of $10."
        if not order.reduce_only:
            leverage, _ = account.leverage.get(order.coin, self._default_leverage(order.coin))
            state = self._clearinghouse(account)
            free = Decimal(state["marginSummary"]["accountValue"]) - Decimal(
                state["marginSummary"]["totalMarginUsed"]
            )
            if order.limit_px * order.sz / leverage > free:
                return "perpMarginRejected", "Insufficient margin to place order."
        if self.faults.reject_next is not None:
            text, self.faults.reject_next = self.faults.reject_next, None
            return "rejected", text
        return None

    def _trigger_fires(self, order: FakeOrder, mid: Decimal) -> bool:
        assert order.trigger is not None
        level = order.trigger["triggerPx"]
        # A sell take-profit fires as the price rises to it, a sell stop as it falls.
        rising = (order.trigger["tpsl"] == "tp") != order.is_buy
        return mid >= level if rising else mid <= level

    def _fire(self, order: FakeOrder) -> None:
        assert order.trigger is not None
        mid = self.mids[order.coin]
        order.status, order.status_ts = "triggered", self._block_ms
        held = self.accounts[order.user].positions.get(order.coin)
        if order.reduce_only and (held is None or (held.szi > 0) == order.is_buy):
            self._finish(order, "reduceOnlyCanceled")
            return
        if order.trigger["isMarket"]:
            size = min(order.sz, abs(held.szi)) if order.reduce_only and held else order.sz
            self._fill(order, size, mid, crossed=True)
            self._finish(order, "filled" if order.sz == 0 else "canceled")
        else:
            order.trigger = None  # now a plain resting limit
            order.status = "open"

    def _fill(self, order: FakeOrder, size: Decimal, px: Decimal, *, crossed: bool) -> Decimal:
        if size <= 0:
            return Decimal(0)
        account = self.accounts[order.user]
        held = account.positions.get(order.coin)
        start = held.szi if held else Decimal(0)
        signed = size if order.is_buy else -size
        closed_pnl = Decimal(0)
        if start and (start > 0) != (signed > 0):
            closing = min(abs(signed), abs(start))
            assert held is not None
            closed_pnl = closing * (px - held.entry_px) * (1 if start > 0 else -1)
        after = start + signed
        if after == 0:
            account.positions.pop(order.coin, None)
        elif held is None or (start > 0) != (after > 0):
            account.positions[order.coin] = FakePosition(after, px)
        elif abs(after) > abs(start):
            entry = (abs(start) * held.entry_px + size * px) / abs(after)
            account.positions[order.coin] = FakePosition(after, entry)
        else:
            held.szi = after
        fee = (px * size * (TAKER_FEE if crossed else MAKER_FEE)).quantize(Decimal("0.000001"))
        account.usdc += closed_pnl - fee
        tid = self._next_tid
        self._next_tid += 1
        fill: dict[str, Any] = {
            "coin": order.coin,
            "px": wire(px),
            "sz": wire(size),
            "side": "B" if order.is_buy else "A",
            "time": self._block_ms,
            "startPosition": wire(start),
            "dir": _direction(start, signed),
            "closedPnl": wire(closed_pnl),
            "hash": f"0x{tid:064x}",
            "oid": order.oid,
            "crossed": crossed,
            "fee": wire(fee),
            "tid": tid,
            "feeToken": "USDC",
        }
        if order.cloid is not None:
            fill["cloid"] = order.cloid
        account.fills.append(fill)
        order.sz -= size
        if order.sz == 0:
            self._finish(order, "filled")
        return size

    def _finish(self, order: FakeOrder, status: str) -> None:
        order.status, order.status_ts = status, self._block_ms

    def _cancel(
        self, account: FakeAccount, asset: int, *, oid: int | None = None, cloid: str | None = None
    ) -> Any:
        coin, _ = self._asset(asset)
        for order in self.orders_of(account.master):
            matches = order.oid == oid if oid is not None else order.cloid == str(cloid).lower()
            if matches and order.coin == coin and order.is_open:
                self._finish(order, "canceled")
                return "success"
        return {"error": f"{NEVER_PLACED} asset={asset}"}


def _ok(kind: str, statuses: list[Any]) -> dict[str, Any]:
    return {"status": "ok", "response": {"type": kind, "data": {"statuses": statuses}}}


def _price_ok(px: Decimal, sz_decimals: int) -> bool:
    if px <= 0:
        return False
    if px == px.to_integral_value():
        return True
    _, digits, exponent = px.normalize().as_tuple()
    return len(digits) <= 5 and -int(exponent) <= 6 - sz_decimals


def _direction(start: Decimal, signed: Decimal) -> str:
    after = start + signed
    if start == 0 or (start > 0) == (signed > 0):
        return "Open Long" if signed > 0 else "Open Short"
    if after != 0 and (after > 0) != (start > 0):
        return "Long > Short" if start > 0 else "Short > Long"
    return "Close Long" if start > 0 else "Close Short"


@asynccontextmanager
async def fake_hyperliquid(*, is_mainnet: bool = False) -> AsyncIterator[FakeHyperliquid]:
    venue = FakeHyperliquid(is_mainnet=is_mainnet)
    server = await asyncio.start_server(venue._handle, "127.0.0.1", 0)
    venue.port = server.sockets[0].getsockname()[1]
    try:
        yield venue
    finally:
        server.close()
        for task in venue._handlers:  # hung answers end with the test
            task.cancel()
        with suppress(Exception):
            await asyncio.gather(*venue._handlers, return_exceptions=True)
        await server.wait_closed()
