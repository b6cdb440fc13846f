"""The dashboard's public routes: the single page, our static files, and the installed
third-party browser files (plotly, Swagger UI). None of them reads user data: every page
loads its data from ``/api`` and ``/ws`` with the signed-in user's token."""

from __future__ import annotations

import gzip
from functools import cache

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from hyperoru.dashboard.assets import (
    Asset,
    own_assets,
    plotly_script,
    plotly_style_guards,
    plotly_version,
    swagger_assets,
    swagger_version,
)
from hyperoru.dashboard.headers import PAGE_HEADERS, VERSIONED_HEADERS
from hyperoru.errors import ApiError
from hyperoru.offload import off_loop

router = APIRouter(include_in_schema=False)


def _missing() -> ApiError:
    # What any unknown path answers, so these routes reveal nothing more.
    return ApiError(404, "NOT_FOUND", "Not found")


def _plotly_url() -> str:
    return f"/vendor/plotly-{plotly_version()}.min.js"


def _swagger_base() -> str:
    return f"/vendor/swagger-ui-{swagger_version()}"


def _style_guards() -> str:
    return "".join(f'<template id="{guard}"></template>' for guard in plotly_style_guards())


@cache
def _page(name: str) -> bytes:
    """An HTML page with the versioned addresses of the third-party files filled in."""
    html = own_assets()[name].path.read_text(encoding="utf-8")
    return (
        html.replace("__PLOTLY_URL__", _plotly_url())
        .replace("__SWAGGER_BASE__", _swagger_base())
        .replace("__PLOTLY_STYLE_GUARDS__", _style_guards())
        .encode()
    )


def _page_response(name: str) -> Response:
    return Response(_page(name), media_type="text/html; charset=utf-8", headers=PAGE_HEADERS)


def _file(asset: Asset, headers: dict[str, str]) -> FileResponse:
    return FileResponse(asset.path, media_type=asset.media_type, headers=headers)


@cache
def _compressed(asset: Asset) -> bytes:
    return gzip.compress(asset.path.read_bytes(), compresslevel=6, mtime=0)


async def _third_party(request: Request, asset: Asset) -> Response:
    """A large versioned file, gzipped once per process for the clients that accept it
    (plotly.min.js: 4.8 MB, 1.4 MB gzipped; a phone on a slow link feels the difference)."""
    headers = {**VERSIONED_HEADERS, "Vary": "Accept-Encoding"}
    if "gzip" not in request.headers.get("accept-encoding", ""):
        return _file(asset, headers)
    body = await off_loop(_compressed, asset)
    return Response(
        body, media_type=asset.media_type, headers={**headers, "Content-Encoding": "gzip"}
    )


@router.get("/")
async def index() -> Response:
    return _page_response("index.html")


@router.get("/docs")
async def api_docs(request: Request) -> Response:
    if not request.app.state.services.settings.docs_enabled:
        raise _missing()
    return _page_response("docs.html")


@router.get("/static/{name}")
async def own_file(name: str) -> Response:
    asset = own_assets().get(name)
    if asset is None or asset.path.suffix == ".html":
        raise _missing()
    return _file(asset, PAGE_HEADERS)


@router.get("/vendor/plotly-{version}.min.js")
async def plotly(request: Request, version: str) -> Response:
    if version != plotly_version():
        raise _missing()
    return await _third_party(request, plotly_script())


@router.get("/vendor/swagger-ui-{version}/{name}")
async def swagger(request: Request, version: str, name: str) -> Response:
    asset = swagger_assets().get(name)
    if version != swagger_version() or asset is None:
        raise _missing()
    return await _third_party(request, asset)
