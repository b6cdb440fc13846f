"""forms.js, the one way the dashboard's forms talk to the API, on real pages: a double
click sends one request (the submit button disabled and the form aria-busy while it is in
flight), a refusal's message at the field it concerns and in the toast, and a success that
takes the error state away. The test holds a request in the browser (Playwright's routing)
until it has looked at the form, so nothing depends on how fast the server answers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tests.dashboard.conftest import DEADLINE_MS, Browser, Demo, open_page, sign_in

pytestmark = pytest.mark.browser

BARRIER = "/forms-test-barrier"
GOOD_PASSWORD = "cobalt-harbour-lantern-42"


class HeldRequests:
    """One route's requests of one method, held in the browser until ``gate`` is set."""

    def __init__(self, method: str) -> None:
        self.method = method
        self.bodies: list[Any] = []
        self.arrived = asyncio.Event()
        self.gate = asyncio.Event()

    async def handle(self, route: Any) -> None:
        if route.request.method != self.method:
            await route.continue_()
            return
        self.bodies.append(route.request.post_data_json)
        self.arrived.set()
        await self.gate.wait()
        await route.continue_()


async def double_click_sends_once(
    page: Any, form: Any, button: Any, route: tuple[str, str], sent: tuple[str, str]
) -> None:
    """Double-clicks ``button``, then, with the first request (``route``: method and URL
    glob) held, asks the form to submit twice more (programmatically and with Enter).
    Once the page has issued all it was going to (a request it makes after these attempts,
    the barrier, reaches the router after any they caused), exactly one request, carrying
    ``sent`` (field, value), was made, and the form is busy; then the request goes on."""
    method, url = route
    held = HeldRequests(method)
    await page.route(url, held.handle)
    await page.route(f"**{BARRIER}", lambda barrier: barrier.fulfill(status=204))
    await button.dblclick()
    await asyncio.wait_for(held.arrived.wait(), DEADLINE_MS / 1000)
    await form.evaluate("form => form.requestSubmit()")
    await form.locator("input").first.press("Enter")
    assert await page.evaluate(f"fetch({BARRIER!r}).then((answer) => answer.status)") == 204
    field, value = sent
    assert [body[field] for body in held.bodies] == [value]
    assert await button.is_disabled()
    assert await form.get_attribute("aria-busy") == "true"
    held.gate.set()
    await page.unroute(url, held.handle)


async def test_a_double_click_sends_one_request(demo: Demo, browser: Browser) -> None:
    page, _ = await browser.page()
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http

    # Traders: a new trader, created once.
    form = page.locator("#new-trader-form")
    await form.get_by_label("Name", exact=True).fill("once only")
    create = form.get_by_role("button", name="Create trader")
    await double_click_sends_once(
        page, form, create, ("POST", "**/api/account/"), ("name", "once only")
    )
    await page.wait_for_selector('#main[data-page="trader"][data-ready="true"]')
    traders = (await http.get("/api/account/list", headers=headers)).json()
    assert [t["name"] for t in traders].count("once only") == 1

    # Settings: the profile, saved once; the form is usable again afterwards.
    await open_page(page, "#/settings", "settings")
    form = page.locator("#profile-form")
    await form.get_by_label("Email").fill("once@example.com")
    save = form.get_by_role("button", name="Save profile")
    await double_click_sends_once(
        page, form, save, ("PUT", "**/api/users/profile"), ("email", "once@example.com")
    )
    await page.locator("#toast").filter(has_text="Profile saved").wait_for()
    assert await save.is_enabled()
    assert await form.get_attribute("aria-busy") is None
    profile = (await http.get("/api/users/profile", headers=headers)).json()
    assert profile["email"] == "once@example.com"


async def refusal_at(page: Any, form: Any, name: str) -> str:
    """The refusal shown at the control named ``name``: checks that it is the form's one
    error, stands right after the control, describes it (after any hint) and is also in
    the toast; returns its text."""
    control = form.locator(f'[name="{name}"]')
    await form.locator(f'[name="{name}"][aria-invalid="true"]').wait_for()
    note_id = await control.evaluate("control => control.nextElementSibling.id")
    assert note_id == f"{await control.get_attribute('id')}-error"
    described = (await control.get_attribute("aria-describedby")).split()
    assert described[-1] == note_id
    note = form.locator(f"#{note_id}")
    assert await note.get_attribute("role") == "alert"
    assert await form.locator(".error").count() == 1
    text = await note.inner_text()
    await page.locator("#toast").filter(has_text=text).wait_for()
    return text


async def test_a_refusal_is_shown_at_its_field_and_in_the_toast_until_a_success(
    demo: Demo, browser: Browser
) -> None:
    page, watch = await browser.page()
    # Chromium logs each refusal as a failed load.
    watch.allowed_refusals |= {(403, "/api/users/password"), (422, "/api/users/password")}
    await sign_in(page, demo.url, "demo", demo.password)
    headers = demo.server.api.bearer(await demo.token())
    http = demo.server.http

    async def refused(current: str, new: str, status: int) -> str:
        answer = await http.put(
            "/api/users/password",
            json={"current_password": current, "new_password": new},
            headers=headers,
        )
        assert answer.status_code == status, answer.text
        return str(answer.json()["message"])

    await open_page(page, "#/settings", "settings")
    form = page.locator("#password-form")
    change = form.get_by_role("button", name="Change password")
    hint = await form.get_by_label("New password").get_attribute("aria-describedby")
    assert hint

    # A wrong current password (403, no field named): at the current password.
    await form.get_by_label("Current password").fill("not the password")
    await form.get_by_label("New password").fill(GOOD_PASSWORD)
    await change.click()
    assert await refusal_at(page, form, "current_password") == await refused(
        "not the password", GOOD_PASSWORD, 403
    )

    # A weak new one (422 WEAK_PASSWORD): moves to the new password, the other is clear.
    await form.get_by_label("Current password").fill(demo.password)
    await form.get_by_label("New password").fill("demodemo")
    await change.click()
    assert await refusal_at(page, form, "new_password") == await refused(
        demo.password, "demodemo", 422
    )
    assert await form.get_by_label("Current password").get_attribute("aria-invalid") is None

    # Accepted: every error gone and the hint describes the field again.
    await form.get_by_label("Current password").fill(demo.password)
    await form.get_by_label("New password").fill(GOOD_PASSWORD)
    await change.click()
    await page.locator("#toast").filter(has_text="Password changed").wait_for()
    assert await form.locator(".error").count() == 0
    assert await form.locator("[aria-invalid]").count() == 0
    assert await form.get_by_label("New password").get_attribute("aria-describedby") == hint
    assert await demo.server.api.login("demo", GOOD_PASSWORD)

    # Creating an account (signed out): the API's 422 names its field, "password".
    guest, guest_watch = await browser.page()
    guest_watch.allowed_refusals.add((422, "/api/users/register"))
    await guest.goto(demo.url + "/")
    form = guest.locator("#register-form")
    await form.get_by_label("Username").fill("formtester")
    await form.get_by_label("Password").fill("formtester1")
    await form.get_by_role("button", name="Create account and sign in").click()
    weak = await http.post(
        "/api/users/register", json={"username": "formtester", "password": "formtester1"}
    )
    assert weak.status_code == 422, weak.text
    assert await refusal_at(guest, form, "password") == weak.json()["message"]
    await form.get_by_label("Password").fill(GOOD_PASSWORD)
    await form.get_by_role("button", name="Create account and sign in").click()
    await guest.wait_for_selector('#main[data-page="traders"][data-ready="true"]')
    assert await guest.locator(".error").count() == 0
