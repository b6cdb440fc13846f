"""What the client puts on the wire, seen by a loopback fake: path and query arguments,
JSON bodies with exact numbers and Z times, uploads with their media type, the token."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hyperoru.client import Client, HyperoruError
from tests.client.fake_server import Answer, fake_server, scripted

CREATED: Answer = (201, {}, {"id": 1})


def test_arguments_fill_the_path_the_body_and_the_query() -> None:
    with scripted([CREATED, (200, {}, [])]) as (api, fake, _):
        api.create_order(
            account_id=3, symbol="BTC", side="buy", quantity=Decimal("0.015"),
            price=Decimal("70000"), expires=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        )  # fmt: skip
        api.list_orders(3, limit=10, include_closed=True)
    sent, listed = fake.requests
    assert json.loads(sent.body) == {
        "account_id": 3, "symbol": "BTC", "side": "buy", "quantity": 0.015,
        "price": 70000, "expires": "2026-01-02T03:04:05Z",
    }  # fmt: skip
    assert sent.headers["content-type"] == "application/json"
    assert listed.path == "/api/orders/account/3?limit=10&include_closed=true"


def test_an_upload_sends_the_file_with_its_media_type_and_the_query() -> None:
    csv = b"timestamp,open,high,low,close\n2026-01-01T00:00:00Z,1,2,0.5,1.5\n"
    with fake_server([(201, {}, {"imported": 1})]) as (url, fake), Client(url, "hyo_x") as api:
        answer = api.import_klines(
            symbol="MYCOIN", interval="1h", content=csv, content_type="text/csv"
        )
    (upload,) = fake.requests
    assert upload.path == "/api/klines/import?symbol=MYCOIN&interval=1h"
    assert upload.body == csv and upload.headers["content-type"] == "text/csv"
    assert upload.headers["authorization"] == "Bearer hyo_x"
    assert answer == {"imported": 1}


def test_positional_arguments_follow_the_table_and_misuse_is_a_type_error() -> None:
    with scripted([(200, {}, {"valid": True, "errors": []})]) as (api, fake, _):
        api.validate_program("class Strategy: pass")
        with pytest.raises(TypeError):
            api.get_trader()
        with pytest.raises(TypeError):
            api.get_trader(1, 2)
        with pytest.raises(AttributeError):
            api.no_such_operation()
    assert json.loads(fake.requests[0].body) == {"code": "class Strategy: pass"}


def test_a_non_json_error_still_raises_with_the_status() -> None:
    with (
        scripted([(502, {"Content-Type": "text/html"}, None)]) as (api, _, __),
        pytest.raises(HyperoruError) as raised,
    ):
        api.create_trader("x")
    assert (raised.value.status, raised.value.code) == (502, "HTTP_ERROR")


def test_pages_stops_when_a_route_ignores_limit() -> None:
    everything = [{"id": i} for i in range(5)]
    with scripted([(200, {}, everything), (200, {}, everything)]) as (api, fake, _waits):
        items = [item.id for item in api.pages("list_traders", page_size=2)]
    assert items == [0, 1, 2, 3, 4]
    assert len(fake.seen) == 1


def test_pages_walks_until_a_short_page() -> None:
    pages = [(200, {}, [{"id": 1}, {"id": 2}]), (200, {}, [{"id": 3}])]
    with scripted(pages) as (api, fake, _waits):
        items = [item.id for item in api.pages("list_traders", page_size=2)]
    assert items == [1, 2, 3]
    assert [s.split("?")[1] for s in fake.seen] == ["limit=2&offset=0", "limit=2&offset=2"]
