"""Credentials as HTTP carries them: `Authorization: Bearer <secret key or public access token>`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from waitpoints_core import Unauthenticated, get_service

if TYPE_CHECKING:
    from waitpoints_core import Principal


def bearer_credential(authorization: str | None) -> str:
    """The credential of a Bearer Authorization header; Unauthenticated when there is none."""
    scheme, _, credential = (authorization or "").strip().partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential:
        raise Unauthenticated("Missing API key: send 'Authorization: Bearer <secret key>'")
    return credential


def authenticate(authorization: str | None, *, allow_access_token: bool = False) -> Principal:
    """Who sent a request with this Authorization header."""
    return get_service().auth.authenticate(bearer_credential(authorization), allow_access_token=allow_access_token)
