"""Known escapes through POST /api/programs/test-run: each one fails cleanly (refused by
the policy, or stopped by a limit) and the server keeps serving right after."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from hyperoru.app import replace_services
from hyperoru.programs.sandbox.launcher import Sandbox, SandboxLimits
from tests.helpers import Api
from tests.programs.programs import strategy

ESCAPES: dict[str, tuple[str, str]] = {
    "mro walk to os": (
        "for c in ().__class__.__mro__[1].__subclasses__():\n"
        "    if c.__name__ == '_wrap_close':\n"
        "        c.__init__.__globals__['system']('id')",
        "'__class__' is not allowed",
    ),
    "import through builtins": ("__import__('os').system('id')", "'__import__' is not allowed"),
    "builtins dict": ("__builtins__['exec']('1')", "'__builtins__' is not allowed"),
    "generator frames": (
        "g = (x for x in [1])\nreturn g.gi_frame.f_back.f_globals",
        "'gi_frame' is not allowed",
    ),
    "traceback frames": (
        "try:\n    1 / 0\nexcept Exception as e:\n    return e.with_traceback(None)",
        "'with_traceback' is not allowed",
    ),
    "gc": ("import gc\nreturn gc.get_objects()", "import of 'gc'"),
    "ctypes": ("import ctypes\nctypes.string_at(0)", "import of 'ctypes'"),
    "environ file": ("return open('/proc/self/environ').read()", "'open' is not available"),
    "sockets": ("import socket\nsocket.create_connection(('127.0.0.1', 6379))", "'socket'"),
    "fork bomb": ("import os\nwhile True:\n    os.fork()", "import of 'os'"),
    "pickle": ("import pickle\npickle.loads(b'cos\\nsystem\\n.')", "import of 'pickle'"),
    "format strings": ("return '{0.__class__}'.format(1)", "'format' is not allowed"),
    "built attribute names": ("return getattr(1, '__cl' + 'ass__')", "'getattr' is not"),
    "private module members": ("import statistics\nreturn statistics._sys", "'_sys'"),
    "allowed module leak": ("import statistics\nreturn statistics.sys.modules", "has no attribute"),
    "infinite loop": ("while True:\n    pass", "CPU time"),
    "memory bomb": ("x = 'a' * 10**10", "memory"),
    "digit bomb": ("return str(10**100000)", "ValueError"),
    "recursion": ("def f():\n    return f()\nreturn f()", "recursion"),
    "huge answer": ("return Decision('hold', 'BTC', reasoning='x' * 10**6)", "larger than"),
    "not a decision": ("return 1.5", "must be a JSON object"),
}


@pytest.fixture
def fast_sandbox(app: FastAPI) -> None:
    # The production budget is 10 s of CPU and 30 s of wall clock; a second is enough here.
    replace_services(app, sandbox=Sandbox(SandboxLimits(wall_seconds=5, cpu_seconds=1)))


# The escapes are refused or stopped in the sandbox, which never reaches the database: one
# database is enough (storing and test-running programs on both is tests/programs'
# test_programs_api). The print flood below still runs on both.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("name", list(ESCAPES))
async def test_escape_fails_cleanly(name: str, api: Api, fast_sandbox: None) -> None:
    body, expected = ESCAPES[name]
    _, token = await api.user()
    code = strategy(body)
    created = await api.client.post(
        "/api/programs/", json={"name": name, "code": code}, headers=api.bearer(token)
    )
    assert created.status_code == 201  # storing is allowed; running is not
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": created.json()["id"]},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    run = response.json()
    assert run["status"] in ("error", "timeout") and run["result"] is None, run
    assert expected in run["error"], run
    # The server keeps serving.
    health = await api.client.get("/api/health")
    assert health.status_code == 200
    listed = await api.client.get("/api/programs/", headers=api.bearer(token))
    assert listed.status_code == 200 and len(listed.json()) == 1


async def test_print_floods_are_truncated(api: Api) -> None:
    _, token = await api.user()
    code = strategy("for i in range(100000):\n    print('x' * 100)\nreturn None")
    created = await api.client.post(
        "/api/programs/", json={"name": "flood", "code": code}, headers=api.bearer(token)
    )
    run = (
        await api.client.post(
            "/api/programs/test-run",
            json={"program_id": created.json()["id"]},
            headers=api.bearer(token),
        )
    ).json()
    assert run["status"] == "ok"
    assert run["logs"][-1] == "[log truncated]" and sum(map(len, run["logs"])) <= 64 * 1024
