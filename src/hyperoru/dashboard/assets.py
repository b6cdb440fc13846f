"""Where the browser files live: ours inside this package, third-party ones inside the
installed PyPI packages that ship them. Found once, by name; nothing else is served."""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from functools import cache
from importlib import metadata, resources
from pathlib import Path

_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
}


@dataclass(frozen=True, slots=True)
class Asset:
    path: Path
    media_type: str


def _asset(path: Path) -> Asset:
    return Asset(path=path, media_type=_MEDIA_TYPES[path.suffix])


def _package_dir(package: str) -> Path:
    # find_spec locates the package without importing it (plotly's import is slow).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the installed package {package!r} is missing")
    return Path(next(iter(spec.submodule_search_locations)))


@cache
def own_assets() -> dict[str, Asset]:
    """Our pages, scripts and styles by file name (a flat folder: no path ever reaches
    the file system from a URL)."""
    folder = Path(str(resources.files("hyperoru.dashboard") / "static"))
    return {
        path.name: _asset(path)
        for path in folder.iterdir()
        if path.is_file() and path.suffix in _MEDIA_TYPES
    }


@cache
def plotly_version() -> str:
    return metadata.version("plotly")


@cache
def plotly_script() -> Asset:
    return _asset(_package_dir("plotly") / "package_data" / "plotly.min.js")


# plotly.min.js bundles a map library that injects its stylesheet as an inline <style> at
# load time unless an element with a fixed id already exists (it checks
# ``document.getElementById("<64 hex>")``). The dashboard's CSP refuses inline styles and
# uses no map traces, so the page carries empty elements with those ids instead.
_STYLE_GUARD = re.compile(rb'document\.getElementById\("([0-9a-f]{64})"\)')


@cache
def plotly_style_guards() -> tuple[str, ...]:
    found = _STYLE_GUARD.findall(plotly_script().path.read_bytes())
    return tuple(sorted({match.decode() for match in found}))


SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")


# The PyPI package whose wheel ships Swagger UI's built files (a 5.x build: FastAPI's
# schema is OpenAPI 3.1, which Swagger UI 4 refuses to render).
SWAGGER_PACKAGE = "fastapi-offline"


@cache
def swagger_version() -> str:
    return metadata.version(SWAGGER_PACKAGE)


@cache
def swagger_assets() -> dict[str, Asset]:
    folder = _package_dir("fastapi_offline") / "static"
    return {name: _asset(folder / name) for name in SWAGGER_FILES}
