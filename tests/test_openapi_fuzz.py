"""Schemathesis over the app's own /openapi.json: every operation, every route added later.

Proves three things for requests generated from the schema (valid and invalid ones):
no answer is a 5xx, every answer is JSON and every 4xx has the contract's error shape
(§2), and every operation outside ``PUBLIC_ROUTES`` refuses a request without a token
with 401 ``AUTH_REQUIRED`` (§3).

Schemathesis only generates the cases: they are sent through the suite's own httpx client
on the test's event loop, so the app, its database engine (SQLite or PostgreSQL) and the
requests share one loop. Hypothesis drives generation from a worker thread and hands each
request back to that loop.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.generation.case import Case
from schemathesis.schemas import APIOperation

from hyperoru.http.middleware import UPLOAD_ROUTES
from hyperoru.http.route_policy import PUBLIC_ROUTES
from hyperoru.settings import Settings
from hyperoru.strict_json import InvalidJson, parse_strict_json
from tests.helpers import STRONG_PASSWORD, Api

# Per operation and test; HYPERORU_FUZZ_EXAMPLES raises it for a deeper local run.
EXAMPLES = int(os.environ.get("HYPERORU_FUZZ_EXAMPLES", "25"))
# The same cases on every run of the same code, so that a commit passes or fails for good;
# HYPERORU_FUZZ_RANDOM=1 explores new ones.
DERANDOMIZE = os.environ.get("HYPERORU_FUZZ_RANDOM") != "1"
EXAMPLES_WITHOUT_TOKEN = max(1, EXAMPLES // 2)
REQUEST_TIMEOUT_SECONDS = 60
ERROR_KEYS = {"error", "message", "code", "request_id", "details"}
_ERROR_CODE = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
UNTHROTTLED = 10**9

Sender = Callable[[Case], Awaitable[httpx.Response]]
Checker = Callable[[Case, httpx.Response], None]


@pytest.fixture
def settings(make_settings: Callable[..., Settings]) -> Settings:
    # The fuzzer sends hundreds of register, login and password attempts from one address;
    # the throttles have their own tests and would otherwise answer most of them with 429.
    return make_settings(
        rate_limit_user_per_minute=UNTHROTTLED,
        rate_limit_ip_per_minute=UNTHROTTLED,
        rate_limit_auth_per_minute=UNTHROTTLED,
        rate_limit_jobs_per_minute=UNTHROTTLED,
        login_failure_limit=UNTHROTTLED,
    )


async def load_operations(client: httpx.AsyncClient) -> list[APIOperation]:
    served = await client.get("/openapi.json")
    assert served.status_code == 200, served.text
    schema = schemathesis.openapi.from_dict(served.json())
    # The token is ours to supply (or to withhold); generated credentials are noise.
    schema.config.generation.update(with_security_parameters=False)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema declares no operations"
    return operations


def is_public(operation: APIOperation) -> bool:
    return (operation.method.upper(), operation.path) in PUBLIC_ROUTES


def strategy_for(operation: APIOperation, *, invalid_too: bool) -> st.SearchStrategy[Case]:
    valid = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
    has_inputs = bool(operation.body) or any(True for _ in operation.iter_parameters())
    # Negative generation needs something to break; an operation without inputs has nothing.
    if invalid_too and has_inputs:
        return st.one_of(valid, operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))
    return valid


def describe(case: Case, response: httpx.Response | None = None) -> str:
    request = response.request if response is not None else None
    sent = (
        f"{request.method} {request.url}\n  headers: {dict(request.headers)}\n"
        f"  body: {request.content[:500]!r}"
        if request is not None
        else f"{case.method} {case.formatted_path}"
    )
    if response is None:
        return sent
    return f"{sent}\n-> {response.status_code} {response.text[:500]}"


async def send_case(client: httpx.AsyncClient, case: Case, *, token: str | None) -> httpx.Response:
    """Send one generated case as it is, with our bearer token or with no token at all."""
    kwargs = case.as_transport_kwargs(base_url=str(client.base_url))
    headers = {k: v for k, v in kwargs["headers"].items() if k.lower() != "authorization"}
    params = kwargs.get("params") or {}
    if isinstance(params, dict):
        params = {k: v for k, v in params.items() if k != "session_token"}
    elif "session_token" in params:
        raise AssertionError(f"raw query carries a token: {params!r}")
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if kwargs.get("cookies"):
        # As a header: httpx deprecates per-request cookie jars.
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in kwargs["cookies"].items())
    body = kwargs.get("data")
    if "json" in kwargs:
        # json.dumps lets NaN through, so the server's own strict-JSON guard is exercised.
        body = json.dumps(kwargs["json"]).encode()
    return await client.request(
        kwargs["method"],
        kwargs["url"],
        headers=headers,
        params=params,
        content=body if isinstance(body, bytes | str) else None,
        data=body if isinstance(body, dict) else None,
        timeout=REQUEST_TIMEOUT_SECONDS,
    )


def check_contract_answer(case: Case, response: httpx.Response) -> None:
    """No 5xx; a JSON body on every answer that has one; the error shape on every 4xx."""
    context = describe(case, response)
    status = response.status_code
    assert status < 500, context
    assert response.headers.get("x-request-id"), context
    if status == 204:
        assert response.content == b"", context
        return
    if status < 300 and response.headers.get("content-type", "").startswith("text/event-stream"):
        # The assistant's SSE chat: frames that always end with the terminal one.
        assert response.text.rstrip().endswith("event: done\ndata: [DONE]"), context
        return
    assert response.headers.get("content-type", "").startswith("application/json"), context
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"not JSON: {context}") from None
    if status >= 400:
        assert isinstance(body, dict) and set(body) == ERROR_KEYS, context
        assert _ERROR_CODE.match(body["code"]), context
        assert body["error"] == body["message"] and body["message"], context
        assert body["request_id"] == response.headers["x-request-id"], context
        assert isinstance(body["details"], dict), context
    if status == 401:
        assert response.headers.get("www-authenticate", "").startswith("Bearer"), context


def _refused_by_body_guard(request: httpx.Request) -> bool:
    upload = (request.method, request.url.path) in UPLOAD_ROUTES
    if upload and "json" not in request.headers.get("content-type", ""):
        return False  # a file upload is streamed to its route unparsed
    content = request.content
    try:
        parse_strict_json(content) if content.strip() else None
    except InvalidJson:
        return True
    return False


def check_refused_without_token(case: Case, response: httpx.Response) -> None:
    check_contract_answer(case, response)
    if _refused_by_body_guard(response.request):
        # The body guard (e.g. U+0000 in a string) answers before any route, token or not.
        assert response.json()["code"] == "INVALID_JSON", describe(case, response)
        return
    assert response.status_code == 401, describe(case, response)
    assert response.json()["code"] == "AUTH_REQUIRED", describe(case, response)


def check_public_without_token(case: Case, response: httpx.Response) -> None:
    check_contract_answer(case, response)
    if response.status_code == 401:
        assert response.json()["code"] != "AUTH_REQUIRED", describe(case, response)


async def fuzz(
    operation: APIOperation, *, send: Sender, check: Checker, examples: int, invalid_too: bool
) -> None:
    """Run Hypothesis over one operation; each case is sent on this test's event loop."""
    loop = asyncio.get_running_loop()

    @hypothesis_settings(
        max_examples=examples,
        derandomize=DERANDOMIZE,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy_for(operation, invalid_too=invalid_too))
    def run(case: Case) -> None:
        sent = asyncio.run_coroutine_threadsafe(send(case), loop)
        check(case, sent.result(timeout=REQUEST_TIMEOUT_SECONDS))

    await asyncio.to_thread(run)


async def fuzz_all(
    operations: list[APIOperation],
    *,
    send: Sender,
    check_for: Callable[[APIOperation], Checker],
    examples: int,
    invalid_too: bool,
) -> None:
    """Fuzz every operation and report every failing one, not just the first."""
    failures: list[str] = []
    for operation in operations:
        try:
            await fuzz(
                operation,
                send=send,
                check=check_for(operation),
                examples=examples,
                invalid_too=invalid_too,
            )
        except AssertionError as exc:
            failures.append(f"{operation.label}:\n{exc}")
    assert not failures, "\n\n".join(failures)


@dataclass
class SignedInUser:
    """A user whose token stays valid across cases that log out or revoke sessions."""

    api: Api
    username: str
    token: str
    needs_check: bool = False

    @classmethod
    async def create(cls, api: Api) -> SignedInUser:
        user, token = await api.user()
        return cls(api=api, username=user["username"], token=token)

    async def valid_token(self) -> str:
        if self.needs_check:
            self.needs_check = False
            probe = await self.api.client.get(
                "/api/users/profile", headers=self.api.bearer(self.token)
            )
            if probe.status_code == 200:
                self.username = probe.json()["username"]  # a case may have renamed the user
            else:
                await self._sign_in_again()
        return self.token

    async def _sign_in_again(self) -> None:
        login = await self.api.client.post(
            "/api/users/login", json={"username": self.username, "password": STRONG_PASSWORD}
        )
        if login.status_code == 200:
            self.token = login.json()["session_token"]
        else:  # the password may have been changed by a case: start over with a new user
            fresh = await SignedInUser.create(self.api)
            self.username, self.token = fresh.username, fresh.token

    async def send(self, case: Case) -> httpx.Response:
        response = await send_case(self.api.client, case, token=await self.valid_token())
        # Only a successful change can end the session (logout, revoke, password change).
        self.needs_check = case.method.upper() != "GET" and response.status_code < 300
        return response


async def test_fuzzed_requests_with_a_token_get_contract_answers(api: Api) -> None:
    operations = await load_operations(api.client)
    user = await SignedInUser.create(api)
    await fuzz_all(
        operations,
        send=user.send,
        check_for=lambda _operation: check_contract_answer,
        examples=EXAMPLES,
        invalid_too=True,
    )


async def test_every_non_public_operation_refuses_a_missing_token(
    client: httpx.AsyncClient,
) -> None:
    operations = await load_operations(client)
    assert any(not is_public(op) for op in operations)

    async def send(case: Case) -> httpx.Response:
        return await send_case(client, case, token=None)

    await fuzz_all(
        operations,
        send=send,
        check_for=lambda op: (
            check_public_without_token if is_public(op) else check_refused_without_token
        ),
        examples=EXAMPLES_WITHOUT_TOKEN,
        invalid_too=False,
    )


async def test_every_public_route_is_in_the_schema(client: httpx.AsyncClient) -> None:
    # PUBLIC_ROUTES and the schema must agree, or the checks above would skip a route.
    operations = await load_operations(client)
    declared = {(op.method.upper(), op.path) for op in operations}
    assert declared >= PUBLIC_ROUTES
