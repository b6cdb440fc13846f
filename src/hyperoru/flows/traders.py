"""Traders as the API shows them: the accounts domain's row, trading's valuation of its
ledger, and the strategy whose prompt, program and pools must be the caller's.

Reads come from the caller's in-memory copy (``trading.read_model``); every write here
bumps the owner's data version after its commit (``db.versions``), so the next read, in
any process, loads the change."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts import service as accounts
from hyperoru.accounts.live_gate import PAPER_ONLY, LiveSwitch
from hyperoru.accounts.models import Account
from hyperoru.accounts.presenters import json_list
from hyperoru.accounts.schemas import AccountCreate, AccountUpdate, StrategyUpdate
from hyperoru.auth.principal import Principal
from hyperoru.db.versions import DataVersions
from hyperoru.net.policy import OutboundGuard
from hyperoru.notifications import outbox
from hyperoru.paging import ListWindow
from hyperoru.programs import service as programs
from hyperoru.prompts import service as prompts
from hyperoru.runtime import leases as runtime_leases
from hyperoru.signals import service as signals
from hyperoru.strategies import primary
from hyperoru.strategies.models import AccountStrategy
from hyperoru.trading import valuation
from hyperoru.trading.read_model import TraderReads, TraderSnapshot, UserTraders, remembered
from hyperoru.vault.cipher import SecretBox


async def trader_list_json(
    reads: TraderReads, *, user: Principal, include_hidden: bool, window: ListWindow
) -> bytes:
    """The caller's live traders, oldest first, as the JSON list of account objects:
    encoded once per copy and set of marks (a poll between two changes costs no
    encoding)."""
    copy = await reads.traders(user.id)
    shape = (include_hidden, window.offset, window.limit)
    page: tuple[TraderSnapshot, ...] = remembered(
        copy.memo, ("page", *shape), lambda: _page(copy, include_hidden, window)
    )
    return remembered(
        copy.memo,
        ("list", *shape, reads.marks(page)),
        lambda: json_list([t.json.with_equity(reads.equity(t)) for t in page]),
    )


def _page(
    copy: UserTraders, include_hidden: bool, window: ListWindow
) -> tuple[TraderSnapshot, ...]:
    shown = [t for t in copy.by_id.values() if include_hidden or t.account.show_on_dashboard]
    return tuple(shown[window.offset : window.offset + window.limit])


def trader_json(reads: TraderReads, trader: TraderSnapshot) -> bytes:
    return trader.json.with_equity(reads.equity(trader))


def trader_view(reads: TraderReads, trader: TraderSnapshot) -> accounts.AccountView:
    return accounts.AccountView(account=trader.account, valuation=reads.valuation(trader))


async def default_trader_view(reads: TraderReads, *, user: Principal) -> accounts.AccountView:
    """Raises 404 ACCOUNT_NOT_FOUND when the caller has no trader."""
    trader = (await reads.traders(user.id)).default()
    if trader is None:
        raise accounts.no_traders_yet()
    return trader_view(reads, trader)


async def create_trader(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    user: Principal,
    data: AccountCreate,
    versions: DataVersions,
    live: LiveSwitch = PAPER_ONLY,
) -> accounts.AccountView:
    account = await accounts.create_account(session, box, guard, user=user, data=data, live=live)
    await versions.bump(user.id)
    return await valuation.account_view(session, account)


async def update_trader(
    session: AsyncSession,
    box: SecretBox,
    guard: OutboundGuard,
    *,
    account: Account,
    data: AccountUpdate,
    versions: DataVersions,
    live: LiveSwitch = PAPER_ONLY,
    paused_by: outbox.PauseCause = "owner",
) -> accounts.AccountView:
    """Change the sent fields; the primary strategy follows a new account_type, a resumed
    trader starts a fresh failure streak and a paused one tells its chats, all in one
    transaction. Commits."""
    was_running = (
        account.status == "active"
        and _stops(data)
        and await outbox.lock_running(session, account.id)
    )
    change = await accounts.change_account(
        session,
        box,
        guard,
        account=account,
        data=data,
        trades_so_far=lambda: valuation.trades_so_far(session, account),
        live=live,
    )
    if change.type_changed:
        await primary.follow_account_type(session, account=change.account)
    if change.resumed:
        await runtime_leases.reset_failures(session, account_id=change.account.id)
    if was_running and change.account.status != "active":
        await outbox.trader_paused(session, account=change.account, cause=paused_by)
    await session.commit()
    await versions.bump(change.account.user_id)
    return await valuation.account_view(session, change.account)


def _stops(data: AccountUpdate) -> bool:
    return data.auto_trading_enabled is False or data.is_active is False


async def delete_trader(session: AsyncSession, *, account: Account, versions: DataVersions) -> None:
    user_id = account.user_id
    await accounts.delete_account(session, account=account)
    await versions.bump(user_id)


async def update_trader_strategy(
    session: AsyncSession,
    *,
    user: Principal,
    account: Account,
    data: StrategyUpdate,
    versions: DataVersions,
) -> AccountStrategy:
    """Binding another user's template, program or pool is refused here (403/404), not
    discovered at the next cycle. Commits."""
    if data.prompt_id is not None:
        await prompts.load_readable_prompt(session, user=user, prompt_id=data.prompt_id)
    if data.program_id is not None:
        await programs.load_owned_program(session, user=user, program_id=data.program_id)
    for pool_id in data.signal_pool_ids or ():
        await signals.load_owned_pool(session, user=user, pool_id=pool_id)
    strategy = await primary.update_strategy(session, account=account, data=data)
    await versions.bump(user.id)
    return strategy
