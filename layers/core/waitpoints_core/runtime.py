"""The composition root: builds the services from settings and the AWS adapters, once per container."""

from __future__ import annotations

from functools import cache

from . import aws
from .aws.connections import connections
from .aws.durable import LambdaDurableCallbacks
from .aws.errors import aws_errors
from .aws.eventbridge import EventBridgePublisher
from .aws.s3 import S3Blobs
from .aws.stepfunctions import StepFunctionsBridge
from .config import Settings
from .dynamodb import DynamoDBStore
from .dynamodb.codecs import decode_stream_record
from .dynamodb.subscriptions import DynamoDBSubscriptions
from .keyring import KeyRing
from .services import WaitpointService
from .signing import SigningKeys

# What the edge reaches the adapters through: the stream record decoder, the WebSocket connections.
__all__ = ["connections", "decode_stream_record", "get_service", "get_subscriptions", "reset"]


@cache
def get_service() -> WaitpointService:
    settings = Settings.from_env()

    def load_keys() -> SigningKeys:
        with aws_errors():  # throttled or failing past the retries: 503 with Retry-After, like DynamoDB
            secret = aws.client("secretsmanager").get_secret_value(SecretId=settings.signing_secret_id)
        return SigningKeys.from_secret_string(secret["SecretString"])

    store = DynamoDBStore(aws.client("dynamodb"), settings.table_name)
    keys = KeyRing(load_keys, max_age=settings.signing_key_cache_seconds)
    bucket, bus = settings.output_bucket, settings.event_bus
    return WaitpointService(
        store,
        keys,
        settings,
        resume_target=lambda: StepFunctionsBridge(aws.client("stepfunctions")),
        durable_target=lambda: LambdaDurableCallbacks(aws.client("lambda", settings.durable_endpoint)),
        blobs=(lambda: S3Blobs(aws.client("s3"), bucket)) if bucket else None,
        events=(lambda: EventBridgePublisher(aws.client("events"), bus)) if bus else None,
    )


def reset() -> None:
    """Forget the cached service and clients (tests and the local stack, after changing the environment)."""
    get_service.cache_clear()
    get_subscriptions.cache_clear()
    connections.cache_clear()
    aws.client.cache_clear()
    aws._session.cache_clear()


@cache
def get_subscriptions() -> DynamoDBSubscriptions:
    """The real-time subscriptions' store, on the service's table."""
    return DynamoDBSubscriptions(aws.client("dynamodb"), get_service().settings.table_name)
