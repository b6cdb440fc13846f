"""Provider failures as the contract's API errors (§2, §7)."""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager

from hyperoru.errors import ApiError
from hyperoru.market.candle_files import CandleFileError, ParquetUnavailable
from hyperoru.market.providers.base import (
    MarketDataUnavailable,
    ProviderError,
    UnknownSymbol,
)


def symbol_not_found(symbol: str) -> ApiError:
    return ApiError(
        404, "SYMBOL_NOT_FOUND", f"Unknown symbol: {symbol}", details={"symbol": symbol}
    )


def as_api_error(exc: ProviderError) -> ApiError:
    if isinstance(exc, UnknownSymbol):
        return symbol_not_found(exc.symbol)
    if isinstance(exc, MarketDataUnavailable):
        headers = {}
        if exc.retry_after is not None:
            headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))
        return ApiError(
            503, "MARKET_DATA_UNAVAILABLE", "Market data is unavailable right now", headers=headers
        )
    return ApiError(502, "UPSTREAM_ERROR", "The market data source sent an unusable answer")


@contextmanager
def provider_errors() -> Iterator[None]:
    """Turn any provider failure inside the block into its API error."""
    try:
        yield
    except ProviderError as exc:
        raise as_api_error(exc) from exc


def candle_file_error(exc: CandleFileError) -> ApiError:
    details = {exc.where[0]: exc.where[1]} if exc.where else {}
    return ApiError(400, "CANDLE_FILE_INVALID", str(exc), details=details)


def parquet_unavailable() -> ApiError:
    return ApiError(501, "PARQUET_UNAVAILABLE", ParquetUnavailable.MESSAGE)


@contextmanager
def candle_file_errors() -> Iterator[None]:
    """A candle file's faults inside the block as their API errors."""
    try:
        yield
    except CandleFileError as exc:
        raise candle_file_error(exc) from exc
    except ParquetUnavailable as exc:
        raise parquet_unavailable() from exc
