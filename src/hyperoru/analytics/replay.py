"""Trade replay: what was behind one order — the decision record's trigger, market input
(the rendered prompt, or a program's input), the raw answer and the verdicts — with the
order and its fills. Only the caller's own orders (403/404 as for /api/orders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.auth.principal import Principal
from hyperoru.strategies.records import DecisionRecord
from hyperoru.trading.models import TradingFill, TradingOrder
from hyperoru.trading.service import load_owned_order


def _order(order: TradingOrder) -> dict[str, Any]:
    return {
        "id": order.id,
        "account_id": order.account_id,
        "symbol": order.symbol,
        "side": order.side,
        "order_type": order.order_type,
        "quantity": order.quantity,
        "price": order.price,
        "leverage": order.leverage,
        "reduce_only": order.reduce_only,
        "status": order.status,
        "filled_quantity": order.filled_quantity,
        "average_price": order.average_price,
        "created_at": order.created_at,
        "trigger_type": order.trigger_type,
        "decision_id": order.decision_id,
        "strategy_type": order.strategy_type,
        "prompt_id": order.prompt_id,
        "program_id": order.program_id,
        "binding_id": order.binding_id,
    }


def _decision(record: DecisionRecord) -> dict[str, Any]:
    is_program = record.strategy_type == "program"
    return {
        "id": record.id,
        "created_at": record.created_at,
        "status": record.status,
        "trigger": record.trigger,
        "strategy_type": record.strategy_type,
        "prompt_id": record.prompt_id,
        "program_id": record.program_id,
        "binding_id": record.binding_id,
        "model": record.model,
        # A prompt trader's input is the rendered prompt (market data, indicators, regime
        # and positions as the model saw them); a program's is its JSON input.
        "rendered_prompt": None if is_program else record.rendered_prompt,
        "program_input": record.rendered_prompt if is_program else None,
        "raw_output": record.raw_output,
        "reasoning": record.reasoning,
        "decisions": record.decisions,
        "outcomes": record.outcomes,
        "latency_ms": record.latency_ms,
    }


async def trade_replay(session: AsyncSession, *, user: Principal, order_id: int) -> dict[str, Any]:
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
    return {
        "order": _order(order),
        "fills": [
            {
                "id": f.id,
                "time": f.time,
                "side": f.side,
                "price": f.price,
                "quantity": f.quantity,
                "fee": f.fee,
                "realized_pnl": f.realized_pnl,
                "is_liquidation": f.is_liquidation,
            }
            for f in fills
        ],
        "decision": None if record is None else _decision(record),
    }
