"""JSON answers encoded by the route itself.

For a route that returns models, FastAPI dumps them, validates the dump against the
response model and encodes the result: three passes over every field. The read routes
dashboards poll build their objects from checked, in-memory values and encode them once
(the declared ``response_model`` still documents the shape)."""

from __future__ import annotations

from pydantic import BaseModel
from starlette.responses import Response


def json_response(body: bytes | BaseModel) -> Response:
    encoded = body.model_dump_json().encode() if isinstance(body, BaseModel) else body
    return Response(encoded, media_type="application/json")
