"""A Python client for the Hyperoru API, sync (``Client``) and async (``AsyncClient``).

It imports only httpx, websockets and the standard library, never the server, so scripts
can use it on machines that do not run one::

    from hyperoru.client import Client

    with Client("http://127.0.0.1:8080") as api:
        api.login("alice", "a long password")
        trader = api.create_trader("my bot")
        print(api.list_positions(trader.id))
"""

from hyperoru.client.client import AsyncClient, Client
from hyperoru.client.core import NO_RETRY, RetryPolicy
from hyperoru.client.errors import HyperoruError
from hyperoru.client.models import (
    Backtest,
    Binding,
    DecisionRecord,
    Execution,
    Fill,
    LoginResult,
    Order,
    Position,
    Program,
    Prompt,
    Resource,
    Signal,
    SignalPool,
    Trader,
    User,
)
from hyperoru.client.operations import OPERATIONS, Operation
from hyperoru.client.stream import Stream

__all__ = [
    "NO_RETRY",
    "OPERATIONS",
    "AsyncClient",
    "Backtest",
    "Binding",
    "Client",
    "DecisionRecord",
    "Execution",
    "Fill",
    "HyperoruError",
    "LoginResult",
    "Operation",
    "Order",
    "Position",
    "Program",
    "Prompt",
    "Resource",
    "RetryPolicy",
    "Signal",
    "SignalPool",
    "Stream",
    "Trader",
    "User",
]
