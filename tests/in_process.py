"""The deployment in an in-process moto: the template's resources, the functions' environment, a dev key."""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from moto import mock_aws
from waitpoints_core import runtime
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key
from waitpoints_local import moto_fixes
from waitpoints_local.emulator import create_resources, fake_aws_environment

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest
    from waitpoints_local.template import Template


@contextmanager
def deployment(monkeypatch: pytest.MonkeyPatch, template: Template) -> Iterator[tuple[dict[str, Any], str]]:
    """Yields (what `!Ref` gives, by logical id; a secret key of the `dev` environment)."""
    for name, value in fake_aws_environment("").items():
        if name != "AWS_ENDPOINT_URL":
            monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        moto_fixes.install()
        refs = create_resources(template)
        monkeypatch.setenv("WAITPOINTS_TABLE_NAME", refs["TokensTable"])
        monkeypatch.setenv("WAITPOINTS_SIGNING_SECRET_ARN", refs["SigningSecret"])
        monkeypatch.setenv("WAITPOINTS_OUTPUT_BUCKET", refs["OutputsBucket"])
        monkeypatch.setenv("WAITPOINTS_API_URL", "https://api.example.test")
        globals_env = template.doc.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
        monkeypatch.setenv("WAITPOINTS_INLINE_RESUME_MS", str(globals_env.get("WAITPOINTS_INLINE_RESUME_MS", "0")))
        runtime.reset()
        key = mint_api_key(DynamoDBStore(boto3.client("dynamodb"), refs["TokensTable"]), "dev")  # envs exist once keyed
        try:
            yield refs, key
        finally:
            runtime.reset()
