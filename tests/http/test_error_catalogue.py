"""The error-code catalogue (hyperoru.error_codes) against the source, the engine's
reject codes, the contract and docs/API.md.

The source side is read by tests/http/error_sites.py: every ApiError, response helper,
WsError and not_found call, and every helper that passes its own parameter on as a code.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from textwrap import dedent

import pytest

from hyperoru.error_codes import (
    BY_CODE,
    CATALOGUE,
    TABLE_END,
    TABLE_START,
    main,
    markdown_table,
    with_table,
)
from hyperoru.trading.engine.enums import RejectCode
from tests.http.error_sites import ANY_STATUS, WEBSOCKET, Site, scan

DOCS = Path(__file__).resolve().parents[2] / "docs" / "API.md"

# Every code CONTRACT.md names, with its status (§2's table, §3 auth, §8 orders,
# §9 /ws, §14 outbound URLs).
CONTRACT_CODES = {
    "INVALID_JSON": 400,
    "VALIDATION_ERROR": 400,
    "PAYLOAD_TOO_LARGE": 413,
    "AUTH_REQUIRED": 401,
    "INVALID_TOKEN": 401,
    "TOKEN_EXPIRED": 401,
    "INVALID_CREDENTIALS": 401,
    "FORBIDDEN": 403,
    "REGISTRATION_CLOSED": 403,
    "INVALID_CURRENT_PASSWORD": 403,
    "ACCOUNT_NOT_FOUND": 404,
    "ORDER_NOT_FOUND": 404,
    "SYMBOL_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "USERNAME_TAKEN": 409,
    "EMAIL_TAKEN": 409,
    "ORDER_NOT_PENDING": 409,
    "IDEMPOTENCY_CONFLICT": 409,
    "LEVERAGE_TOO_HIGH": 422,
    "INSUFFICIENT_MARGIN": 422,
    "MIN_NOTIONAL": 422,
    "INVALID_TICK": 422,
    "INVALID_SIZE": 422,
    "REDUCE_ONLY_REJECTED": 422,
    "POST_ONLY_WOULD_CROSS": 422,
    "NO_LIQUIDITY": 422,
    "UNKNOWN_SYMBOL": 422,
    "WEAK_PASSWORD": 422,
    "URL_NOT_ALLOWED": 422,
    "RATE_LIMITED": 429,
    "LOGIN_THROTTLED": 429,
    "INTERNAL_ERROR": 500,
    "UPSTREAM_ERROR": 502,
    "MARKET_DATA_UNAVAILABLE": 503,
}


@pytest.fixture(scope="module")
def sites() -> list[Site]:
    found = scan()
    assert not found.unresolved, "codes the test cannot read statically:\n" + "\n".join(
        found.unresolved
    )
    return found.sites


def _problem(site: Site) -> str | None:
    entry = BY_CODE.get(site.code)
    where = f"{site.path}:{site.line} {site.code}"
    if entry is None:
        return f"{where}: not in hyperoru.error_codes.CATALOGUE"
    if site.status == WEBSOCKET:
        return None
    if site.status == ANY_STATUS:
        return None if entry.any_status else f"{where}: sent with any status, not catalogued so"
    if site.status not in entry.statuses:
        return f"{where}: raised with {site.status}, catalogued with {entry.statuses}"
    return None


def test_every_code_the_source_produces_is_catalogued_with_its_status(sites: list[Site]) -> None:
    problems = [p for p in map(_problem, sites) if p]
    assert not problems, "\n".join(problems)


def test_the_scan_finds_codes_of_every_kind_of_site(sites: list[Site]) -> None:
    found = {(s.code, s.status) for s in sites}
    expected = {
        ("EMAIL_TAKEN", 409),  # ApiError literal
        ("INVALID_TOKEN", 401),  # unauthorized(code, …)
        ("PROMPT_LIMIT_REACHED", 422),  # quotas.ensure_room(code=…)
        ("TOO_MANY_BACKTESTS", 429),  # quotas.ensure_job_room(code=…)
        ("POOL_LIMIT_REACHED", 422),  # a module-level table handed to ensure_room
        ("SIGNAL_NOT_FOUND", 404),  # signals' _owned(…, "signal") → not_found
        ("ORDER_NOT_FOUND", 404),  # not_found("order")
        ("METHOD_NOT_ALLOWED", 405),  # errors._HTTP_CODES, keyed by status
        ("HTTP_ERROR", ANY_STATUS),  # that table's default
        ("PAYLOAD_TOO_LARGE", 413),  # the body guard's send_error
        ("UNKNOWN_MESSAGE_TYPE", WEBSOCKET),  # WsError
        ("INTERNAL_ERROR", 500),
    }
    assert expected <= found, expected - found


def test_no_catalogue_entry_is_dead(sites: list[Site]) -> None:
    used: dict[str, set[int | str]] = defaultdict(set)
    for site in sites:
        used[site.code].add(site.status)
    rejects = {code.value for code in RejectCode}
    dead = []
    for entry in CATALOGUE:
        statuses = used.get(entry.code, set())
        if entry.order_reject and entry.code in rejects:
            # The engine answers with it as an order's reject_code; its 422 is the contract's.
            continue
        if entry.websocket_only:
            if WEBSOCKET not in statuses:
                dead.append(f"{entry.code}: catalogued for /ws only, sent nowhere")
            continue
        if entry.any_status and ANY_STATUS not in statuses:
            dead.append(f"{entry.code}: catalogued with any status, never sent so")
        dead += [
            f"{entry.code}: catalogued with {status}, never raised with it"
            for status in entry.statuses
            if status not in statuses
        ]
    assert not dead, "\n".join(dead)


def test_codes_are_unique_and_upper_snake_case() -> None:
    codes = [entry.code for entry in CATALOGUE]
    assert len(codes) == len(set(codes))
    assert all(code.replace("_", "").isalpha() and code.isupper() for code in codes)
    assert all(entry.meaning.strip() for entry in CATALOGUE)


def test_order_reject_codes_are_exactly_the_engines() -> None:
    catalogued = {entry.code for entry in CATALOGUE if entry.order_reject}
    assert catalogued == {code.value for code in RejectCode}


def test_every_code_the_contract_names_has_the_contracts_status() -> None:
    wrong = {
        code: (status, BY_CODE[code].statuses if code in BY_CODE else "missing")
        for code, status in CONTRACT_CODES.items()
        if code not in BY_CODE or status not in BY_CODE[code].statuses
    }
    assert not wrong


def test_docs_table_is_the_generated_one() -> None:
    text = DOCS.read_text()
    assert markdown_table() in text
    assert with_table(text) == text, (
        "docs/API.md's error table is stale: run "
        "`python -m hyperoru.error_codes --write docs/API.md`"
    )


def test_write_replaces_only_the_table(tmp_path: Path) -> None:
    doc = tmp_path / "API.md"
    doc.write_text(f"# Before\n\n{TABLE_START}\n| stale |\n{TABLE_END}\n\nAfter\n")
    assert main(["--write", str(doc)]) == 0
    assert doc.read_text() == f"# Before\n\n{TABLE_START}\n{markdown_table()}{TABLE_END}\n\nAfter\n"


# The scanner itself, on small sources: it must find what the real tree would hide.


def _scan_one(source: str) -> tuple[set[tuple[str, int | str]], list[str]]:
    found = scan({"pkg/mod.py": dedent(source)})
    return {(s.code, s.status) for s in found.sites}, found.unresolved


def test_scanner_reads_literals_helpers_and_tables() -> None:
    codes, unresolved = _scan_one(
        """
        LIMITS = {"a": ("A_LIMIT", "as"), "b": ("B_LIMIT", "bs")}

        def _refuse(reason, code):
            return ApiError(418, code, reason)

        def check(kind):
            code, _ = LIMITS[kind]
            raise ApiError(422, code, "full")

        def use():
            raise _refuse("no", code="TEAPOT")

        def other():
            raise not_found("gadget")
        """
    )
    assert not unresolved
    assert codes == {("A_LIMIT", 422), ("B_LIMIT", 422), ("TEAPOT", 418), ("GADGET_NOT_FOUND", 404)}


def test_scanner_reports_codes_it_cannot_read() -> None:
    _, unresolved = _scan_one(
        """
        def build(kind):
            raise ApiError(400, f"{kind}_BAD", "no")

        def relay(exc):
            raise ApiError(exc.status, exc.code, exc.message)
        """
    )
    # The f-string is reported; the relayed exc.code is someone else's, already checked.
    assert len(unresolved) == 1
    assert unresolved[0].startswith("pkg/mod.py:3: cannot read a code from")
