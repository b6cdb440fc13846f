"""`hyperoru serve --demo`: a random password shown once in a block of its own on stdout
(URL, username and password each on its own line, none of it in the JSON log on stderr),
two builtin traders on the demo rules that start deciding within a minute."""

from __future__ import annotations

import re
import time
from pathlib import Path

import httpx

from hyperoru.strategies.llm.builtin import DEMO_MODEL_NAME
from tests.e2e.server import serve

PASSWORD_LINE = re.compile(r"^  password: (\S+)$", re.MULTILINE)


def block_line(output: str, label: str) -> str:
    [value] = re.findall(rf"^  {label}: +(.+)$", output, re.MULTILINE)
    return value


def test_demo_user_and_traders_start_deciding(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with (
        serve(data, args=("--demo",)) as server,
        httpx.Client(base_url=server.base_url, timeout=30) as client,
    ):
        output = server.output()
        assert block_line(output, "URL") == server.base_url
        assert block_line(output, "username") == "demo"
        password = block_line(output, "password")
        assert len(password) >= 20
        # stdout is the block alone: no log line mixed in.
        assert "{" not in output.replace('{"username": "demo", "password": "..."}', "")
        login = client.post("/api/users/login", json={"username": "demo", "password": password})
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['session_token']}"}
        traders = client.get("/api/account/list", headers=headers).json()
        assert len(traders) == 2
        assert all(t["llm_provider"] == "builtin" for t in traders)
        assert all(t["llm_model"] == DEMO_MODEL_NAME for t in traders)

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
            assert records[0]["model"] == DEMO_MODEL_NAME
    # The password went to the terminal only, never into the logs.
    assert password not in server.logs()
    assert "demo_ready" in server.logs()

    with serve(data, args=("--demo",)) as again:
        assert PASSWORD_LINE.search(again.output()) is None
        assert "hyperoru users set-password demo" in again.output()
