"""Settings, read once from the environment. The only module that reads os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass

CREATE_BODY_LIMIT = 32 * 1024  # room for a completion schema (at most 16 KiB) and an approval page's texts
COMPLETION_BODY_LIMIT = 3 * 1024 * 1024  # complete and callback bodies (Trigger.dev's TASK_PAYLOAD_MAXIMUM_SIZE)
MAX_TIMEOUT_DAYS = 365
MAX_LISTED_WAITERS = 100  # retrieve lists at most this many of a token's waiters (and says when it has more)


@dataclass(frozen=True)
class Settings:
    table_name: str
    signing_secret_id: str
    public_url: str | None = None
    api_url: str | None = None  # the API's own URL, for callback URLs made outside an HTTP request
    output_bucket: str | None = None  # S3 bucket for outputs over bodies.OFFLOAD_BYTES
    default_timeout: str = "10m"
    default_idempotency_ttl: str = "1h"
    retention_days: int = 30
    auth_cache_seconds: float = 60.0
    signing_key_cache_seconds: float = 300.0
    cors_origins: tuple[str, ...] = ("*",)
    # The WebSocket API's @connections endpoint (https://<api>.execute-api.<region>.amazonaws.com/<stage>); the
    # realtime function falls back to the one its event names, a function without such events needs it set.
    realtime_management_url: str | None = None
    # Where SendDurableExecutionCallback* go when not to Lambda itself (the local stack's durable runner).
    durable_endpoint: str | None = None
    # Lifecycle events: the EventBridge bus (None: off), whether small outputs go in them, the stack's name.
    event_bus: str | None = None
    events_include_output: bool = False
    stack_name: str | None = None
    # The request that wins a completion resumes the token's waiters itself, for at most this long (0: off, the
    # stream consumer alone resumes them). The stream stays the safety net for whatever it did not finish.
    inline_resume_ms: int = 0

    @classmethod
    def from_env(cls) -> Settings:
        env = os.environ
        return cls(
            table_name=env["WAITPOINTS_TABLE_NAME"],
            signing_secret_id=env["WAITPOINTS_SIGNING_SECRET_ARN"],
            public_url=env.get("WAITPOINTS_PUBLIC_URL") or None,
            api_url=env.get("WAITPOINTS_API_URL") or None,
            output_bucket=env.get("WAITPOINTS_OUTPUT_BUCKET") or None,
            default_timeout=env.get("WAITPOINTS_DEFAULT_TIMEOUT", "10m"),
            default_idempotency_ttl=env.get("WAITPOINTS_DEFAULT_IDEMPOTENCY_TTL", "1h"),
            retention_days=int(env.get("WAITPOINTS_RETENTION_DAYS", "30")),
            auth_cache_seconds=float(env.get("WAITPOINTS_AUTH_CACHE_SECONDS", "60")),
            signing_key_cache_seconds=float(env.get("WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", "300")),
            cors_origins=tuple(o.strip() for o in env.get("WAITPOINTS_CORS_ORIGINS", "*").split(",") if o.strip()),
            realtime_management_url=env.get("WAITPOINTS_WS_MANAGEMENT_URL") or None,
            durable_endpoint=env.get("WAITPOINTS_DURABLE_ENDPOINT") or None,
            event_bus=env.get("WAITPOINTS_EVENT_BUS") or None,
            events_include_output=env.get("WAITPOINTS_EVENTS_OUTPUT", "false").lower() == "true",
            stack_name=env.get("WAITPOINTS_STACK") or None,
            inline_resume_ms=int(env.get("WAITPOINTS_INLINE_RESUME_MS", "0")),
        )


def tracing_enabled() -> bool:
    """WAITPOINTS_TRACING=true when the deployment turned X-Ray tracing on."""
    return os.environ.get("WAITPOINTS_TRACING", "false").lower() == "true"
