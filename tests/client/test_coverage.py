"""The client's table of operations and the server's OpenAPI schema name the same routes:
a route without a client method (or a method for a route that is gone) fails here."""

from __future__ import annotations

import subprocess
import sys

from hyperoru.app import create_app
from hyperoru.client import OPERATIONS, AsyncClient, Client
from tests.test_architecture import package_imports

# Schema routes the client deliberately leaves out, with the reason (the non-API routes,
# /openapi.json, /docs and /ws, are not in the schema, and /ws has Stream).
EXCLUDED: dict[tuple[str, str], str] = {
    ("POST", "/api/hyper-ai/chat"): "server-sent events; the client polls the same turn "
    "with queue_assistant_chat and get_assistant_chunks",
    ("POST", "/api/bots/telegram/webhook"): "Telegram calls it, signed with the bot's secret",
    ("POST", "/api/bots/discord/interactions/{config_id}"): "Discord calls it, signed (Ed25519)",
}
METHODS = {"get", "post", "put", "patch", "delete"}


def _schema_routes() -> dict[tuple[str, str], dict]:
    schema = create_app().openapi()
    return {
        (method.upper(), path): operation
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if method in METHODS
    }


def _table_routes() -> dict[tuple[str, str], str]:
    return {(op.method, path): op.name for op in OPERATIONS for path in (op.path, *op.aliases)}


def test_every_route_in_the_schema_has_a_client_method() -> None:
    missing = sorted(set(_schema_routes()) - set(_table_routes()) - set(EXCLUDED))
    assert not missing, f"add these routes to hyperoru/client/operations.py: {missing}"


def test_every_client_method_names_a_route_of_the_schema() -> None:
    stale = sorted(set(_table_routes()) - set(_schema_routes()))
    assert not stale, f"these client operations have no route on the server: {stale}"


def test_body_and_path_parameters_agree_with_the_schema() -> None:
    schema = _schema_routes()
    for op in OPERATIONS:
        for path in (op.path, *op.aliases):
            operation = schema.get((op.method, path))
            if operation is None:
                continue
            takes_body = "requestBody" in operation
            assert takes_body == (op.body or op.upload), f"{op.name}: body flag is wrong"
            in_path = {p["name"] for p in operation.get("parameters", []) if p["in"] == "path"}
            assert in_path == set(op.path_params), f"{op.name}: path parameters differ"


def test_both_clients_offer_every_operation_under_one_unique_name() -> None:
    names = [op.name for op in OPERATIONS]
    assert len(names) == len(set(names))
    for name in names:
        assert callable(getattr(Client, name)) and callable(getattr(AsyncClient, name))
    assert Client.get_backtest.__doc__.startswith("GET /api/backtests/{backtest_id}")


def test_the_client_imports_nothing_of_the_server() -> None:
    edges = [target for (package, target) in package_imports() if package == "client"]
    assert edges == []
    # Nor, at run time, the server's dependencies: a script needs httpx and websockets only.
    probe = (
        "import sys, hyperoru.client\n"
        "heavy = {'fastapi', 'sqlalchemy', 'pydantic', 'starlette', 'numpy'} & set(sys.modules)\n"
        "print(sorted(heavy))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "[]"
