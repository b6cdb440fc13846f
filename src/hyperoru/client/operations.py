"""Every route of the API as one row: the client's methods (sync and async) are made from
this table, and a test compares it with the server's OpenAPI schema so that no route is
left without a method."""

from __future__ import annotations

import re
from dataclasses import dataclass

from hyperoru.client import models
from hyperoru.client.models import Resource

_PATH_PARAM = re.compile(r"{(\w+)}")


@dataclass(frozen=True)
class Operation:
    name: str
    method: str
    path: str
    model: type[Resource] | None = None  # None: the JSON as it comes (dicts and lists)
    many: bool = False  # the answer is a list of ``model``
    body: bool = False  # keyword arguments go into a JSON body (else the query string)
    body_args: tuple[str, ...] = ()  # positional arguments after the path's, as body fields
    upload: bool = False  # the body is a file (``content=``), not JSON
    effect: str | None = None  # "login" keeps the token, "logout" forgets it
    # Other routes of the server doing the same thing (documented variants).
    aliases: tuple[str, ...] = ()
    # A body field that makes a POST safe to repeat: the server answers a repeat with the
    # first result (contract §8, ``client_order_id``).
    idempotency_key: str | None = None

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    def idempotent(self, body: object) -> bool:
        """Safe to send again after a 429/503: the methods HTTP defines as idempotent, and
        a request carrying its idempotency key. Never a request carrying a two-factor
        code: the server spends the code on the first attempt, so a repeat would only
        come back INVALID_TOTP and hide the first answer."""
        if isinstance(body, dict) and body.get("totp_code") is not None:
            return False
        if self.method in ("GET", "HEAD", "PUT", "DELETE"):
            return True
        key = self.idempotency_key
        return key is not None and isinstance(body, dict) and body.get(key) is not None


Op = Operation
m = models

OPERATIONS: tuple[Operation, ...] = (
    Op("health", "GET", "/api/health"),
    # Users and sessions (contract §3)
    Op(
        "register",
        "POST",
        "/api/users/register",
        m.User,
        body=True,
        body_args=("username", "password"),
    ),
    Op(
        "login",
        "POST",
        "/api/users/login",
        m.LoginResult,
        body=True,
        body_args=("username", "password"),
        effect="login",
    ),
    Op("logout", "POST", "/api/users/logout", effect="logout"),
    Op("logout_all", "POST", "/api/users/logout-all", effect="logout"),
    Op("list_sessions", "GET", "/api/users/sessions"),
    Op("revoke_session", "DELETE", "/api/users/sessions/{session_id}"),
    Op(
        "change_password",
        "PUT",
        "/api/users/password",
        body=True,
        body_args=("current_password", "new_password"),
    ),
    Op("get_profile", "GET", "/api/users/profile", m.User),
    Op("update_profile", "PUT", "/api/users/profile", m.User, body=True),
    Op("list_users", "GET", "/api/users/", m.User, many=True),
    Op("setup_totp", "POST", "/api/users/mfa/totp/setup", body=True, body_args=("password",)),
    Op("enable_totp", "POST", "/api/users/mfa/totp/enable", body=True, body_args=("code",)),
    Op(
        "disable_totp",
        "POST",
        "/api/users/mfa/totp/disable",
        body=True,
        body_args=("password", "code"),
    ),
    Op("get_exchange_config", "GET", "/api/users/exchange-config"),
    Op(
        "set_exchange_config",
        "POST",
        "/api/users/exchange-config",
        body=True,
        body_args=("selected_exchange",),
    ),
    # AI traders (§6)
    Op("list_traders", "GET", "/api/account/list", m.Trader, many=True),
    Op(
        "create_trader",
        "POST",
        "/api/account/",
        m.Trader,
        body=True,
        body_args=("name",),
        aliases=("/api/traders",),
    ),
    Op("get_overview", "GET", "/api/account/overview"),
    Op("get_trader", "GET", "/api/account/{account_id}", m.Trader),
    Op("update_trader", "PUT", "/api/account/{account_id}", m.Trader, body=True),
    Op("update_trader_llm", "PUT", "/api/traders/{account_id}/llm", m.Trader, body=True),
    Op("delete_trader", "DELETE", "/api/account/{account_id}"),
    Op("get_trader_overview", "GET", "/api/account/{account_id}/overview"),
    Op("get_strategy", "GET", "/api/account/{account_id}/strategy"),
    Op("update_strategy", "PUT", "/api/account/{account_id}/strategy", body=True),
    Op("get_exchange_credentials", "GET", "/api/account/{account_id}/exchange"),
    Op("set_exchange_credentials", "PUT", "/api/account/{account_id}/exchange", body=True),
    Op("delete_exchange_credentials", "DELETE", "/api/account/{account_id}/exchange", body=True),
    # Market data (§7)
    Op("get_price", "GET", "/api/crypto/price/{symbol}"),
    Op("get_price_query", "GET", "/api/crypto/price"),
    Op("get_prices", "GET", "/api/crypto/prices"),
    Op("list_symbols", "GET", "/api/crypto/symbols"),
    Op("get_klines", "GET", "/api/klines/data"),
    Op("get_kline_coverage", "GET", "/api/klines/coverage"),
    Op("get_supported_symbols", "GET", "/api/klines/supported-symbols"),
    Op("start_backfill", "POST", "/api/klines/backfill", body=True),
    Op("list_backfills", "GET", "/api/klines/backfill-tasks"),
    Op("get_backfill", "GET", "/api/klines/backfill/status/{task_id}"),
    Op("import_klines", "POST", "/api/klines/import", upload=True),
    Op("list_imported_klines", "GET", "/api/klines/imported"),
    Op("delete_imported_klines", "DELETE", "/api/klines/imported"),
    # Orders, positions, trades (§8)
    Op(
        "create_order",
        "POST",
        "/api/orders/create",
        m.Order,
        body=True,
        idempotency_key="client_order_id",
    ),
    Op("execute_order", "POST", "/api/orders/execute/{order_id}", m.Execution),
    Op("cancel_order", "POST", "/api/orders/cancel/{order_id}", m.Order),
    Op("process_orders", "POST", "/api/orders/process-all"),
    Op("list_pending_orders", "GET", "/api/orders/pending", m.Order, many=True),
    Op("list_orders", "GET", "/api/orders/account/{account_id}", m.Order, many=True),
    Op("list_user_orders", "GET", "/api/orders/user/{user_id}", m.Order, many=True),
    Op("list_positions", "GET", "/api/account/{account_id}/positions", m.Position, many=True),
    Op("list_trades", "GET", "/api/account/{account_id}/trades", m.Fill, many=True),
    Op("get_asset_curve", "GET", "/api/account/{account_id}/asset-curve"),
    Op("get_hyperliquid_positions", "GET", "/api/hyperliquid/accounts/{account_id}/positions"),
    Op("get_hyperliquid_state", "GET", "/api/hyperliquid/account/{account_id}/state"),
    Op("get_binance_positions", "GET", "/api/binance/accounts/{account_id}/positions"),
    Op("get_binance_state", "GET", "/api/binance/account/{account_id}/state"),
    # Analytics (docs/ANALYTICS.md)
    Op("get_analytics_summary", "GET", "/api/analytics/summary"),
    Op("get_analytics_by_strategy", "GET", "/api/analytics/by-strategy"),
    Op("get_analytics_by_account", "GET", "/api/analytics/by-account"),
    Op("get_analytics_by_symbol", "GET", "/api/analytics/by-symbol"),
    Op("get_analytics_by_operation", "GET", "/api/analytics/by-operation"),
    Op("get_analytics_by_trigger_type", "GET", "/api/analytics/by-trigger-type"),
    Op("get_analytics_by_factor", "GET", "/api/analytics/by-factor"),
    Op("get_ai_attribution", "GET", "/api/analytics/ai-attribution"),
    Op("get_program_analytics", "GET", "/api/analytics/programs"),
    Op(
        "get_program_factor_correlation",
        "GET",
        "/api/analytics/programs/{program_id}/factor-correlation",
    ),
    Op("list_analytics_trades", "GET", "/api/analytics/trades"),
    Op("get_trade_replay", "GET", "/api/analytics/replay/{order_id}"),
    # Factors (docs/FACTORS.md)
    Op("list_factors", "GET", "/api/factors/"),
    Op("get_factor_status", "GET", "/api/factors/status"),
    Op("create_factor", "POST", "/api/factors/", body=True),
    Op("list_custom_factors", "GET", "/api/factors/custom"),
    Op("create_custom_factor", "POST", "/api/factors/custom", body=True),
    Op("get_custom_factor", "GET", "/api/factors/custom/{factor_id}"),
    Op("update_custom_factor", "PUT", "/api/factors/custom/{factor_id}", body=True),
    Op("delete_custom_factor", "DELETE", "/api/factors/custom/{factor_id}"),
    Op("evaluate_factor", "POST", "/api/factors/evaluate", body=True),
    Op("list_factor_effectiveness", "GET", "/api/factors/effectiveness"),
    Op("compute_factor_effectiveness", "POST", "/api/factors/effectiveness/compute"),
    Op("get_factor_effectiveness_run", "GET", "/api/factors/effectiveness/runs/{run_id}"),
    Op("get_factor_effectiveness", "GET", "/api/factors/effectiveness/{factor_name}"),
    Op("get_factor_history", "GET", "/api/factors/effectiveness/{factor_name}/history"),
    Op("get_factor_by_window", "GET", "/api/factors/effectiveness/{factor_name}/by-window"),
    # Live trading: the kill switch and reconciliation (docs/LIVE_TRADING.md)
    Op("kill_trader", "POST", "/api/account/{account_id}/kill", body=True),
    Op("kill_all_traders", "POST", "/api/users/kill", body=True),
    Op("list_reconciliation", "GET", "/api/account/{account_id}/reconciliation"),
    # Prompts and decisions (§10)
    Op("list_prompts", "GET", "/api/prompts/", m.Prompt, many=True),
    Op(
        "create_prompt", "POST", "/api/prompts/", m.Prompt, body=True, body_args=("name", "content")
    ),
    Op("preview_prompt", "POST", "/api/prompts/preview", body=True),
    Op("get_prompt", "GET", "/api/prompts/{prompt_id}", m.Prompt),
    Op("update_prompt", "PUT", "/api/prompts/{prompt_id}", m.Prompt, body=True),
    Op("delete_prompt", "DELETE", "/api/prompts/{prompt_id}"),
    Op("copy_prompt", "POST", "/api/prompts/{prompt_id}/copy", m.Prompt),
    Op(
        "rename_prompt",
        "PATCH",
        "/api/prompts/{prompt_id}/name",
        m.Prompt,
        body=True,
        body_args=("name",),
    ),
    Op("list_decisions", "GET", "/api/account/{account_id}/decisions", m.DecisionRecord, many=True),
    Op("trigger_trader", "POST", "/api/account/{account_id}/trigger", m.DecisionRecord),
    # Signals, pools, bindings (§11)
    Op("get_signals", "GET", "/api/signals/"),
    Op("create_signal", "POST", "/api/signals/definitions", m.Signal, body=True),
    Op("get_signal", "GET", "/api/signals/definitions/{signal_id}", m.Signal),
    Op("update_signal", "PUT", "/api/signals/definitions/{signal_id}", m.Signal, body=True),
    Op("delete_signal", "DELETE", "/api/signals/definitions/{signal_id}"),
    Op("create_pool", "POST", "/api/signals/pools", m.SignalPool, body=True),
    Op("get_pool", "GET", "/api/signals/pools/{pool_id}", m.SignalPool),
    Op("update_pool", "PUT", "/api/signals/pools/{pool_id}", m.SignalPool, body=True),
    Op("delete_pool", "DELETE", "/api/signals/pools/{pool_id}"),
    Op("list_pool_triggers", "GET", "/api/signals/pools/{pool_id}/triggers"),
    Op("list_bindings", "GET", "/api/bindings", m.Binding, many=True),
    Op("create_binding", "POST", "/api/bindings", m.Binding, body=True),
    Op("get_binding", "GET", "/api/bindings/{binding_id}", m.Binding),
    Op("update_binding", "PUT", "/api/bindings/{binding_id}", m.Binding, body=True),
    Op("delete_binding", "DELETE", "/api/bindings/{binding_id}"),
    Op("list_program_signal_pools", "GET", "/api/programs/signal-pools/"),
    # Telegram and Discord bots (docs/BOTS.md)
    Op("list_bot_configs", "GET", "/api/bot/configs"),
    Op("get_bot_config", "GET", "/api/bot/config/{platform}"),
    Op("save_bot_config", "POST", "/api/bot/config", body=True),
    Op("delete_bot_config", "DELETE", "/api/bot/config/{platform}"),
    Op("set_bots_enabled", "PUT", "/api/bot/status", body=True, body_args=("enabled",)),
    Op("get_notification_config", "GET", "/api/bot/notification-config"),
    Op("update_notification_config", "PUT", "/api/bot/notification-config", body=True),
    Op("list_bot_bindings", "GET", "/api/bot/bindings"),
    Op("create_bot_binding", "POST", "/api/bot/bindings", body=True),
    Op("update_bot_binding", "PATCH", "/api/bot/bindings/{binding_id}", body=True),
    Op("delete_bot_binding", "DELETE", "/api/bot/bindings/{binding_id}"),
    Op("create_bot_link_code", "POST", "/api/bot/link-codes", body=True),
    Op("list_bot_outbox", "GET", "/api/bot/outbox"),
    Op("connect_telegram", "POST", "/api/bots/telegram", body=True),
    Op("connect_discord", "POST", "/api/bots/discord", body=True),
    Op("send_bot_test_message", "POST", "/api/bots/{platform}/test"),
    Op("list_program_traders", "GET", "/api/programs/accounts/"),
    # Programs and backtests (§12)
    Op("list_programs", "GET", "/api/programs/", m.Program, many=True),
    Op(
        "create_program", "POST", "/api/programs/", m.Program, body=True, body_args=("name", "code")
    ),
    Op("validate_program", "POST", "/api/programs/validate", body=True, body_args=("code",)),
    Op("test_run_program", "POST", "/api/programs/test-run", body=True),
    Op("get_dev_guide", "GET", "/api/programs/dev-guide"),
    Op("get_program", "GET", "/api/programs/{program_id}", m.Program),
    Op("update_program", "PUT", "/api/programs/{program_id}", m.Program, body=True),
    Op("delete_program", "DELETE", "/api/programs/{program_id}"),
    Op(
        "create_backtest",
        "POST",
        "/api/backtests",
        m.Backtest,
        body=True,
        aliases=("/api/programs/backtest",),
    ),
    Op("list_backtests", "GET", "/api/backtests", m.Backtest, many=True),
    Op("get_backtest", "GET", "/api/backtests/{backtest_id}", m.Backtest),
    Op("delete_backtest", "DELETE", "/api/backtests/{backtest_id}", m.Backtest),
    Op("list_backtest_trades", "GET", "/api/backtests/{backtest_id}/trades"),
    Op("list_backtest_equity", "GET", "/api/backtests/{backtest_id}/equity"),
    Op(
        "create_prompt_backtest",
        "POST",
        "/api/prompt-backtests",
        m.Backtest,
        body=True,
        aliases=("/api/prompt-backtest/tasks",),
    ),
    Op(
        "list_prompt_backtests",
        "GET",
        "/api/prompt-backtests",
        m.Backtest,
        many=True,
        aliases=("/api/prompt-backtest/tasks",),
    ),
    Op(
        "get_prompt_backtest",
        "GET",
        "/api/prompt-backtests/{backtest_id}",
        m.Backtest,
        aliases=("/api/prompt-backtest/tasks/{backtest_id}",),
    ),
    Op(
        "delete_prompt_backtest",
        "DELETE",
        "/api/prompt-backtests/{backtest_id}",
        m.Backtest,
        aliases=("/api/prompt-backtest/tasks/{backtest_id}",),
    ),
    Op(
        "list_prompt_backtest_trades",
        "GET",
        "/api/prompt-backtests/{backtest_id}/trades",
        aliases=("/api/prompt-backtest/tasks/{backtest_id}/trades",),
    ),
    Op(
        "list_prompt_backtest_equity",
        "GET",
        "/api/prompt-backtests/{backtest_id}/equity",
        aliases=("/api/prompt-backtest/tasks/{backtest_id}/equity",),
    ),
    Op(
        "list_prompt_backtest_snapshots",
        "GET",
        "/api/prompt-backtests/{backtest_id}/snapshots",
        aliases=("/api/prompt-backtest/tasks/{backtest_id}/snapshots",),
    ),
    # The HyperAI assistant (docs/ASSISTANT.md); its SSE chat is read with the polling pair.
    Op("queue_assistant_chat", "POST", "/api/prompts/ai-chat-stream", body=True),
    Op(
        "get_assistant_chunks",
        "GET",
        "/api/ai-stream/{task_id}",
        aliases=("/api/ai-stream/{task_id}/chunks",),
    ),
    Op("create_conversation", "POST", "/api/hyper-ai/conversations", body=True),
    Op("list_conversations", "GET", "/api/hyper-ai/conversations"),
    Op("get_conversation", "GET", "/api/hyper-ai/conversations/{conversation_id}"),
    Op(
        "rename_conversation",
        "PATCH",
        "/api/hyper-ai/conversations/{conversation_id}",
        body=True,
        body_args=("title",),
    ),
    Op("delete_conversation", "DELETE", "/api/hyper-ai/conversations/{conversation_id}"),
    Op("get_assistant_model", "GET", "/api/hyper-ai/model"),
    Op("set_assistant_model", "PUT", "/api/hyper-ai/model", body=True),
)

BY_NAME: dict[str, Operation] = {op.name: op for op in OPERATIONS}
