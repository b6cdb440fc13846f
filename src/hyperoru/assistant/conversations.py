"""Conversations and their messages, always the caller's own. Each public use case
owns its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.assistant.chat_model import ChatMessage
from hyperoru.assistant.models import Conversation, ConversationMessage
from hyperoru.auth.principal import Principal
from hyperoru.db.owned import load_owned_row
from hyperoru.paging import ListWindow
from hyperoru.quotas import ensure_room
from hyperoru.timeutils import utcnow

MAX_CONVERSATIONS_PER_USER = 1000
TITLE_CHARS = 80
# Earlier user and assistant messages the model sees (tool results are not replayed:
# data read in an earlier turn stays there; ``_as_history``).
HISTORY_MESSAGES = 20


def title_from(message: str) -> str:
    line = " ".join(message.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1] + "…"


async def create_conversation(
    session: AsyncSession,
    *,
    user: Principal,
    title: str,
    context: dict[str, Any],
    skill_ids: Sequence[int] | None,
) -> Conversation:
    """Raises 422 CONVERSATION_LIMIT_REACHED. Commits."""
    await ensure_room(
        session,
        Conversation,
        Conversation.user_id == user.id,
        owner_id=user.id,
        limit=MAX_CONVERSATIONS_PER_USER,
        code="CONVERSATION_LIMIT_REACHED",
        what="conversations",
    )
    conversation = Conversation(
        user_id=user.id,
        title=title,
        context=context,
        skill_ids=list(skill_ids or []),
        message_count=0,
        created_at=utcnow(),
        updated_at=None,
    )
    session.add(conversation)
    await session.commit()
    return conversation


async def load_owned_conversation(
    session: AsyncSession, *, user: Principal, conversation_id: int
) -> Conversation:
    """Raises 404 CONVERSATION_NOT_FOUND or 403 FORBIDDEN (another user's)."""
    return await load_owned_row(
        session, Conversation, "conversation", owner_id=user.id, row_id=conversation_id
    )


async def list_conversations(
    session: AsyncSession, *, user: Principal, window: ListWindow
) -> list[Conversation]:
    """Newest first."""
    rows = await session.scalars(
        select(Conversation)
        .where(Conversation.user_id == user.id)
        .order_by(Conversation.id.desc())
        .limit(window.limit)
        .offset(window.offset)
    )
    return list(rows)


async def messages_of(
    session: AsyncSession, conversation: Conversation
) -> list[ConversationMessage]:
    rows = await session.scalars(
        select(ConversationMessage)
        .where(ConversationMessage.conversation_id == conversation.id)
        .order_by(ConversationMessage.id)
    )
    return list(rows)


async def rename(session: AsyncSession, conversation: Conversation, title: str) -> Conversation:
    conversation.title = title
    conversation.updated_at = utcnow()
    await session.commit()
    return conversation


async def delete(session: AsyncSession, conversation: Conversation) -> None:
    await session.delete(conversation)
    await session.commit()


async def history(session: AsyncSession, conversation: Conversation) -> list[ChatMessage]:
    rows = await session.scalars(
        select(ConversationMessage)
        .where(
            ConversationMessage.conversation_id == conversation.id,
            ConversationMessage.role.in_(("user", "assistant")),
        )
        .order_by(ConversationMessage.id.desc())
        .limit(HISTORY_MESSAGES)
    )
    return [_as_history(m) for m in reversed(list(rows))]


def _as_history(message: ConversationMessage) -> ChatMessage:
    """An answer worded from tool results may quote their text (a decision's reasoning):
    replayed as the assistant's own words it would no longer be data, so the model gets
    only which tools it came from and reads them again if it needs them."""
    used = (message.tool_call or {}).get("from_tools")
    if message.role == "assistant" and used:
        note = f"(an answer built from the results of {', '.join(used)}; not repeated here)"
        return {"role": "assistant", "content": note}
    return {"role": message.role, "content": message.content}


async def append(
    session: AsyncSession,
    conversation: Conversation,
    role: str,
    content: str,
    tool_call: dict[str, Any] | None = None,
) -> None:
    """Adds one message; the caller commits."""
    now = utcnow()
    session.add(
        ConversationMessage(
            conversation_id=conversation.id,
            role=role,
            content=content,
            tool_call=tool_call,
            created_at=now,
        )
    )
    conversation.message_count += 1
    conversation.updated_at = now
