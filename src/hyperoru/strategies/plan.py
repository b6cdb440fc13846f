"""Which strategy a cycle runs: the trader's primary strategy (``/api/account/{id}/strategy``)
or one of its bindings (``/api/bindings``). Whichever runs, the symbols and the risk limits
are the trader's own, so a binding can change *how* a trader decides, never what it may
trade or how much."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hyperoru.accounts.models import Account, AccountStrategy
from hyperoru.signals.models import StrategyBinding


class BindingUnavailable(Exception):
    """The binding a cycle was started for was switched off or deleted in the meantime (or
    never belonged to this trader): nothing runs and nothing is recorded."""


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


def primary_plan(account: Account, strategy: AccountStrategy) -> StrategyPlan:
    return StrategyPlan(
        strategy_type=account.account_type,
        symbols=tuple(strategy.symbols or ()),
        prompt_id=strategy.prompt_id,
        program_id=strategy.program_id,
    )


async def binding_plan(
    session: AsyncSession, *, account: Account, strategy: AccountStrategy | None, binding_id: int
) -> StrategyPlan:
    """The plan of one of the trader's active bindings; raises ``BindingUnavailable``."""
    binding = await session.get(StrategyBinding, binding_id)
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
