"""Domain models: the create request, the stored token, and who is calling."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

from .durations import format_iso
from .errors import InvalidInput
from .signing import scope_allows_completion

MAX_TAGS = 10
M = TypeVar("M", bound=BaseModel)
Tag = Annotated[StrictStr, Field(min_length=1, max_length=128)]


class TokenStatus(str, Enum):
    WAITING = "WAITING"
    COMPLETED = "COMPLETED"
    TIMED_OUT = "TIMED_OUT"


class WebhookSignature(BaseModel):
    """How callbacks to a token must be signed: the sender's scheme and its signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scheme: Literal["stripe", "standard-webhooks"]
    secret: Annotated[StrictStr, Field(min_length=1, max_length=512)] = Field(repr=False)


class CreateTokenRequest(BaseModel):
    """The options of `POST /api/v1/waitpoints/tokens` (and of the workflow create function)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    timeout: StrictStr | StrictInt | None = Field(
        default=None,
        description="A duration (`10m`, `1h30m`, units w d hr h m s), a future ISO 8601 date-time, "
        "or epoch milliseconds. At most 365 days away. Defaults to the deployment's default (10m).",
        examples=["10m", "2030-01-01T00:00:00.000Z"],
    )
    idempotency_key: Annotated[StrictStr, Field(min_length=1, max_length=2048)] | None = Field(
        default=None, alias="idempotencyKey",
        description="While this key is live in the environment, creating again returns the same token.",
    )
    idempotency_key_ttl: StrictStr | None = Field(
        default=None, alias="idempotencyKeyTTL",
        description="How long the idempotency key lives, as a duration. Defaults to 1h.",
    )
    tags: Tag | list[Tag] | None = Field(
        default=None, description="One tag or a list of up to 10, each 1 to 128 characters."
    )
    complete_when: (
        Annotated[dict[Annotated[str, Field(min_length=1, max_length=128)],
                       Annotated[list[StrictStr | StrictInt | StrictBool | None], Field(min_length=1, max_length=20)]],
                  Field(min_length=1, max_length=5)] | None
    ) = Field(
        default=None, alias="completeWhen",
        description="Extension: only a callback whose JSON body has one of the listed values in each named "
        "top-level field completes the token (e.g. Replicate's {\"status\": [\"succeeded\", \"failed\", "
        "\"canceled\"]}); other deliveries are acknowledged and counted. The API's complete is not affected.",
    )
    webhook_signature: WebhookSignature | None = Field(
        default=None, alias="webhookSignature",
        description="Extension: verify each callback's signature with the sender's signing secret, beside the URL's "
        "own HMAC. The secret is stored encrypted and never returned.",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, value in data.items():
                if value is None:
                    raise ValueError(f"{name} must not be null; leave it out instead")
        return data

    def tag_list(self) -> list[str]:
        if self.tags is None:
            return []
        return [self.tags] if isinstance(self.tags, str) else list(self.tags)


EnvName = Annotated[StrictStr, Field(pattern=r"^[a-z0-9-]{1,32}$", description="An environment name.")]


class WorkflowCreateTokenRequest(CreateTokenRequest):
    """What a workflow sends to CreateTokenFunction: the create options plus the token's environment."""

    environment: EnvName


class WaitForTokenRequest(BaseModel):
    """What a workflow sends to WaitForTokenFunction (with `lambda:invoke.waitForTaskToken`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    task_token: Annotated[StrictStr, Field(min_length=1, max_length=8192)] = Field(alias="taskToken")
    waitpoint_id: Annotated[StrictStr, Field(min_length=1, max_length=100)] = Field(alias="waitpointId")
    environment: EnvName | None = None


class CompleteTokenRequest(BaseModel):
    """The body of `POST /api/v1/waitpoints/tokens/{id}/complete`. Leaving `data` out completes with no output."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data: Any = Field(default=None, description="Any JSON value: the token's output.")

    @property
    def has_data(self) -> bool:
        return "data" in self.model_fields_set


class Waitpoint(BaseModel):
    """A token as stored. Read it through `seen_at(now)`, which applies a timeout that has passed."""

    model_config = ConfigDict(frozen=True)

    id: str
    env: str
    status: TokenStatus
    created_at: int
    timeout_at: int
    expires_at: int  # the DynamoDB TTL, epoch seconds: at or after it the token no longer exists
    tags: list[str] = []
    completed_at: int | None = None
    idempotency_key: str | None = None
    idempotency_key_expires_at: int | None = None
    output: str | None = None
    output_type: str | None = None
    output_is_error: bool = False
    output_ref: str | None = None  # S3 key of an output too large for the item
    output_size: int | None = None
    complete_when: dict[str, list[Any]] | None = None
    webhook_scheme: str | None = None
    webhook_secret: bytes | None = Field(default=None, repr=False)  # sealed (signing.SigningKeys.seal)
    deliveries: int = 0  # callbacks received that did not complete the token
    last_delivery_at: int | None = None

    @property
    def guarded(self) -> bool:
        """Whether a callback needs this token's rule or signature check before it may complete it."""
        return self.complete_when is not None or self.webhook_scheme is not None

    def exists_at(self, now_ms: int) -> bool:
        return self.expires_at * 1000 > now_ms

    def seen_at(self, now_ms: int) -> Waitpoint:
        """A WAITING token whose timeout has passed reads as TIMED_OUT, whatever the table says yet."""
        if self.status is TokenStatus.WAITING and self.timeout_at <= now_ms:
            return self.model_copy(update=timed_out_fields(self.timeout_at))
        return self


def timed_out_fields(timeout_at: int) -> dict[str, Any]:
    error = {"code": "WAITPOINT_TIMEOUT", "message": f"Waitpoint timed out at {format_iso(timeout_at)}"}
    return {
        "status": TokenStatus.TIMED_OUT,
        "completed_at": timeout_at,
        "output": json.dumps(error, separators=(",", ":")),
        "output_type": "application/json",
        "output_is_error": True,
    }


@dataclass(frozen=True)
class CreatedToken:
    id: str
    env: str
    url: str
    is_cached: bool
    public_access_token: str


@dataclass(frozen=True)
class Principal:
    """Who is calling: an environment, with full access (secret key) or only the scopes of an access token."""

    env: str
    scopes: tuple[str, ...] | None = None

    def can_complete(self, token_id: str) -> bool:
        return self.scopes is None or scope_allows_completion(self.scopes, token_id)


_UNION_BRANCHES = ("str", "int", "list[", "constrained-str", "function-")


def describe_validation_error(errors: Any, skip: int = 0) -> str:
    """pydantic's errors → one sentence naming the field, never echoing the input (it may hold a secret).

    Picks the most specific error. `skip` drops leading location parts (Powertools prefixes "body").
    """
    if not errors:
        return "Invalid request"
    error = max(errors, key=lambda e: len(e.get("loc", ())))
    kind = error.get("type", "")
    if kind == "json_invalid":
        return "Request body is not valid JSON"
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return "Request body must be a JSON object"
    path = ""
    for part in tuple(error.get("loc", ()))[skip:]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif not str(part).startswith(_UNION_BRANCHES):
            path += ("." if path else "") + str(part)
    if kind == "extra_forbidden":
        return f"{path}: unknown field"
    if kind == "missing":
        return f"{path}: required"
    message = str(error.get("msg", "is invalid")).removeprefix("Value error, ")
    return f"{path}: {message}" if path else message


def parse_request(model: type[M], data: Any) -> M:
    """Validate a Lambda payload against `model`; InvalidInput names the field, never the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc.errors())) from exc
