"""Template rendering: both syntaxes, laziness, and injection attempts left inert."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from hyperoru.strategies.template import render


def _catalogue(calls: list[str]) -> dict[str, Callable[[], Awaitable[str]]]:
    def resolver(name: str, value: str) -> Callable[[], Awaitable[str]]:
        async def resolve() -> str:
            calls.append(name)
            return value

        return resolve

    return {
        "symbols": resolver("symbols", "BTC, ETH"),
        "max_leverage": resolver("max_leverage", "5"),
        "market_prices": resolver("market_prices", "BTC 100000"),
    }


async def test_both_syntaxes_and_only_used_variables_are_computed() -> None:
    calls: list[str] = []
    result = await render("Trade {symbols} up to {{max_leverage}}x. {symbols}!", _catalogue(calls))
    assert result.rendered == "Trade BTC, ETH up to 5x. BTC, ETH!"
    assert result.variables_used == ("symbols", "max_leverage")
    assert result.unknown_variables == ()
    assert calls == ["symbols", "max_leverage"]  # market_prices never computed, symbols once


async def test_unknown_and_hostile_placeholders_stay_as_written() -> None:
    template = (
        "{market_prices.__class__} {{7*7}} {nonexistent} {__import__('os')} "
        '{market_prices.__init__.__globals__} answer as {"operation": "hold"}'
    )
    calls: list[str] = []
    result = await render(template, _catalogue(calls))
    assert result.rendered == template
    assert result.unknown_variables == (
        "market_prices.__class__",
        "7*7",
        "nonexistent",
        "market_prices.__init__.__globals__",
    )
    assert calls == []


async def test_values_are_not_rendered_again() -> None:
    async def sneaky() -> str:
        return "{max_leverage}"

    async def leverage() -> str:
        return "50"

    result = await render("{symbols}", {"symbols": sneaky, "max_leverage": leverage})
    assert result.rendered == "{max_leverage}"
