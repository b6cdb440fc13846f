"""Loaders and query parsers for /api/account routes.

``OwnedAccount`` is the one way a route turns an account id into a trader: every route
with an account id in its path takes it, and tests/test_ownership_walk.py checks that.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from hyperoru.accounts import service
from hyperoru.accounts.models import Account
from hyperoru.auth.dependencies import CurrentUser
from hyperoru.http.dependencies import DbSession


async def owned_account(
    account_id: Annotated[int, Path(description="The trader's id")],
    user: CurrentUser,
    db: DbSession,
) -> Account:
    return await service.load_owned_account(db, user=user, account_id=account_id)


OwnedAccount = Annotated[Account, Depends(owned_account)]
