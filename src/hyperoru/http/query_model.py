"""Query parameters a polled read route reads itself, instead of declaring each one.

FastAPI validates every declared query parameter on every request, sent or not (tens of
microseconds each: the trader list's five cost more than the rest of its answer). A poll
usually sends none, so ``parse_query`` answers with the defaults when the query string
is empty and validates what was sent with a pydantic model otherwise. A bad value raises
FastAPI's own ``RequestValidationError`` with FastAPI's ``("query", name)`` locations, so
the answer is the contract's 400 VALIDATION_ERROR as for a declared parameter.
``documented`` puts the model's fields into the route's OpenAPI parameters.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.requests import Request

M = TypeVar("M", bound=BaseModel)


def parse_query(request: Request, model: type[M], defaults: M) -> M:
    """``defaults`` (one shared instance: never change it) for a request without a query
    string; else the query validated by ``model`` (unknown names ignored, the last of
    repeated ones wins, as FastAPI reads a scalar parameter)."""
    if not request.scope.get("query_string"):
        return defaults
    try:
        return model.model_validate(dict(request.query_params))
    except ValidationError as exc:
        problems = [
            {**problem, "loc": ("query", *problem["loc"])}
            for problem in exc.errors(include_url=False)
        ]
        raise RequestValidationError(problems) from None


def documented(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring the model's fields as optional query parameters."""
    schema = model.model_json_schema()
    parameters = []
    for name, field_schema in schema["properties"].items():
        field_schema = dict(field_schema)
        description = field_schema.pop("description", None)
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": name in schema.get("required", ()),
            "schema": field_schema,
        }
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return {"parameters": parameters}
