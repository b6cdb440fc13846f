"""The SDK's published signing vectors (hyperliquid-python-sdk tests), run through our
wrappers: the wires we build and the signatures we make must be the venue's, byte for byte.

Every vector uses the published throw-away key below; ``nonce`` 0 and no vault unless named.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from eth_utils import to_hex
from hyperliquid.utils.signing import (
    action_hash,
    construct_phantom_agent,
    float_to_int_for_hashing,
)

from hyperoru.exchanges.hyperliquid.signing import (
    L1Signer,
    limit_order_wire,
    order_action,
    schedule_cancel_action,
    to_wire,
    trigger_order_wire,
)

KEY = "0x0123456789012345678901234567890123456789012345678901234567890123"
ADDRESS = "0x14791697260E4c9A71f18484C9f997B308e59325"
MAINNET = L1Signer(KEY, is_mainnet=True)
TESTNET = L1Signer(KEY, is_mainnet=False)


def _signature(r: str, s: str, v: int) -> dict[str, object]:
    return {"r": r, "s": s, "v": v}


def test_the_published_key_signs_as_the_published_address() -> None:
    assert MAINNET.address == ADDRESS
    assert "0123456789" not in repr(MAINNET)


def test_phantom_agent_of_a_production_order() -> None:
    # ETH (asset 4) IOC buy 0.0147 @ 1670.1 at nonce 1677777606040.
    action = order_action(
        [
            limit_order_wire(
                4,
                is_buy=True,
                price=Decimal("1670.1"),
                size=Decimal("0.0147"),
                reduce_only=False,
                tif="Ioc",
                cloid=None,
            )
        ]
    )
    agent = construct_phantom_agent(action_hash(action, None, 1677777606040, None), True)
    assert to_hex(agent["connectionId"]) == (
        "0x0fcbeda5ae3c4950a548021552a4fea2226858c4453571bf3f24ba017eac2908"
    )
    assert agent["source"] == "a"


def test_l1_action_on_both_networks() -> None:
    action = {"type": "dummy", "num": float_to_int_for_hashing(1000)}
    assert MAINNET.sign(action, 0) == _signature(
        "0x53749d5b30552aeb2fca34b530185976545bb22d0b3ce6f62e31be961a59298",
        "0x755c40ba9bf05223521753995abb2f73ab3229be8ec921f350cb447e384d8ed8",
        27,
    )
    assert TESTNET.sign(action, 0) == _signature(
        "0x542af61ef1f429707e3c76c5293c80d01f74ef853e34b76efffcb57e574f9510",
        "0x17b8b32f086e8cdede991f1e2c529f5dd5297cbe8128500e00cbaf766204a613",
        28,
    )


def _eth_gtc_buy(cloid: str | None) -> dict[str, object]:
    # ETH at asset 1, GTC buy 100 @ 100.
    return order_action(
        [
            limit_order_wire(
                1,
                is_buy=True,
                price=Decimal(100),
                size=Decimal(100),
                reduce_only=False,
                tif="Gtc",
                cloid=cloid,
            )
        ]
    )


def test_order() -> None:
    action = _eth_gtc_buy(None)
    assert MAINNET.sign(action, 0) == _signature(
        "0xd65369825a9df5d80099e513cce430311d7d26ddf477f5b3a33d2806b100d78e",
        "0x2b54116ff64054968aa237c20ca9ff68000f977c93289157748a3162b6ea940e",
        28,
    )
    assert TESTNET.sign(action, 0) == _signature(
        "0x82b2ba28e76b3d761093aaded1b1cdad4960b3af30212b343fb2e6cdfa4e3d54",
        "0x6b53878fc99d26047f4d7e8c90eb98955a109f44209163f52d8dc4278cbbd9f5",
        27,
    )


def test_order_with_cloid() -> None:
    action = _eth_gtc_buy("0x00000000000000000000000000000001")
    assert action["orders"][0]["c"] == "0x00000000000000000000000000000001"  # type: ignore[index]
    assert MAINNET.sign(action, 0) == _signature(
        "0x41ae18e8239a56cacbc5dad94d45d0b747e5da11ad564077fcac71277a946e3",
        "0x3c61f667e747404fe7eea8f90ab0e76cc12ce60270438b2058324681a00116da",
        27,
    )
    assert TESTNET.sign(action, 0) == _signature(
        "0xeba0664bed2676fc4e5a743bf89e5c7501aa6d870bdb9446e122c9466c5cd16d",
        "0x7f3e74825c9114bc59086f1eebea2928c190fdfbfde144827cb02b85bbe90988",
        28,
    )


def test_tpsl_order() -> None:
    # The same buy as a stop-loss trigger at 103 that fires a market order.
    action = order_action(
        [
            trigger_order_wire(
                1,
                is_buy=True,
                price=Decimal(100),
                size=Decimal(100),
                reduce_only=False,
                trigger_price=Decimal(103),
                is_market=True,
                tpsl="sl",
                cloid=None,
            )
        ]
    )
    assert MAINNET.sign(action, 0) == _signature(
        "0x98343f2b5ae8e26bb2587daad3863bc70d8792b09af1841b6fdd530a2065a3f9",
        "0x6b5bb6bb0633b710aa22b721dd9dee6d083646a5f8e581a20b545be6c1feb405",
        27,
    )
    assert TESTNET.sign(action, 0) == _signature(
        "0x971c554d917c44e0e1b6cc45d8f9404f32172a9d3b3566262347d0302896a2e4",
        "0x206257b104788f80450f8e786c329daa589aa0b32ba96948201ae556d5637eac",
        28,
    )


def test_schedule_cancel_with_and_without_a_time() -> None:
    assert MAINNET.sign(schedule_cancel_action(None), 0) == _signature(
        "0x6cdfb286702f5917e76cd9b3b8bf678fcc49aec194c02a73e6d4f16891195df9",
        "0x6557ac307fa05d25b8d61f21fb8a938e703b3d9bf575f6717ba21ec61261b2a0",
        27,
    )
    assert TESTNET.sign(schedule_cancel_action(123456789), 0) == _signature(
        "0x4e4f2dbd4107c69783e251b7e1057d9f2b9d11cee213441ccfa2be63516dc5bc",
        "0x706c656b23428c8ba356d68db207e11139ede1670481a9e01ae2dfcdb0e1a678",
        27,
    )


def test_float_to_int_for_hashing_scales_and_refuses_rounding() -> None:
    assert float_to_int_for_hashing(123123123123) == 12312312312300000000
    assert float_to_int_for_hashing(0.00001231) == 1231
    assert float_to_int_for_hashing(1.033) == 103300000
    with pytest.raises(ValueError):
        float_to_int_for_hashing(0.000012312312)


def test_numbers_go_on_the_wire_as_plain_strings_and_never_rounded() -> None:
    assert to_wire(Decimal("1670.10")) == "1670.1"
    assert to_wire(Decimal(100)) == "100"
    assert to_wire(Decimal("0.00000001")) == "0.00000001"
    with pytest.raises(ValueError):
        to_wire(Decimal("0.000000001"))


def test_the_request_body_carries_the_action_nonce_and_signature() -> None:
    body = TESTNET.request(schedule_cancel_action(None), 7)
    assert list(body) == ["action", "nonce", "signature", "vaultAddress", "expiresAfter"]
    assert body["nonce"] == 7
    assert body["signature"] == TESTNET.sign(schedule_cancel_action(None), 7)
