"""Parse the time formats clients send: ISO dates and datetimes, epoch seconds or ms."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hyperoru.errors import ApiError, validation_error

# Epoch values above this are milliseconds (it is 5138 AD in seconds).
_MILLIS_THRESHOLD = 10**11
# No market data predates this, and the sim's streams are indexed from the epoch on.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def parse_moment(value: str | None, field: str) -> datetime | None:
    """An aware UTC datetime; naive input is taken as UTC. 400 naming ``field`` if bad."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    try:
        if text.lstrip("-").isdigit():
            number = int(text)
            seconds = number / 1000 if abs(number) >= _MILLIS_THRESHOLD else number
            moment = datetime.fromtimestamp(seconds, UTC)
        elif len(text) == 10:
            day = date.fromisoformat(text)
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            moment = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError, OSError) as exc:
        raise _bad(field) from exc
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if not _EARLIEST <= moment < _LATEST:
        raise validation_error(f"{field}: must be between 2000 and 2200", field)
    return moment


def _bad(field: str) -> ApiError:
    return validation_error(
        f"{field}: expected an ISO 8601 date or datetime, or epoch seconds or milliseconds",
        field,
    )
