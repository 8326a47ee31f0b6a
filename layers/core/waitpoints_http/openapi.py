"""The OpenAPI document (`GET /api/v1/openapi.json`), built on request: this module loads pydantic and Powertools'
OpenAPI models, which the API function keeps off its cold start.

Powertools generates the skeleton from the routes (paths, summaries, path parameters, security). `document()` adds
each operation's request body (the pydantic request models), its responses (the shapes below, as TypedDicts, so
optional fields are absent, never null, and `{"error": ...}` for every error status), the list route's query
parameters, and the callback URL, which lives in another function.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal, NotRequired

from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import ConfigDict, Field, TypeAdapter
from typing_extensions import TypedDict
from waitpoints_core.config import MAX_LISTED_WAITERS
from waitpoints_core.models import MAX_TAGS
from waitpoints_core.request_models import (
    CompleteTokenRequest,
    CreateTokenRequest,
    ExtendTokenRequest,
    ForceTimeoutRequest,
    RejectTokenRequest,
)

from .routes import APPROVAL, CALLBACK, COMPLETE, EXTEND, FORCE_TIMEOUT, REJECT, TOKEN, TOKENS

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayHttpResolver

_CLOSED = ConfigDict(extra="forbid")  # additionalProperties: false
TokenIdText = Annotated[str, Field(pattern=r"^waitpoint_[a-z0-9]{25}$")]
IsoDate = Annotated[str, Field(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")]
Status = Literal["WAITING", "COMPLETED", "TIMED_OUT"]


class Error(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    error: Annotated[str, Field(min_length=1, description="What was wrong, naming the field")]


class SchemaFailureBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    path: Annotated[str, Field(description="JSONPath of the failing value: $, $.amount, $.items[2]")]
    pointer: NotRequired[Annotated[str, Field(description="The same place as a JSON Pointer (RFC 6901)")]]
    rule: Annotated[str, Field(description="The JSON Schema keyword that failed: type, minimum, required, ...")]
    message: str


class SchemaMismatchBody(TypedDict):
    """422 when completion data does not match the token's schema: the token keeps waiting."""

    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    error: Annotated[str, Field(min_length=1)]
    path: str
    rule: str
    errors: Annotated[list[SchemaFailureBody], Field(min_length=1, max_length=20)]


class CreatedTokenBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    id: TokenIdText
    url: Annotated[str, Field(description="The callback URL: POST to it to complete the token, no API key needed")]
    isCached: bool
    publicAccessToken: Annotated[str, Field(description="HS256 JWT for 24 h, scoped to completing this token")]
    approvalUrl: NotRequired[
        Annotated[str, Field(description="Extension, for a token created with `approval`: the page a person opens")]
    ]


class ApprovalBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    title: str
    description: NotRequired[str]
    approveLabel: NotRequired[str]
    rejectLabel: NotRequired[str]
    reasonRequired: NotRequired[bool]


Rejected = Annotated[
    Literal[True],
    Field(description="Extension: the token was rejected (its status reads COMPLETED, as Trigger.dev's SDK needs)"),
]


class AuditBody(TypedDict):
    """How the token ended: through which door, by what action, when; for HTTP doors the caller's source IP and
    user agent (clipped), and for a secret key its id (the first 16 hex digits of its hash, never the key)."""

    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    door: Literal["secret_key", "public_access_token", "callback_url", "approval_page", "console", "workflow", "sweep"]
    action: Literal["complete", "reject", "timeout", "force_timeout"]
    at: IsoDate
    keyId: NotRequired[Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]]
    sourceIp: NotRequired[Annotated[str, Field(max_length=45)]]
    userAgent: NotRequired[Annotated[str, Field(max_length=256)]]


class WaiterBody(TypedDict):
    """A workflow waiting on the token (retrieve with a secret key only). Never its handle: a task token or a
    callback id resumes the workflow, so it is a credential; `digest` names it without revealing it."""

    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    kind: Annotated[
        Literal["stepFunctions", "durable"],
        Field(description="A Step Functions task token, or a Lambda durable execution's callback id"),
    ]
    digest: Annotated[
        str, Field(pattern=r"^[0-9a-f]{12}$", description="The first 12 hex digits of the handle's SHA-256")
    ]
    attachedAt: NotRequired[Annotated[IsoDate, Field(description="When the workflow attached")]]
    resumedAt: NotRequired[
        Annotated[
            IsoDate,
            Field(description="When a durable waiter was resumed (a Step Functions waiter is removed instead)"),
        ]
    ]


class TokenBody(TypedDict):
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
    description: NotRequired[Annotated[str, Field(description="What the token waits for (create's description)")]]
    audit: NotRequired[AuditBody]
    rejected: NotRequired[Rejected]
    rejectReason: NotRequired[Annotated[str, Field(description="Extension: the reason given with a rejection")]]
    schema: NotRequired[Annotated[dict[str, Any], Field(description="Extension: the completion schema")]]
    approval: NotRequired[ApprovalBody]
    approvalUrl: NotRequired[str]
    deliveriesReceived: NotRequired[int]
    lastDeliveryAt: NotRequired[IsoDate]
    waiters: NotRequired[
        Annotated[
            list[WaiterBody],
            Field(
                max_length=MAX_LISTED_WAITERS,
                description="Extension, with a secret key: the workflows waiting on the token (resumed durable "
                f"ones too), oldest first, at most {MAX_LISTED_WAITERS}",
            ),
        ]
    ]
    waitersTruncated: NotRequired[
        Annotated[Literal[True], Field(description="Extension: the token has more waiters than `waiters` lists")]
    ]


class ListedTokenBody(TypedDict):
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
    rejected: NotRequired[Rejected]


class PaginationBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    next: NotRequired[Annotated[str, Field(description="Cursor for page[after]")]]
    previous: NotRequired[Annotated[str, Field(description="Cursor for page[before]")]]


class TokenPageBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    data: list[ListedTokenBody]
    pagination: PaginationBody


class SuccessBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    success: Literal[True]


class TimedOutBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    success: Literal[True]
    timedOut: Annotated[bool, Field(description="Whether this call timed it out (false: it was already final)")]


class ExtendedBody(TypedDict):
    __pydantic_config__ = _CLOSED  # type: ignore[misc]
    success: Literal[True]
    timeoutAt: Annotated[IsoDate, Field(description="The token's new deadline")]


SCHEMA_422 = 4220  # the 422 of a schema mismatch, with its own body (422 alone is "more than 10 tags")
_ERRORS = {
    400: "Invalid request: a field, parameter or the JSON body is malformed or out of range",
    401: "Missing, unknown or invalid credentials",
    403: "The public access token is scoped to another token (operator actions: any public access token)",
    404: "No such token in this environment (another environment's token is 404 too)",
    409: "The token no longer waits: it cannot be extended",
    413: "The body is over the route's limit",
    415: "The callback body is not text",
    422: "More than 10 tags",
    SCHEMA_422: "The data does not match the token's completion schema (the token keeps waiting)",
    503: "AWS throttled or failed past the retries; retry after Retry-After seconds",
}


_STATUS = "(WAITING|COMPLETED|TIMED_OUT|REJECTED)"
_DURATION = "([0-9]+(w|d|hr|h|m|s))+"
# Each list parameter with the grammar the API parses (an empty filter value counts as absent; an empty
# cursor is refused, so a cursor has at least one character).
LIST_PARAMETERS: dict[str, tuple[str, dict[str, Any]]] = {
    "page[size]": ("1 to 100, default 25", {"type": "string", "pattern": "^(0{0,2}[1-9]|0?[1-9][0-9]|100)$"}),
    "page[after]": ("The cursor from pagination.next", {"type": "string", "minLength": 1, "maxLength": 512}),
    "page[before]": (
        "The cursor from pagination.previous; wins over page[after]",
        {"type": "string", "minLength": 1, "maxLength": 512},
    ),
    "filter[status]": (
        "Comma list of WAITING, COMPLETED, TIMED_OUT, REJECTED (rejected tokens read as COMPLETED with rejected: "
        "true, and are listed under REJECTED, not COMPLETED)",
        {"type": "string", "pattern": f"^( *{_STATUS} *(, *{_STATUS} *)*)?$"},
    ),
    "filter[idempotencyKey]": (
        "Tokens created with this idempotency key, live or expired",
        {"type": "string", "maxLength": 2048},
    ),
    "filter[tags]": (
        "Comma list of at most 10 tags: tokens with any of them",
        {"type": "string", "pattern": "^([^,]{1,128}(,[^,]{1,128}){0,9})?$"},
    ),
    "filter[createdAt][period]": (
        "A duration such as 1h or 7d: created within it",
        {"type": "string", "pattern": f"^({_DURATION})?$", "maxLength": 100},
    ),
    "filter[createdAt][from]": ("Epoch milliseconds or ISO 8601, inclusive", {"type": "string"}),
    "filter[createdAt][to]": ("Epoch milliseconds or ISO 8601, inclusive", {"type": "string"}),
}


TOKEN_ID = {
    "name": "id",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "The token id, `waitpoint_…` (or its 25 characters alone)",
}


@dataclass(frozen=True)
class Operation:
    """What `document()` adds to an operation Powertools generated from a route."""

    success: type
    errors: tuple[int, ...]
    body: type | None = None
    body_required: bool = False


OPERATIONS = {
    (TOKENS, "post"): Operation(CreatedTokenBody, (400, 401, 413, 422, 503), body=CreateTokenRequest),
    (TOKENS, "get"): Operation(TokenPageBody, (400, 401, 413, 503)),
    (TOKEN, "get"): Operation(TokenBody, (401, 404, 413, 503)),
    (FORCE_TIMEOUT, "post"): Operation(TimedOutBody, (400, 401, 403, 404, 413, 503), body=ForceTimeoutRequest),
    (EXTEND, "post"): Operation(
        ExtendedBody, (400, 401, 403, 404, 409, 413, 503), body=ExtendTokenRequest, body_required=True
    ),
    (COMPLETE, "post"): Operation(SuccessBody, (400, 401, 403, 404, 413, SCHEMA_422, 503), body=CompleteTokenRequest),
    (REJECT, "post"): Operation(SuccessBody, (400, 401, 403, 404, 413, 503), body=RejectTokenRequest),
}
_HTML = {"text/html": {"schema": {"type": "string"}}}


def document(app: APIGatewayHttpResolver) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(
        app.get_openapi_json_schema(
            title="waitpoints",
            version="1",
            description=(
                "Trigger.dev-compatible waitpoint tokens. Authenticate with `Authorization: Bearer <secret key>`."
            ),
            security_schemes={
                "secretKey": HTTPBearer(
                    description="A secret key wp_<env>_…, or on complete a token's publicAccessToken"
                )
            },
            security=[{"secretKey": []}],
        )
    )
    schemas: dict[str, Any] = doc.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
        schemas.pop(name, None)  # Powertools adds its validation shapes to every document; this API never sends them
    for (path, method), spec in OPERATIONS.items():
        operation = doc["paths"][path][method]
        if "{id}" in path:
            operation["parameters"] = [dict(TOKEN_ID)]
        if spec.body is not None:
            operation["requestBody"] = {
                "required": spec.body_required,
                "content": {"application/json": {"schema": _component(schemas, spec.body, "validation")}},
            }
        operation["responses"] = {
            "200": {
                "description": "Success",
                "content": {"application/json": {"schema": _component(schemas, spec.success, "serialization")}},
            }
        }
        for status in spec.errors:
            operation["responses"][str(status)[:3]] = _error_response(schemas, status)
    # The list route reads its query string itself (a repeated parameter keeps its last value).
    doc["paths"][TOKENS]["get"]["parameters"] = [
        {"name": name, "in": "query", "required": False, "description": text, "schema": dict(schema)}
        for name, (text, schema) in LIST_PARAMETERS.items()
    ]
    _tags_at_most(schemas["CreateTokenRequest"])
    _add_links(doc)
    doc["paths"][CALLBACK] = {
        "post": {
            "summary": "Complete a waitpoint token through its callback URL (no API key: the hash is the credential)",
            "operationId": "callback",
            "security": [],
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
                {"name": "hash", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": False,
                "content": {"application/json": {"schema": {}}, "text/plain": {"schema": {"type": "string"}}},
            },
            "responses": {
                "200": {
                    "description": "Completed (or already final: the first completion stays)",
                    "content": {"application/json": {"schema": _component(schemas, SuccessBody, "serialization")}},
                },
                **{str(s)[:3]: _error_response(schemas, s) for s in (401, 404, 413, 415, SCHEMA_422, 503)},
                "405": {
                    "description": "Only POST",
                    "content": {"application/json": {"schema": _component(schemas, Error, "serialization")}},
                },
            },
        }
    }
    doc["paths"][APPROVAL] = _approval_page()
    return doc


def _approval_page() -> dict[str, Any]:
    """The approval page: HTML for a person, no API key (the hash is the credential, not the callback's)."""
    parameters = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "hash", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    not_found = {"description": "Unknown token, bad hash, or no approval page: one plain page", "content": _HTML}
    read = {
        "parameters": parameters,
        "security": [],
        "responses": {
            "200": {"description": "The page: the form while waiting, else the final state", "content": _HTML},
            "404": not_found,
            "503": {"description": "Busy; reload shortly", "content": _HTML},
        },
    }
    form = {
        "type": "object",
        "properties": {
            "action": {"type": "string", "enum": ["approve", "reject"]},
            "reason": {"type": "string", "maxLength": 1000},
        },
        "additionalProperties": {"type": "string"},
        "description": "The page's own form: action, reason, and `field:<property>` for each schema property",
    }
    return {
        "get": {"summary": "Show a token's approval page (changes nothing)", "operationId": "approvalPage", **read},
        "head": {"summary": "The approval page's headers (changes nothing)", "operationId": "approvalPageHead", **read},
        "post": {
            "summary": "Approve or reject from the approval page",
            "operationId": "approvalDecision",
            "parameters": parameters,
            "security": [],
            "requestBody": {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": form}}},
            "responses": {
                "200": {"description": "Already final: the final state, nothing changed", "content": _HTML},
                "303": {"description": "Decided: back to the page (it shows the final state)"},
                "404": not_found,
                "413": {"description": "The form is over 64 KiB", "content": _HTML},
                "415": {"description": "Not a form post", "content": _HTML},
                "422": {
                    "description": "Not valid: the form again, with messages and the values typed",
                    "content": _HTML,
                },
                "503": {"description": "Busy; retry shortly", "content": _HTML},
            },
        },
    }


def _component(schemas: dict[str, Any], shape: type, mode: Literal["validation", "serialization"]) -> dict[str, str]:
    """`shape`'s JSON schema, and those of the shapes it nests, into components; a `$ref` to it.

    An optional field of a request model is `X | None` in pydantic, which its schema spells as an `anyOf` with
    a `null` arm; the API refuses an explicit null ("leave it out instead"), so the document drops that arm:
    optional means absent, never null. (Nulls *inside* a value, such as a completeWhen value, stay.)"""
    schema = TypeAdapter(shape).json_schema(mode=mode, ref_template="#/components/schemas/{model}")
    for component in (schema, *schema.get("$defs", {}).values()):
        for field in component.get("properties", {}).values():
            if "default" in field and field["default"] is None:
                del field["default"]  # an absent field; an explicit null is refused ("leave it out instead")
            arms = [arm for arm in field.get("anyOf", ()) if arm != {"type": "null"}]
            if "anyOf" in field and len(arms) != len(field["anyOf"]):
                del field["anyOf"]
                if len(arms) == 1:
                    field.update(arms[0])
                else:
                    field["anyOf"] = arms
    schemas.update(schema.pop("$defs", {}))
    schemas[shape.__name__] = schema
    return {"$ref": f"#/components/schemas/{shape.__name__}"}


def _tags_at_most(create: dict[str, Any]) -> None:
    """At most MAX_TAGS tags (more is Trigger.dev's 422, which the model leaves to the service to answer)."""
    for arm in create["properties"]["tags"].get("anyOf", ()):
        if arm.get("type") == "array":
            arm["maxItems"] = MAX_TAGS


# OpenAPI links: how a client (and schemathesis' stateful phase) goes from one answer to the next request.
_LINKS: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    (TOKENS, "post"): {
        "RetrieveCreated": {"operationId": "retrieve_token", "parameters": {"id": "$response.body#/id"}},
        "CompleteCreated": {"operationId": "complete_token", "parameters": {"id": "$response.body#/id"}},
        "ListCreated": {"operationId": "list_tokens"},
    },
    (TOKENS, "get"): {
        "RetrieveListed": {"operationId": "retrieve_token", "parameters": {"id": "$response.body#/data/0/id"}},
        "CompleteListed": {"operationId": "complete_token", "parameters": {"id": "$response.body#/data/0/id"}},
        "NextPage": {"operationId": "list_tokens", "parameters": {"page[after]": "$response.body#/pagination/next"}},
    },
    (COMPLETE, "post"): {
        "RetrieveCompleted": {"operationId": "retrieve_token", "parameters": {"id": "$request.path.id"}},
    },
    (TOKEN, "get"): {
        "CompleteRetrieved": {"operationId": "complete_token", "parameters": {"id": "$response.body#/id"}},
    },
}
_OPERATION_IDS = {
    (TOKENS, "post"): "create_token",
    (TOKENS, "get"): "list_tokens",
    (TOKEN, "get"): "retrieve_token",
    (COMPLETE, "post"): "complete_token",
}


def _add_links(doc: dict[str, Any]) -> None:
    for (path, method), operation_id in _OPERATION_IDS.items():
        doc["paths"][path][method]["operationId"] = operation_id
    for (path, method), links in _LINKS.items():
        doc["paths"][path][method]["responses"]["200"]["links"] = {name: dict(link) for name, link in links.items()}


def _error_response(schemas: dict[str, Any], status: int) -> dict[str, Any]:
    """An error status's response (SCHEMA_422: a schema mismatch's, on complete and the callback)."""
    shape = SchemaMismatchBody if status == SCHEMA_422 else Error
    response: dict[str, Any] = {
        "description": _ERRORS[status],
        "content": {"application/json": {"schema": _component(schemas, shape, "serialization")}},
    }
    if status == 503:
        response["headers"] = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "string"}}}
    return response
