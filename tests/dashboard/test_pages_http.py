"""The dashboard's routes over HTTP: security headers, assets from the installed packages,
/docs offline, and nothing served beyond the named files."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from importlib import metadata
from pathlib import Path

import httpx
import pytest
from fastapi.routing import APIRoute

from hyperoru.app import create_app
from hyperoru.dashboard.headers import CONTENT_SECURITY_POLICY
from hyperoru.dashboard.router import router
from hyperoru.settings import Settings
from tests.conftest import asgi_client, running
from tests.helpers import assert_error

STATIC = Path(__file__).resolve().parents[2] / "src" / "hyperoru" / "dashboard" / "static"


def test_the_policy_allows_no_inline_code_no_eval_and_no_other_origin() -> None:
    directives = dict(part.strip().split(" ", 1) for part in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["default-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY


def test_our_files_have_no_inline_script_no_inline_style_and_no_remote_address() -> None:
    for path in STATIC.iterdir():
        text = path.read_text(encoding="utf-8").replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert not re.search(r"https?://", text), path.name
        if path.suffix == ".html":
            assert not re.search(r"<script(?![^>]*\bsrc=)", text), path.name
            assert "style=" not in text and "<style" not in text, path.name
            assert not re.search(r"\son[a-z]+=", text), path.name
        if path.suffix == ".js":
            assert "innerHTML" not in text and "eval(" not in text, path.name


async def test_the_page_carries_the_policy_and_versioned_chart_script(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "__" not in page.text  # every placeholder filled in
    (script,) = re.findall(r'src="(/vendor/plotly-[^"]+)"', page.text)
    assert script == f"/vendor/plotly-{metadata.version('plotly')}.min.js"

    bundle = await client.get(script)  # httpx asks for gzip and unpacks it
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert bundle.headers["content-encoding"] == "gzip"
    assert "immutable" in bundle.headers["cache-control"]
    assert bundle.content.startswith(b"/**\n* plotly.js v")
    plain = await client.get(script, headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain.content == bundle.content

    own = await client.get("/static/app.js")
    assert own.status_code == 200
    assert own.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert 'from "./api.js"' in own.text


async def test_docs_are_served_from_the_installed_swagger_ui(client: httpx.AsyncClient) -> None:
    page = await client.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "cdn" not in page.text.lower()
    assets = re.findall(r'(?:src|href)="(/vendor/swagger-ui-[^"]+)"', page.text)
    assert len(assets) == 2
    for asset in assets:
        answer = await client.get(asset)
        assert answer.status_code == 200, asset
        assert len(answer.content) > 100_000
    assert (await client.get("/openapi.json")).status_code == 200


@pytest.mark.parametrize(
    "path",
    [
        "/static/index.html",  # pages only under their own routes
        "/static/missing.js",
        "/static/..%2Fassets.py",
        "/static/../assets.py",
        "/vendor/plotly-0.0.1.min.js",
        "/vendor/swagger-ui-1.7.7/redoc.standalone.js",
        "/vendor/swagger-ui-1.7.7/core.py",
        "/vendor/swagger-ui-0.0.1/swagger-ui.css",
    ],
)
async def test_nothing_beyond_the_named_files_is_served(
    client: httpx.AsyncClient, path: str
) -> None:
    assert_error(await client.get(path), 404, "NOT_FOUND")


async def test_the_pages_are_not_in_the_api_schema(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert not [path for path in paths if not path.startswith("/api")]


@pytest.fixture
async def docs_off(make_settings: Callable[..., Settings]) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(make_settings(docs_enabled=False))
    async with running(app), asgi_client(app) as http:
        yield http


async def test_docs_can_be_turned_off(docs_off: httpx.AsyncClient) -> None:
    assert_error(await docs_off.get("/docs"), 404, "NOT_FOUND")
    assert_error(await docs_off.get("/openapi.json"), 404, "NOT_FOUND")
    assert (await docs_off.get("/")).status_code == 200


def test_the_dashboard_serves_pages_and_files_only() -> None:
    """Its routes are public, so none may sit under /api (every /api route stays behind
    the token check) or answer anything but GET."""
    routes = [route for route in router.routes if isinstance(route, APIRoute)]
    assert len(routes) == len(router.routes) == 5
    for route in routes:
        assert not route.path.startswith(("/api", "/ws")), route.path
        assert route.methods == {"GET"}, route.path


async def test_the_api_still_wants_a_token(client: httpx.AsyncClient) -> None:
    assert_error(await client.get("/api/account/list"), 401, "AUTH_REQUIRED")
