"""One user's custom factors as ``name → expression``, for the places that evaluate
factors in a cycle (signals, programs, prompts, backtests). Always read for one owner:
another user's factor of the same name is never seen."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.factors.models import CustomFactor


async def custom_expressions(session: AsyncSession, user_id: int) -> dict[str, str]:
    return (await custom_expressions_of(session, [user_id])).get(user_id, {})


async def custom_expressions_of(
    session: AsyncSession, user_ids: Iterable[int]
) -> dict[int, dict[str, str]]:
    """Per owner (one query for all of them): their factors, in creation order."""
    wanted = sorted(set(user_ids))
    found: dict[int, dict[str, str]] = {user_id: {} for user_id in wanted}
    if not wanted:
        return found
    rows = await session.execute(
        select(CustomFactor.user_id, CustomFactor.name, CustomFactor.expression)
        .where(CustomFactor.user_id.in_(wanted))
        .order_by(CustomFactor.id)
    )
    for user_id, name, expression in rows:
        found[user_id][name] = expression
    return found


async def backtest_factors(
    session: AsyncSession, owner_id: int | None, *, engine_enabled: bool
) -> dict[str, str] | None:
    """The custom factors a backtest's ``data.get_factor`` may read (the owner's, frozen
    at submit so a rerun reads the same ones); None while the factor engine is off."""
    if not engine_enabled:
        return None
    return {} if owner_id is None else await custom_expressions(session, owner_id)
