"""The decision log and the manual trigger of one trader."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.api_types import MAX_ID
from hyperoru.errors import not_found
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.strategies import decision_log
from hyperoru.strategies.plan import BindingUnavailable, TraderGone
from hyperoru.strategies.schemas import DecisionOut
from hyperoru.strategies.trigger import Trigger
from hyperoru.timeutils import utcnow

router = APIRouter(prefix="/api/account", tags=["decisions"])


@router.get("/{account_id}/decisions", response_model=list[DecisionOut])
async def decisions(
    account: OwnedAccount, db: DbSession, window: ListWindowQuery
) -> list[DecisionOut]:
    """The trader's decision log, newest first."""
    records = await decision_log.list_decisions(db, account_id=account.id, window=window)
    return [DecisionOut.of(record) for record in records]


@router.post("/{account_id}/trigger", response_model=DecisionOut)
async def trigger(
    account: OwnedAccount,
    db: DbSession,
    request: Request,
    binding_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="Run this active binding of the trader instead"),
    ] = None,
) -> DecisionOut:
    """Run one decision cycle now (the trader's primary strategy, or one of its active
    bindings) and answer with its recorded decision."""
    manual = Trigger(kind="manual", at=utcnow(), binding_id=binding_id)
    # The cycle reads what it needs itself: the request's connection goes back to the
    # pool now, not after the model has answered.
    await db.close()
    try:
        record = await request.app.state.pipeline.run(account.id, manual)
    except BindingUnavailable:
        raise not_found("binding") from None
    except TraderGone:
        raise not_found("account") from None
    return DecisionOut.of(record)
