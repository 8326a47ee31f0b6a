"""Every path the service answers, in one place: the API function's routes, the OpenAPI document and the
callback URLs built for tokens all read them here (the SDK keeps its own copy: it must not import the server)."""

from __future__ import annotations

API = "/api/v1"
TOKENS = f"{API}/waitpoints/tokens"
TOKEN = f"{TOKENS}/{{id}}"
COMPLETE = f"{TOKEN}/complete"
FORCE_TIMEOUT = f"{TOKEN}/timeout"  # operator action: time a waiting token out now (secret key only)
EXTEND = f"{TOKEN}/extend"  # operator action: move a waiting token's deadline later (secret key only)
REJECT = f"{TOKEN}/reject"
CALLBACK = f"{TOKEN}/callback/{{hash}}"
APPROVAL = f"{TOKEN}/approval/{{hash}}"
OPENAPI = f"{API}/openapi.json"


def callback_url(base_url: str, token_id: str, url_hash: str) -> str:
    """A token's callback URL under `base_url` (the API's public origin, with a stage if it has one)."""
    return base_url.rstrip("/") + CALLBACK.format(id=token_id, hash=url_hash)


def approval_url(base_url: str, token_id: str, url_hash: str) -> str:
    """A token's approval page under `base_url`: a signed URL a person opens (its hash is not the callback's)."""
    return base_url.rstrip("/") + APPROVAL.format(id=token_id, hash=url_hash)


def route_key(method: str, path: str) -> str:
    """API Gateway's route key for a method and a path template, e.g. `POST /api/v1/waitpoints/tokens`."""
    return f"{method} {path}"


def resolver_path(path: str) -> str:
    """A path template in Powertools' spelling (`<id>` for `{id}`)."""
    return path.replace("{", "<").replace("}", ">")
