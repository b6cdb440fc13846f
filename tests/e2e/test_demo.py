"""`hyperoru serve --demo`: a random password shown once, two builtin traders that start
deciding (and trading) on the simulated market within a minute."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from tests.e2e.server import serve

PASSWORD_LINE = re.compile(r"created user 'demo' with password (\S+)")


def test_demo_user_and_traders_start_deciding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (
        serve(data, args=("--demo",)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        match = PASSWORD_LINE.search(server.output())
        assert match, server.output()
        password = match.group(1)
        assert len(password) >= 20
        login = client.post("/api/users/login", json={"username": "demo", "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
        traders = client.get("/api/account/list", headers=headers).json()
        assert len(traders) == 2
        assert all(t["llm_provider"] == "builtin" for t in traders)

        deadline = time.monotonic() + 60
        decided: dict[int, list[dict[str, object]]] = {}
        while time.monotonic() < deadline and len(decided) < 2:
            for trader in traders:
                log = client.get(f"/api/account/{trader['id']}/decisions", headers=headers)
                if log.json():
                    decided[trader["id"]] = log.json()
            time.sleep(1)
        assert len(decided) == 2, "both demo traders decide within a minute"
        for records in decided.values():
            assert records[0]["status"] == "ok", records[0]["error"]
            assert records[0]["model"].startswith("builtin")
    # The password went to the terminal only, never into the logs.
    assert password not in server.logs()

    with serve(data, args=("--demo",)) as again:
        assert "already exists" in again.output()
        assert PASSWORD_LINE.search(again.output()) is None
