"""Lambda functions run locally, with Lambda's isolation: one invocation at a time per container.

`ContainerPool` (what the local stack serves with) runs each container in its own worker process, forked
from a forkserver that has already imported boto3, Powertools and the core, so a new container starts in
milliseconds and module state is never shared between concurrent requests, exactly as on Lambda (this
matters: Powertools keeps the current event on the resolver class). `LocalFunction` runs one container
in this process, for tests that use in-process moto.
"""

from __future__ import annotations

import importlib.util
import itertools
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


class InvocationError(Exception):
    """Raised when the handler raised (a Lambda "function error"), with what Lambda would report."""

    def __init__(self, error_type: str, message: str, trace: str = "") -> None:
        super().__init__(f"{error_type}: {message}\n{trace}")
        self.error_type, self.message = error_type, message

    def payload(self) -> dict[str, str]:
        """The function-error payload Lambda returns to its caller (Step Functions names the error after it)."""
        return {"errorType": self.error_type, "errorMessage": self.message}


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

    def invoke(self, event: dict[str, Any]) -> Any:
        self._conn.send(event)
        kind, result = self._conn.recv()
        if kind == "error":
            raise InvocationError(*result)
        return result

    def stop(self) -> None:
        """Ask the worker process to end (join it afterwards: stopping many at once is then one wait)."""
        self._conn.close()
        self.process.terminate()


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

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            container = self._idle.get_nowait()
        except queue.Empty:
            container = self._start_container() or self._idle.get()
        try:
            return container.invoke(event)
        finally:
            self._idle.put(container)

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
