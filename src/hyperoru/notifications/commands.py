"""Chat commands from a Telegram chat or a Discord interaction.

Only a chat linked with ``/start <code>`` (a one-time code from the API) may run
commands, never a chat id alone; each command sees only the traders its binding names
(all of the owner's when it names none). ``/pause`` and ``/resume`` change nothing until
the same chat answers ``yes`` within a minute. What traders are and how to pause them
belongs to other domains: a ``TraderDesk`` is passed in (flows/bot_desk.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.notifications.messages import Message
from hyperoru.notifications.models import BotConfig, ChatBinding
from hyperoru.notifications.service import use_link_code

CONFIRM_SECONDS = 60
HELP = Message(
    "Hyperoru commands",
    (
        "/status: your traders and their state",
        "/positions: open positions",
        "/pnl: equity and profit or loss",
        "/pause <trader>, /resume <trader>: then answer yes to confirm",
    ),
)
NOT_LINKED = Message(
    "This chat is not linked",
    ("Create a link code in Hyperoru and send /start <code> here first.",),
)


@dataclass(frozen=True, slots=True)
class TraderRef:
    id: int
    name: str


class TraderDesk(Protocol):
    """What commands may ask about a user's traders (scoped to ``trader_ids``; empty:
    all of the user's)."""

    async def traders(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> list[TraderRef]: ...

    async def status(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message: ...

    async def positions(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message: ...

    async def pnl(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message: ...

    async def daily_summary(
        self, session: AsyncSession, user_id: int, trader_ids: Sequence[int]
    ) -> Message: ...

    async def set_running(
        self, session: AsyncSession, user_id: int, trader_id: int, running: bool
    ) -> None:
        """Pause or resume (flushes; the caller commits)."""
        ...


def parse(text: str) -> tuple[str, str]:
    """``/pause@MyBot  Alpha`` -> ("pause", "Alpha"); plain words are lower-cased."""
    head, _, rest = text.strip().partition(" ")
    command = head.lstrip("/").split("@", 1)[0].lower()
    return command, rest.strip()


async def _linked_binding(
    session: AsyncSession, config: BotConfig, chat_id: str
) -> ChatBinding | None:
    return await session.scalar(
        select(ChatBinding).where(
            ChatBinding.user_id == config.user_id,
            ChatBinding.platform == config.platform,
            ChatBinding.chat_id == chat_id,
            ChatBinding.linked.is_(True),
            ChatBinding.status == "active",
        )
    )


def _pick(traders: list[TraderRef], wanted: str) -> TraderRef | None:
    for trader in traders:
        if wanted == str(trader.id) or wanted.lower() == trader.name.lower():
            return trader
    return traders[0] if not wanted and len(traders) == 1 else None


async def handle(
    session: AsyncSession,
    desk: TraderDesk,
    *,
    config: BotConfig,
    chat_id: str,
    text: str,
    now: datetime,
) -> Message:
    """The answer to one message from ``chat_id`` to the bot of ``config`` (flushes)."""
    command, argument = parse(text)
    if command == "start":
        if not argument:
            return NOT_LINKED
        bound = await use_link_code(
            session,
            user_id=config.user_id,
            platform=config.platform,
            code=argument,
            chat_id=chat_id,
            now=now,
        )
        if bound is None:
            return Message("Link failed", ("That code is wrong, used or expired.",))
        return Message("Chat linked", ("You will get notifications and may run commands here.",))
    binding = await _linked_binding(session, config, chat_id)
    if binding is None:
        return NOT_LINKED
    user, scope = config.user_id, list(binding.trader_ids)
    if command == "status":
        return await desk.status(session, user, scope)
    if command == "positions":
        return await desk.positions(session, user, scope)
    if command == "pnl":
        return await desk.pnl(session, user, scope)
    if command in ("pause", "resume"):
        trader = _pick(await desk.traders(session, user, scope), argument)
        if trader is None:
            return Message("Which trader?", (f"Send /{command} <trader name or id>.",))
        binding.pending = {
            "action": command,
            "trader_id": trader.id,
            "expires_at": (now + timedelta(seconds=CONFIRM_SECONDS)).isoformat(),
        }
        return Message(
            f"{command.capitalize()} {trader.name}?",
            (f"Answer yes within {CONFIRM_SECONDS} seconds to confirm.",),
        )
    if command in ("yes", "confirm"):
        return await _confirm(session, desk, binding, user, scope, now)
    return HELP


async def _confirm(
    session: AsyncSession,
    desk: TraderDesk,
    binding: ChatBinding,
    user_id: int,
    scope: list[int],
    now: datetime,
) -> Message:
    pending, binding.pending = binding.pending, None
    if not pending or datetime.fromisoformat(pending["expires_at"]) < now:
        return Message("Nothing to confirm", ("Send /pause or /resume first.",))
    allowed = {t.id: t for t in await desk.traders(session, user_id, scope)}
    trader = allowed.get(int(pending["trader_id"]))
    if trader is None:
        return Message("Nothing to confirm", ("That trader is gone.",))
    running = pending["action"] == "resume"
    await desk.set_running(session, user_id, trader.id, running)
    return Message(f"{trader.name} {'resumed' if running else 'paused'}")
