"""Trade replay: what was behind one order — the decision record's trigger, market input
(the rendered prompt, or a program's input), the raw answer and the verdicts — with the
order and its fills. Only the caller's own orders (403/404 as for /api/orders)."""

from __future__ import annotations

from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.analytics.schemas import ReplayFillOut, ReplayOrderOut, ReplayOut
from hyperoru.auth.principal import Principal
from hyperoru.strategies.records import DecisionRecord
from hyperoru.strategies.schemas import DecisionOut
from hyperoru.trading.models import TradingFill
from hyperoru.trading.service import load_owned_order


async def trade_replay(session: AsyncSession, *, user: Principal, order_id: int) -> ReplayOut:
    order = await load_owned_order(session, user=user, order_id=order_id)
    fills = (
        await session.scalars(
            select(TradingFill)
            .where(TradingFill.account_id == order.account_id, TradingFill.order_id == order.id)
            .order_by(TradingFill.time, TradingFill.id)
        )
    ).all()
    record = None
    if order.decision_id is not None:
        record = await session.get(DecisionRecord, order.decision_id)
        if record is not None and record.account_id != order.account_id:
            record = None
    return ReplayOut(
        order=cast(ReplayOrderOut, ReplayOrderOut.of(order)),
        fills=[ReplayFillOut.model_validate(f) for f in fills],
        decision=None if record is None else DecisionOut.of(record),
        # A program's input is the JSON it was given (its prompt, in the record).
        program_input=record.rendered_prompt
        if record is not None and record.strategy_type == "program"
        else None,
    )
