"""The one typed settings object, read from ``HYPERORU_*`` environment variables."""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _split_csv(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HYPERORU_", env_file=".env", extra="ignore", frozen=True
    )

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path("./hyperoru-data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: SecretStr | None = None
    # /metrics (docs/OPERATIONS.md): without a token only loopback clients may read it.
    metrics_token: SecretStr | None = None
    market_data: Literal["sim", "hyperliquid", "binance"] = "sim"
    registration: Literal["open", "closed"] = "open"
    log_level: str = "INFO"

    session_ttl_days: int = Field(default=180, ge=1, le=3650)
    session_idle_days: int | None = Field(default=None, ge=1)
    max_sessions_per_user: int = Field(default=100, ge=1)
    # Verified tokens are cached this long per process (0 turns the cache off); revocations
    # made in the same process apply at once, others within this many seconds.
    token_cache_seconds: float = Field(default=5.0, ge=0, le=60)
    allow_query_token: bool = True
    allowed_origins: str = ""
    llm_allowed_hosts: str = ""
    trusted_proxies: str = ""
    docs_enabled: bool = True

    rate_limit_user_per_minute: int = Field(default=1200, ge=1)
    rate_limit_ip_per_minute: int = Field(default=120, ge=1)
    rate_limit_auth_per_minute: int = Field(default=10, ge=1)
    rate_limit_jobs_per_minute: int = Field(default=20, ge=1)
    login_failure_limit: int = Field(default=10, ge=1)
    login_failure_window_seconds: int = Field(default=900, ge=1)

    # Market data (contract §7, docs/MARKET_DATA.md).
    market_symbols: str = "BTC,ETH,SOL,BNB,DOGE,XRP"
    market_refresh_seconds: float = Field(default=5.0, ge=0.05, le=3600)
    market_sim_seed: int = 42
    market_http_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    hyperliquid_environment: Literal["mainnet", "testnet"] = "mainnet"
    hyperliquid_base_url: str | None = None
    binance_base_url: str | None = None

    # Live trading (docs/LIVE_TRADING.md). Off on a server until the operator enables it;
    # then a trader still needs its owner's credentials and a fresh two-factor code.
    live_trading: Literal["enabled", "disabled"] = "disabled"
    # Where live orders go. Unset: the venue's official host for the trader's environment
    # (the URL never decides the network a request is signed for). Tests point these at
    # loopback fakes.
    binance_futures_base_url: str | None = None

    # Long-running jobs (docs/JOBS.md).
    jobs_lease_seconds: float = Field(default=30.0, ge=0.5, le=3600)
    jobs_poll_seconds: float = Field(default=2.0, ge=0.05, le=600)
    jobs_max_attempts: int = Field(default=3, ge=1, le=100)
    jobs_concurrency: int = Field(default=2, ge=1, le=64)

    # Program backtests (docs/BACKTESTS.md).
    # Candles one backtest may replay, summed over its symbols (bounds the job's memory,
    # the data sent to the sandbox and its run time).
    backtest_max_candles: int = Field(default=50_000, ge=10, le=1_000_000)
    # Queued plus running backtests one user may have at a time.
    backtest_max_active_per_user: int = Field(default=3, ge=1, le=100)

    # The program sandbox's fair use (docs/SECURITY.md, "Fair use of the sandbox"). 0
    # means the default computed from the cores.
    # Sandbox processes one server process runs at once (default: one per core).
    sandbox_slots: int = Field(default=0, ge=0, le=1024)
    # The most of them backtests hold at once (default: all but one, at least one).
    sandbox_backtest_slots: int = Field(default=0, ge=0, le=1024)
    # The most slots one user holds at once in each class (live cycles, test runs,
    # backtests) (default: half the slots, at least one).
    sandbox_user_slots: int = Field(default=0, ge=0, le=1024)
    # Test runs one user may have waiting or running at once.
    sandbox_user_test_runs: int = Field(default=2, ge=1, le=100)
    # Sandbox seconds one user's programs may use per window; once spent, their test runs
    # and backtests are refused (429) until it refills. Live cycles are charged, never
    # refused.
    sandbox_cpu_budget_seconds: float = Field(default=1800.0, gt=0, le=10_000_000)
    sandbox_budget_window_seconds: float = Field(default=3600.0, gt=0, le=10_000_000)
    # One test run's or live cycle's limits, and one backtest's.
    sandbox_run_cpu_seconds: int = Field(default=10, ge=1, le=3600)
    sandbox_run_wall_seconds: float = Field(default=30.0, gt=0, le=3600)
    backtest_cpu_seconds: int = Field(default=240, ge=1, le=86_400)
    backtest_wall_seconds: float = Field(default=300.0, gt=0, le=86_400)

    # Language-model calls (contract §10, docs/BUILTIN_MODEL.md for the offline model).
    llm_timeout_seconds: float = Field(default=60.0, gt=0, le=600)
    llm_max_attempts: int = Field(default=3, ge=1, le=10)
    llm_max_response_bytes: int = Field(default=2 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    # The model client's connection pool, shared by every trader of a process: connections
    # in all, and calls in flight to one host (so one slow provider cannot take them all).
    llm_max_connections: int = Field(default=200, ge=1, le=10_000)
    llm_max_connections_per_host: int = Field(default=64, ge=1, le=10_000)

    # The HyperAI assistant (assistant/, docs/ASSISTANT.md): per-user limits, how many model
    # rounds with tools one message may take, SSE keep-alives, and how long a finished
    # polling-fallback task stays readable.
    assistant_max_concurrent_streams: int = Field(default=2, ge=1, le=1000)
    assistant_messages_per_minute: int = Field(default=10, ge=1, le=10_000)
    assistant_tokens_per_day: int = Field(default=200_000, ge=1, le=1_000_000_000)
    assistant_max_tool_rounds: int = Field(default=4, ge=1, le=20)
    assistant_keepalive_seconds: float = Field(default=15.0, gt=0, le=600)
    assistant_task_ttl_seconds: float = Field(default=600.0, gt=0, le=86_400)

    # The trader runtime: "embedded" runs it inside `hyperoru serve`; "off" leaves it to
    # `hyperoru worker` processes (or to nobody, e.g. in API-only tests).
    runtime: Literal["embedded", "off"] = "embedded"
    # `hyperoru serve --demo`: a demo user with two builtin traders (hyperoru/demo.py).
    demo: bool = False
    # Where `serve` listens, for the demo's start-up block (set by the CLI, not by users).
    demo_url: str = ""
    runtime_tick_seconds: float = Field(default=1.0, ge=0.05, le=60)
    # How long a worker's claim on a trader lasts without renewal (a dead worker's traders
    # move to another worker after this).
    runtime_lease_seconds: float = Field(default=30.0, ge=0.5, le=3600)
    # `hyperoru worker` serves its own /metrics on this port (unset: it opens no port),
    # on this address, under /metrics' operator rule (docs/OPERATIONS.md, "Metrics").
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    worker_metrics_host: str = "127.0.0.1"
    cycle_timeout_seconds: float = Field(default=120.0, ge=1, le=3600)
    # Decision cycles one process runs at once (scheduled, signal and manual together);
    # more wait for a free place, without their timeout running. Cycles hold no database
    # connection while they wait on a model, so this, not the database pool, is the bound
    # (docs/RUNTIME.md).
    max_concurrent_cycles: int = Field(default=128, ge=1, le=100_000)
    # PostgreSQL connections per process for the trader book locks (strategies/book_lock.py):
    # only cycles placing orders right now hold one.
    book_lock_connections: int = Field(default=4, ge=1, le=1000)

    # The factor engine (docs/FACTORS.md): off unless the operator enables it (it costs CPU
    # and memory); the documented `FACTOR_ENGINE_ENABLED=true` is accepted too.
    factor_engine: Literal["enabled", "disabled"] = Field(  # type: ignore[pydantic-alias]
        default="disabled",
        validation_alias=AliasChoices(
            "HYPERORU_FACTOR_ENGINE", "FACTOR_ENGINE_ENABLED", "factor_engine"
        ),
    )
    # The universe effectiveness is measured on (empty: the market symbols), its candle
    # interval, how many days back, and the forward-return horizon in bars.
    factor_symbols: str = ""
    factor_interval: Literal["1h", "4h", "1d"] = "1h"
    factor_lookback_days: int = Field(default=90, ge=7, le=730)
    factor_horizon_bars: int = Field(default=1, ge=1, le=100)
    # Minutes between scheduled effectiveness runs (0: only on demand).
    factor_refresh_minutes: float = Field(default=60.0, ge=0, le=10_080)
    # Telegram and Discord notifications (docs/BOTS.md). The platforms' base URLs (tests
    # point them at loopback fakes); the server's public HTTPS base, without which
    # Telegram bots long-poll instead of registering a webhook; the delivery worker's and
    # the poller's pace.
    telegram_api_url: str = "https://api.telegram.org"
    discord_api_url: str = "https://discord.com/api/v10"
    public_url: str = ""
    bots: Literal["embedded", "off"] = "embedded"
    bots_tick_seconds: float = Field(default=0.5, ge=0.05, le=60)
    bots_poll_seconds: float = Field(default=3.0, ge=0.2, le=600)

    @field_validator("secret_key")
    @classmethod
    def _refuse_weak_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # A short key would make every stored secret as weak as the key itself.
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("HYPERORU_SECRET_KEY must be at least 32 characters")
        return value

    @field_validator("factor_engine", mode="before")
    @classmethod
    def _factor_engine_switch(cls, value: object) -> object:
        # FACTOR_ENGINE_ENABLED is documented as a boolean, HYPERORU_FACTOR_ENGINE as a word.
        if isinstance(value, bool):
            return "enabled" if value else "disabled"
        if isinstance(value, str):
            word = value.strip().lower()
            if word in ("true", "1", "yes", "on"):
                return "enabled"
            if word in ("false", "0", "no", "off", ""):
                return "disabled"
            return word
        return value

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'hyperoru.db').resolve()}"

    @cached_property
    def allowed_origin_list(self) -> tuple[str, ...]:
        return _split_csv(self.allowed_origins)

    @cached_property
    def llm_allowed_host_list(self) -> tuple[str, ...]:
        return _split_csv(self.llm_allowed_hosts)

    @cached_property
    def trusted_proxy_list(self) -> tuple[str, ...]:
        return _split_csv(self.trusted_proxies)

    @cached_property
    def market_symbol_list(self) -> tuple[str, ...]:
        return tuple(s.upper() for s in _split_csv(self.market_symbols))

    @cached_property
    def factor_symbol_list(self) -> tuple[str, ...]:
        return tuple(s.upper() for s in _split_csv(self.factor_symbols)) or self.market_symbol_list
