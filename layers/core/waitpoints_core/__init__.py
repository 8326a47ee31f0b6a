"""waitpoints_core: the domain of waitpoint tokens. Knows nothing of API Gateway or HTTP status codes.

The pydantic request models are imported on first use (`__getattr__` below): the callback and stream functions
never validate a request body, and pydantic is a large part of a cold start.
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
from .listing import ListQuery, parse_list_query
from .models import CreatedToken, Principal, TokenStatus, Waitpoint
from .runtime import get_service
from .service import TokenPage, WaitpointService, mint_api_key
from .storage import DynamoDBStore

__all__ = [
    "COMPLETION_BODY_LIMIT",
    "CREATE_BODY_LIMIT",
    "CompleteTokenRequest",
    "CreateTokenRequest",
    "CreatedToken",
    "DynamoDBStore",
    "Forbidden",
    "InvalidInput",
    "ListQuery",
    "NotFound",
    "Output",
    "PayloadTooLarge",
    "Principal",
    "Settings",
    "TokenPage",
    "TokenStatus",
    "TooManyTags",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedBody",
    "WaitForTokenRequest",
    "Waitpoint",
    "WaitpointError",
    "WaitpointService",
    "WorkflowCreateTokenRequest",
    "check_body_size",
    "describe_validation_error",
    "format_iso",
    "get_service",
    "mint_api_key",
    "now_ms",
    "parse_list_query",
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
        from . import request_models  # noqa: PLC0415

        return getattr(request_models, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
