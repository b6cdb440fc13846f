"""HMAC-SHA256 over the exact bytes sent: Binance's published vectors and RFC 4231."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from hyperoru.exchanges.binance.signing import ServerClock, hmac_sha256_hex, sign

# Binance USDⓈ-M "General Info", the SIGNED POST /fapi/v1/order examples.
FAPI_SECRET = "2b5eb11e18796d12d88f13dc27dbbd02c2cc51ff7059765ed9821957d82bb4d9"
FAPI_PAYLOAD = (
    "symbol=BTCUSDT&side=BUY&type=LIMIT&quantity=1&price=9000&timeInForce=GTC"
    "&recvWindow=5000&timestamp=1591702613943"
)
FAPI_SIGNATURE = "3c661234138461fcc7a7d8746c6558c9842d4e10870d2ecbedf7777cad694af9"
ORDER = [
    ("symbol", "BTCUSDT"),
    ("side", "BUY"),
    ("type", "LIMIT"),
    ("quantity", "1"),
    ("price", "9000"),
    ("timeInForce", "GTC"),
]


def test_usdm_vector() -> None:
    assert hmac_sha256_hex(FAPI_SECRET, FAPI_PAYLOAD) == FAPI_SIGNATURE


def test_spot_vector() -> None:
    secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
    payload = (
        "symbol=LTCBTC&side=BUY&type=LIMIT&timeInForce=GTC&quantity=1&price=0.1"
        "&recvWindow=5000&timestamp=1499827319559"
    )
    assert (
        hmac_sha256_hex(secret, payload)
        == "c8db56825ae71d6d79447849e617115f4a920fa2acdcab2b053c4b2838bd6b71"
    )


def test_all_in_query_matches_example_1() -> None:
    signed = sign(FAPI_SECRET, query=ORDER, timestamp_ms=1591702613943)
    assert signed.body == ""
    assert signed.query == f"{FAPI_PAYLOAD}&signature={FAPI_SIGNATURE}"


def test_all_in_body_matches_example_2() -> None:
    signed = sign(FAPI_SECRET, body=ORDER, timestamp_ms=1591702613943)
    assert signed.query == ""
    assert signed.body == f"{FAPI_PAYLOAD}&signature={FAPI_SIGNATURE}"


def test_mixed_query_and_body_join_with_nothing_between() -> None:
    # Example 3's published digest was computed over a string with a stray space; the
    # join itself is checked against the value computed here over query + body.
    signed = sign(
        FAPI_SECRET, query=ORDER[:3] + ORDER[5:], body=ORDER[3:5], timestamp_ms=1591702613943
    )
    assert signed.query == "symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC"
    body, _, signature = signed.body.rpartition("&signature=")
    assert body == "quantity=1&price=9000&recvWindow=5000&timestamp=1591702613943"
    joined = (signed.query + body).encode()
    assert signature == hmac.new(FAPI_SECRET.encode(), joined, hashlib.sha256).hexdigest()
    assert signature.startswith("30baaf0f") and signature.endswith("70a4")
    # With an "&" at the join the digest would differ: the venue would answer -1022.
    assert signature != hmac_sha256_hex(FAPI_SECRET, f"{signed.query}&{body}")


def test_values_are_percent_encoded_before_signing() -> None:
    signed = sign("s", query=[("newClientOrderId", "a:b/c d")], timestamp_ms=1)
    assert signed.query.startswith("newClientOrderId=a%3Ab%2Fc%20d&recvWindow=5000&timestamp=1&")


# RFC 4231, HMAC-SHA256 test cases 1-4, 6, 7 (and 5, truncated to 128 bits).
RFC4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 20,
        b"\xdd" * 50,
        "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
    ),
    (
        bytes(range(1, 26)),
        b"\xcd" * 50,
        "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
    (
        b"\xaa" * 131,
        b"This is a test using a larger than block-size key and a larger than block-size data."
        b" The key needs to be hashed before being used by the HMAC algorithm.",
        "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
    ),
]


@pytest.mark.parametrize(("key", "data", "digest"), RFC4231)
def test_rfc4231(key: bytes, data: bytes, digest: str) -> None:
    assert hmac_sha256_hex(key, data) == digest


def test_rfc4231_truncated_case_5() -> None:
    assert (
        hmac_sha256_hex(b"\x0c" * 20, b"Test With Truncation")[:32]
        == "a3b6167473100ee06e0c796c2955552b"
    )


def test_server_clock_adopts_the_midpoint_offset() -> None:
    clock = ServerClock(lambda: 1_200)
    assert not clock.synced
    clock.adopt(5_100, sent_ms=1_000, received_ms=1_200)
    assert clock.offset_ms == 4_000
    assert clock.now_ms() == 5_200
