"""The local stack: emulated AWS + the template's functions behind an API Gateway-like HTTP server, with
the table's stream, the schedules and the Step Functions executor all running."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import boto3
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key

from . import emulator, stepfunctions
from .gateway import Binding, GatewayServer, Router
from .lambdas import ContainerPool
from .streams import Scheduler, StreamPoller
from .template import Template, resolve

DEV_ENV = "dev"
SCHEDULE_SECONDS = float(os.environ.get("WAITPOINTS_SCHEDULE_SECONDS", "2"))
# Cache lifetimes, taken from this environment when set (tests shorten them to see revocation and rotation), and
# the inline resume's budget (`make bench-resume` turns it off to time the stream alone).
_TUNABLE = ("WAITPOINTS_AUTH_CACHE_SECONDS", "WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", "WAITPOINTS_INLINE_RESUME_MS")


def tuning() -> dict[str, str]:
    return {name: os.environ[name] for name in _TUNABLE if name in os.environ}


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", port: int = 3000, state_dir: Path = Path(".waitpoints")) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.template = Template()
        self.functions: dict[str, ContainerPool] = {}
        self.refs: dict[str, object] = {}
        self._gateway: GatewayServer | None = None
        self._emulator: emulator.Emulator | None = None
        self._threads: list[StreamPoller | Scheduler] = []

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def env_file(self) -> Path:
        return self.state_dir / "local.env"

    def start(self) -> str:
        """Start everything; return the dev secret key."""
        self.env_file.unlink(missing_ok=True)
        self._emulator = emulator.start(self.template)
        self.refs = self._emulator.refs
        self._gateway = GatewayServer((self.host, self.port), Router([]))
        self.port = self._gateway.server_address[1]
        functions = self.template.functions()
        for function in functions:
            environment = {k: str(self._local_value(k, v)) for k, v in function.environment.items()}
            os.environ.update(environment)  # this process mints keys with the same settings
            self.functions[function.logical_id] = ContainerPool(
                function, {**emulator.fake_aws_environment(self._emulator.endpoint), **environment, **tuning()}
            )
        stepfunctions.start(self._emulator.endpoint, self.template, self.functions, self.refs)
        self._gateway.router = Router(
            [Binding.of(route, self.functions[f.logical_id]) for f in functions for route in f.routes]
        )
        for pool in self.functions.values():
            pool.warm()
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        for function in functions:
            pool = self.functions[function.logical_id]
            for source in function.streams:
                queue = self.refs.get(source.on_failure) if source.on_failure else None
                self._threads.append(StreamPoller(source, pool, str(self.refs[source.table]), queue))  # type: ignore[arg-type]
            self._threads += [Scheduler(pool, SCHEDULE_SECONDS) for _ in function.schedules]
        for thread in self._threads:
            thread.start()
        key = self.mint_key(DEV_ENV)
        self._write_env_file(key)
        return key

    def _local_value(self, name: str, value: object) -> object:
        if name == "WAITPOINTS_API_URL":  # the API's URL is this gateway's
            return self.url
        return resolve(value, self.refs, self.template.conditions)

    def mint_key(self, env: str) -> str:
        return mint_api_key(DynamoDBStore(boto3.client("dynamodb"), os.environ["WAITPOINTS_TABLE_NAME"]), env)

    def _write_env_file(self, key: str) -> None:
        assert self._emulator
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"WAITPOINTS_API_URL={self.url}",
            f"WAITPOINTS_SECRET_KEY={key}",
            f"AWS_ENDPOINT_URL={self._emulator.endpoint}",
            f"WAITPOINTS_TABLE_NAME={os.environ['WAITPOINTS_TABLE_NAME']}",
            f"WAITPOINTS_EXAMPLE_STATE_MACHINE_ARN={self.refs['ExampleStateMachine']}",
            f"WAITPOINTS_SIGNING_SECRET_ARN={os.environ['WAITPOINTS_SIGNING_SECRET_ARN']}",
        ]
        tmp = self.env_file.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.env_file)

    def stop(self) -> None:
        for thread in self._threads:
            thread.stop()
        deadline = time.monotonic() + 5  # let an in-flight sweep or stream delivery finish, within one deadline
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        if self._gateway:
            self._gateway.shutdown()
            self._gateway.server_close()
        for pool in self.functions.values():
            pool.stop()
        if self._emulator:
            self._emulator.stop()
        self.env_file.unlink(missing_ok=True)
