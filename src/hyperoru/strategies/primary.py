"""A trader's primary strategy: what it runs on its own clock (GET/PUT
/api/account/{id}/strategy). Each public function that changes it says who commits."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.accounts.schemas import StrategyUpdate
from hyperoru.errors import ApiError
from hyperoru.strategies.models import PRIMARY, AccountStrategy, primary_strategy
from hyperoru.timeutils import utcnow

DEFAULT_TRIGGER_INTERVAL = 150
MIN_TRIGGER_INTERVAL = 30
MAX_TRIGGER_INTERVAL = 86_400


def _default_strategy(account: Account) -> AccountStrategy:
    return AccountStrategy(
        account_id=account.id,
        user_id=account.user_id,
        strategy_type=account.account_type,
        params_override={},
        prompt_id=None,
        program_id=None,
        symbols=[],
        trigger_interval=DEFAULT_TRIGGER_INTERVAL,
        scheduled_trigger_enabled=True,
        signal_pool_ids=[],
        enabled=True,
    )


async def get_strategy(session: AsyncSession, *, account: Account) -> AccountStrategy:
    """The saved configuration, or the defaults when none was saved (not persisted)."""
    return await primary_strategy(session, account.id) or _default_strategy(account)


async def update_strategy(
    session: AsyncSession, *, account: Account, data: StrategyUpdate
) -> AccountStrategy:
    """Change the sent fields of the trigger configuration. Commits.

    Raises 422 INVALID_TRIGGER_INTERVAL.
    """
    if data.trigger_interval is not None and not (
        MIN_TRIGGER_INTERVAL <= data.trigger_interval <= MAX_TRIGGER_INTERVAL
    ):
        raise ApiError(
            422,
            "INVALID_TRIGGER_INTERVAL",
            f"trigger_interval must be between {MIN_TRIGGER_INTERVAL} and "
            f"{MAX_TRIGGER_INTERVAL} seconds",
        )
    strategy = await primary_strategy(session, account.id)
    now = utcnow()
    if strategy is None:
        strategy = _default_strategy(account)
        strategy.created_at = now
        session.add(strategy)
    # A trader runs one strategy: binding a prompt unbinds a program and vice versa.
    if data.prompt_id is not None:
        strategy.prompt_id, strategy.program_id = data.prompt_id, None
    elif data.sent("prompt_id"):
        strategy.prompt_id = None
    if data.program_id is not None:
        strategy.program_id, strategy.prompt_id = data.program_id, None
    elif data.sent("program_id"):
        strategy.program_id = None
    if data.symbols is not None:
        strategy.symbols = list(dict.fromkeys(s.upper() for s in data.symbols))
    if data.signal_pool_ids is not None:
        strategy.signal_pool_ids = list(dict.fromkeys(data.signal_pool_ids))
    for name in ("trigger_interval", "scheduled_trigger_enabled", "enabled"):
        value = getattr(data, name)
        if value is not None:
            setattr(strategy, name, value)
    strategy.strategy_type = account.account_type
    strategy.updated_at = now
    await session.commit()
    return strategy


async def follow_account_type(session: AsyncSession, *, account: Account) -> None:
    """The primary strategy runs what the trader is (a prompt or a program). The caller
    commits."""
    await session.execute(
        update(AccountStrategy)
        .where(AccountStrategy.account_id == account.id, AccountStrategy.kind == PRIMARY)
        .values(strategy_type=account.account_type)
    )
