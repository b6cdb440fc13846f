"""A real server process: one JSON log line per request, and no token ever in the logs."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from tests.e2e.server import serve
from tests.helpers import STRONG_PASSWORD


def test_query_tokens_and_headers_never_reach_the_logs(tmp_path: Path) -> None:
    with serve(tmp_path / "data") as server, httpx.Client(base_url=server.base_url) as client:
        assert (
            client.post(
                "/api/users/register", json={"username": "logged", "password": STRONG_PASSWORD}
            ).status_code
            == 201
        )
        token = client.post(
            "/api/users/login", json={"username": "logged", "password": STRONG_PASSWORD}
        ).json()["session_token"]
        by_query = client.get("/api/users/profile", params={"session_token": token, "x": "1"})
        assert by_query.status_code == 200
        client.get("/api/users/profile", headers={"Authorization": f"Bearer {token}"})
        client.get("/api/unknown", params={"session_token": token})
        client.get(f"/api/users/{token}")
        request_id = by_query.headers["x-request-id"]
    logs = server.logs()
    assert token not in logs
    assert token[4:] not in logs
    assert STRONG_PASSWORD not in logs
    assert "session_token=***" in logs

    records = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    requests = [r for r in records if r.get("event") == "request"]
    assert len(requests) >= 6
    matching = [r for r in requests if r["request_id"] == request_id]
    assert len(matching) == 1
    line = matching[0]
    assert line["method"] == "GET" and line["path"] == "/api/users/profile"
    assert line["status"] == 200 and line["user_id"] == 1
    assert line["ts"].endswith("Z") and isinstance(line["duration_ms"], float)
    assert line["query"] == "session_token=***&x=1"


def test_log_injection_is_one_record(tmp_path: Path) -> None:
    forged = '%0A{"event": "forged", "level": "INFO"}'
    with serve(tmp_path / "data") as server, httpx.Client(base_url=server.base_url) as client:
        assert client.get(f"/api/users/x{forged}").status_code == 404
        client.post(
            "/api/users/login",
            json={"username": 'x\n{"event": "forged"}', "password": "whatever pass"},
        )
    records = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
    assert all(record.get("event") != "forged" for record in records)
    assert any(
        "\n" in (record.get("path") or "") or "%0A" in (record.get("path") or "")
        for record in records
    )
