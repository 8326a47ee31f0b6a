"""waitpoints_core: the domain of waitpoint tokens. Knows nothing of API Gateway, HTTP or botocore.

Importing it loads no AWS code: `get_service` (the composition root, which wires in the DynamoDB, S3 and Step
Functions adapters) and the pydantic request models load on first use (`__getattr__` below). The callback and
stream functions never validate a request body, and pydantic is a large part of a cold start.
"""

from typing import TYPE_CHECKING, Any

from .bodies import Output, check_body_size
from .config import COMPLETION_BODY_LIMIT, CREATE_BODY_LIMIT, Settings
from .durations import format_iso, now_ms
from .errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    TooManyTags,
    Unauthenticated,
    Unavailable,
    UnsupportedBody,
    WaitpointError,
)
from .listing import ListFilters, ListQuery
from .models import Action, Actor, Audit, CreatedToken, Door, Principal, TokenStatus, Waitpoint
from .ports import Attachment, Completion, Delivery, TokenChange, WaiterKind, WaiterListing, WaiterSummary
from .services import WaitpointService
from .services.listing import TokenPage

__all__ = [
    "COMPLETION_BODY_LIMIT",
    "CREATE_BODY_LIMIT",
    "Action",
    "Actor",
    "Attachment",
    "Audit",
    "CompleteTokenRequest",
    "Completion",
    "CreateTokenRequest",
    "CreatedToken",
    "Delivery",
    "Door",
    "Forbidden",
    "InvalidInput",
    "ListFilters",
    "ListQuery",
    "NotFound",
    "Output",
    "PayloadTooLarge",
    "Principal",
    "Settings",
    "TokenChange",
    "TokenPage",
    "TokenStatus",
    "TooManyTags",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedBody",
    "WaitForTokenRequest",
    "WaiterKind",
    "WaiterListing",
    "WaiterSummary",
    "Waitpoint",
    "WaitpointError",
    "WaitpointService",
    "WorkflowCreateTokenRequest",
    "check_body_size",
    "describe_validation_error",
    "format_iso",
    "get_service",
    "now_ms",
    "parse_request",
]

if TYPE_CHECKING:  # what __getattr__ gives, for type checkers
    from .request_models import (
        CompleteTokenRequest,
        CreateTokenRequest,
        WaitForTokenRequest,
        WorkflowCreateTokenRequest,
        describe_validation_error,
        parse_request,
    )
    from .runtime import get_service

_REQUEST_MODELS = frozenset(
    {
        "CompleteTokenRequest",
        "CreateTokenRequest",
        "WaitForTokenRequest",
        "WorkflowCreateTokenRequest",
        "describe_validation_error",
        "parse_request",
    }
)


def __getattr__(name: str) -> Any:
    if name in _REQUEST_MODELS:
        from . import request_models

        return getattr(request_models, name)
    if name == "get_service":
        from .runtime import get_service

        return get_service
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
