"""The trade list's canonical form, byte for byte as replay/fingerprint.py documents it:
sorted keys, no spaces, ASCII only. A fingerprint recorded today must match tomorrow."""

from __future__ import annotations

import hashlib

from hyperoru.replay.fingerprint import canonical, fingerprint


def test_the_canonical_form_is_sorted_compact_and_ascii() -> None:
    trades = [{"symbol": "BTC", "pnl": "1.5", "note": "é"}]
    expected = b'[{"note":"\\u00e9","pnl":"1.5","symbol":"BTC"}]'
    assert canonical(trades) == expected
    assert fingerprint(trades) == hashlib.sha256(expected).hexdigest()
