"""Program sources shared by the program tests."""

from __future__ import annotations

RSI_PROGRAM = """
import math

class Strategy:
    def init(self, params):
        self.oversold = params.get("oversold", 30)
        self.symbol = params.get("symbol", "BTC")

    def should_trade(self, data):
        rsi = data.get_indicator(self.symbol, "rsi", 14)
        price = data.get_price(self.symbol)
        candles = data.get_klines(self.symbol, "1h", 50)
        data.log("rsi", rsi, "price", price, "candles", len(candles))
        if rsi is not None and rsi < self.oversold:
            return Decision("long", self.symbol, leverage=2, size_pct=10,
                            stop_loss_pct=2, take_profit_pct=4,
                            reasoning=f"RSI {rsi:.1f} below {self.oversold}")
        return Decision("hold", self.symbol, reasoning=f"RSI {rsi}")
"""


def strategy(body: str, imports: str = "") -> str:
    """A program whose should_trade runs ``body`` (indented by this helper)."""
    lines = "\n".join("        " + line for line in body.strip().splitlines())
    return f"{imports}\nclass Strategy:\n    def should_trade(self, data):\n{lines}\n"
