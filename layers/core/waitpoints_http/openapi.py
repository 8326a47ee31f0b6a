"""The OpenAPI document: the response shapes (as TypedDicts, so optional fields are absent, never null), the
error responses of each route, and the bearer security scheme. Powertools generates the document from the
routes; `document()` adds what lives outside the API function (the callback URL) and drops Powertools' own
422 validation shape, which this API never sends (validation errors are 400 `{"error": ...}`)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import ConfigDict, Field
from typing_extensions import Annotated, NotRequired, TypedDict

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

_CLOSED = ConfigDict(extra="forbid")  # additionalProperties: false
TokenIdText = Annotated[str, Field(pattern=r"^waitpoint_[a-z0-9]{25}$")]
IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
Status = Literal["WAITING", "COMPLETED", "TIMED_OUT"]


class Error(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    error: Annotated[str, Field(min_length=1, description="What was wrong, naming the field")]


class CreatedToken(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    id: TokenIdText
    url: Annotated[str, Field(description="The callback URL: POST to it to complete the token, no API key needed")]
    isCached: bool
    publicAccessToken: Annotated[str, Field(description="HS256 JWT for 24 h, scoped to completing this token")]


class Token(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    id: TokenIdText
    url: str
    status: Status
    createdAt: IsoDate
    tags: list[str]
    timeoutAt: IsoDate
    completedAt: NotRequired[IsoDate]
    idempotencyKey: NotRequired[str]
    idempotencyKeyExpiresAt: NotRequired[IsoDate]
    output: NotRequired[str]
    outputType: NotRequired[str]
    outputIsError: bool


class ListedToken(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    id: TokenIdText
    url: str
    status: Status
    tags: list[str]
    createdAt: IsoDate
    timeoutAt: IsoDate
    completedAt: NotRequired[IsoDate]
    idempotencyKey: NotRequired[str]
    idempotencyKeyExpiresAt: NotRequired[IsoDate]


class Pagination(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    next: NotRequired[Annotated[str, Field(description="Cursor for page[after]")]]
    previous: NotRequired[Annotated[str, Field(description="Cursor for page[before]")]]


class TokenPage(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    data: list[ListedToken]
    pagination: Pagination


class Success(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    success: Literal[True]


_ERRORS = {
    400: "Invalid request: a field, parameter or the JSON body is malformed or out of range",
    401: "Missing, unknown or invalid credentials",
    403: "The public access token is scoped to another token",
    404: "No such token in this environment (another environment's token is 404 too)",
    413: "The body is over the route's limit",
    415: "The callback body is not text",
    422: "More than 10 tags",
    503: "AWS throttled or failed past the retries; retry after Retry-After seconds",
}


LIST_PARAMETERS = {
    "page[size]": "1 to 100, default 25",
    "page[after]": "The cursor from pagination.next",
    "page[before]": "The cursor from pagination.previous; wins over page[after]",
    "filter[status]": "Comma list of WAITING, COMPLETED, TIMED_OUT",
    "filter[idempotencyKey]": "Tokens created with this idempotency key, live or expired",
    "filter[tags]": "Comma list of at most 10 tags: tokens with any of them",
    "filter[createdAt][period]": "A duration such as 1h or 7d: created within it",
    "filter[createdAt][from]": "Epoch milliseconds or ISO 8601, inclusive",
    "filter[createdAt][to]": "Epoch milliseconds or ISO 8601, inclusive",
}


def responses(success: type | None, *errors: int) -> dict[int, OpenAPIResponse]:
    """A route's responses: 200 with `success`'s shape, and each error status with the error shape."""
    out: dict[int, OpenAPIResponse] = {}
    if success is not None:
        out[200] = {"description": "Success", "content": {"application/json": {"model": success}}}
    for status in errors:
        out[status] = {"description": _ERRORS[status], "content": {"application/json": {"model": Error}}}
        if status == 503:
            out[status]["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
    return out


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(app.get_openapi_json_schema(
        title="waitpoints", version="1",
        description="Trigger.dev-compatible waitpoint tokens. Authenticate with `Authorization: Bearer <secret key>`.",
        security_schemes={"secretKey": HTTPBearer(description="A secret key wp_<env>_…, or on complete a token's publicAccessToken")},
        security=[{"secretKey": []}],
    ))
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)
    for operations in doc["paths"].values():
        for operation in operations.values():
            if "HTTPValidationError" in json.dumps(operation["responses"].get("422", {})):
                del operation["responses"]["422"]  # Powertools' own; validation errors here are 400
    # The list route reads its query string itself (a repeated parameter keeps its last value, which
    # Powertools' parameter validation would refuse), so its parameters are described here.
    doc["paths"]["/api/v1/waitpoints/tokens"]["get"]["parameters"] = [
        {"name": name, "in": "query", "required": False, "description": text, "schema": {"type": "string"}}
        for name, text in LIST_PARAMETERS.items()]
    error_ref = {"$ref": "#/components/schemas/Error"}
    doc["paths"]["/api/v1/waitpoints/tokens/{id}/callback/{hash}"] = {"post": {
        "summary": "Complete a waitpoint token through its callback URL (no API key: the hash is the credential)",
        "operationId": "callback", "security": [],
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
            {"name": "hash", "in": "path", "required": True, "schema": {"type": "string"}},
        ],
        "requestBody": {"required": False, "content": {
            "application/json": {"schema": {}}, "text/plain": {"schema": {"type": "string"}}}},
        "responses": {
            "200": {"description": "Completed (or already final: the first completion stays)",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Success"}}}},
            **{str(s): {"description": _ERRORS[s], "content": {"application/json": {"schema": error_ref}}}
               for s in (401, 404, 413, 415, 503)},
            "405": {"description": "Only POST", "content": {"application/json": {"schema": error_ref}}},
        },
    }}
    return doc
