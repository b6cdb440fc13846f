"""What a cycle runs, read in one short transaction and handed on as plain values.

One of the trader's strategies (``strategies/models.py``): its primary strategy
(``/api/account/{id}/strategy``) or one of its bindings (``/api/bindings``). Whichever
runs, the symbols and the risk limits are the trader's own, so a binding can change *how*
a trader decides, never what it may trade or how much.

Nothing here is an ORM object: a cycle reads what it needs, closes its session and only
then prepares the prompt, asks the model and places orders, so no database connection
waits on a model, a sandbox or a venue.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account
from hyperoru.strategies.models import AccountStrategy, StrategyBinding, primary_strategy


class BindingUnavailable(Exception):
    """The binding a cycle was started for was switched off or deleted in the meantime (or
    never belonged to this trader): nothing runs and nothing is recorded."""


class TraderGone(Exception):
    """The trader is missing or deleted (before the cycle or while it ran): nothing is
    placed and nothing is recorded."""


class TraderStopped(Exception):
    """An automatic (scheduled or signal) cycle found its trader paused, deactivated or in
    error: it does not run, and nothing is recorded or counted."""


@dataclass(frozen=True, slots=True)
class TraderFacts:
    """The trader as one cycle sees it, read once at the start. The attribute names are
    the ``Account`` ones, so prompt variables and the model factory read either."""

    id: int
    user_id: int
    account_type: str
    llm_provider: str | None
    llm_model: str | None
    llm_base_url: str | None
    initial_capital: Decimal
    current_cash: Decimal
    frozen_cash: Decimal
    default_leverage: int
    max_leverage: int
    max_position_notional: Decimal | None
    max_open_positions: int | None
    # "live": its valuation is its venue's reading (trading.valuation), not the ledger's.
    execution_mode: str
    # May the runtime start cycles for it (live, active, auto-trading, not paused)?
    runnable: bool

    @classmethod
    def of(cls, account: Account) -> TraderFacts:
        return cls(
            id=account.id,
            user_id=account.user_id,
            account_type=account.account_type,
            llm_provider=account.llm_provider,
            llm_model=account.llm_model,
            llm_base_url=account.llm_base_url,
            initial_capital=account.initial_capital,
            current_cash=account.current_cash,
            frozen_cash=account.frozen_cash,
            default_leverage=account.default_leverage,
            max_leverage=account.max_leverage,
            max_position_notional=account.max_position_notional,
            max_open_positions=account.max_open_positions,
            execution_mode=account.execution_mode,
            runnable=is_runnable(account),
        )


def is_runnable(account: Account) -> bool:
    """The Python twin of ``runtime.leases.may_run()``."""
    return (
        account.deleted_at is None
        and account.is_active
        and account.auto_trading_enabled
        and account.status == "active"
    )


@dataclass(frozen=True, slots=True)
class StrategyPlan:
    strategy_type: str  # "prompt" | "program"
    symbols: tuple[str, ...]
    prompt_id: int | None
    program_id: int | None
    # Merged over the program's own params before ``Strategy.init(params)``.
    params_override: dict[str, Any] = field(default_factory=dict)
    binding_id: int | None = None

    @property
    def is_program(self) -> bool:
        return self.strategy_type == "program"


@dataclass(frozen=True, slots=True)
class CycleSetup:
    trader: TraderFacts
    # None: the trader has no strategy configured.
    plan: StrategyPlan | None


async def load_setup(
    session: AsyncSession, *, account_id: int, binding_id: int | None, automatic: bool
) -> CycleSetup:
    """The trader and the strategy a cycle runs. Raises ``TraderGone``, ``TraderStopped``
    (``automatic`` cycles only: the owner may still run a paused trader by hand) or
    ``BindingUnavailable``."""
    account = await session.get(Account, account_id)
    if account is None or account.deleted_at is not None:
        raise TraderGone(account_id)
    trader = TraderFacts.of(account)
    if automatic and not trader.runnable:
        raise TraderStopped(account_id)
    strategy = await primary_strategy(session, account_id)
    if binding_id is not None:
        plan: StrategyPlan | None = await binding_plan(
            session, account=account, strategy=strategy, binding_id=binding_id
        )
    elif strategy is not None:
        plan = primary_plan(account, strategy)
    else:
        plan = None
    return CycleSetup(trader, plan)


async def trader_state(session: AsyncSession, account_id: int) -> TraderFacts | None:
    """The trader now (None once deleted): what a cycle re-checks before it places orders
    or writes its record."""
    account = await session.scalar(
        select(Account).where(Account.id == account_id, Account.deleted_at.is_(None))
    )
    return None if account is None else TraderFacts.of(account)


def primary_plan(account: Account, strategy: AccountStrategy) -> StrategyPlan:
    return StrategyPlan(
        # The trader's type decides (``PUT /api/account`` changes it; the row follows).
        strategy_type=account.account_type,
        symbols=tuple(strategy.symbols or ()),
        prompt_id=strategy.prompt_id,
        program_id=strategy.program_id,
    )


async def binding_plan(
    session: AsyncSession, *, account: Account, strategy: AccountStrategy | None, binding_id: int
) -> StrategyPlan:
    """The plan of one of the trader's active bindings; raises ``BindingUnavailable``."""
    binding = await session.scalar(select(StrategyBinding).where(StrategyBinding.id == binding_id))
    if (
        binding is None
        or not binding.is_active
        or binding.account_id != account.id
        or binding.user_id != account.user_id
    ):
        raise BindingUnavailable(binding_id)
    return StrategyPlan(
        strategy_type=binding.strategy_type,
        symbols=tuple(strategy.symbols or ()) if strategy is not None else (),
        prompt_id=binding.prompt_id,
        program_id=binding.program_id,
        params_override=dict(binding.params_override or {}),
        binding_id=binding.id,
    )
