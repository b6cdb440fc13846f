"""One JSON style (contract §1): money, sizes and ratios are JSON numbers, times are ISO
8601 in UTC ending in ``Z``, on every route.

Two walks over what the app itself declares, so a route added later is checked without
touching this file:

- static: every response model of every route, field by field (through lists, dicts,
  unions and nested models). A ``Decimal`` must leave as a number and a ``datetime`` as a
  ``Z`` string (each field's own serializer is run on a sample); a ``str`` named like a
  number or a time is refused unless ``DOCUMENTED_STRINGS`` gives the reason; an untyped
  part (``Any``) must be listed in ``OPAQUE_FIELDS`` with what it holds. The OpenAPI
  document is walked the same way, so what clients read agrees with the models.
- dynamic: a user with traders, a prompt, a program, decisions, orders, fills, a program
  backtest and a prompt backtest reads every GET route without a body, and every string
  in every answer is checked: none looks like a decimal number (ids and documented
  strings aside) and every time ends in ``Z``.
"""

from __future__ import annotations

import asyncio
import json
import re
import types
import typing
from collections.abc import AsyncIterator, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import BaseModel, TypeAdapter

from hyperoru.app import create_app
from hyperoru.auth.service import register_user
from hyperoru.dashboard.router import router as dashboard_router
from hyperoru.settings import Settings
from tests.backtests.support import request_body, settled
from tests.conftest import TEST_SECRET_KEY, asgi_client, running
from tests.helpers import STRONG_PASSWORD, Api
from tests.prompt_backtests.helpers import API_KEY, RANGE, TEMPLATE, wait_finished
from tests.strategies.fake_llm import FakeLlm, Reply, completion

# Fields whose values are strings on purpose although their name sounds like a number or a
# time, as "Model.field" (the OpenAPI component name for the schema walk), with the reason.
# None today: intervals ("1h") and ids are not named like numbers.
DOCUMENTED_STRINGS: dict[str, str] = {
    "NotificationConfig.daily_summary_time": "a wall-clock HH:MM in the user's time_zone",
}

# Untyped parts of answers, as "Model.field": what they hold and why they stay untyped.
# The dynamic walk still checks their numbers and times.
OPAQUE_FIELDS: dict[str, str] = {
    "ProgramOut.params": "the program's params as its author saved them",
    "BindingOut.params_override": "program params as the binding's author saved them",
    "DefinitionOut.config": "a signal's config as its author wrote it; keys depend on its type",
    "TriggerOut.values": "the readings of the pool's signals; keys depend on each signal type",
    "DecisionTriggerOut.values": "the readings of the pool's signals, as on the pool's triggers",
    "ProgramBacktestConfigOut.signal_pools": "pools as frozen at submit time, signals' configs"
    " as their authors wrote them",
    "ReconciliationEventOut.details": "what reconciliation found; keys depend on its kind"
    " (amounts as numbers)",
    "ChunkOut.metadata": "an assistant SSE frame's data; keys depend on its kind",
    "TaskPage.error": "the assistant's error frame: code, message, details",
    "ConversationOut.context": "the context object as the client sent it",
    "ConversationWithMessages.context": "the context object as the client sent it",
    "MessageOut.tool_call": "a tool message's call (name, arguments, status) or the tools an"
    " answer came from",
}

_NUMERIC_NAME = re.compile(
    r"(^|_)(price|prices|quantity|qty|size|amount|balance|equity|cash|value|pnl|fee|fees|"
    r"funding|margin|leverage|notional|capital|rate|ratio|pct|percent|volume|open|high|"
    r"low|close|bid|ask|exposure|drawdown|sharpe|factor|portion|fraction)($|_)"
)
_TIME_NAME = re.compile(r"(^|_)(at|time|timestamp|date|since|until|expires)$")


# Names that say what a value refers to, not what it measures ("equity_url").
_REFERENCE_SUFFIX = ("_url", "_id", "_ids", "_name", "_type", "_code", "_status", "_reason")


def numeric_name(name: str) -> bool:
    name = name.lower()
    return not name.endswith(_REFERENCE_SUFFIX) and bool(_NUMERIC_NAME.search(name))


def time_name(name: str) -> bool:
    return bool(_TIME_NAME.search(name.lower()))


# --- the static walk over the response models --------------------------------------------


@dataclass(frozen=True, slots=True)
class Leaf:
    where: str  # "Model.field" of the nearest model field
    path: str  # the route and the path to the value, for messages
    probe: Any  # the annotation with its serializers, to run on a sample
    base: Any  # the bare type
    declared_format: str | None = None  # the field's own JSON schema "format"


def _field_annotation(field: Any) -> Any:
    if field.metadata:
        return Annotated[(field.annotation, *field.metadata)]
    return field.annotation


def _declared_format(field: Any) -> str | None:
    extra = field.json_schema_extra
    return extra.get("format") if isinstance(extra, dict) else None


def leaves(
    annotation: Any,
    path: str,
    where: str = "",
    probe: Any = None,
    seen: frozenset[type] = frozenset(),
    declared_format: str | None = None,
) -> Iterator[Leaf]:
    """Every scalar a response type can hold, with the annotation that serializes it."""
    origin = typing.get_origin(annotation)
    args = typing.get_args(annotation)

    def inner(arg: Any, at: str, probe: Any = None) -> Iterator[Leaf]:
        return leaves(arg, at, where, probe, seen, declared_format)

    if origin is Annotated:
        yield from inner(args[0], path, annotation)
    elif origin in (typing.Union, types.UnionType):
        for arg in args:
            if arg is not type(None):
                yield from inner(arg, path, probe if len(args) <= 2 else None)
    elif origin is typing.Literal:
        return
    elif origin in (list, tuple, set, frozenset, Sequence) or (
        isinstance(origin, type) and issubclass(origin, Sequence) and origin is not str
    ):
        for arg in args:
            if arg is not Ellipsis:
                yield from inner(arg, f"{path}[]")
    elif origin in (dict, Mapping) or (isinstance(origin, type) and issubclass(origin, Mapping)):
        yield from inner(args[1], f"{path}{{}}")
    elif isinstance(annotation, type) and issubclass(annotation, BaseModel):
        if annotation in seen:
            return
        for name, field in annotation.model_fields.items():
            yield from leaves(
                _field_annotation(field),
                f"{path}.{name}",
                f"{annotation.__name__}.{name}",
                None,
                seen | {annotation},
                _declared_format(field),
            )
    else:
        probe = probe if probe is not None else annotation
        yield Leaf(where, path, probe, annotation, declared_format)


@pytest.fixture
def built_app(tmp_path: Path) -> FastAPI:
    """The app as built, not started: its routes and schema are all the static walks read,
    so they need no database (and run once, not once per database)."""
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        data_dir=tmp_path / "data",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'unused.db'}",
        secret_key=TEST_SECRET_KEY,
        runtime="off",
    )
    return create_app(settings)


def response_leaves(app: FastAPI) -> Iterator[Leaf]:
    for route in app.routes:
        if isinstance(route, APIRoute) and route.response_model is not None:
            label = f"{'/'.join(sorted(route.methods))} {route.path}"
            yield from leaves(route.response_model, label)


_NAIVE = datetime(2026, 1, 2, 3, 4, 5, 678000)
_OFFSET = datetime(2026, 1, 2, 5, 4, 5, tzinfo=timezone(timedelta(hours=2)))


def style_problem(leaf: Leaf) -> str | None:
    """Why this scalar breaks contract §1, or None."""
    field = leaf.where.rpartition(".")[2]
    base = leaf.base
    if base is Any or base is object:
        if leaf.where in OPAQUE_FIELDS:
            return None
        return "is untyped (Any): type it, or list it in OPAQUE_FIELDS with what it holds"
    if not isinstance(base, type):
        return None
    if issubclass(base, bool):
        return None
    if issubclass(base, Decimal):
        sent = TypeAdapter(leaf.probe).dump_python(Decimal("70068.0165"), mode="json")
        if not isinstance(sent, int | float):
            return f"sends a Decimal as {sent!r}: declare it JsonDecimal"
        return None
    if issubclass(base, datetime):
        adapter = TypeAdapter(leaf.probe)
        for sample in (_NAIVE, _OFFSET):
            sent = adapter.dump_python(sample, mode="json")
            if not (isinstance(sent, str) and sent.endswith("Z")):
                return f"sends {sample!r} as {sent!r}: declare it UtcTime"
        if adapter.dump_python(_OFFSET, mode="json") != "2026-01-02T03:04:05Z":
            return "does not turn an offset time into UTC: declare it UtcTime"
        return None
    if issubclass(base, date):
        return None
    if issubclass(base, str) and leaf.where not in DOCUMENTED_STRINGS:
        if numeric_name(field):
            return "is a string named like a number: make it a number, or document it"
        if time_name(field) and "date-time" not in (leaf.declared_format, _format(leaf.probe)):
            return "is a string named like a time without format date-time"
    return None


def _format(probe: Any) -> str | None:
    return TypeAdapter(probe).json_schema(mode="serialization").get("format")


def test_every_response_model_sends_numbers_and_z_times(built_app: FastAPI) -> None:
    checked = list(response_leaves(built_app))
    assert len({leaf.path.split(" ")[1] for leaf in checked}) > 50, "the walk found too few"
    problems = sorted(
        {f"{leaf.path} ({leaf.where}) {why}" for leaf in checked if (why := style_problem(leaf))}
    )
    assert not problems, "\n".join(problems)
    # The exceptions name fields that exist and need them: no stale entry hides a new field.
    untyped = {leaf.where for leaf in checked if leaf.base is Any}
    strings = {leaf.where for leaf in checked if leaf.base is str}
    assert set(OPAQUE_FIELDS) <= untyped, set(OPAQUE_FIELDS) - untyped
    assert set(DOCUMENTED_STRINGS) <= strings, set(DOCUMENTED_STRINGS) - strings


def test_the_static_walk_catches_the_offenders_it_exists_for() -> None:
    from hyperoru.api_types import JsonDecimal, UtcTime

    class Bad(BaseModel):
        leverage: Decimal
        created_at: datetime
        price: str
        opened: str
        data: dict[str, Any]

    class Good(BaseModel):
        leverage: JsonDecimal | None
        created_at: list[UtcTime]
        name: str

    bad = {leaf.where: style_problem(leaf) for leaf in leaves(Bad, "GET /x")}
    assert all(bad[f"Bad.{name}"] for name in ("leverage", "created_at", "price", "data")), bad
    assert bad["Bad.opened"] is None
    good = {leaf.where: style_problem(leaf) for leaf in leaves(Good, "GET /x")}
    assert good == {"Good.leverage": None, "Good.created_at": None, "Good.name": None}


# --- the static walk over the OpenAPI document ---------------------------------------------


def _resolve(document: Mapping[str, Any], schema: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[1]
        schema = document["components"]["schemas"][name]
    return schema


def schema_strings(
    document: Mapping[str, Any],
    schema: Any,
    where: str = "",
    seen: frozenset[str] = frozenset(),
) -> Iterator[tuple[str, Mapping[str, Any]]]:
    """Every string schema reachable from ``schema``, with "Component.property"."""
    if not isinstance(schema, Mapping):
        return  # additionalProperties: true
    ref = schema.get("$ref")
    component = None
    if ref is not None:
        if ref in seen:
            return
        seen = seen | {ref}
        component = ref.rsplit("/", 1)[1]
        schema = _resolve(document, schema)
    for key in ("anyOf", "oneOf", "allOf"):
        for option in schema.get(key, ()):
            yield from schema_strings(document, option, where, seen)
    for key in ("items", "additionalProperties"):
        yield from schema_strings(document, schema.get(key), where, seen)
    for name, child in (schema.get("properties") or {}).items():
        yield from schema_strings(document, child, f"{component or where}.{name}", seen)
    if schema.get("type") == "string":
        yield where, schema


def openapi_problem(where: str, schema: Mapping[str, Any]) -> str | None:
    field = where.rpartition(".")[2]
    if where in DOCUMENTED_STRINGS or "enum" in schema or "const" in schema:
        return None
    if numeric_name(field):
        return "is a string named like a number"
    if time_name(field) and schema.get("format") not in ("date-time", "date"):
        return "is a time without format date-time"
    return None


def test_the_openapi_document_declares_numbers_and_times(built_app: FastAPI) -> None:
    document = built_app.openapi()
    problems: set[str] = set()
    answers = 0
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for status, response in operation.get("responses", {}).items():
                if not status.startswith("2"):
                    continue
                for content in response.get("content", {}).values():
                    answers += 1
                    for where, schema in schema_strings(document, content.get("schema", {})):
                        why = openapi_problem(where, schema)
                        if why:
                            problems.add(f"{method.upper()} {path}: {where} {why}")
    assert answers > 50
    assert not problems, "\n".join(sorted(problems))


# --- the dynamic walk over real answers ----------------------------------------------------

# A number sent as a string, in any notation Decimal would read.
_DECIMAL_TEXT = re.compile(r"^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$")
_TIME_TEXT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
# Keys whose string values may be all digits: what a user or a program wrote, and hashes.
FREE_TEXT_KEYS: dict[str, str] = {
    "logs": "the program's data.log lines",
    "content": "a prompt template as its author wrote it",
    "code": "a program's source",
    "rendered_prompt": "the prompt as sent to the model",
    "raw_output": "the model's answer as received",
    "reasoning": "the model's or program's own words",
    "fingerprint": "a SHA-256 in hex",
    "code_sha256": "a SHA-256 in hex",
    "prompt_digest": "a SHA-256 in hex",
    "request_id": "an opaque token",
}


def json_style_problems(value: Any, path: str = "") -> Iterator[str]:
    """Where an answer sends a number as a string or a time without ``Z``."""
    if isinstance(value, Mapping):
        for key, child in value.items():
            if key not in FREE_TEXT_KEYS:
                yield from json_style_problems(child, f"{path}.{key}")
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from json_style_problems(child, f"{path}[{index}]")
    elif isinstance(value, str):
        if _DECIMAL_TEXT.match(value):
            yield f"{path} = {value!r} is a number sent as a string"
        elif _TIME_TEXT.match(value) and not value.endswith("Z"):
            yield f"{path} = {value!r} is a time without Z"


def test_the_dynamic_check_catches_the_offenders_it_exists_for() -> None:
    answer = {
        "decisions": [{"leverage": "2", "size_fraction": "0.1", "symbol": "BTC"}],
        "config": {"start_date": "2026-01-01T00:00:00+00:00", "end_date": "2026-01-02T00:00:00Z"},
        "equity": ["70068.016500000000", 70068.0165, "1e-7"],
        "name": "a 2nd try",
        "code": "1",
    }
    problems = list(json_style_problems(answer))
    assert problems == [
        ".decisions[0].leverage = '2' is a number sent as a string",
        ".decisions[0].size_fraction = '0.1' is a number sent as a string",
        ".config.start_date = '2026-01-01T00:00:00+00:00' is a time without Z",
        ".equity[0] = '70068.016500000000' is a number sent as a string",
        ".equity[2] = '1e-7' is a number sent as a string",
    ]


# Long on the first bar, then close and reopen in turns: a test-run decides with leverage,
# and a backtest trades every other bar.
TURNS = """
class Strategy:
    def should_trade(self, data):
        if data.get_positions():
            return Decision("close", "BTC", reasoning="turn over")
        return Decision("long", "BTC", leverage=2, size_pct=20, reasoning="turn over")
"""
# Values for path parameters, by name; ``backtest_id`` depends on the route (see below).
PATH_VALUES = ("account_id", "program_id", "prompt_id", "signal_id", "pool_id", "binding_id")
QUERY_VALUES: dict[str, str] = {"symbol": "BTC"}
# Routes whose answer carries more when asked: ask for everything.
EXTRA_QUERIES: dict[str, dict[str, str]] = {
    "/api/prompt-backtests/{backtest_id}": {"include": "trades,equity,decisions"},
    "/api/prompt-backtest/tasks/{backtest_id}": {"include": "trades,equity,decisions"},
}
# GET routes this walk does not read, with the reason.
NOT_READ: dict[str, str] = {
    "/metrics": "Prometheus text for the operator, not JSON (tests/metrics)",
    **{
        route.path: "the dashboard's pages and files are not JSON (tests/dashboard reads them)"
        for route in dashboard_router.routes
    },
}


def answer(**decision: Any) -> Reply:
    return Reply(body=completion(json.dumps(decision)))


@pytest.fixture
async def world(
    make_settings: Callable[..., Settings], llm: FakeLlm
) -> AsyncIterator[tuple[FastAPI, Api]]:
    settings = make_settings(
        llm_allowed_hosts=f"127.0.0.1:{llm.port}",
        llm_max_attempts=1,
        jobs_poll_seconds=0.1,
        factor_engine="enabled",
        factor_symbols="BTC,ETH",
        factor_lookback_days=7,
    )
    application = create_app(settings)
    async with running(application), asgi_client(application) as http:
        assert await application.state.services.market.cache.refresh()
        yield application, Api(http)


@dataclass
class Reader:
    api: Api
    token: str
    answers: list[tuple[str, Any]]

    async def call(self, method: str, url: str, status: int = 200, **kwargs: Any) -> Any:
        response = await self.api.client.request(
            method, url, headers=self.api.bearer(self.token), **kwargs
        )
        assert response.status_code == status, f"{method} {url}: {response.text}"
        body = response.json() if response.content else None
        self.answers.append((f"{method} {response.request.url}", body))
        return body


def _read_args(route: APIRoute, ids: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    values = dict(ids)
    if route.path.startswith("/api/prompt-backtest"):
        values["backtest_id"] = ids["prompt_backtest_id"]
    if route.path.startswith("/api/ai-stream"):
        values["task_id"] = ids["ai_task_id"]
    names = re.findall(r"{([^}:]+)(?::[^}]*)?}", route.path)
    for name in names:
        if name not in values:
            pytest.fail(f"GET {route.path}: give {{{name}}} a value in this test")
    path = re.sub(r"{([^}:]+)(?::[^}]*)?}", lambda m: str(values[m.group(1)]), route.path)
    query = dict(EXTRA_QUERIES.get(route.path, {}))
    for field in route.dependant.query_params:
        if field.required:
            if field.alias not in QUERY_VALUES:
                pytest.fail(f"GET {route.path}: add ?{field.alias} to QUERY_VALUES")
            query[field.alias] = QUERY_VALUES[field.alias]
    return path, query


async def test_every_answer_sends_numbers_and_z_times(
    world: tuple[FastAPI, Api], llm: FakeLlm
) -> None:
    app, api = world
    # An administrator, so that the user list answers too.
    async with app.state.services.sessionmaker() as session:
        await register_user(session, username="boss", password=STRONG_PASSWORD, is_admin=True)
    token = await api.login("boss")
    reader = Reader(api, token, [])
    call = reader.call
    user = await call("GET", "/api/users/profile")

    trader = await call(
        "POST",
        "/api/account/",
        201,
        json={
            "name": "decides",
            "llm_provider": "openai",
            "llm_model": "fake-model-1",
            "llm_base_url": llm.base_url,
            "llm_api_key": API_KEY,
            "max_leverage": 5,
        },
    )
    await call("PUT", f"/api/account/{trader['id']}/strategy", json={"symbols": ["BTC", "ETH"]})
    # A decision with every numeric field the parser keeps, executed into an order and a
    # fill, leaves a position with exits.
    llm.queue(
        answer(
            operation="long",
            symbol="BTC",
            leverage=2,
            size_pct=10,
            take_profit_pct=5,
            stop_loss_pct=2,
            max_price=10**9,
            reasoning="up",
        )
    )
    record = await call("POST", f"/api/account/{trader['id']}/trigger")
    assert record["executed"], record
    pending = await call(
        "POST",
        "/api/orders/create",
        201,
        json={
            "account_id": trader["id"],
            "symbol": "ETH",
            "side": "buy",
            "order_type": "limit",
            "quantity": "0.5",
            "price": "1.25",
        },
    )

    prompt = await call("POST", "/api/prompts/", 201, json={"name": "p", "content": TEMPLATE})
    program = await call(
        "POST", "/api/programs/", 201, json={"name": "turns", "code": TURNS, "params": {"k": 2}}
    )
    run = await call("POST", "/api/programs/test-run", json={"program_id": program["id"]})
    assert run["status"] == "ok", run
    backtest = await call("POST", "/api/backtests", 202, json=request_body(program["id"]))

    builtin = await call(
        "POST", "/api/account/", 201, json={"name": "builtin", "llm_provider": "builtin"}
    )
    prompt_backtest = await call(
        "POST",
        "/api/prompt-backtests",
        202,
        json={
            "prompt_id": prompt["id"],
            "account_id": builtin["id"],
            "config": {"symbols": ["BTC"], "interval": "4h", **RANGE},
        },
    )
    signal = await call(
        "POST",
        "/api/signals/definitions",
        201,
        json={
            "name": "RSI oversold",
            "type": "threshold",
            "config": {"indicator": "rsi", "period": 14, "operator": "<", "threshold": 30.5},
        },
    )
    pool = await call(
        "POST",
        "/api/signals/pools",
        201,
        json={"name": "oversold", "signal_ids": [signal["id"]], "symbols": ["BTC"]},
    )
    binding = await call(
        "POST",
        "/api/bindings",
        201,
        json={"account_id": builtin["id"], "signal_pool_ids": [pool["id"]]},
    )
    backfill = await call(
        "POST",
        "/api/klines/backfill",
        202,
        json={
            "symbol": "BTC",
            "interval": "1h",
            "start_date": "2026-01-01",
            "end_date": "2026-01-02",
        },
    )
    factor = await call(
        "POST", "/api/factors/", 201, json={"name": "gap", "expression": "close / ema(close, 5)"}
    )
    run = await call("POST", "/api/factors/effectiveness/compute", 202)
    async with asyncio.timeout(300):  # every built-in factor, on a loaded machine
        measured = await call("GET", f"/api/factors/effectiveness/runs/{run['id']}")
        while measured["status"] not in ("completed", "failed"):
            await asyncio.sleep(0.1)
            measured = await call("GET", f"/api/factors/effectiveness/runs/{run['id']}")
    assert measured["status"] == "completed", measured
    # The builtin assistant answers one question in the background (docs/ASSISTANT.md).
    chat = {"context": {"page": "traders"}, "message": "list my AI traders"}
    queued = await call("POST", "/api/prompts/ai-chat-stream", 202, json=chat)
    await app.state.assistant.tasks.owned(user["id"], queued["task_id"]).runner
    [conversation] = await call("GET", "/api/hyper-ai/conversations")
    assert (await settled(api, token, backtest["id"]))["status"] == "completed"
    done = await wait_finished(api, token, prompt_backtest["id"])
    assert done["status"] == "completed", done

    ids = {
        "account_id": trader["id"],
        "program_id": program["id"],
        "prompt_id": prompt["id"],
        "signal_id": signal["id"],
        "pool_id": pool["id"],
        "binding_id": binding["id"],
        "backtest_id": backtest["id"],
        "prompt_backtest_id": prompt_backtest["id"],
        "task_id": backfill["id"],
        "ai_task_id": queued["task_id"],
        "conversation_id": conversation["id"],
        "user_id": user["id"],
        "symbol": "BTC",
        "factor_id": factor["id"],
        "factor_name": factor["name"],
        "run_id": run["id"],
        "order_id": record["outcomes"][0]["order_ids"][0],
        "platform": "telegram",
    }
    read = set()
    for route in app.routes:
        if isinstance(route, APIRoute) and "GET" in route.methods and route.path not in NOT_READ:
            path, query = _read_args(route, ids)
            await call("GET", path, params=query)
            read.add(route.path)
    assert len(read) > 30
    await call("POST", f"/api/orders/cancel/{pending['id']}")

    # Every curve names its points' time ``timestamp``, as the contract's asset curve does.
    curves = [
        body
        for where, body in reader.answers
        if where.endswith(("/asset-curve", "/equity")) and where.startswith("GET")
    ]
    assert len(curves) == 4 and all(curves[1:]), curves
    assert all(set(point) >= {"timestamp", "equity"} for curve in curves for point in curve)

    problems = [
        f"{where}: {problem}"
        for where, body in reader.answers
        for problem in json_style_problems(body)
    ]
    assert not problems, "\n".join(problems)


def test_the_openapi_walk_catches_the_offenders_it_exists_for() -> None:
    document = {
        "components": {
            "schemas": {
                "Point": {
                    "properties": {
                        "time": {"type": "string"},
                        "equity": {"anyOf": [{"type": "string"}, {"type": "null"}]},
                        "equity_url": {"type": "string"},
                        "side": {"type": "string", "enum": ["long", "short"]},
                        "at": {"type": "string", "format": "date-time"},
                        "extra": {"type": "object", "additionalProperties": True},
                    }
                }
            }
        }
    }
    answer = {"type": "array", "items": {"$ref": "#/components/schemas/Point"}}
    found = {
        where: openapi_problem(where, schema) for where, schema in schema_strings(document, answer)
    }
    assert found == {
        "Point.time": "is a time without format date-time",
        "Point.equity": "is a string named like a number",
        "Point.equity_url": None,
        "Point.side": None,
        "Point.at": None,
    }
