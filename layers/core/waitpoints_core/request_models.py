"""The request models: what the API and the workflow functions accept, validated by pydantic."""

from __future__ import annotations

from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError, model_validator

from .errors import InvalidInput

M = TypeVar("M", bound=BaseModel)
Tag = Annotated[StrictStr, Field(min_length=1, max_length=128)]


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
        default=None,
        alias="idempotencyKey",
        description="While this key is live in the environment, creating again returns the same token.",
    )
    idempotency_key_ttl: StrictStr | None = Field(
        default=None,
        alias="idempotencyKeyTTL",
        description="How long the idempotency key lives, as a duration. Defaults to 1h.",
    )
    tags: Tag | list[Tag] | None = Field(
        default=None, description="One tag or a list of up to 10, each 1 to 128 characters."
    )
    complete_when: (
        Annotated[
            dict[
                Annotated[str, Field(min_length=1, max_length=128)],
                Annotated[list[StrictStr | StrictInt | StrictBool | None], Field(min_length=1, max_length=20)],
            ],
            Field(min_length=1, max_length=5),
        ]
        | None
    ) = Field(
        default=None,
        alias="completeWhen",
        description="Extension: only a callback whose JSON body has one of the listed values in each named "
        'top-level field completes the token (e.g. Replicate\'s {"status": ["succeeded", "failed", '
        '"canceled"]}); other deliveries are acknowledged and counted. The API\'s complete is not affected.',
    )
    webhook_signature: WebhookSignature | None = Field(
        default=None,
        alias="webhookSignature",
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


class ExtendTokenRequest(BaseModel):
    """The body of `POST /api/v1/waitpoints/tokens/{id}/extend` (secret key only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    timeout: StrictStr | StrictInt = Field(
        description="The new deadline, in create's forms: a duration from now (`1h`), an ISO 8601 date-time, or "
        "epoch milliseconds. Later than the token's current timeoutAt, in the future, at most 365 days away.",
        examples=["1h", "2030-01-01T00:00:00.000Z"],
    )


class ForceTimeoutRequest(BaseModel):
    """The body of `POST /api/v1/waitpoints/tokens/{id}/timeout`: empty (`{}`) or none."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def parse_request(model: type[M], data: Any) -> M:
    """Validate a Lambda payload against `model`; InvalidInput names the field, never the value."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput(describe_validation_error(exc.errors())) from exc


_UNION_BRANCHES = ("str", "int", "list[", "constrained-str", "function-")  # pydantic's names for a union's arms


def describe_validation_error(errors: Any) -> str:
    """pydantic's errors → one sentence naming the field, never echoing the input (it may hold a secret).

    Picks the most specific error.
    """
    if not errors:
        return "Invalid request"
    error = max(errors, key=lambda e: len(e.get("loc", ())))
    kind = error.get("type", "")
    if kind in ("model_attributes_type", "model_type", "dict_type"):
        return "Request body must be a JSON object"
    path = ""
    for part in error.get("loc", ()):
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
