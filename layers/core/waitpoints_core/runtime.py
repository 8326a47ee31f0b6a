"""The composition root: builds the service from settings and AWS clients, once per container."""

from __future__ import annotations

from functools import cache

from . import aws
from .blobs import S3Blobs
from .bridge import StepFunctionsBridge
from .config import Settings
from .keyring import KeyRing
from .service import WaitpointService
from .signing import SigningKeys
from .storage import DynamoDBStore, aws_errors


@cache
def get_service() -> WaitpointService:
    settings = Settings.from_env()

    def load_keys() -> SigningKeys:
        with aws_errors():  # throttled or failing past the retries: 503 with Retry-After, like DynamoDB
            secret = aws.client("secretsmanager").get_secret_value(SecretId=settings.signing_secret_id)
        return SigningKeys.from_secret_string(secret["SecretString"])

    store = DynamoDBStore(aws.client("dynamodb"), settings.table_name)
    keys = KeyRing(load_keys, max_age=settings.signing_key_cache_seconds)
    bucket = settings.output_bucket
    return WaitpointService(
        store,
        keys,
        settings,
        bridge=lambda: StepFunctionsBridge(aws.client("stepfunctions")),
        blobs=(lambda: S3Blobs(aws.client("s3"), bucket)) if bucket else None,
    )


def reset() -> None:
    """Forget the cached service and clients (tests and the local stack, after changing the environment)."""
    get_service.cache_clear()
    aws.client.cache_clear()
    aws._session.cache_clear()
