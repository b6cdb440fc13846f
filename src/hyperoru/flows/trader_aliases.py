"""/api/traders: the ai-traders page's spelling of the trader routes (api map §4.3.2).

`POST /api/traders` is `POST /api/account/` and `PUT /api/traders/{id}/llm` is
`PUT /api/account/{id}` limited to the model settings: the same handlers, so the same
validation, ownership (403/404), rate limits and answers.
"""

from __future__ import annotations

from fastapi import APIRouter

from hyperoru.accounts.dependencies import OwnedAccount
from hyperoru.accounts.schemas import AccountOut, AccountUpdate, LlmFields
from hyperoru.auth.dependencies import CurrentUser, TwoFactor
from hyperoru.flows.traders_router import create_account, update_account
from hyperoru.http.dependencies import DbSession
from hyperoru.services import AppServices

router = APIRouter(prefix="/api/traders", tags=["accounts"])

router.add_api_route(
    "",
    create_account,
    methods=["POST"],
    status_code=201,
    response_model=AccountOut,
    summary="Create a trader (the ai-traders page's spelling of POST /api/account/)",
)


@router.put(
    "/{account_id}/llm",
    response_model=AccountOut,
    summary="Change a trader's model settings (PUT /api/account/{id} for these fields)",
)
async def update_trader_llm(
    body: LlmFields,
    account: OwnedAccount,
    user: CurrentUser,
    db: DbSession,
    services: AppServices,
    second_factor: TwoFactor,
) -> AccountOut:
    # Only the fields sent, so an absent key stays and a null one clears, as on the
    # account route (and never an execution mode: the live gate is the account route's).
    update = AccountUpdate.model_validate(body.model_dump(exclude_unset=True))
    return await update_account(update, account, user, db, services, second_factor)
