"""Every error code the server answers with, its HTTP status and what a client can do.

Raise sites keep their string literals (``ApiError(409, "EMAIL_TAKEN", …)``);
``tests/http/test_error_catalogue.py`` reads every one of them from the source and fails
when a code is missing here, is raised with a status not listed here, or is listed here
but raised nowhere. The error table of ``docs/API.md`` is generated from this list:

    python -m hyperoru.error_codes --markdown          # print the table
    python -m hyperoru.error_codes --write docs/API.md  # replace the table in place
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class ErrorCode:
    code: str
    # The HTTP statuses it is answered with. Empty: only sent in /ws error frames.
    statuses: tuple[int, ...]
    meaning: str
    # The framework's fallback for an HTTP error without a code of its own: it keeps
    # whatever status was raised.
    any_status: bool = False
    # Also an order's ``reject_code``: executing an order answers 200 with the rejection.
    order_reject: bool = False

    @property
    def websocket_only(self) -> bool:
        return not self.statuses and not self.any_status


E = ErrorCode

CATALOGUE: tuple[ErrorCode, ...] = (
    # 400: the request itself is malformed.
    E(
        "INVALID_JSON",
        (400,),
        "The body (or /ws frame) is not strict JSON (no NaN or Infinity; a body must also "
        "be UTF-8 with no lone surrogate or U+0000 in any string), or a body was sent "
        "without Content-Type: application/json; fix the encoding and resend.",
    ),
    E(
        "VALIDATION_ERROR",
        (400,),
        "A field is missing, of the wrong type or out of range; "
        "`details.fields` names each field and what is wrong with it.",
    ),
    E(
        "CANDLE_FILE_INVALID",
        (400,),
        "A candle file cannot be imported (unsorted, duplicate, insane OHLC, off the "
        "interval's grid, unreadable); `details.line` (CSV) or `details.row` (Parquet) "
        "names the first bad one.",
    ),
    E(
        "BAD_REQUEST",
        (400,),
        "The framework could not read the request (e.g. an unreadable "
        "form body); send a JSON body.",
    ),
    # 401: who is calling is unknown.
    E(
        "AUTH_REQUIRED",
        (401,),
        "No session token was sent; log in and send `Authorization: Bearer <token>`.",
    ),
    E("INVALID_TOKEN", (401,), "The token is malformed, unknown or revoked; log in again."),
    E("TOKEN_EXPIRED", (401,), "The token's lifetime or idle time ran out; log in again."),
    E(
        "INVALID_CREDENTIALS",
        (401,),
        "Login failed: the user does not exist, the password is "
        "wrong or the account is deactivated.",
    ),
    E(
        "BOT_SIGNATURE_INVALID",
        (401,),
        "A Discord interaction without a valid Ed25519 signature of the bot's public key "
        "(or too old); only Discord sends these.",
    ),
    # 403: known caller, not allowed.
    E(
        "BOT_WEBHOOK_FORBIDDEN",
        (403,),
        "A Telegram webhook call without the bot's secret header; only Telegram sends these.",
    ),
    E(
        "FORBIDDEN",
        (403,),
        "The resource belongs to another user, needs an administrator, or "
        "is read-only (built-in prompt templates): use your own resource.",
    ),
    E(
        "METRICS_FORBIDDEN",
        (403,),
        "/metrics answers a loopback client with no proxy in between, or a caller sending "
        "`Authorization: Bearer <HYPERORU_METRICS_TOKEN>`.",
    ),
    E(
        "REGISTRATION_CLOSED",
        (403,),
        "This server does not accept new users; ask its administrator for an account.",
    ),
    E(
        "INVALID_CURRENT_PASSWORD",
        (403,),
        "`current_password` is wrong (counted as a failed login); resend with the right one.",
    ),
    E(
        "MFA_REQUIRED",
        (403,),
        "This change needs two-factor authentication and you have none enrolled: enrol with "
        "POST /api/users/mfa/totp/setup and /enable, then send `totp_code`.",
    ),
    E(
        "INVALID_TOTP",
        (403,),
        "The two-factor code is missing, wrong or already used (a code is good once); send "
        "the current code from your authenticator. Wrong codes are counted per account.",
    ),
    E(
        "LIVE_TRADING_DISABLED",
        (403,),
        "Live trading is off on this server; the operator enables it with "
        "`HYPERORU_LIVE_TRADING=enabled`. Use `execution_mode` `paper`.",
    ),
    E(
        "FACTOR_ENGINE_DISABLED",
        (403,),
        "The factor engine is off on this server; the operator enables it with "
        "`HYPERORU_FACTOR_ENGINE=enabled` (or `FACTOR_ENGINE_ENABLED=true`).",
    ),
    # 404: nothing there (or soft-deleted, or another user's session).
    E("NOT_FOUND", (404,), "No such route; check the method and path against /docs."),
    E("ACCOUNT_NOT_FOUND", (404,), "No such AI trader (or it was deleted)."),
    E(
        "AI_TASK_NOT_FOUND",
        (404,),
        "No such assistant task among your own, or it ended over ten minutes ago "
        "(HYPERORU_ASSISTANT_TASK_TTL_SECONDS), or another server process runs it.",
    ),
    E("BACKTEST_NOT_FOUND", (404,), "No such program backtest (or it was deleted)."),
    E("BINDING_NOT_FOUND", (404,), "No such strategy binding (or it was deleted)."),
    E("BOT_BINDING_NOT_FOUND", (404,), "No such chat binding of your bots."),
    E("BOT_CONFIG_NOT_FOUND", (404,), "No bot is configured for that platform; save one first."),
    E("CANDLES_NOT_FOUND", (404,), "You imported no candles of that symbol (and interval)."),
    E(
        "EXCHANGE_CREDENTIALS_NOT_FOUND",
        (404,),
        "The trader has no exchange credentials; connect them with PUT /api/account/{id}/exchange.",
    ),
    E("CONVERSATION_NOT_FOUND", (404,), "No such assistant conversation (or it was deleted)."),
    E("DECISION_NOT_FOUND", (404,), "No such decision (the assistant's explain_decision tool)."),
    E("JOB_NOT_FOUND", (404,), "No such job."),
    E("ORDER_NOT_FOUND", (404,), "No such order, or it belongs to a deleted trader."),
    E("POOL_NOT_FOUND", (404,), "No such signal pool (or it was deleted)."),
    E("PROGRAM_NOT_FOUND", (404,), "No such program (or it was deleted)."),
    E("PROMPT_BACKTEST_NOT_FOUND", (404,), "No such prompt backtest (or it was deleted)."),
    E("PROMPT_NOT_FOUND", (404,), "No such prompt template (or it was deleted)."),
    E(
        "SESSION_NOT_FOUND",
        (404,),
        "No such session among your own; list them with GET /api/users/sessions.",
    ),
    E("SIGNAL_NOT_FOUND", (404,), "No such signal definition (or it was deleted)."),
    E("FACTOR_NOT_FOUND", (404,), "No such factor: neither a built-in nor one of yours."),
    E(
        "EFFECTIVENESS_NOT_READY",
        (404,),
        "The factor exists but no effectiveness has been computed for it yet; "
        "POST /api/factors/effectiveness/compute starts a run.",
    ),
    E(
        "SYMBOL_NOT_FOUND",
        (404,),
        "The market has no such symbol; list symbols with GET /api/crypto/symbols.",
    ),
    # 405, 413.
    E(
        "METHOD_NOT_ALLOWED",
        (405,),
        "The path exists but not with this method; see the `Allow` header.",
    ),
    E(
        "PAYLOAD_TOO_LARGE",
        (413,),
        "The body is over 1 MiB (a candle file over 64 MiB); send less, or split the file.",
    ),
    E(
        "UNSUPPORTED_MEDIA_TYPE",
        (415,),
        "A candle upload was sent as something other than `text/csv`, "
        "`application/vnd.apache.parquet` or `application/octet-stream`; set the type.",
    ),
    # 409: conflicts with the current state.
    E(
        "BOT_NO_CHAT",
        (409,),
        "Your bot of that platform has no active chat (none bound, all turned off or "
        "disabled after failures, or the platform refused the bot's token); bind a chat or "
        "save the bot again, then retry.",
    ),
    E("USERNAME_TAKEN", (409,), "Another user has this username (ignoring case); pick another."),
    E(
        "FACTOR_NAME_TAKEN",
        (409,),
        "You already have a factor of that name, or it is a built-in factor, function or "
        "series name; pick another.",
    ),
    E("EMAIL_TAKEN", (409,), "Another user has this email (ignoring case); use another or log in."),
    E(
        "IDEMPOTENCY_CONFLICT",
        (409,),
        "This `client_order_id` was used for an order with other "
        "parameters; use a new id (`details.order_id` is the existing order).",
    ),
    E(
        "ORDER_NOT_PENDING",
        (409,),
        "The order was already executed, cancelled or rejected; fetch it to see its status.",
    ),
    E(
        "ACCOUNT_HAS_ACTIVITY",
        (409,),
        "`initial_capital` can only change before the trader's "
        "first trade; create a new trader instead.",
    ),
    E(
        "SIGNAL_IN_USE",
        (409,),
        "The signal is part of pools (`details.pool_ids`); remove it from them first.",
    ),
    E(
        "MFA_ALREADY_ENABLED",
        (409,),
        "Two-factor is already enabled; disable it (password and code) before enrolling again.",
    ),
    E(
        "MFA_NOT_SET_UP",
        (409,),
        "No two-factor setup is pending; call POST /api/users/mfa/totp/setup first.",
    ),
    E("MFA_NOT_ENABLED", (409,), "Two-factor is not enabled, so there is nothing to disable."),
    E(
        "EXCHANGE_MISMATCH",
        (409,),
        "A live trader's venue state was asked for under the other venue's path "
        "(`/api/hyperliquid/...` for a Binance trader or the reverse); use the path of the "
        "venue the trader trades on.",
    ),
    E(
        "EXCHANGE_CREDENTIALS_MISSING",
        (409,),
        "Live trading (or `hyperliquid_enabled`) needs the trader's credentials for its "
        "exchange (`details.exchange`; nothing was sent); connect them with "
        "PUT /api/account/{id}/exchange.",
    ),
    E(
        "BOT_TOKEN_INVALID",
        (422,),
        "Telegram or Discord refused the bot token or the Discord webhook URL; copy it again "
        "from @BotFather or the Discord developer portal (docs/BOTS.md).",
    ),
    E(
        "TRADER_IS_LIVE",
        (409,),
        "The trader trades live: switch it to paper before deleting it, removing its "
        "credentials or connecting it to another exchange.",
    ),
    # 422: well-formed, but against a business rule.
    E(
        "WEAK_PASSWORD",
        (422,),
        "The password is too short, too long, common or built from the username, the email or "
        "the service's name; choose another.",
    ),
    E(
        "LEVERAGE_TOO_HIGH",
        (422,),
        "Leverage is above the trader's `max_leverage` or the asset's limit; lower it.",
        order_reject=True,
    ),
    E(
        "INSUFFICIENT_MARGIN",
        (422,),
        "Not enough free cash for the order's margin and fees; reduce size or leverage.",
        order_reject=True,
    ),
    E(
        "MIN_NOTIONAL",
        (422,),
        "The order's value is below the venue minimum; increase its size.",
        order_reject=True,
    ),
    E(
        "INVALID_TICK",
        (422,),
        "The price is not a multiple of the symbol's tick size; round it.",
        order_reject=True,
    ),
    E(
        "INVALID_SIZE",
        (422,),
        "The quantity is not a multiple of the symbol's size step; round it.",
        order_reject=True,
    ),
    E(
        "REDUCE_ONLY_REJECTED",
        (422,),
        "A reduce-only order would open or grow a position; check the open position first.",
        order_reject=True,
    ),
    E(
        "POST_ONLY_WOULD_CROSS",
        (422,),
        "A post-only (ALO) order would take liquidity; move its price away from the market.",
        order_reject=True,
    ),
    E(
        "NO_LIQUIDITY",
        (422,),
        "No market data for the symbol, or nothing to fill an IOC or market order within its "
        "price limits; retry later or use a resting limit order.",
        order_reject=True,
    ),
    E(
        "UNKNOWN_SYMBOL",
        (422,),
        "The symbol is not tradable on this trader's venue; use one from GET /api/crypto/symbols.",
        order_reject=True,
    ),
    E(
        "URL_NOT_ALLOWED",
        (422,),
        "The model `base_url` is malformed or points at a loopback, private or otherwise "
        "non-public address (the message says which); use a public http(s) URL, or ask the "
        "administrator to allow the host.",
    ),
    E(
        "MARKET_SOURCE_MISMATCH",
        (422,),
        "The backfill names an `exchange` or `environment` this server does not read market "
        "data from (`details.exchange`, `details.environment` say which it reads); send "
        "those, or leave both out.",
    ),
    E(
        "EXCHANGE_CREDENTIALS_INVALID",
        (422,),
        "The exchange refused the credentials, or they are not what this server accepts "
        "(a master key, a key that can withdraw); `details.problems` says what to fix.",
    ),
    E(
        "INVALID_TRIGGER_INTERVAL",
        (422,),
        "`trigger_interval` is outside the allowed range "
        "(the message names it); pick a value inside.",
    ),
    E(
        "NO_PROGRAM",
        (422,),
        "The trader's strategy names no `program_id`; set one with PUT /api/account/{id}/strategy.",
    ),
    E("NO_SYMBOLS", (422,), "The trader's strategy lists no symbols; add some to its strategy."),
    E(
        "SYMBOL_NOT_ALLOWED",
        (422,),
        "A live order for a symbol outside the trader's `allowed_symbols`; add the symbol "
        "there or trade another (the order is rejected, nothing was sent).",
    ),
    E(
        "ORDER_NOTIONAL_TOO_HIGH",
        (422,),
        "A live order worth more than the trader's `max_order_notional`; make it smaller "
        "(the order is rejected, nothing was sent).",
    ),
    E(
        "POSITION_NOTIONAL_TOO_HIGH",
        (422,),
        "A live order that would grow the position beyond the trader's "
        "`max_position_notional`; make it smaller (the order is rejected, nothing was sent).",
    ),
    E(
        "DAILY_LOSS_LIMIT",
        (422,),
        "The live trader's loss since 00:00 UTC reached its `max_daily_loss`: only "
        "reduce-only orders go out until tomorrow or until the limit is raised.",
    ),
    E(
        "NOT_A_PROMPT_TRADER",
        (422,),
        "The trader runs a program; backtest it with POST /api/backtests instead.",
    ),
    E(
        "MODEL_NOT_CONFIGURED",
        (422,),
        "The trader has no model; set `llm_base_url` and `llm_model` (or use the built-in model).",
    ),
    E(
        "ACCOUNT_LIMIT_REACHED",
        (422,),
        "You have the most AI traders a user may have; delete one first.",
    ),
    E(
        "PROMPT_LIMIT_REACHED",
        (422,),
        "You have the most prompt templates a user may have; delete one first.",
    ),
    E(
        "CONVERSATION_LIMIT_REACHED",
        (422,),
        "You have the most assistant conversations a user may have; delete one first.",
    ),
    E(
        "PROGRAM_LIMIT_REACHED",
        (422,),
        "You have the most programs a user may have; delete one first.",
    ),
    E(
        "INVALID_FACTOR_EXPRESSION",
        (422,),
        "The factor expression is not in the language (docs/FACTORS.md); `details.position` "
        "is the 0-based character offset of the mistake and `details.reason` says what it is.",
    ),
    E(
        "FACTOR_LIMIT_REACHED",
        (422,),
        "You have the most custom factors a user may have; delete one first.",
    ),
    E(
        "SIGNAL_LIMIT_REACHED",
        (422,),
        "You have the most signal definitions a user may have; delete one first.",
    ),
    E(
        "POOL_LIMIT_REACHED",
        (422,),
        "You have the most signal pools a user may have; delete one first.",
    ),
    E(
        "BINDING_LIMIT_REACHED",
        (422,),
        "You have the most strategy bindings a user may have; delete one first.",
    ),
    # 429: too much, come back later (`Retry-After` says when, where known).
    E(
        "RATE_LIMITED",
        (429,),
        "Too many requests (or /ws messages) in the window; wait `Retry-After` seconds.",
    ),
    E(
        "LOGIN_THROTTLED",
        (429,),
        "Too many failed logins for this account; wait `Retry-After` seconds.",
    ),
    E(
        "TOO_MANY_BACKTESTS",
        (429,),
        "You already have the most backtests queued or running "
        "(`details.limit`, `details.active`); wait for one to finish or cancel one.",
    ),
    E(
        "SANDBOX_BUDGET_SPENT",
        (429,),
        "Your programs used their sandbox time for now (`details.budget_seconds` per "
        "`details.window_seconds`); test runs and backtests start again after "
        "`Retry-After` seconds. Live program traders keep running.",
    ),
    E(
        "TOO_MANY_SANDBOX_RUNS",
        (429,),
        "You already have the most test runs waiting or running (`details.limit`); "
        "retry after `Retry-After` seconds.",
    ),
    # 5xx: not the client's fault.
    E(
        "INTERNAL_ERROR",
        (500,),
        "An unexpected server fault; retry, and report the `request_id` if it persists.",
    ),
    E(
        "PARQUET_UNAVAILABLE",
        (501,),
        "This server reads Parquet only with the optional extra "
        "(`pip install 'hyperoru[parquet]'`); send the candles as CSV.",
    ),
    E("UPSTREAM_ERROR", (502,), "The market data source sent an unusable answer; retry later."),
    E(
        "MARKET_DATA_UNAVAILABLE",
        (503,),
        "No fresh market data right now (nothing was "
        "executed); retry after `Retry-After` seconds or later.",
    ),
    E(
        "VENUE_UNAVAILABLE",
        (503,),
        "The exchange could not be reached, refused the connection or asked us to slow down "
        "(`details.venue_code` says how when known); nothing new was saved or sent. Retry "
        "later (after `Retry-After` seconds when given).",
    ),
    E(
        "SERVICE_UNAVAILABLE",
        (503,),
        "The server's database or Redis cannot be reached right now (`details.service` "
        "says which): an outage or restart of the service, not a fault of the request. "
        "Retry after `Retry-After` seconds; a write may or may not have been applied, so "
        "read it back, or resend an order with the same `client_order_id`.",
    ),
    E(
        "BOT_PLATFORM_UNAVAILABLE",
        (503,),
        "Telegram or Discord could not check the bot now (unreachable, slow down, 5xx); "
        "nothing was saved, try again later.",
    ),
    # The framework's fallback.
    E(
        "HTTP_ERROR",
        (),
        "Any other HTTP error the framework raised, with its own status; "
        "the message says what failed.",
        any_status=True,
    ),
    # Only in /ws error frames.
    E(
        "ALREADY_CONNECTED",
        (),
        "This socket is already authenticated; open a new socket for another session.",
    ),
    E(
        "TOO_MANY_SOCKETS",
        (),
        "`switch_user` to a user who already holds the most sockets allowed on this "
        "server process (`details.limit`); close one of theirs first.",
    ),
    E(
        "UNKNOWN_MESSAGE_TYPE",
        (),
        "The /ws message `type` is not one the server handles; `details.supported` lists them.",
    ),
)

BY_CODE: dict[str, ErrorCode] = {entry.code: entry for entry in CATALOGUE}

TABLE_START = (
    "<!-- error-codes: generated by `python -m hyperoru.error_codes --write docs/API.md` -->"
)
TABLE_END = "<!-- /error-codes -->"


def _status_text(entry: ErrorCode) -> str:
    if entry.any_status:
        return "any"
    if entry.websocket_only:
        return "/ws only"
    return ", ".join(str(status) for status in entry.statuses)


def markdown_table() -> str:
    lines = ["| code | status | meaning |", "|---|---|---|"]
    for entry in CATALOGUE:
        meaning = entry.meaning
        if entry.order_reject:
            meaning += " On execute: the order's `reject_code` in a 200 answer."
        lines.append(f"| `{entry.code}` | {_status_text(entry)} | {meaning} |")
    return "\n".join(lines) + "\n"


def with_table(document: str) -> str:
    """``document`` with its generated table (between the markers) replaced."""
    start = document.index(TABLE_START) + len(TABLE_START)
    end = document.index(TABLE_END, start)
    return document[:start] + "\n" + markdown_table() + document[end:]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hyperoru.error_codes")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--markdown", action="store_true", help="print the error-code table")
    action.add_argument("--write", metavar="PATH", help="replace the table in a markdown file")
    args = parser.parse_args(argv)
    if args.markdown:
        sys.stdout.write(markdown_table())
        return 0
    path = Path(args.write)
    path.write_text(with_table(path.read_text()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
