"""The dashboard under a real browser: Debian's chromium driven by Playwright for Python,
against a real uvicorn server on loopback running the demo on SQLite.

Every page a test opens is watched: any console error, page error or failed request
fails the test at teardown, and any request URL carrying a session token does too.
Screenshots go to ``test-artifacts/dashboard/`` (git-ignored) as CI artefacts."""

from __future__ import annotations

import logging
import os
import re
import shutil
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from hyperoru.data_dir import PRIVATE_FILE_MODE
from hyperoru.settings import Settings
from tests.conftest import REQUIRE_SERVICES
from tests.realtime.conftest import FAST_LIMITS, LiveServer, run_server

ARTIFACTS = (
    Path(
        os.environ.get(
            "HYPERORU_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts"
        )
    )
    / "dashboard"
)
# What Chromium needs on a closed network: no sandbox as root, and no calls home.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDE = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
DEADLINE_MS = 20_000
TOKEN = re.compile(r"hyo_[A-Za-z0-9_-]{20,}")


def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "Debian's chromium is not installed (.ci/run installs it)"
        if REQUIRE_SERVICES:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture
async def database_url(tmp_path: Path, _migrated_sqlite: Path) -> str:
    """SQLite only: the browser tests check the pages, the API tests cover both databases."""
    database = tmp_path / "hyperoru.db"
    shutil.copyfile(_migrated_sqlite, database)
    database.chmod(PRIVATE_FILE_MODE)
    return f"sqlite+aiosqlite:///{database}"


@dataclass
class Demo:
    server: LiveServer
    password: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.port}"

    async def token(self) -> str:
        """A separate session for the test's own API calls (an external client)."""
        return await self.server.api.login("demo", self.password)


def logged_text(record: logging.LogRecord) -> str:
    """A log record as any handler could write it: the message and every extra field."""
    return record.getMessage() + " " + " ".join(str(value) for value in vars(record).values())


@pytest.fixture
def demo_settings() -> dict[str, Any]:
    """More settings for the demo server: a test module overrides this fixture (e.g. to
    point the bots or the venues at loopback fakes)."""
    return {}


@pytest.fixture
async def demo(
    make_settings: Callable[..., Settings],
    demo_settings: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Demo]:
    # The runtime stays off: the traders trade only when a test makes them.
    settings = make_settings(demo=True, rate_limit_auth_per_minute=1000, **demo_settings)
    async with demo_server(settings, capsys, caplog) as running:
        yield running


# The factor engine on, measuring a week of three symbols only when asked (no schedule).
FACTOR_ENGINE = {
    "factor_engine": "enabled",
    "factor_symbols": "BTC,ETH,SOL",
    "factor_lookback_days": 7,
    "factor_refresh_minutes": 0,
    "jobs_poll_seconds": 0.05,
}


@pytest.fixture
async def factor_demo(
    make_settings: Callable[..., Settings],
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> AsyncIterator[Demo]:
    """The demo with the factor engine on (it is off by default, as on a fresh server)."""
    settings = make_settings(demo=True, rate_limit_auth_per_minute=1000, **FACTOR_ENGINE)
    async with demo_server(settings, capsys, caplog) as running:
        yield running


@asynccontextmanager
async def demo_server(
    settings: Settings, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Demo]:
    caplog.set_level(logging.INFO)
    async with run_server(settings, FAST_LIMITS) as live:
        printed = capsys.readouterr().out
        match = re.search(r"password: (\S+)", printed)
        assert match, printed
        yield Demo(server=live, password=match.group(1))
    # The pages' requests were logged, and no line carries a session token.
    records = caplog.get_records("call")
    assert any(record.name == "hyperoru.access" for record in records)
    leaked = [logged_text(r) for r in records if TOKEN.search(logged_text(r))]
    assert not leaked, leaked


@dataclass
class Watch:
    """What a page did that a test must not allow."""

    errors: list[str] = field(default_factory=list)
    urls: list[str] = field(default_factory=list)
    allowed_statuses: set[int] = field(default_factory=set)
    # (status, URL part): one route a test expects refused, e.g. a feature turned off.
    allowed_refusals: set[tuple[int, str]] = field(default_factory=set)

    def check(self) -> None:
        leaked = [url for url in self.urls if TOKEN.search(url)]
        assert not leaked, f"a session token in a URL: {leaked}"
        assert not self.errors, "\n".join(self.errors)


@dataclass
class Browser:
    browser: Any
    watches: list[Watch] = field(default_factory=list)

    async def page(self, viewport: dict[str, int] = WIDE) -> tuple[Any, Watch]:
        context = await self.browser.new_context(viewport=viewport)
        page = await context.new_page()
        page.set_default_timeout(DEADLINE_MS)
        watch = Watch()
        self.watches.append(watch)

        def on_console(message: Any) -> None:
            if message.type != "error":
                return
            text = message.text
            status = re.search(r"status of (\d{3})", text)
            if status and int(status.group(1)) in watch.allowed_statuses:
                return
            url = message.location.get("url") or ""
            if status and any(
                int(status.group(1)) == code and part in url
                for code, part in watch.allowed_refusals
            ):
                return
            watch.errors.append(f"console error: {text} at {message.location.get('url')}")

        page.on("console", on_console)
        page.on("pageerror", lambda error: watch.errors.append(f"page error: {error}"))
        page.on("request", lambda request: watch.urls.append(request.url))

        def on_failed(request: Any) -> None:
            # Closing a page aborts what it was still loading: not the page's fault.
            if "ERR_ABORTED" not in str(request.failure):
                watch.errors.append(f"request failed: {request.url} {request.failure}")

        page.on("requestfailed", on_failed)
        return page, watch


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    from playwright.async_api import async_playwright

    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        holder = Browser(launched)
        try:
            yield holder
        finally:
            await launched.close()
        for watch in holder.watches:
            watch.check()


async def screenshot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Any, url: str, login: str, password: str) -> None:
    await page.goto(url + "/")
    await page.get_by_label("Username or email").fill(login)
    await page.locator("#signin-form").get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_selector('#main[data-page="traders"][data-ready="true"]')


async def open_page(page: Any, hash_: str, name: str) -> None:
    """Go to a page by its address and wait until it has loaded its data."""
    await page.evaluate(f"location.hash = {hash_!r}")
    await page.wait_for_selector(f'#main[data-page="{name}"][data-ready="true"]')
