"""``OwnedTrader``: the caller's trader for the read routes, from the in-memory copy
(``trading.read_model``), with ``OwnedAccount``'s answers for ids that are not theirs."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from hyperoru.auth.dependencies import CurrentUser
from hyperoru.trading.read_model import TraderReads, TraderSnapshot


async def get_trader_reads(request: Request) -> TraderReads:
    return request.app.state.services.trader_reads


Reads = Annotated[TraderReads, Depends(get_trader_reads)]


async def owned_trader(
    account_id: Annotated[int, Path(description="The trader's id")],
    user: CurrentUser,
    request: Request,
) -> TraderSnapshot:
    # The reads straight from the app, not through ``Reads``: one dependency less to
    # solve on the routes dashboards poll.
    reads: TraderReads = request.app.state.services.trader_reads
    return await reads.owned(user, account_id)


OwnedTrader = Annotated[TraderSnapshot, Depends(owned_trader)]
