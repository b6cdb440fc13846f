"""The bench's traders, made and read back through the public API only (contract §3-§5 and
docs/API.md): users registered and logged in, one AI trader per bench trader pointing at the
fake model, its strategy saved with a schedule, and at the end its decision log."""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from scale.measure import Cycle, Trader, epoch
from scale.processes import SetupFailed

PASSWORD = "runtime-scale bench password"
# docs/API.md: ACCOUNT_LIMIT_REACHED beyond 100 live traders per user.
TRADERS_PER_USER = 100
GENERAL_PROMPT_KEY = "general"
READ_ATTEMPTS = 6
READ_RETRY_PAUSE_SECONDS = 2.0
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class BenchUser:
    name: str
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class BenchTrader:
    user: BenchUser
    trader: Trader


class ReadFailed(Exception):
    """The results could not be read back, even after retries."""


def _expect(response: httpx.Response, status: int, what: str) -> Any:
    if response.status_code != status:
        raise SetupFailed(f"{what}: HTTP {response.status_code} {response.text[:300]}")
    return response.json() if response.content else None


async def _read(
    client: httpx.AsyncClient,
    path: str,
    *,
    headers: dict[str, str],
    errors: Counter[str],
    params: dict[str, Any] | None = None,
) -> Any:
    """GET with retries: a server still busy with the run may answer 5xx or time out for
    a while. Each such answer is counted in ``errors`` (it is a result of the run)."""
    for attempt in range(READ_ATTEMPTS):
        try:
            response = await client.get(path, params=params, headers=headers)
        except httpx.TimeoutException:
            errors["read timed out"] += 1
        else:
            if response.status_code == 200:
                return response.json()
            errors[f"HTTP {response.status_code} {response.text[:80]}"] += 1
            if response.status_code < 500:
                break
        await asyncio.sleep(READ_RETRY_PAUSE_SECONDS * (attempt + 1))
    raise ReadFailed(f"GET {path} failed {READ_ATTEMPTS} times: {dict(errors)}")


async def _bounded(concurrency: int, jobs: Sequence[Callable[[], Awaitable[T]]]) -> list[T]:
    gate = asyncio.Semaphore(concurrency)

    async def run(job: Callable[[], Awaitable[T]]) -> T:
        async with gate:
            return await job()

    return list(await asyncio.gather(*(run(job) for job in jobs)))


async def _user(client: httpx.AsyncClient, name: str) -> BenchUser:
    body = {"username": name, "password": PASSWORD}
    _expect(await client.post("/api/users/register", json=body), 201, f"register {name}")
    login = _expect(await client.post("/api/users/login", json=body), 200, f"login {name}")
    return BenchUser(name, {"Authorization": f"Bearer {login['session_token']}"})


async def _general_prompt_id(client: httpx.AsyncClient, user: BenchUser) -> int:
    prompts = _expect(await client.get("/api/prompts/", headers=user.headers), 200, "list prompts")
    for prompt in prompts:
        if prompt.get("system_key") == GENERAL_PROMPT_KEY:
            return int(prompt["id"])
    raise SetupFailed(f"no built-in prompt template with system_key {GENERAL_PROMPT_KEY!r}")


async def _account(
    client: httpx.AsyncClient, user: BenchUser, name: str, model_base_url: str
) -> tuple[int, str]:
    model = f"bench-{name}"
    body = {
        "name": name,
        "llm_provider": "openai",
        "model": model,
        "base_url": model_base_url,
        "api_key": f"bench-key-{name}",
    }
    created = _expect(
        await client.post("/api/account/", json=body, headers=user.headers),
        201,
        f"create trader {name}",
    )
    return int(created["id"]), model


async def _schedule(
    client: httpx.AsyncClient,
    user: BenchUser,
    account_id: int,
    *,
    prompt_id: int,
    symbols: list[str],
    interval: int,
) -> float:
    body = {
        "prompt_id": prompt_id,
        "symbols": symbols,
        "trigger_interval": interval,
        "scheduled_trigger_enabled": True,
        "enabled": True,
    }
    saved = _expect(
        await client.put(f"/api/account/{account_id}/strategy", json=body, headers=user.headers),
        200,
        f"save the strategy of trader {account_id}",
    )
    if saved.get("trigger_interval") != interval or not saved.get("updated_at"):
        raise SetupFailed(f"strategy of trader {account_id} not saved as sent: {saved}")
    return epoch(saved["updated_at"])


async def create_traders(
    client: httpx.AsyncClient,
    *,
    count: int,
    model_base_url: str,
    interval: int,
    symbols: list[str],
    prefix: str,
    concurrency: int,
) -> list[BenchTrader]:
    """Users of up to 100 traders each; all traders first, then all their schedules, so
    that the schedules start close together (every trader due at about the same time is
    the runtime's hard case)."""
    users = await _bounded(
        2,  # password hashing: more at once only queues on two cores
        [
            lambda i=i: _user(client, f"{prefix}u{i}")
            for i in range(math.ceil(count / TRADERS_PER_USER))
        ],
    )
    prompt_id = await _general_prompt_id(client, users[0])
    owners = [users[i // TRADERS_PER_USER] for i in range(count)]
    accounts = await _bounded(
        concurrency,
        [
            lambda i=i: _account(client, owners[i], f"{prefix}t{i}", model_base_url)
            for i in range(count)
        ],
    )
    starts = await _bounded(
        concurrency,
        [
            lambda i=i: _schedule(
                client,
                owners[i],
                accounts[i][0],
                prompt_id=prompt_id,
                symbols=symbols,
                interval=interval,
            )
            for i in range(count)
        ],
    )
    return [
        BenchTrader(owners[i], Trader(accounts[i][0], accounts[i][1], starts[i]))
        for i in range(count)
    ]


async def _decisions(
    client: httpx.AsyncClient, bench: BenchTrader, errors: Counter[str]
) -> list[Cycle]:
    records = await _read(
        client,
        f"/api/account/{bench.trader.account_id}/decisions",
        params={"limit": 1000},
        headers=bench.user.headers,
        errors=errors,
    )
    return [
        Cycle(
            account_id=int(record["account_id"]),
            started=epoch(record["trigger"]["at"]),
            recorded=epoch(record["created_at"]),
            ok=record["status"] == "ok",
            error=record.get("error"),
            latency_ms=record.get("latency_ms"),
        )
        for record in records
        if record["trigger"].get("type") == "scheduled"
    ]


async def read_cycles(
    client: httpx.AsyncClient,
    traders: Sequence[BenchTrader],
    concurrency: int,
    errors: Counter[str],
) -> list[Cycle]:
    per_trader = await _bounded(
        concurrency, [lambda t=t: _decisions(client, t, errors) for t in traders]
    )
    return [cycle for cycles in per_trader for cycle in cycles]


async def trader_states(
    client: httpx.AsyncClient, traders: Sequence[BenchTrader], errors: Counter[str]
) -> Counter[str]:
    """The traders' ``status`` at the end (with the start of the reason when not active):
    a trader the runtime paused after three failed cycles shows here."""
    states: Counter[str] = Counter()
    ours = {t.trader.account_id for t in traders}
    for user in {t.user.name: t.user for t in traders}.values():
        listed = await _read(
            client,
            "/api/account/list",
            params={"limit": 1000},
            headers=user.headers,
            errors=errors,
        )
        for account in listed:
            if account["id"] in ours:
                reason = account.get("status_reason") or ""
                states[f"{account['status']} {reason[:70]}".strip()] += 1
    return states
