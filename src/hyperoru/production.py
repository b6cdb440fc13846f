"""What ``HYPERORU_ENV=production`` requires before ``hyperoru serve`` or ``worker`` starts.

Each rule names a setting whose development default is wrong for a server other people
rely on; the server refuses to start and lists every problem at once, so an operator
fixes the configuration in one pass instead of one restart per mistake.
"""

from __future__ import annotations

from hyperoru.settings import Settings


def production_problems(settings: Settings) -> list[str]:
    if settings.env != "production":
        return []
    problems: list[str] = []
    if settings.secret_key is None:
        problems.append(
            "HYPERORU_SECRET_KEY is unset: it seals every stored secret; set a random string "
            "of at least 32 characters and back it up apart from the database"
        )
    if not settings.data_dir.is_absolute():
        problems.append(
            f"HYPERORU_DATA_DIR is the relative path {settings.data_dir}: it would depend on "
            "the folder the service manager starts in; set an absolute path"
        )
    if settings.market_data == "sim":
        problems.append(
            "HYPERORU_MARKET_DATA is sim (simulated prices): set hyperliquid or binance so "
            "that traders decide and paper orders fill on real prices"
        )
    return problems
