"""`hyperoru traders kill ID|--user U [--flatten]`: the kill switch from the operator's
shell, through the same services as the route."""

from __future__ import annotations

import json

from fastapi import FastAPI

from hyperoru.accounts.models import Account
from hyperoru.settings import Settings
from tests.cli.run import run_cli_for
from tests.helpers import Api
from tests.trading.helpers import new_trader


async def test_kill_from_the_command_line(app: FastAPI, api: Api, settings: Settings) -> None:
    trader = await new_trader(api)
    rest = await trader.trade(
        symbol="ETH", side="buy", order_type="limit", price="2000", quantity="1"
    )
    assert rest["execution_status"] == "open"
    done = await run_cli_for(settings, "traders", "kill", str(trader.id))
    assert done.returncode == 0, done.stderr
    (report,) = json.loads(done.stdout)
    assert (report["account_id"], report["stopped"], report["orders_cancelled"]) == (
        trader.id, True, 1
    )  # fmt: skip
    async with app.state.services.sessionmaker() as session:
        account = await session.get(Account, trader.id)
        assert account is not None and account.auto_trading_enabled is False
    by_user = await run_cli_for(settings, "traders", "kill", "--user", trader.user["username"])
    assert by_user.returncode == 0, by_user.stderr
    assert [r["orders_cancelled"] for r in json.loads(by_user.stdout)] == [0]
    neither = await run_cli_for(settings, "traders", "kill")
    assert neither.returncode == 1 and "name one trader ID or --user" in neither.stderr
    ghost = await run_cli_for(settings, "traders", "kill", "--user", "nobody-here")
    assert ghost.returncode == 1 and "no such user" in ghost.stderr
