"""Lambda functions run locally, with Lambda's isolation: one invocation at a time per container.

`ContainerPool` (what the local stack serves with) runs each container in its own worker process, forked
from a forkserver that has already imported boto3, Powertools and the core, so a new container starts in
milliseconds and module state is never shared between concurrent requests, exactly as on Lambda (this
matters: Powertools keeps the current event on the resolver class). `LocalFunction` runs one container
in this process, for tests that use in-process moto.
"""

from __future__ import annotations

import base64
import contextlib
import importlib.util
import itertools
import json
import multiprocessing
import os
import queue
import signal
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

    from .template import Function

Handler = Callable[[dict[str, Any], Any], Any]
MAX_CONTAINERS = 16
# Lambda's invocation payload quotas: 6 MB for a synchronous request and response, 256 KB for an asynchronous
# event (bytes of the JSON Lambda receives or returns). The pool enforces them, so what is too large on AWS is
# too large locally too: the gateway answers 413 for the request and 502 for the response, as API Gateway does.
SYNC_PAYLOAD_LIMIT = 6 * 1024 * 1024
ASYNC_PAYLOAD_LIMIT = 256 * 1024
_START_TIMEOUT_SECONDS = 30
_serial = itertools.count()


@dataclass
class LambdaContext:
    function_name: str
    aws_request_id: str
    memory_limit_in_mb: int = 256
    function_version: str = "$LATEST"
    log_group_name: str = "local"
    log_stream_name: str = "local"

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:us-east-1:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return 10_000


def payload_size(value: Any) -> int:
    """An event's size as Lambda counts it: JSON, binary attributes (a stream record's B and BS) in base64."""
    return len(json.dumps(value, default=_base64).encode())


def _base64(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


class InvocationError(Exception):
    """Raised when the handler raised (a Lambda "function error"), with what Lambda would report."""

    def __init__(self, error_type: str, message: str, trace: str = "") -> None:
        super().__init__(f"{error_type}: {message}\n{trace}")
        self.error_type, self.message = error_type, message

    def payload(self) -> dict[str, str]:
        """The function-error payload Lambda returns to its caller (Step Functions names the error after it)."""
        return {"errorType": self.error_type, "errorMessage": self.message}


class RequestTooLarge(InvocationError):
    """The event is over the invocation's payload limit: Lambda refuses it before any container runs."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(
            "RequestEntityTooLargeException", f"Request must be smaller than {limit} bytes for the invoke; got {size}"
        )


class ResponseTooLarge(InvocationError):
    """The handler's response is over 6 MB: Lambda reports a function error instead of returning it."""

    def __init__(self, size: int) -> None:
        super().__init__(
            "Function.ResponseSizeTooLarge",
            f"Response payload size ({size} bytes) exceeded maximum allowed payload size ({SYNC_PAYLOAD_LIMIT} bytes).",
        )


def check_request(event: Any, limit: int = SYNC_PAYLOAD_LIMIT) -> None:
    size = payload_size(event)
    if size > limit:
        raise RequestTooLarge(size, limit)


def check_response(result: Any) -> Any:
    size = payload_size(result)
    if size > SYNC_PAYLOAD_LIMIT:
        raise ResponseTooLarge(size)
    return result


def load_handler(function: Function) -> Handler:
    """Import the function's handler file as a fresh module (several functions all have an `app.py`)."""
    module_name, _, attribute = function.handler.rpartition(".")
    path = function.code_dir / f"{module_name.replace('.', '/')}.py"
    name = f"waitpoints_fn_{function.logical_id}_{next(_serial)}"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    handler: Handler = getattr(module, attribute)
    return handler


def _invoke(handler: Handler, function: Function, event: dict[str, Any]) -> Any:
    return handler(event, LambdaContext(function.logical_id, str(uuid.uuid4())))


class LocalFunction:
    """One container in this process; concurrent callers take turns."""

    def __init__(self, function: Function) -> None:
        self.function = function
        self._handler = load_handler(function)
        self._lock = threading.Lock()

    def invoke(self, event: dict[str, Any]) -> Any:
        with self._lock:
            return _invoke(self._handler, self.function, event)

    def invoke_checked(self, event: dict[str, Any], limit: int = SYNC_PAYLOAD_LIMIT) -> Any:
        """invoke, with Lambda's payload quotas (what the local stack's pools always apply)."""
        check_request(event, limit)
        return check_response(self.invoke(event))


def _serve(conn: Connection, function: Function, environment: dict[str, str]) -> None:
    """A container's main loop, in its worker process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the stack stops its containers itself
    os.environ.update(environment)
    handler = load_handler(function)
    conn.send(("ready", None))
    while True:
        try:
            event = conn.recv()
        except (EOFError, OSError):
            return
        try:
            conn.send(("ok", _invoke(handler, function, event)))
        except Exception as exc:
            conn.send(("error", (type(exc).__name__, str(exc), traceback.format_exc())))


class _Container:
    dead = False

    def __init__(self, context: Any, function: Function, environment: dict[str, str]) -> None:
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=_serve, args=(child, function, environment), daemon=True, name=f"lambda-{function.logical_id}"
        )
        self.process.start()
        child.close()
        if not self._conn.poll(_START_TIMEOUT_SECONDS):  # e.g. the forkserver died (Ctrl-C) mid-start
            self.stop()
            raise InvocationError("ContainerStartTimeout", f"no container within {_START_TIMEOUT_SECONDS} s")
        kind, detail = self._conn.recv()
        if kind != "ready":
            raise InvocationError(*detail)
        # Opt-in (fault tests, the soak run): one file per live container, named <function>.<pid>.
        self._pid_file: str | None = None
        directory = os.environ.get("WAITPOINTS_CONTAINER_DIR")
        if directory:
            os.makedirs(directory, exist_ok=True)
            self._pid_file = os.path.join(directory, f"{function.logical_id}.{self.process.pid}")
            open(self._pid_file, "w").close()

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            self._conn.send(event)
            kind, result = self._conn.recv()
        except (EOFError, OSError) as exc:  # the worker process died mid-invocation (killed, out of memory)
            self.dead = True
            raise InvocationError(
                "Runtime.ExitError", f"RequestId: local Error: Runtime exited (exit code {self.process.exitcode})"
            ) from exc
        if kind == "error":
            raise InvocationError(*result)
        return result

    def stop(self) -> None:
        """Ask the worker process to end (join it afterwards: stopping many at once is then one wait)."""
        self._conn.close()
        self.process.terminate()
        if self._pid_file:
            with contextlib.suppress(OSError):
                os.remove(self._pid_file)


class ContainerPool:
    """Containers of one function in worker processes: an idle one serves, else a new one starts (a cold
    start), up to MAX_CONTAINERS; beyond that, requests wait for a container to free up."""

    _context: Any = None

    def __init__(self, function: Function, environment: dict[str, str]) -> None:
        self.function = function
        self._environment = environment
        self._idle: queue.LifoQueue[_Container] = queue.LifoQueue()
        self._all: list[_Container] = []
        self._starting = 0
        self._stopped = False
        self._lock = threading.Lock()  # guards the counts only: a container starts outside it

    @classmethod
    def _mp(cls) -> Any:
        if cls._context is None:
            cls._context = multiprocessing.get_context("forkserver")
            cls._context.set_forkserver_preload(["waitpoints_local.preload"])
        return cls._context

    def _start_container(self) -> _Container | None:
        with self._lock:
            if self._stopped or len(self._all) + self._starting >= MAX_CONTAINERS:
                return None
            self._starting += 1
        try:
            container = _Container(self._mp(), self.function, self._environment)
        finally:
            with self._lock:
                self._starting -= 1
        with self._lock:
            self._all.append(container)
            stopped = self._stopped
        if stopped:
            container.stop()
        return container

    def invoke(self, event: dict[str, Any], *, asynchronous: bool = False) -> Any:
        """Run one invocation, with Lambda's payload quotas (an asynchronous event: 256 KB, its result dropped)."""
        check_request(event, ASYNC_PAYLOAD_LIMIT if asynchronous else SYNC_PAYLOAD_LIMIT)
        result = self._invoke(event)
        return None if asynchronous else check_response(result)

    def _invoke(self, event: dict[str, Any]) -> Any:
        try:
            container = self._idle.get_nowait()
        except queue.Empty:
            container = self._start_container() or self._idle.get()
        try:
            return container.invoke(event)
        finally:
            if container.dead:  # as on Lambda, the next invocation gets a fresh container (a cold start)
                with self._lock:
                    if container in self._all:
                        self._all.remove(container)
                container.stop()
            else:
                self._idle.put(container)

    def worker_pids(self) -> list[int]:
        """The process ids of this function's containers (what a fault test kills, what a soak run measures)."""
        with self._lock:
            return [c.process.pid for c in self._all if c.process.pid is not None and not c.dead]

    def warm(self) -> None:
        container = self._start_container()
        if container:
            self._idle.put(container)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            containers, self._all = self._all, []
        for container in containers:
            container.stop()
        for container in containers:
            container.process.join(timeout=5)
