"""Wait on a waitpoint token from a Lambda durable function, in one line.

>>> from waitpoints.durable import wait_for_token
>>> @durable_execution
... def handler(event, context):
...     approval = wait_for_token(context, timeout="1h", tags=["order:42"],
...                               on_created=lambda token: send_email(token.url))

The token is created and the durable callback attached through IAM-authorised invokes of the service's
functions (CreateTokenFunction, and the attach function: WaitForTokenFunction with ``{"callbackId",
"waitpointId"}``), not with an API key: the function's role needs ``lambda:InvokeFunction`` on both. Their
names come from the arguments or from ``WAITPOINTS_CREATE_TOKEN_FUNCTION`` / ``WAITPOINTS_ATTACH_FUNCTION``;
the token's environment from ``environment`` or ``WAITPOINTS_ENVIRONMENT``.

Needs the durable execution SDK: ``pip install 'waitpoints[durable]'`` (it brings boto3). ``import waitpoints``
never imports it; this module imports it only when ``wait_for_token`` runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ._exceptions import ConfigurationError, WaitpointRejectedError, WaitpointTimeoutError
from ._types import CreatedToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

ENV_CREATE_FUNCTION = "WAITPOINTS_CREATE_TOKEN_FUNCTION"
ENV_ATTACH_FUNCTION = "WAITPOINTS_ATTACH_FUNCTION"
ENV_ENVIRONMENT = "WAITPOINTS_ENVIRONMENT"
CALLBACK_GRACE = timedelta(minutes=5)  # the callback outlives the token so the service's timeout arrives first
TIMED_OUT, REJECTED = "Waitpoint.TimedOut", "Waitpoint.Rejected"
_UNITS = {"w": 604_800, "d": 86_400, "hr": 3_600, "h": 3_600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+)(w|d|hr|h|m|s)")

__all__ = ["wait_for_token"]


def wait_for_token(
    context: Any,
    *,
    timeout: str | timedelta = "1h",
    tags: str | Iterable[str] | None = None,
    idempotency_key: str | None = None,
    idempotency_key_ttl: str | None = None,
    on_created: Callable[[CreatedToken], object] | None = None,
    name: str = "waitpoint",
    environment: str | None = None,
    create_function: str | None = None,
    attach_function: str | None = None,
    lambda_client: Any = None,
) -> Any:
    """Create a token, hand it to ``on_created``, suspend the durable execution until the token completes,
    and return its output (parsed JSON).

    Parameters
    ----------
    context:
        The ``DurableContext`` the handler got.
    timeout:
        The token's timeout (a duration such as ``"1h"``, or a ``timedelta``). The durable callback times out
        ``CALLBACK_GRACE`` later, a backstop for a service that cannot deliver.
    tags, idempotency_key, idempotency_key_ttl:
        As for ``wait.create_token``. Without a key, one is derived from the execution and ``name``, so a
        retried step gets the same token back.
    on_created:
        Called with the ``CreatedToken`` (``.url``, ``.public_access_token``) in the same step as the create;
        the access token is never checkpointed. A step runs at least once: keep it idempotent.
    name:
        The operations' name; use a different one for each token an execution waits on.

    Raises
    ------
    WaitpointRejectedError
        The token was rejected (``Waitpoint.Rejected``); ``__cause__`` is the SDK's CallbackExternalError.
    WaitpointTimeoutError
        The token timed out (``Waitpoint.TimedOut``), or the callback's own timeout passed
        (``__cause__`` is the SDK's CallbackTimeoutError).
    aws_durable_execution_sdk_python.CallbackError
        Any other failure (``Waitpoint.OutputTooLarge``, ``Waitpoint.NotFound``, a failed attach), as raised.
    """
    try:
        from aws_durable_execution_sdk_python import CallbackExternalError, CallbackTimeoutError
        from aws_durable_execution_sdk_python.config import Duration, WaitForCallbackConfig
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the package
        raise ConfigurationError(
            "waitpoints.durable needs the durable execution SDK: pip install 'waitpoints[durable]'"
        ) from exc

    env = environment or os.environ.get(ENV_ENVIRONMENT)
    create = create_function or os.environ.get(ENV_CREATE_FUNCTION)
    attach = attach_function or os.environ.get(ENV_ATTACH_FUNCTION)
    if not (env and create and attach):
        raise ConfigurationError(
            f"wait_for_token needs environment, create_function and attach_function "
            f"(or {ENV_ENVIRONMENT}, {ENV_CREATE_FUNCTION}, {ENV_ATTACH_FUNCTION})"
        )
    seconds = timeout_seconds(timeout)
    key = idempotency_key or _derived_key(context, name)
    request: dict[str, Any] = {"environment": env, "timeout": f"{seconds}s", "idempotencyKey": key}
    if tags is not None:
        request["tags"] = [tags] if isinstance(tags, str) else list(tags)
    if idempotency_key_ttl is not None:
        request["idempotencyKeyTTL"] = idempotency_key_ttl
    invoker = _Invoker(lambda_client)

    def create_step(_: Any) -> dict[str, Any]:
        created = CreatedToken.from_wire(invoker(create, request))
        if on_created is not None:
            on_created(created)
        return {"id": created.id, "url": created.url, "isCached": created.is_cached}

    token = context.step(create_step, name=f"{name} create")

    def submitter(callback_id: str, _: Any) -> None:
        invoker(attach, {"callbackId": callback_id, "waitpointId": token["id"], "environment": env})

    grace = int(CALLBACK_GRACE.total_seconds())
    config = WaitForCallbackConfig(timeout=Duration.from_seconds(seconds + grace))
    try:
        output = context.wait_for_callback(submitter, name=name, config=config)
    except CallbackExternalError as err:
        data = _parse(err.data)
        kind = data.get("error") if isinstance(data, dict) else None
        message = err.message or str(kind)
        if kind == REJECTED:
            assert isinstance(data, dict)
            raise WaitpointRejectedError(
                message, token_id=token["id"], reason=data.get("reason"), data=data.get("data")
            ) from err
        if kind == TIMED_OUT:
            raise WaitpointTimeoutError(message, token_id=token["id"]) from err
        raise
    except CallbackTimeoutError as err:
        raise WaitpointTimeoutError(
            f"Waitpoint {token['id']}: the durable callback timed out", token_id=token["id"]
        ) from err
    return _parse(output)


def timeout_seconds(timeout: str | timedelta) -> int:
    """A token timeout in whole seconds: ``"1h30m"`` → 5400, ``timedelta(minutes=2)`` → 120."""
    if isinstance(timeout, timedelta):
        seconds = int(-(-timeout.total_seconds() // 1))
    elif isinstance(timeout, str) and timeout and _DURATION.sub("", timeout) == "":
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(timeout))
    else:
        raise ValueError(f"timeout must be a duration such as '1h' or a timedelta, got {timeout!r}")
    if seconds <= 0:
        raise ValueError(f"timeout must be positive, got {timeout!r}")
    return seconds


def _derived_key(context: Any, name: str) -> str:
    arn = getattr(getattr(context, "state", None), "durable_execution_arn", None) or ""
    return "durable-" + hashlib.sha256(f"{arn}\n{name}".encode()).hexdigest()[:40]


def _parse(text: str | None) -> Any:
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


class _Invoker:
    """A RequestResponse Lambda invoke whose function error raises (so the step fails and is retried)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __call__(self, function: str, payload: dict[str, Any]) -> Any:
        if self._client is None:
            import boto3  # the durable SDK depends on it

            self._client = boto3.client("lambda")
        response = self._client.invoke(FunctionName=function, Payload=json.dumps(payload).encode())
        body = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            detail = body if isinstance(body, dict) else {}
            raise RuntimeError(f"{function} failed: {detail.get('errorType')}: {detail.get('errorMessage')}")
        return body
