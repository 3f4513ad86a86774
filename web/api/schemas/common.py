"""What every API answer shares: the error envelope, pages of results, and the text types of
request bodies, whose constraints are in the OpenAPI document (so clients and fuzzers see them)."""

from typing import Annotated, Any, Union

from ninja import Schema
from pydantic import BeforeValidator, ConfigDict, Field, create_model
from typing_extensions import TypeAliasType

# PostgreSQL refuses NUL in text and jsonb: a body carrying one is a 400, and the document says so.
NO_NUL = r"^[^\x00]*$"
# What Python's str.strip() removes, spelled out: `\s` means less in the regex engines of pydantic
# and of JSON Schema readers, and the services strip required text before judging it blank.
SPACE = r"\t\n\x0b\x0c\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
# Required text: something besides spaces, and no NUL.
SOME_TEXT = rf"^[^\x00]*[^{SPACE}\x00][^\x00]*$"
# An http(s) URL or nothing, once stripped (releases.app_services.app_update).
HTTP_URL = rf"^[{SPACE}]*$|^[{SPACE}]*[hH][tT][tT][pP][sS]?://[^{SPACE}/\x00][^\x00]*$"

Text = Annotated[str, Field(pattern=NO_NUL)]
# Text the service requires not blank (answering with its own code); the document says so.
SomeText = Annotated[str, Field(pattern=NO_NUL, json_schema_extra={"pattern": SOME_TEXT})]


def no_nul_keys(schema: dict) -> None:
    """A JSON object whose keys carry no NUL: `propertyNames`, which forbids the other keys, where
    pydantic writes `patternProperties`, which only describes the matching ones."""
    values = schema.pop("patternProperties", {}).get(NO_NUL)
    if values is not None:
        schema["propertyNames"] = {"pattern": NO_NUL}
        schema["additionalProperties"] = values


# Any JSON value whose strings (keys included) carry no NUL: free-form settings and report fields.
JsonValue = TypeAliasType(
    "JsonValue",
    Union[  # noqa: UP007
        Text,
        int,
        float,
        bool,
        None,
        list["JsonValue"],
        Annotated[dict[Text, "JsonValue"], Field(json_schema_extra=no_nul_keys)],
    ],
)
JsonObject = Annotated[dict[Text, JsonValue], Field(json_schema_extra=no_nul_keys)]


def text(max_length: int, *, default: str | None = "", **kwargs) -> Any:
    """Optional text of at most `max_length` characters (checked here: a generic 400)."""
    return Field(default, max_length=max_length, pattern=NO_NUL, **kwargs)


def checked_text(max_length: int | None = None, *, pattern: str = SOME_TEXT, required: bool = True, **kwargs):
    """Text whose rules the service checks, answering with its own error code (`reason_required`,
    `invalid_version`...): the document states them, this schema only refuses NUL (and, when
    `max_length` is given, length: some services measure after stripping)."""
    doc = {"pattern": pattern, **({"minLength": 1, "x-required": True} if required else {})}
    extra = kwargs.pop("json_schema_extra", {})
    return Field("", max_length=max_length, pattern=NO_NUL, json_schema_extra={**doc, **extra}, **kwargs)


def _document_required(schema: dict, model) -> None:
    """Fields marked `x-required` are required in the document, though their absence is the
    service's to refuse (with its own code)."""
    for name, prop in schema.get("properties", {}).items():
        if prop.pop("x-required", False):
            schema.setdefault("required", []).append(name)
            prop.pop("default", None)


class Strict(Schema):
    """A request body: unknown fields are a 400, not silently dropped."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=_document_required)


class ErrorBody(Schema):
    code: str
    message: str
    details: dict[str, Any] | None = None


class ErrorOut(Schema):
    error: ErrorBody


# 429: an address locked out after guessing tokens (web/throttle.py), on any operation.
ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 409: ErrorOut, 429: ErrorOut}


def page_of(schema: type[Schema], name: str) -> type[Schema]:
    """`{"results": [...], "next": path or null}` under its own name in the OpenAPI document."""
    return create_model(
        name,
        __base__=Schema,
        __doc__=f"One page of {schema.__name__}; `next` is the path of the following page, null on the last.",
        results=(list[schema], ...),
        next=(str | None, None),
    )


def not_a_boolean(value):
    """JSON's true is no id, though Python counts it as the integer 1; 12.0 still is 12, as JSON
    Schema's "integer" says (so pydantic's StrictInt, which refuses 12.0, would be wrong)."""
    if isinstance(value, bool):
        raise ValueError("An id is an integer, not a boolean.")
    return value


# An object's id in a request body (apps of a campaign, a release group, a tag change).
Id = Annotated[int, BeforeValidator(not_a_boolean)]
