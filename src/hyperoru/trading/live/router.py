"""The kill switch (per trader, per user) and a live trader's reconciliation events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import field_validator

from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.api_types import RequestModel, ResponseModel, UtcTime
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession
from hyperoru.http.pagination import ListWindowQuery
from hyperoru.trading.execution import TraderExchanges
from hyperoru.trading.live.event_log import list_events, public_details
from hyperoru.trading.live.kill import KillReport, kill_trader, kill_user

kill_router = APIRouter(tags=["live trading"])


class KillRequest(RequestModel):
    flatten: bool = False


class KillOut(ResponseModel):
    account_id: int
    execution_mode: str
    stopped: bool
    orders_cancelled: int
    positions_closed: int
    errors: list[str]

    @classmethod
    def of(cls, report: KillReport) -> KillOut:
        return cls.model_validate(report)


class UserKillOut(ResponseModel):
    traders: list[KillOut]


class ReconciliationEventOut(ResponseModel):
    id: int
    account_id: int
    kind: str
    order_id: int | None
    message: str
    details: dict[str, Any]
    created_at: UtcTime

    @field_validator("details")
    @classmethod
    def _amounts_as_numbers(cls, details: dict[str, Any]) -> dict[str, Any]:
        return public_details(details)


def _exchanges(request: Request) -> TraderExchanges:
    return request.app.state.services.trading.exchanges


@kill_router.post("/api/account/{account_id}/kill", response_model=KillOut)
async def kill_one(
    account: OwnedAccount, db: DbSession, request: Request, body: KillRequest | None = None
) -> KillOut:
    """Stop the trader, cancel its open orders and, with ``flatten``, close its positions."""
    account_id = account.id
    await db.close()  # the kill takes its own short sessions around venue calls
    report = await kill_trader(
        _exchanges(request), account_id, flatten=body.flatten if body else False
    )
    return KillOut.of(report)


@kill_router.post("/api/users/kill", response_model=UserKillOut)
async def kill_all(
    user: CurrentUser, request: Request, body: KillRequest | None = None
) -> UserKillOut:
    """The kill switch for every trader of the caller."""
    reports = await kill_user(_exchanges(request), user.id, flatten=body.flatten if body else False)
    return UserKillOut(traders=[KillOut.of(r) for r in reports])


@kill_router.get(
    "/api/account/{account_id}/reconciliation", response_model=list[ReconciliationEventOut]
)
async def reconciliation_events(
    account: OwnedAccount, db: DbSession, window: ListWindowQuery
) -> list[ReconciliationEventOut]:
    """Differences reconciliation found between this server and the venue, newest first."""
    rows = await list_events(db, account_id=account.id, limit=window.limit, offset=window.offset)
    return [ReconciliationEventOut.model_validate(r) for r in rows]
