"""The request models: what the API and the workflow functions accept, validated by pydantic."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)

from .bodies import SURROGATE_MESSAGE, has_lone_surrogate
from .errors import InvalidInput
from .models import MAX_DESCRIPTION
from .webhooks import STANDARD_WEBHOOKS_KEY_BYTES, standard_webhooks_key

M = TypeVar("M", bound=BaseModel)


def _no_comma(tag: str) -> str:
    if "," in tag:
        raise ValueError("a tag must not contain a comma (filter[tags] is a comma list, so it could never be found)")
    return tag


Tag = Annotated[
    StrictStr, Field(min_length=1, max_length=128, json_schema_extra={"pattern": "^[^,]*$"}), AfterValidator(_no_comma)
]


def refuse_surrogates(data: Any) -> Any:
    """A before-validator: no field may hold a lone UTF-16 surrogate (it cannot be encoded, stored or returned).
    The HTTP edge's JSON parser already refuses them; this covers the workflow functions' Lambda payloads."""
    if isinstance(data, dict):
        for name, value in data.items():
            if has_lone_surrogate(json.dumps([name, value], ensure_ascii=False, default=str)):
                label = "a field name" if has_lone_surrogate(str(name)) else name
                raise ValueError(f"{label}: {SURROGATE_MESSAGE}")
    return data


def refuse_nulls(data: Any, only: tuple[str, ...] | None = None) -> Any:
    """An optional field is left out, never null (as Trigger.dev's schema and the OpenAPI document say)."""
    if isinstance(data, dict):
        for name, value in data.items():
            if value is None and (only is None or name in only):
                raise ValueError(f"{name} must not be null; leave it out instead")
    return data


class WebhookSignature(BaseModel):
    """How callbacks to a token must be signed: the sender's scheme and its signing secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _no_surrogates(cls, data: Any) -> Any:
        return refuse_surrogates(data)

    scheme: Literal["stripe", "standard-webhooks"]
    secret: Annotated[StrictStr, Field(min_length=1, max_length=512)] = Field(
        repr=False,
        description="stripe: the endpoint secret as Stripe shows it (`whsec_...`, used as it is). standard-webhooks: "
        "`whsec_` (optional) followed by the base64 of 24 to 64 bytes, as the Standard Webhooks spec defines it.",
    )

    @model_validator(mode="after")
    def _secret_fits_scheme(self) -> WebhookSignature:
        """A standard-webhooks secret that is not base64 could never verify a delivery: every callback would
        be a 401 and the token could only time out. Refuse it at create (never echoing it)."""
        if self.scheme == "standard-webhooks":
            try:
                key = standard_webhooks_key(self.secret)
            except ValueError:
                raise ValueError(
                    "secret: a standard-webhooks secret is 'whsec_' followed by base64 (A-Z a-z 0-9 + /, padded "
                    "with =), as the sender shows it"
                ) from None
            if not STANDARD_WEBHOOKS_KEY_BYTES[0] <= len(key) <= STANDARD_WEBHOOKS_KEY_BYTES[1]:
                low, high = STANDARD_WEBHOOKS_KEY_BYTES
                raise ValueError(
                    f"secret: a standard-webhooks secret's base64 holds {low} to {high} bytes "
                    f"(Standard Webhooks spec); this one holds {len(key)}"
                )
        return self


Label = Annotated[StrictStr, Field(min_length=1, max_length=40)]
MAX_REJECT_REASON_CHARS = 1_000


class ApprovalRequest(BaseModel):
    """Extension: the approval page of a token (issue 15). Every text is plain text, escaped on the page."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    title: Annotated[StrictStr, Field(min_length=1, max_length=200)] = Field(description="The page's heading.")
    description: Annotated[StrictStr, Field(max_length=4000)] = Field(
        default="", description="Plain text under the title; newlines are kept."
    )
    approve_label: Label | None = Field(default=None, alias="approveLabel", description='Defaults to "Approve".')
    reject_label: Label | None = Field(default=None, alias="rejectLabel", description='Defaults to "Reject".')
    reason_required: StrictBool = Field(
        default=False, alias="reasonRequired", description="Whether rejecting on the page needs a reason."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        return refuse_nulls(data)

    def stored(self) -> dict[str, Any]:
        """What the token keeps: the camelCase object, defaults left out."""
        return self.model_dump(by_alias=True, exclude_defaults=True)


class CreateTokenRequest(BaseModel):
    """The options of `POST /api/v1/waitpoints/tokens` (and of the workflow create function)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)

    timeout: StrictStr | StrictInt | None = Field(
        default=None,
        description="A duration (`10m`, `1h30m`, units w d hr h m s), a future ISO 8601 date-time, "
        "or epoch milliseconds. At most 365 days away. Defaults to the deployment's default (10m).",
        examples=["10m", "1h30m"],  # a fixed date-time would be out of range one day
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
    description: Annotated[StrictStr, Field(min_length=1, max_length=MAX_DESCRIPTION)] | None = Field(
        default=None,
        description="What the token waits for, for the people and pages that show it (1 to 1,000 characters). "
        "Returned by retrieve; list pages leave it out.",
        examples=["Waiting for approval"],
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
    completion_schema: dict[str, Any] | None = Field(
        default=None,
        alias="schema",
        description="Extension: a JSON Schema (draft 2020-12, at most 16 KiB of JSON, 32 levels deep, no remote "
        "$ref) the data of a completion must match: complete, the callback URL and the approval page answer 422 "
        "naming the failing path and rule otherwise, and the token keeps waiting.",
    )
    approval: ApprovalRequest | None = Field(
        default=None,
        description="Extension: serve an approval page for the token; create then returns its `approvalUrl`. With "
        "a `schema`, the page shows a form for it (object properties of type string, number, integer, boolean or "
        "an enum).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_nulls(cls, data: Any) -> Any:
        refuse_surrogates(data)
        return refuse_nulls(data)

    def tag_list(self) -> list[str]:
        if self.tags is None:
            return []
        return [self.tags] if isinstance(self.tags, str) else list(self.tags)


EnvName = Annotated[StrictStr, Field(pattern=r"^[a-z0-9-]{1,32}$", description="An environment name.")]


class WorkflowCreateTokenRequest(CreateTokenRequest):
    """What a workflow sends to CreateTokenFunction: the create options plus the token's environment."""

    environment: EnvName


class WaitForTokenRequest(BaseModel):
    """What a workflow sends to WaitForTokenFunction: a Step Functions task (`lambda:invoke.waitForTaskToken`)
    its `taskToken`, a Lambda durable function (a `wait_for_callback` submitter) its `callbackId`. Exactly one."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    task_token: Annotated[StrictStr, Field(min_length=1, max_length=8192)] | None = Field(
        default=None, alias="taskToken"
    )
    callback_id: (
        Annotated[StrictStr, Field(min_length=1, max_length=1024, pattern=r"^[A-Za-z0-9+/]+={0,2}$")] | None
    ) = Field(default=None, alias="callbackId")
    waitpoint_id: Annotated[StrictStr, Field(min_length=1, max_length=100)] = Field(alias="waitpointId")
    environment: EnvName | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_surrogates(cls, data: Any) -> Any:
        return refuse_surrogates(data)

    @model_validator(mode="after")
    def _one_handle(self) -> WaitForTokenRequest:
        if (self.task_token is None) == (self.callback_id is None):
            raise ValueError("give exactly one of taskToken (Step Functions) and callbackId (a durable function)")
        return self

    @property
    def handle(self) -> str:
        """The task token or the callback id: what resumes the workflow."""
        handle = self.task_token if self.task_token is not None else self.callback_id
        assert handle is not None
        return handle

    @property
    def is_durable(self) -> bool:
        return self.callback_id is not None


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


class RejectTokenRequest(BaseModel):
    """The body of `POST /api/v1/waitpoints/tokens/{id}/reject` (extension)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    reason: Annotated[StrictStr, Field(max_length=MAX_REJECT_REASON_CHARS)] | None = Field(
        default=None, description="Why: shown to whoever waits (at most 1,000 characters)."
    )
    data: Any = Field(default=None, description="Any JSON value, kept with the rejection (null included).")

    @model_validator(mode="before")
    @classmethod
    def _no_null_reason(cls, data: Any) -> Any:
        return refuse_nulls(data, only=("reason",))

    @property
    def has_data(self) -> bool:
        return "data" in self.model_fields_set


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
