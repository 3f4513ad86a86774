"""What every API answer shares: the error envelope and the strict base for request bodies."""

from typing import Any

from ninja import Schema
from pydantic import ConfigDict


class Strict(Schema):
    """A request body: unknown fields are a 400, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(Schema):
    error: ErrorBody


ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut}


def list_of(schema):
    class ListOut(Schema):
        results: list[schema]

    ListOut.__name__ = f"{schema.__name__}List"
    return ListOut
