"""Field types shared by API schemas: UTC times with ``Z`` and exact decimals as JSON numbers."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated

from fastapi import Path
from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema

from hyperoru.timeutils import isoformat_z

# The serializer's return type alone would document a plain string: the schema says what
# the string is, so that clients (and generated ones) read a date-time.
UtcTime = Annotated[
    datetime,
    PlainSerializer(isoformat_z, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}, mode="serialization"),
]
# Decimals leave the server as JSON numbers: float's shortest repr is exact for the
# <=15 significant digits that prices, sizes and balances carry.
JsonDecimal = Annotated[Decimal, PlainSerializer(float, return_type=float, when_used="json")]

# Ids in paths are database integers: bounded so that no client value can overflow a
# column type (PostgreSQL INTEGER is 32-bit) and turn into a 500.
MAX_ID = 2**31 - 1
ResourceId = Annotated[int, Path(ge=1, le=MAX_ID)]


class RequestModel(BaseModel):
    """Base for request bodies: unknown fields are ignored (older and newer clients send
    fields we do not model), and NaN or infinity never get in."""

    model_config = ConfigDict(extra="ignore", allow_inf_nan=False, str_strip_whitespace=False)


class ResponseModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class StoredOut(ResponseModel):
    """Plain data the server stored as JSON (numbers as exact decimal text, times as text):
    the documented fields typed, so that they leave as JSON numbers and ``Z`` times
    (contract §1); any other field passed along as it is, and a missing one is null."""

    model_config = ConfigDict(from_attributes=True, extra="allow")
