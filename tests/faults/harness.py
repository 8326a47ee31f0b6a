"""Fault injection for AWS calls, at the botocore level, for the handlers running in-process on moto.

Every HTTP attempt botocore makes (its `before-send` stage, below the retry loop, so retries see the fault
and are counted) passes through `FaultInjector`. While `active`, each attempt of a targeted service fails at
`rate` (seeded random) in one of these ways:

    throttle     400 ThrottlingException (Secrets Manager, Step Functions)
                 / ProvisionedThroughputExceededException (DynamoDB)
    server       500 InternalServerError (InternalFailure for Secrets Manager and Step Functions)
    reset        ConnectionClosedError before the request is sent
    timeout      ReadTimeoutError before the request is applied
    lost         ReadTimeoutError *after* the request was applied: the answer is lost, the write happened

Step Functions' SendTaskSuccess/SendTaskFailure are answered here (moto drops `cause`): an accepted call is
recorded; a second call for the same task token is refused with TaskTimedOut, as Step Functions does. Lambda's
SendDurableExecutionCallbackSuccess/Failure (which moto does not implement) likewise: a second call for the same
callback id is refused with CallbackTimeoutException.
DynamoDB's TransactWriteItems honours ClientRequestToken as DynamoDB does (moto does not): a retry of a
transaction that was applied succeeds without applying it again.
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter, defaultdict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ConnectionClosedError, ReadTimeoutError
from moto.core.botocore_stubber import BotocoreStubber, MockRawResponse

if TYPE_CHECKING:
    from collections.abc import Iterator

    import pytest

KINDS = ("throttle", "server", "reset", "timeout", "lost")
SERVICES = ("dynamodb", "secrets-manager", "sfn")
_PREFIX = {
    "dynamodb": "com.amazonaws.dynamodb.v20120810",
    "secrets-manager": "com.amazonaws.secretsmanager",
    "sfn": "com.amazonaws.states",
}


def _error(url: str, status: int, service: str, code: str) -> AWSResponse:
    body = json.dumps({"__type": f"{_PREFIX[service]}#{code}", "message": f"injected {code}"})
    headers = {"x-amzn-ErrorType": code, "Content-Type": "application/x-amz-json-1.0"}
    return AWSResponse(url, status, headers, MockRawResponse(body))


class FaultInjector:
    def __init__(self, rate: float, seed: int, services: tuple[str, ...] = SERVICES) -> None:
        self.rate, self.services = rate, services
        self.random = random.Random(seed)
        self.active = False
        self.lock = threading.RLock()
        self.injected: Counter[str] = Counter()  # kind → how many
        self.attempts: Counter[str] = Counter()  # service.Operation → the handlers' attempts
        self.attempts_by_call: dict[str, int] = defaultdict(int)  # amz-sdk-invocation-id → attempts
        self.max_attempts_header: set[str] = set()  # the `max=` botocore announces in amz-sdk-request
        self.sleeps: list[float] = []  # botocore's retry backoffs, in seconds (not slept)
        self.sfn_accepted: dict[str, list[dict[str, Any]]] = defaultdict(list)  # task token → accepted calls
        self.sfn_refused: Counter[str] = Counter()
        self.durable_accepted: dict[str, list[str]] = defaultdict(list)  # callback id → accepted operations
        self._applied_transactions: set[str] = set()
        self.label: str | None = None  # while set, every call is recorded in `calls` under this label
        self.calls: list[tuple[str, str, str, dict[str, Any]]] = []  # (label, service, operation, request body)
        self.gone_connections: set[str] = set()  # WebSocket connection ids PostToConnection answers 410 GoneException

    @contextmanager
    def faults(self) -> Iterator[None]:
        """Inject faults while inside (the handlers' calls only: tests turn it on around invocations)."""
        with self.lock:
            previous, self.active = self.active, True
        try:
            yield
        finally:
            self.active = previous

    def _draw(self, service: str) -> str | None:
        if not self.active or service not in self.services or self.random.random() >= self.rate:
            return None
        kind = self.random.choice(KINDS)
        self.injected[kind] += 1
        return kind

    def handle(self, original: Any, stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        _, service, operation = event_name.split(".")[:3]
        headers = {k.lower(): (v.decode() if isinstance(v, bytes) else v) for k, v in request.headers.items()}
        with self.lock:
            if self.active:  # the handlers' calls (the tests' own clients run outside `faults()`)
                self.attempts[f"{service}.{operation}"] += 1
                self.attempts_by_call[headers.get("amz-sdk-invocation-id", "")] += 1
                self.max_attempts_header.add(headers.get("amz-sdk-request", "").split("max=")[-1])
            if self.label is not None:
                self.calls.append((self.label, service, operation, _described(service, request)))
            kind = self._draw(service)
        url = request.url
        if kind == "throttle":
            code = "ProvisionedThroughputExceededException" if service == "dynamodb" else "ThrottlingException"
            return _error(url, 400, service, code)
        if kind == "server":
            return _error(url, 500, service, "InternalServerError" if service == "dynamodb" else "InternalFailure")
        if kind == "reset":
            raise ConnectionClosedError(endpoint_url=url)
        if kind == "timeout":
            raise ReadTimeoutError(endpoint_url=url)
        if service == "apigatewaymanagementapi" and urlsplit(url).path.rsplit("/", 1)[-1] in self.gone_connections:
            headers = {"x-amzn-ErrorType": "GoneException", "Content-Type": "application/json"}
            return AWSResponse(url, 410, headers, MockRawResponse(json.dumps({"message": "gone"})))
        if service == "sfn":
            response = self._step_functions(operation, request)
        elif service == "lambda" and operation.startswith("SendDurableExecutionCallback"):
            response = self._durable(operation, request)
        elif service == "dynamodb" and operation == "TransactWriteItems":
            response = self._transaction(original, stubber, event_name, request, **kwargs)
        else:
            response = original(stubber, event_name, request, **kwargs)
        if kind == "lost":
            raise ReadTimeoutError(endpoint_url=url)
        return response

    def _transaction(
        self, original: Any, stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any
    ) -> Any:
        token = json.loads(request.body).get("ClientRequestToken")
        with self.lock:
            if token and token in self._applied_transactions:
                return AWSResponse(request.url, 200, {}, MockRawResponse("{}"))
        response = original(stubber, event_name, request, **kwargs)
        if token and response is not None and response.status_code == 200:
            with self.lock:
                self._applied_transactions.add(token)
        return response

    def _step_functions(self, operation: str, request: Any) -> AWSResponse:
        call = {"operation": operation, **json.loads(request.body)}
        with self.lock:
            token = call["taskToken"]
            if self.sfn_accepted[token]:
                self.sfn_refused[token] += 1
                return _error(request.url, 400, "sfn", "TaskTimedOut")
            self.sfn_accepted[token].append(call)
        return AWSResponse(request.url, 200, {}, MockRawResponse("{}"))

    def _durable(self, operation: str, request: Any) -> AWSResponse:
        callback_id = _callback_id(request.url)
        with self.lock:
            if self.durable_accepted[callback_id]:
                body = json.dumps({"Type": "User", "message": "closed"})
                headers = {"x-amzn-ErrorType": "CallbackTimeoutException", "Content-Type": "application/json"}
                return AWSResponse(request.url, 400, headers, MockRawResponse(body))
            self.durable_accepted[callback_id].append(operation)
        return AWSResponse(request.url, 200, {}, MockRawResponse(""))


def _callback_id(url: str) -> str:
    """The callback id in /2025-12-01/durable-execution-callbacks/{CallbackId}/{succeed|fail}."""
    from urllib.parse import unquote

    return unquote(urlsplit(url).path.split("/durable-execution-callbacks/", 1)[1].rsplit("/", 1)[0])


class _NoSleep:
    """botocore's `time` module, as the endpoint sees it: retry backoffs are recorded, not slept."""

    def __init__(self, injector: FaultInjector) -> None:
        self._injector = injector

    def sleep(self, seconds: float) -> None:
        self._injector.sleeps.append(seconds)


def install(monkeypatch: pytest.MonkeyPatch, injector: FaultInjector) -> None:
    import botocore.endpoint

    original = BotocoreStubber.__call__

    def patched(stubber: BotocoreStubber, event_name: str, request: Any, **kwargs: Any) -> Any:
        if not stubber.enabled:
            return original(stubber, event_name, request, **kwargs)
        return injector.handle(original, stubber, event_name, request, **kwargs)

    monkeypatch.setattr(BotocoreStubber, "__call__", patched)
    monkeypatch.setattr(botocore.endpoint, "time", _NoSleep(injector))


def _described(service: str, request: Any) -> dict[str, Any]:
    """A request's parameters: the JSON body, or for S3 (whose body is the object) the key from the URL."""
    if service == "s3":
        path = urlsplit(request.url).path  # /<key> (virtual-hosted) or /<bucket>/<key> (path style)
        return {"Key": "outputs/" + path.split("/outputs/", 1)[1] if "/outputs/" in path else path}
    if "/durable-execution-callbacks/" in request.url:  # the body is the Result blob or the Error
        return {"CallbackId": _callback_id(request.url)}
    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return dict(json.loads(body or "{}"))
