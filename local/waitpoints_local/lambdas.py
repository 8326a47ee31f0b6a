"""Lambda functions hosted in-process, one module instance per concurrent "container", as Lambda runs them.

Each container imports the function's handler file afresh, so module-level state (the resolver, the logger
context) is never shared between requests running at the same time; the layer packages are shared, as
they would be across invocations of one container.
"""

from __future__ import annotations

import importlib.util
import itertools
import queue
import sys
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .template import Function

Handler = Callable[[dict[str, Any], Any], Any]
_MAX_CONTAINERS = 64


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


class LocalFunction:
    _serial = itertools.count()

    def __init__(self, function: Function) -> None:
        self.function = function
        module_name, _, self._attribute = function.handler.rpartition(".")
        self._path = function.code_dir / f"{module_name.replace('.', '/')}.py"
        self._idle: queue.LifoQueue[Handler] = queue.LifoQueue()
        self._created = 0
        self._lock = threading.Lock()

    def _new_container(self) -> Handler:
        name = f"waitpoints_fn_{self.function.logical_id}_{next(self._serial)}"
        spec = importlib.util.spec_from_file_location(name, self._path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
        handler: Handler = getattr(module, self._attribute)
        return handler

    def _acquire(self) -> Handler:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            pass
        with self._lock:
            start_new = self._created < _MAX_CONTAINERS
            if start_new:
                self._created += 1
        return self._new_container() if start_new else self._idle.get()

    def invoke(self, event: dict[str, Any]) -> Any:
        handler = self._acquire()
        try:
            return handler(event, LambdaContext(self.function.logical_id, str(uuid.uuid4())))
        finally:
            self._idle.put(handler)

    def warm(self) -> None:
        """Start one container now, so the first request does not pay for the imports."""
        with self._lock:
            self._created += 1
        self._idle.put(self._new_container())
