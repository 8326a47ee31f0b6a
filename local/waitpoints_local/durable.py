"""Lambda durable functions, locally: AWS's own local durable-execution runner (the
`aws-durable-execution-sdk-python-testing` package) served over HTTP on a free loopback port, running the
template's durable functions in this process.

The runner's in-process executor (the one `DurableFunctionTestRunner` builds, which runs handlers without a
Lambda Invoke endpoint) is handed to the package's `WebServer`, served on a thread. Over that endpoint boto3's
`lambda` client works as against Lambda: `send_durable_execution_callback_success|failure|heartbeat`,
`get_durable_execution`, `get_durable_execution_history`, `list_durable_executions_by_function`; plus the
runner's own `POST /start-durable-execution`.

The stock server answers errors with a JSON body `{"Type": "ResourceNotFoundException", ...}` and no
`x-amzn-ErrorType` header, so botocore names them by status code ('404'). `_AwsErrorHeaders` copies `Type`
into the header, so botocore raises the named exception as it would against AWS.

    runner = LocalDurableRunner.for_template(Template())   # or LocalDurableRunner({"Name": handler})
    runner.start()                                          # -> endpoint_url
    arn = runner.start_execution("ExampleDurableFunction", {"approver": "ops@example.com"})
    boto3.client("lambda", endpoint_url=runner.endpoint_url).get_durable_execution(DurableExecutionArn=arn)
    runner.stop()
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .template import Template

Handler = Callable[[Any, Any], Any]
DEFAULT_EXECUTION_TIMEOUT = 3600  # seconds; DurableConfig.ExecutionTimeout when the template gives one
_ACCOUNT = "123456789012"


def durable_functions(template: Template) -> dict[str, int]:
    """The template's durable functions: logical id → DurableConfig.ExecutionTimeout."""
    return {
        lid: int(props["DurableConfig"].get("ExecutionTimeout", DEFAULT_EXECUTION_TIMEOUT))
        for lid, props in template.resources_of_type("AWS::Serverless::Function").items()
        if "DurableConfig" in props
    }


def load_extra_functions(spec: str) -> dict[str, Handler]:
    """`Name=path/to/file.py:handler;Other=...` (WAITPOINTS_LOCAL_DURABLE_FUNCTIONS): your own durable functions,
    run by the local stack's runner beside the template's."""
    import importlib.util
    import sys
    from pathlib import Path

    functions: dict[str, Handler] = {}
    for entry in filter(None, (part.strip() for part in spec.split(";"))):
        name, _, target = entry.partition("=")
        path, _, attribute = target.rpartition(":")
        module_name = f"waitpoints_durable_{name}"
        loader_spec = importlib.util.spec_from_file_location(module_name, Path(path))
        if not (name and attribute and loader_spec and loader_spec.loader):
            raise ValueError(f"WAITPOINTS_LOCAL_DURABLE_FUNCTIONS: expected Name=file.py:handler, got {entry!r}")
        module = importlib.util.module_from_spec(loader_spec)
        sys.modules[module_name] = module
        loader_spec.loader.exec_module(module)
        functions[name] = getattr(module, attribute)
    return functions


def _unknown_function(event: Any, context: Any) -> Any:
    raise LookupError("no durable function of that name is registered with the local durable runner")


class LocalDurableRunner:
    """AWS's local durable runner on http://127.0.0.1:<free port>, with `functions` (name → the
    `@durable_execution` handler) registered under their name and under `waitpoints-<name>` (the name the
    local stack gives functions)."""

    def __init__(
        self,
        functions: Mapping[str, Handler] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        skip_time: bool = False,
        timeouts: Mapping[str, int] | None = None,
    ) -> None:
        self._functions = dict(functions or {})
        self._timeouts = dict(timeouts or {})
        self._host, self._port, self._skip_time = host, port, skip_time
        self._runner: Any = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    @classmethod
    def for_template(cls, template: Template, **options: Any) -> LocalDurableRunner:
        """The template's functions with a DurableConfig, each handler loaded from its CodeUri."""
        from .lambdas import load_handler

        durable = durable_functions(template)
        handlers = {f.logical_id: load_handler(f) for f in template.functions() if f.logical_id in durable}
        return cls(handlers, timeouts=durable, **options)

    @property
    def endpoint_url(self) -> str:
        if self._server is None:
            raise RuntimeError("the local durable runner is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> str:
        """Start the runner and serve it; return its endpoint URL."""
        from aws_durable_execution_sdk_python_testing import DurableFunctionTestRunner
        from aws_durable_execution_sdk_python_testing.web.server import WebServer, WebServiceConfig

        if self._server is not None:
            return self.endpoint_url
        self._runner = DurableFunctionTestRunner(_unknown_function, skip_time=self._skip_time)
        for name, handler in self._functions.items():
            for alias in (name, f"waitpoints-{name}"):
                self._runner._invoker.register(alias, handler)
        config = WebServiceConfig(host=self._host, port=self._port, log_level=logging.WARNING)
        self._server = WebServer(config, executor=self._runner._executor)
        self._server.RequestHandlerClass = _aws_error_headers(self._server.RequestHandlerClass)
        self._server.daemon_threads = True
        logging.getLogger("aws_durable_execution_sdk_python_testing.web.server").setLevel(logging.CRITICAL)
        self._thread = threading.Thread(target=self._server.serve_forever, name="durable-runner", daemon=True)
        self._thread.start()
        return self.endpoint_url

    def stop(self) -> None:
        """Stop serving and shut the runner down. Safe to call twice."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
        if self._runner is not None:
            self._runner.close()
            self._runner = None

    def register(self, name: str, handler: Handler) -> None:
        """Add a durable function (under `name` and `waitpoints-<name>`), before or after `start`."""
        self._functions[name] = handler
        if self._runner is not None:
            for alias in (name, f"waitpoints-{name}"):
                self._runner._invoker.register(alias, handler)

    def __enter__(self) -> LocalDurableRunner:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def client(self, **options: Any) -> Any:
        """A boto3 `lambda` client for this runner (fake credentials, no retries unless asked)."""
        import boto3
        from botocore.config import Config

        return boto3.client(
            "lambda",
            endpoint_url=self.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=options.pop("config", Config(retries={"max_attempts": 1, "mode": "standard"})),
            **options,
        )

    def start_execution(
        self, function: str, payload: Any = None, *, name: str | None = None, timeout_seconds: int | None = None
    ) -> str:
        """Start a durable execution of a registered function (what Lambda does on an Invoke of a durable
        function's qualified ARN); return its execution ARN (a local, opaque shape)."""
        if self._runner is None:
            raise RuntimeError("the local durable runner is not started")
        timeout = timeout_seconds or self._timeouts.get(function, DEFAULT_EXECUTION_TIMEOUT)
        return str(
            self._runner.run_async(
                input=None if payload is None else json.dumps(payload),
                execution_timeout=timeout,
                function_name=function,
                execution_name=name or f"{function}-{uuid.uuid4().hex[:12]}",
                account_id=_ACCOUNT,
            )
        )

    def wait_for_callback(self, execution_arn: str, name: str | None = None, timeout: int = 30) -> str:
        """The id of the execution's open callback once it is created: the one `create_callback(name)` or
        `wait_for_callback(..., name=name)` made, or the latest when `name` is None."""
        assert self._runner is not None
        self._runner.poll_interval = 0.05
        # wait_for_callback(name=N) names its callback "N create callback id" (the SDK's wait_for_callback_handler)
        label = None if name is None else f"{name} create callback id"
        return str(self._runner.wait_for_callback(execution_arn, name=label, timeout=timeout))

    def wait_for_result(self, execution_arn: str, timeout: int = 60) -> Any:
        """The finished execution: a DurableFunctionTestResult (status, result as JSON text, error)."""
        assert self._runner is not None
        return self._runner.wait_for_result(execution_arn, timeout=timeout)


def _aws_error_headers(base: type) -> type:
    """The server's request handler, answering errors with `x-amzn-ErrorType: <Type>` as Lambda does."""

    class _AwsErrorHeaders(base):  # type: ignore[misc]
        def _send_response(self, response: Any) -> None:
            if response.status_code >= 400 and isinstance(response.body, dict):
                kind = response.body.get("Type") or response.body.get("__type")
                if kind and "x-amzn-ErrorType" not in response.headers:
                    response.headers["x-amzn-ErrorType"] = str(kind)
            super()._send_response(response)

        def log_message(self, format_string: str, *args: Any) -> None:  # one line per request is noise here
            return

    return _AwsErrorHeaders
