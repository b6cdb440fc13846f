"""/api/prompts: CRUD, copy, rename, built-in templates, ownership and size limits."""

from __future__ import annotations

from typing import Any

from hyperoru.prompts.builtin_templates import BUILTIN_TEMPLATES
from hyperoru.prompts.schemas import MAX_CONTENT_BYTES
from hyperoru.strategies.template import placeholders
from hyperoru.strategies.variables import VARIABLE_NAMES
from tests.helpers import Api, assert_error


async def _create(api: Api, token: str, **fields: Any) -> dict[str, Any]:
    body = {"name": "Momentum", "content": "Trade {symbols} now.", **fields}
    response = await api.client.post("/api/prompts/", json=body, headers=api.bearer(token))
    assert response.status_code == 201, response.text
    return response.json()


async def _builtin(api: Api, token: str, key: str = "general") -> dict[str, Any]:
    listed = (await api.client.get("/api/prompts/", headers=api.bearer(token))).json()
    return next(p for p in listed if p["system_key"] == key)


async def test_create_read_update_delete(api: Api) -> None:
    _, token = await api.user()
    created = await _create(api, token, description="first")
    assert created["id"] == created["prompt_id"]
    assert created["content"] == created["template_text"] == "Trade {symbols} now."
    assert created["is_system"] is False and created["description"] == "first"
    assert created["created_at"].endswith("Z")
    path = f"/api/prompts/{created['id']}"

    fetched = await api.client.get(path, headers=api.bearer(token))
    assert fetched.status_code == 200 and fetched.json() == created

    updated = await api.client.put(
        path,
        json={"template_text": "Hold {symbols}.", "description": None},
        headers=api.bearer(token),
    )
    assert updated.status_code == 200, updated.text
    assert updated.json()["content"] == "Hold {symbols}."
    assert updated.json()["description"] is None
    assert updated.json()["name"] == "Momentum"

    deleted = await api.client.delete(path, headers=api.bearer(token))
    assert deleted.status_code == 200 and deleted.json() == {"status": "ok"}
    assert_error(await api.client.get(path, headers=api.bearer(token)), 404, "PROMPT_NOT_FOUND")
    assert_error(await api.client.delete(path, headers=api.bearer(token)), 404, "PROMPT_NOT_FOUND")
    listed = (await api.client.get("/api/prompts/", headers=api.bearer(token))).json()
    assert created["id"] not in [p["id"] for p in listed]


async def test_template_text_spelling_is_accepted_on_create(api: Api) -> None:
    _, token = await api.user()
    created = await _create(api, token, content=None, template_text="Only {market_prices}")
    assert created["content"] == "Only {market_prices}"


async def test_builtins_are_listed_for_everyone_first_and_read_only(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    own = await _create(api, alice)
    alice_list = (await api.client.get("/api/prompts/", headers=api.bearer(alice))).json()
    bob_list = (await api.client.get("/api/prompts/", headers=api.bearer(bob))).json()
    keys = [b.key for b in BUILTIN_TEMPLATES]
    assert [p["system_key"] for p in alice_list] == [*keys, None]
    assert [p["system_key"] for p in bob_list] == keys
    assert alice_list[-1]["id"] == own["id"]
    assert all(p["is_system"] and p["user_id"] is None for p in bob_list)

    general = await _builtin(api, bob)
    path = f"/api/prompts/{general['id']}"
    assert (await api.client.get(path, headers=api.bearer(bob))).status_code == 200
    put = await api.client.put(path, json={"name": "mine"}, headers=api.bearer(bob))
    assert_error(put, 403, "FORBIDDEN")
    patch = await api.client.patch(f"{path}/name", json={"name": "x"}, headers=api.bearer(bob))
    assert_error(patch, 403, "FORBIDDEN")
    assert_error(await api.client.delete(path, headers=api.bearer(bob)), 403, "FORBIDDEN")
    assert (await api.client.get(path, headers=api.bearer(bob))).json() == general


async def test_builtin_templates_use_only_catalogue_variables() -> None:
    for builtin in BUILTIN_TEMPLATES:
        used = placeholders(builtin.content)
        assert set(used) <= set(VARIABLE_NAMES), builtin.key
        assert "output_format" in used and "max_leverage" in used and "symbols" in used


async def test_copy_of_builtin_and_own_templates(api: Api) -> None:
    _, token = await api.user()
    general = await _builtin(api, token)
    copied = await api.client.post(f"/api/prompts/{general['id']}/copy", headers=api.bearer(token))
    assert copied.status_code == 201, copied.text
    copy = copied.json()
    assert copy["name"] == f"{general['name']} (copy)"
    assert copy["content"] == general["content"] and copy["is_system"] is False
    assert copy["id"] != general["id"]
    # The copy is the user's own: it can be edited.
    edited = await api.client.put(
        f"/api/prompts/{copy['id']}", json={"content": "changed"}, headers=api.bearer(token)
    )
    assert edited.status_code == 200 and edited.json()["content"] == "changed"
    again = await api.client.post(f"/api/prompts/{copy['id']}/copy", headers=api.bearer(token))
    assert again.json()["name"] == f"{general['name']} (copy) (copy)"


async def test_rename(api: Api) -> None:
    _, token = await api.user()
    own = await _create(api, token)
    renamed = await api.client.patch(
        f"/api/prompts/{own['id']}/name", json={"name": "  Breakout  "}, headers=api.bearer(token)
    )
    assert renamed.status_code == 200 and renamed.json()["name"] == "Breakout"
    assert renamed.json()["content"] == own["content"]
    bad = await api.client.patch(
        f"/api/prompts/{own['id']}/name", json={"name": ""}, headers=api.bearer(token)
    )
    assert_error(bad, 400, "VALIDATION_ERROR")


async def test_another_users_template_is_forbidden_and_missing_is_not_found(api: Api) -> None:
    _, alice = await api.user()
    _, bob = await api.user()
    own = await _create(api, alice)
    path = f"/api/prompts/{own['id']}"
    for method, suffix, body in (
        ("GET", "", None),
        ("PUT", "", {"name": "stolen"}),
        ("DELETE", "", None),
        ("POST", "/copy", None),
        ("PATCH", "/name", {"name": "stolen"}),
    ):
        response = await api.client.request(
            method, path + suffix, json=body, headers=api.bearer(bob)
        )
        assert_error(response, 403, "FORBIDDEN")
        missing = await api.client.request(
            method, f"/api/prompts/2000000000{suffix}", json=body, headers=api.bearer(bob)
        )
        assert_error(missing, 404, "PROMPT_NOT_FOUND")
    huge_id = await api.client.get("/api/prompts/99999999999999", headers=api.bearer(bob))
    assert_error(huge_id, 404, "PROMPT_NOT_FOUND")
    assert (await api.client.get(path, headers=api.bearer(alice))).json()["name"] == "Momentum"


async def test_validation(api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    for body in (
        {"name": "x"},  # no content
        {"content": "x"},  # no name
        {"name": "x", "content": "   "},
        {"name": "two\nlines", "content": "x"},
        {"name": "x", "content": "a", "template_text": "b"},
        {"name": "x" * 121, "content": "x"},
    ):
        response = await api.client.post("/api/prompts/", json=body, headers=headers)
        assert_error(response, 400, "VALIDATION_ERROR")
    nul = await api.client.post(
        "/api/prompts/", json={"name": "x", "content": "a\x00b"}, headers=headers
    )
    assert_error(nul, 400, "INVALID_JSON")  # refused by the body guard, before the route


async def test_content_is_capped_at_64_kib_in_utf8_bytes(api: Api) -> None:
    _, token = await api.user()
    headers = api.bearer(token)
    at_cap = "x" * MAX_CONTENT_BYTES
    assert (await _create(api, token, content=at_cap))["content"] == at_cap
    over = await api.client.post(
        "/api/prompts/", json={"name": "big", "content": at_cap + "x"}, headers=headers
    )
    assert_error(over, 400, "VALIDATION_ERROR")
    # 2-byte characters: under the cap in characters, over it in bytes.
    wide = "é" * (MAX_CONTENT_BYTES // 2 + 1)
    response = await api.client.post(
        "/api/prompts/", json={"name": "wide", "content": wide}, headers=headers
    )
    assert_error(response, 400, "VALIDATION_ERROR")


async def test_list_paging_and_auth(api: Api) -> None:
    _, token = await api.user()
    for n in range(3):
        await _create(api, token, name=f"p{n}")
    page = await api.client.get("/api/prompts/?limit=2&offset=2", headers=api.bearer(token))
    assert [p["name"] for p in page.json()] == ["p0", "p1"]
    second = await api.client.get("/api/prompts/?page=3&per_page=2", headers=api.bearer(token))
    assert [p["name"] for p in second.json()] == ["p2"]
    assert_error(await api.client.get("/api/prompts/"), 401, "AUTH_REQUIRED")


async def test_injection_text_is_stored_verbatim(api: Api) -> None:
    _, token = await api.user()
    text = "x'); DROP TABLE prompt_templates;-- {market_prices.__class__} {{7*7}}"
    created = await _create(api, token, name="x'); DROP TABLE users;--", content=text)
    fetched = await api.client.get(f"/api/prompts/{created['id']}", headers=api.bearer(token))
    assert fetched.json()["content"] == text
    assert fetched.json()["name"] == "x'); DROP TABLE users;--"
