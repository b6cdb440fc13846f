"""hyperoru.serving: what `hyperoru serve` runs on, and the server still starting where
httptools does not import."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from hyperoru import serving
from hyperoru.settings import Settings
from tests.e2e.server import serve


def _settings(tmp_path: Path) -> Settings:
    return Settings(_env_file=None, data_dir=tmp_path, secret_key="s" * 40)  # type: ignore[call-arg]


def test_serve_runs_asyncio_with_httptools_one_process(tmp_path: Path) -> None:
    options = serving.uvicorn_options(_settings(tmp_path), host="127.0.0.1", port=8080)
    # asyncio, never uvloop: uvloop refuses the sandbox's user/group subprocess arguments.
    assert (options["loop"], options["http"]) == ("asyncio", "httptools")
    assert "workers" not in options
    assert options["access_log"] is False and options["server_header"] is False
    assert options["ws_per_message_deflate"] is False


def test_without_httptools_the_server_falls_back_to_h11(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A None entry makes `import httptools` raise ImportError, as on a platform without it.
    monkeypatch.setitem(sys.modules, "httptools", None)
    assert serving.serve_stack() == serving.ServerStack(loop="asyncio", http="h11")
    options = serving.uvicorn_options(_settings(tmp_path), host="127.0.0.1", port=8080)
    assert options["http"] == "h11"


def test_hyperoru_serve_starts_on_the_serving_stack(tmp_path: Path) -> None:
    with serve(tmp_path / "data") as server:
        records = [json.loads(line) for line in server.logs().splitlines() if line.strip()]
    serving_lines = [r for r in records if r.get("event") == "serving"]
    assert [(r["loop"], r["http"]) for r in serving_lines] == [("asyncio", "httptools")]
