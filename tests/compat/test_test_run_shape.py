"""`POST /api/programs/test-run` answers the contract's ``{status, result, logs,
execution_time_ms}`` and the reference's result ``{action, quantity, reason}`` (api map
§4.8), plus ``error`` and the parsed ``decisions``: checked field by field."""

from __future__ import annotations

from typing import Any

from tests.helpers import Api
from tests.programs.programs import strategy

ANSWER_FIELDS = {"status", "result", "logs", "execution_time_ms", "error"}
RESULT_FIELDS = {"action", "quantity", "reason", "decisions"}


async def _run(api: Api, code: str, **fields: Any) -> dict[str, Any]:
    _, token = await api.user()
    created = await api.client.post(
        "/api/programs", json={"name": "Grid Bot", "code": code}, headers=api.bearer(token)
    )
    assert created.status_code == 201, created.text
    response = await api.client.post(
        "/api/programs/test-run",
        json={"program_id": created.json()["id"], **fields},
        headers=api.bearer(token),
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == ANSWER_FIELDS, answer
    return answer


async def test_a_long_decision_in_the_documented_shape(api: Api) -> None:
    code = strategy(
        "data.log('grid level', 3)\n"
        "return Decision('long', 'ETH', leverage=2, size_pct=10, reasoning='Grid level hit')"
    )
    answer = await _run(api, code, symbol="ETH")
    assert answer["status"] == "ok" and answer["error"] is None
    assert answer["logs"] == ["grid level 3"]
    assert isinstance(answer["execution_time_ms"], int) and answer["execution_time_ms"] >= 0
    result = answer["result"]
    assert set(result) == RESULT_FIELDS
    assert result["action"] == "buy"
    assert result["quantity"] is None
    assert result["reason"] == "Grid level hit"
    [decision] = result["decisions"]
    assert decision["operation"] == "long" and decision["symbol"] == "ETH"
    assert decision["reasoning"] == "Grid level hit"


async def test_the_summary_names_the_first_decision_that_acts(api: Api) -> None:
    code = strategy(
        "return [Decision('hold', 'BTC', reasoning='wait'),"
        " Decision('short', 'BTC', leverage=1, size_pct=5, reasoning='top')]"
    )
    result = (await _run(api, code))["result"]
    assert (result["action"], result["reason"]) == ("sell", "top")
    assert [d["operation"] for d in result["decisions"]] == ["hold", "short"]

    held = (await _run(api, strategy("return Decision('hold', 'BTC', reasoning='flat')")))["result"]
    assert (held["action"], held["quantity"], held["reason"]) == ("hold", None, "flat")


async def test_a_failed_run_keeps_the_shape(api: Api) -> None:
    answer = await _run(api, strategy("return 1 / 0"))
    assert answer["status"] == "error" and answer["result"] is None
    assert "ZeroDivisionError" in answer["error"]
    assert isinstance(answer["logs"], list) and isinstance(answer["execution_time_ms"], int)
