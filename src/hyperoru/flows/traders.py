"""Traders as the API shows them: the accounts domain's row, trading's valuation of its
ledger, and the strategy whose prompt, program and pools must be the caller's."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.accounts.schemas import AccountCreate, AccountUpdate, StrategyUpdate
from hyperoru.auth.principal import Principal
from hyperoru.net.policy import OutboundGuard
from hyperoru.paging import ListWindow
from hyperoru.programs import service as programs
from hyperoru.prompts import service as prompts
from hyperoru.runtime import leases as runtime_leases
from hyperoru.signals import service as signals
from hyperoru.strategies import primary
from hyperoru.strategies.models import AccountStrategy
from hyperoru.trading import valuation
from hyperoru.vault.cipher import SecretBox


async def list_traders(
    session: AsyncSession, *, user: Principal, include_hidden: bool, window: ListWindow
) -> list[accounts.AccountView]:
    owned = await accounts.list_accounts(
        session, user=user, include_hidden=include_hidden, window=window
    )
    return await valuation.account_views(session, owned)


async def create_trader(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    user: Principal,
    data: AccountCreate,
) -> accounts.AccountView:
    account = await accounts.create_account(session, box, guard, user=user, data=data)
    return await valuation.account_view(session, account)


async def update_trader(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    account: Account,
    data: AccountUpdate,
) -> accounts.AccountView:
    """Change the sent fields; the primary strategy follows a new account_type and a
    resumed trader starts a fresh failure streak, all in one transaction. Commits."""
    change = await accounts.change_account(
        session,
        box,
        guard,
        account=account,
        data=data,
        trades_so_far=lambda: valuation.trades_so_far(session, account),
    )
    if change.type_changed:
        await primary.follow_account_type(session, account=change.account)
    if change.resumed:
        await runtime_leases.reset_failures(session, account_id=change.account.id)
    await session.commit()
    return await valuation.account_view(session, change.account)


async def trader_view(session: AsyncSession, *, account: Account) -> accounts.AccountView:
    return await valuation.account_view(session, account)


async def default_trader_view(session: AsyncSession, *, user: Principal) -> accounts.AccountView:
    """Raises 404 ACCOUNT_NOT_FOUND when the caller has no trader."""
    return await valuation.account_view(session, await accounts.default_account(session, user=user))


async def update_trader_strategy(
    session: AsyncSession, *, user: Principal, account: Account, data: StrategyUpdate
) -> AccountStrategy:
    """Binding another user's template, program or pool is refused here (403/404), not
    discovered at the next cycle. Commits."""
    if data.prompt_id is not None:
        await prompts.load_readable_prompt(session, user=user, prompt_id=data.prompt_id)
    if data.program_id is not None:
        await programs.load_owned_program(session, user=user, program_id=data.program_id)
    for pool_id in data.signal_pool_ids or ():
        await signals.load_owned_pool(session, user=user, pool_id=pool_id)
    return await primary.update_strategy(session, account=account, data=data)
