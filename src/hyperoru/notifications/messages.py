"""The texts of notifications, escaped for the platform they go to (pure).

A model's reasoning and a user's names end up in these texts, so nothing from them may
become markup: Telegram messages are sent as HTML with ``< > &`` escaped; Discord
messages keep their text but are sent with ``allowed_mentions`` empty (no @everyone,
no role or user pings), and a zero-width space breaks any ``@name`` so even a client that
ignores that setting shows no mention.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from hyperoru.decimal_text import readable

Platform = Literal["telegram", "discord"]
PLATFORMS: tuple[Platform, ...] = ("telegram", "discord")

TELEGRAM_MAX = 4096
DISCORD_MAX = 2000
_ZERO_WIDTH_SPACE = "\u200b"
_MENTION = re.compile(r"@(?=\S)")  # @everyone, @here, @name; "price @ 5" stays


def telegram_html(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def discord_safe(text: str) -> str:
    return _MENTION.sub("@" + _ZERO_WIDTH_SPACE, text)


@dataclass(frozen=True, slots=True)
class Message:
    """A message as plain lines; ``title`` is shown bold."""

    title: str
    lines: tuple[str, ...] = ()

    def render(self, platform: Platform) -> str:
        if platform == "telegram":
            body = "\n".join(
                [f"<b>{telegram_html(self.title)}</b>"]
                + [telegram_html(line) for line in self.lines]
            )
            return _cut(body, TELEGRAM_MAX)
        body = "\n".join(
            [f"**{discord_safe(self.title)}**"] + [discord_safe(line) for line in self.lines]
        )
        return _cut(body, DISCORD_MAX)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


number = readable  # a decimal as people write it


def signed(value: Decimal) -> str:
    rounded = value.quantize(Decimal("0.01"))
    return ("+" if rounded > 0 else "") + number(rounded)


def trade_executed(
    trader: str, symbol: str, side: str, quantity: Decimal, price: Decimal
) -> Message:
    direction = "BUY" if side == "buy" else "SELL"
    return Message(
        f"Trade executed: {trader}",
        (f"{direction} {number(quantity)} {symbol} @ {number(price)}",),
    )


def position_closed(trader: str, symbol: str, pnl: Decimal, exit_reason: str) -> Message:
    return Message(
        f"Position closed: {trader}",
        (f"{symbol} PnL {signed(pnl)} ({exit_reason})",),
    )


def signal_fired(pool: str, symbols: list[str], signals: list[str]) -> Message:
    lines = [f"Symbols: {', '.join(symbols)}"]
    if signals:
        lines.append("Signals: " + "; ".join(signals))
    return Message(f"Signal fired: {pool}", tuple(lines))


def strategy_error(trader: str, details: str) -> Message:
    return Message(f"Strategy error: {trader}", (details[:500],))


def trader_paused(trader: str, paused_by: str, reason: str | None) -> Message:
    lines = [f"Paused by {paused_by}"]
    if reason:
        lines.append(reason[:500])
    return Message(f"Trader paused: {trader}", tuple(lines))


TEST = Message(
    "Hyperoru test message",
    ("This chat is connected: Hyperoru's notifications will arrive here.",),
)
