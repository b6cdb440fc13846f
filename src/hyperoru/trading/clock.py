"""Time arithmetic of the ledger: minute and hour boundaries (UTC)."""

from __future__ import annotations

from datetime import datetime


def floor_minute(moment: datetime) -> datetime:
    return moment.replace(second=0, microsecond=0)


def floor_hour(moment: datetime) -> datetime:
    return moment.replace(minute=0, second=0, microsecond=0)
