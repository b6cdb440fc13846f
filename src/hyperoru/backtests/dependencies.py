"""Loaders for the backtest routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from hyperoru.api_types import ResourceId
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.backtests import service
from hyperoru.backtests.finished_answers import FinishedAnswers
from hyperoru.backtests.service import BacktestRecord
from hyperoru.http.dependencies import DbSession


async def owned_backtest(
    backtest_id: ResourceId, user: CurrentUser, db: DbSession
) -> BacktestRecord:
    return await service.load_owned_backtest(db, user=user, backtest_id=backtest_id)


OwnedBacktest = Annotated[BacktestRecord, Depends(owned_backtest)]


async def finished_answers(request: Request) -> FinishedAnswers:
    return request.app.state.services.backtest_answers


Answers = Annotated[FinishedAnswers, Depends(finished_answers)]
