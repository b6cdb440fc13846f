"""The assistant's tools: each one a call into our own services as the user who is chatting,
through the same ownership checks the API routes use (never a privileged path).

A tool is ``read`` (no side effect) or ``act`` (saves a new draft, queues a backtest). No
tool places or cancels orders, changes a trader's settings or reads a secret. Results
are plain JSON values; the agent hands them to the model as data (``agent.py``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hyperoru.accounts import service as accounts
from hyperoru.accounts.models import Account
from hyperoru.analytics import decisions as attribution
from hyperoru.analytics import service as analytics
from hyperoru.analytics.schemas import AccountRow, AttributionOut, SummaryOut
from hyperoru.analytics.service import Scope, Window, trade_fields
from hyperoru.api_types import MAX_ID
from hyperoru.auth.principal import Principal
from hyperoru.backtests import service as backtests
from hyperoru.backtests.presenters import summary_out
from hyperoru.backtests.schemas import BacktestConfig, BacktestCreate
from hyperoru.errors import ApiError, forbidden, not_found
from hyperoru.factors import service as factors
from hyperoru.factors.catalogue import BUILTINS, CATEGORIES
from hyperoru.factors.dependencies import ensure_engine
from hyperoru.factors.schemas import EffectivenessRow
from hyperoru.jobs.runner import JobRunner
from hyperoru.market.runtime import MarketRuntime
from hyperoru.paging import ListWindow
from hyperoru.programs import service as programs
from hyperoru.programs.sandbox.launcher import Sandbox
from hyperoru.programs.schemas import ProgramCreate
from hyperoru.prompts import service as prompts
from hyperoru.prompts.schemas import PromptCreate
from hyperoru.ratelimit.dependencies import MINUTE, rate_limited
from hyperoru.ratelimit.limiter import Budget, RateLimiter
from hyperoru.settings import Settings
from hyperoru.strategies import decision_log
from hyperoru.strategies.schemas import DecisionOut
from hyperoru.timeutils import utcnow
from hyperoru.trading.paper_client import PaperExchange
from hyperoru.trading.read_model import TraderReads
from hyperoru.trading.schemas import PositionOut, fill_out

ToolKind = Literal["read", "act"]
DRAFT_SUFFIX = " (AI draft)"
Id = Annotated[int, Field(ge=1, le=MAX_ID)]


@dataclass(frozen=True, slots=True)
class ToolContext:
    """The caller and the services a tool may reach, nothing more."""

    user: Principal
    sessionmaker: async_sessionmaker[AsyncSession]
    settings: Settings
    market: MarketRuntime
    sandbox: Sandbox
    jobs: JobRunner
    trader_reads: TraderReads
    paper: PaperExchange
    limiter: RateLimiter


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False)


class NoArgs(_Args):
    pass


class TraderArgs(_Args):
    trader_id: Id


class TraderPageArgs(_Args):
    trader_id: Id
    limit: Annotated[int, Field(ge=1, le=50)] = 10


Days = Annotated[int, Field(ge=1, le=365)]


class DaysArgs(_Args):
    days: Days = 30


class TraderDaysArgs(_Args):
    trader_id: Id
    days: Days = 30


class AttributionArgs(_Args):
    trader_id: Id | None = None
    days: Days = 30


class FactorArgs(_Args):
    factor_name: Annotated[str, Field(min_length=1, max_length=64)]


class DecisionArgs(_Args):
    decision_id: Id


class ProgramArgs(_Args):
    program_id: Id


class BacktestArgs(_Args):
    backtest_id: Id


class DraftPromptArgs(_Args):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    content: Annotated[str, Field(min_length=1, max_length=20_000)]


class DraftProgramArgs(_Args):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    code: Annotated[str, Field(min_length=1, max_length=100_000)]
    description: Annotated[str, Field(max_length=500)] | None = None


class StartBacktestArgs(_Args):
    program_id: Id
    days: Annotated[int, Field(ge=1, le=365)] = 30
    symbols: Annotated[list[str], Field(min_length=1, max_length=10)] = ["BTC"]
    interval: Literal["1m", "5m", "15m", "1h", "4h", "1d"] = "1h"


Handler = Callable[[ToolContext, AsyncSession, Any], Awaitable[Any]]


@dataclass(frozen=True, slots=True)
class Tool:
    name: str
    description: str
    kind: ToolKind
    args: type[_Args]
    handler: Handler

    def spec(self) -> dict[str, Any]:
        """The OpenAI ``tools`` entry."""
        schema = self.args.model_json_schema()
        schema.pop("title", None)
        return {
            "type": "function",
            "function": {"name": self.name, "description": self.description, "parameters": schema},
        }


def _trader_brief(account: Account) -> dict[str, Any]:
    return {
        "id": account.id,
        "name": account.name,
        "account_type": account.account_type,
        "llm_provider": account.llm_provider,
        "model": account.llm_model,
        "status": account.status,
        "execution_mode": account.execution_mode,
        "auto_trading_enabled": account.auto_trading_enabled,
    }


async def _owned_trader(ctx: ToolContext, session: AsyncSession, trader_id: int) -> Account:
    return await accounts.load_owned_account(session, user=ctx.user, account_id=trader_id)


async def _list_traders(ctx: ToolContext, session: AsyncSession, _: NoArgs) -> Any:
    found = await accounts.list_accounts(
        session, user=ctx.user, include_hidden=True, window=ListWindow(limit=100)
    )
    return {"traders": [_trader_brief(a) for a in found]}


async def _get_trader(ctx: ToolContext, session: AsyncSession, args: TraderArgs) -> Any:
    account = await _owned_trader(ctx, session, args.trader_id)
    return {
        **_trader_brief(account),
        "description": account.description,
        "exchange": account.exchange,
        "default_leverage": account.default_leverage,
        "max_leverage": account.max_leverage,
    }


async def _list_positions(ctx: ToolContext, session: AsyncSession, args: TraderArgs) -> Any:
    trader = await ctx.trader_reads.owned(ctx.user, args.trader_id)
    positions = await ctx.trader_reads.positions(trader)
    shown = [PositionOut.model_validate(p).model_dump(mode="json") for p in positions]
    return {"trader_id": args.trader_id, "positions": shown}


async def _list_trades(ctx: ToolContext, session: AsyncSession, args: TraderPageArgs) -> Any:
    account = await _owned_trader(ctx, session, args.trader_id)
    fills = await ctx.paper.fills(account_id=account.id, limit=args.limit, offset=0)
    return {"trader_id": account.id, "trades": [fill_out(f).model_dump(mode="json") for f in fills]}


async def _list_decisions(ctx: ToolContext, session: AsyncSession, args: TraderPageArgs) -> Any:
    account = await _owned_trader(ctx, session, args.trader_id)
    records = await decision_log.list_decisions(
        session, account_id=account.id, window=ListWindow(limit=args.limit)
    )
    return {
        "trader_id": account.id,
        "decisions": [
            {
                "id": r.id,
                "created_at": r.created_at.isoformat(),
                "status": r.status,
                "executed": r.executed,
                "decisions": r.decisions,
            }
            for r in records
        ],
    }


async def _explain_decision(ctx: ToolContext, session: AsyncSession, args: DecisionArgs) -> Any:
    record = await decision_log.load_decision(session, decision_id=args.decision_id)
    if record is None:
        raise not_found("decision")
    if record.user_id != ctx.user.id:
        raise forbidden("This decision belongs to another user")
    shown = DecisionOut.of(record).model_dump(mode="json")
    # The rendered prompt is long and says nothing the fields below do not.
    shown.pop("rendered_prompt", None)
    return shown


async def _list_programs(ctx: ToolContext, session: AsyncSession, _: NoArgs) -> Any:
    found = await programs.list_programs(session, user=ctx.user, window=ListWindow(limit=100))
    return {"programs": [{"id": p.id, "name": p.name, "enabled": p.enabled} for p in found]}


async def _validate_program(ctx: ToolContext, session: AsyncSession, args: ProgramArgs) -> Any:
    program = await programs.load_owned_program(session, user=ctx.user, program_id=args.program_id)
    errors = programs.validate_code(program.code)
    return {
        "program_id": program.id,
        "valid": not errors,
        "errors": [{"line": e.line, "message": e.message} for e in errors],
    }


async def _draft_prompt(ctx: ToolContext, session: AsyncSession, args: DraftPromptArgs) -> Any:
    name = args.name[: 100 - len(DRAFT_SUFFIX)] + DRAFT_SUFFIX
    created = await prompts.create_prompt(
        session, user=ctx.user, data=PromptCreate(name=name, content=args.content)
    )
    return {"prompt_id": created.id, "name": created.name, "new_draft": True}


async def _draft_program(ctx: ToolContext, session: AsyncSession, args: DraftProgramArgs) -> Any:
    name = args.name[: 100 - len(DRAFT_SUFFIX)] + DRAFT_SUFFIX
    # Off until the user turns it on: a draft never runs in a trader's cycle by itself.
    data = ProgramCreate(name=name, code=args.code, description=args.description, enabled=False)
    created = await programs.create_program(session, user=ctx.user, data=data)
    errors = programs.validate_code(created.code)
    return {"program_id": created.id, "name": created.name, "new_draft": True, "valid": not errors}


async def _start_backtest(ctx: ToolContext, session: AsyncSession, args: StartBacktestArgs) -> Any:
    # The budget POST /api/backtests spends: a chat queues no more jobs than the API would.
    jobs_budget = Budget("jobs", ctx.settings.rate_limit_jobs_per_minute, MINUTE)
    spent = await ctx.limiter.hit(jobs_budget, str(ctx.user.id))
    if not spent.allowed:
        raise rate_limited(spent)
    end = utcnow().replace(minute=0, second=0, microsecond=0)
    config = BacktestConfig(
        symbols=args.symbols,
        start_date=(end - timedelta(days=args.days)).isoformat(),
        end_date=end.isoformat(),
        interval=args.interval,
    )
    record = await backtests.submit_backtest(
        session,
        ctx.market,
        user=ctx.user,
        data=BacktestCreate(program_id=args.program_id, config=config),
        settings=ctx.settings,
        sandbox=ctx.sandbox,
    )
    ctx.jobs.wake()
    return _backtest_brief(record)


def _backtest_brief(record: backtests.BacktestRecord) -> dict[str, Any]:
    summary = summary_out(record).model_dump(mode="json")
    keys = ("id", "status", "progress", "program_id", "program_name", "error", "metrics")
    return {"backtest_id": record.backtest.id, **{k: summary.get(k) for k in keys}}


async def _backtest_result(ctx: ToolContext, session: AsyncSession, args: BacktestArgs) -> Any:
    record = await backtests.load_owned_backtest(
        session, user=ctx.user, backtest_id=args.backtest_id
    )
    return _backtest_brief(record)


# --- analytics and factors: the services behind /api/analytics and /api/factors -------


def _window(ctx: ToolContext, days: int) -> Window:
    """The routes' window (``days`` back from the paper exchange's clock, daily periods)."""
    return Window.ending(ctx.paper.now(), days=days, period="1d")


async def _analytics_summary(ctx: ToolContext, session: AsyncSession, args: DaysArgs) -> Any:
    row = await analytics.summary(session, Scope(ctx.user.id, _window(ctx, args.days)))
    shown = SummaryOut.model_validate(row).model_dump(mode="json")
    # One return per day: the statistics above already say what they add up to.
    shown["returns"].pop("values", None)
    return shown


async def _trader_metrics(ctx: ToolContext, session: AsyncSession, args: TraderDaysArgs) -> Any:
    account = await _owned_trader(ctx, session, args.trader_id)
    rows = await analytics.by_account(session, Scope(ctx.user.id, _window(ctx, args.days)))
    row = next((r for r in rows if r["account_id"] == account.id), None)
    if row is None:  # no closed trade in the window: the same fields, all zero or null
        row = {"account_id": account.id, "account_name": account.name, **trade_fields([])}
    shown = AccountRow.model_validate(row).model_dump(mode="json")
    return {"trader_id": account.id, "days": args.days, **shown}


async def _ai_attribution(ctx: ToolContext, session: AsyncSession, args: AttributionArgs) -> Any:
    if args.trader_id is not None:
        await _owned_trader(ctx, session, args.trader_id)
    row = await attribution.ai_attribution(
        session, Scope(ctx.user.id, _window(ctx, args.days), args.trader_id)
    )
    return AttributionOut.model_validate(row).model_dump(mode="json")


async def _list_factors(ctx: ToolContext, session: AsyncSession, _: NoArgs) -> Any:
    ensure_engine(ctx.settings)
    custom = await factors.list_custom(session, user=ctx.user)
    return {
        "builtin": {
            category: [f.name for f in BUILTINS if f.category == category]
            for category in CATEGORIES
        },
        "custom": [
            {"id": f.id, "name": f.name, "expression": f.expression, "description": f.description}
            for f in custom
        ],
    }


async def _factor_effectiveness(ctx: ToolContext, session: AsyncSession, args: FactorArgs) -> Any:
    ensure_engine(ctx.settings)
    row = await factors.effectiveness_of(session, user=ctx.user, factor_name=args.factor_name)
    summary = factors.summary_row(row, "time_series")
    return EffectivenessRow.model_validate(summary).model_dump(mode="json")


TOOLS: tuple[Tool, ...] = (
    Tool("list_traders", "The user's AI traders.", "read", NoArgs, _list_traders),
    Tool("get_trader", "One of the user's AI traders.", "read", TraderArgs, _get_trader),
    Tool("list_positions", "A trader's open positions.", "read", TraderArgs, _list_positions),
    Tool("list_trades", "A trader's latest fills.", "read", TraderPageArgs, _list_trades),
    Tool("list_decisions", "A trader's latest decisions.", "read", TraderPageArgs, _list_decisions),
    Tool(
        "explain_decision",
        "One decision with its reasoning, risk verdict and outcome.",
        "read",
        DecisionArgs,
        _explain_decision,
    ),
    Tool("list_programs", "The user's trading programs.", "read", NoArgs, _list_programs),
    Tool("validate_program", "Check one program's code.", "read", ProgramArgs, _validate_program),
    Tool(
        "backtest_result",
        "A backtest's status and metrics.",
        "read",
        BacktestArgs,
        _backtest_result,
    ),
    Tool(
        "analytics_summary",
        "The user's performance over the last N days: PnL, win rate, Sharpe, drawdown.",
        "read",
        DaysArgs,
        _analytics_summary,
    ),
    Tool(
        "trader_metrics",
        "One trader's closed-trade statistics over the last N days.",
        "read",
        TraderDaysArgs,
        _trader_metrics,
    ),
    Tool(
        "ai_attribution",
        "Decision accuracy, confidence vs outcome, variables, models and regimes "
        "of one trader (or all the user's traders) over the last N days.",
        "read",
        AttributionArgs,
        _ai_attribution,
    ),
    Tool(
        "list_factors",
        "The factor catalogue and the user's custom factors.",
        "read",
        NoArgs,
        _list_factors,
    ),
    Tool(
        "factor_effectiveness",
        "A factor's measured effectiveness (IC, rank IC, win rate, half-life).",
        "read",
        FactorArgs,
        _factor_effectiveness,
    ),
    Tool(
        "draft_prompt",
        "Save a NEW prompt template as a draft (never changes an existing one).",
        "act",
        DraftPromptArgs,
        _draft_prompt,
    ),
    Tool(
        "draft_program",
        "Save a NEW program as a disabled draft (never changes an existing one).",
        "act",
        DraftProgramArgs,
        _draft_program,
    ),
    Tool(
        "start_backtest",
        "Queue a backtest of one of the user's programs over the last N days.",
        "act",
        StartBacktestArgs,
        _start_backtest,
    ),
)
TOOLS_BY_NAME: Mapping[str, Tool] = {tool.name: tool for tool in TOOLS}
TOOL_SPECS: tuple[dict[str, Any], ...] = tuple(tool.spec() for tool in TOOLS)


@dataclass(frozen=True, slots=True)
class ToolOutcome:
    status: Literal["ok", "error", "refused"]
    result: Any


def _invalid(message: str) -> ToolOutcome:
    return ToolOutcome("error", {"code": "VALIDATION_ERROR", "message": message})


async def run_tool(ctx: ToolContext, tool: Tool, arguments: str) -> ToolOutcome:
    """The tool's answer, or the reason it gave none (bad arguments, not found, not the
    caller's). Each call has its own short transaction."""
    try:
        raw = json.loads(arguments or "{}")
    except ValueError:
        return _invalid("arguments are not JSON")
    try:
        args = tool.args.model_validate(raw if isinstance(raw, dict) else {"_": raw})
        async with ctx.sessionmaker() as session:
            return ToolOutcome("ok", await tool.handler(ctx, session, args))
    except ValidationError as exc:  # the tool's arguments, or the body it built from them
        return _invalid(str(exc.errors(include_url=False)[0]["msg"]))
    except ApiError as exc:
        return ToolOutcome("error", {"code": exc.code, "message": exc.message})
