"""The decision log and the manual trigger of one trader."""

from __future__ import annotations

from fastapi import APIRouter, Request

from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.runtime.trigger import Trigger
from hyperoru.strategies import decision_log
from hyperoru.strategies.schemas import DecisionOut
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
async def trigger(account: OwnedAccount, request: Request) -> DecisionOut:
    """Run one decision cycle now and answer with its recorded decision."""
    record = await request.app.state.pipeline.run(account.id, Trigger(kind="manual", at=utcnow()))
    return DecisionOut.of(record)
