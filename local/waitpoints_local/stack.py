"""The local stack: emulated AWS + the template's functions behind an API Gateway-like HTTP server, with
the table's stream, the schedules, the Step Functions executor and AWS's local durable-execution runner (the
template's durable functions, resumed by the stack over boto3 at WAITPOINTS_DURABLE_ENDPOINT) all running."""

from __future__ import annotations

import errno
import fcntl
import os
import threading
import time
from pathlib import Path
from typing import IO

import boto3
from waitpoints_core.dynamodb import DynamoDBStore
from waitpoints_core.services.auth import mint_api_key

from . import emulator, stepfunctions
from .durable import LocalDurableRunner, load_extra_functions
from .gateway import Binding, GatewayServer, Router
from .lambdas import ContainerPool
from .streams import Scheduler, StreamPoller
from .template import Template, resolve
from .websocket import WebSocketGateway

DEV_ENV = "dev"
SCHEDULE_SECONDS = float(os.environ.get("WAITPOINTS_SCHEDULE_SECONDS", "2"))
# List shards of each environment minted on this stack (64 on AWS: docs/scale.md). moto serves one request at a
# time and a list page queries every shard, so fewer keep pages fast here while still exercising the merge.
NEW_ENVIRONMENT_SHARDS = int(os.environ.get("WAITPOINTS_DEFAULT_SHARDS", "4"))
# Cache lifetimes, taken from this environment when set (tests shorten them to see revocation and rotation), and
# the inline resume's budget (`make bench-resume` turns it off to time the stream alone).
_TUNABLE = ("WAITPOINTS_AUTH_CACHE_SECONDS", "WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", "WAITPOINTS_INLINE_RESUME_MS")


def tuning() -> dict[str, str]:
    return {name: os.environ[name] for name in _TUNABLE if name in os.environ}


class StackBusy(Exception):
    """The local stack cannot start: its port or its state directory is in use. The message is one line."""


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", port: int = 3000, state_dir: Path = Path(".waitpoints")) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.template = Template()
        self.functions: dict[str, ContainerPool] = {}
        self.refs: dict[str, object] = {}
        self._gateway: GatewayServer | None = None
        self._emulator: emulator.Emulator | None = None
        self._threads: list[StreamPoller | Scheduler] = []
        self._lock: IO[str] | None = None  # held while this stack owns state_dir (and so its local.env)
        self._serving = False
        self._ws: WebSocketGateway | None = None
        self.durable: LocalDurableRunner | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def ws_url(self) -> str:
        """The WebSocket API's URL (ws://127.0.0.1:<port>/local): real-time subscriptions (docs/realtime.md)."""
        assert self._ws, "start() first"
        return self._ws.url

    @property
    def env_file(self) -> Path:
        return self.state_dir / "local.env"

    def start(self) -> str:
        """Start everything; return the dev secret key. StackBusy, before anything is touched, when another
        stack holds the state directory or the port is taken: a second `make run` leaves the first alone."""
        self._claim_state_dir()
        try:
            self._gateway = GatewayServer((self.host, self.port), Router([]))
        except OSError as error:
            self._release_state_dir()
            if error.errno in (errno.EADDRINUSE, errno.EACCES, errno.EADDRNOTAVAIL):
                raise StackBusy(
                    f"error: cannot listen on {self.host}:{self.port} ({error.strerror}); is another `make run` "
                    "serving there? Stop it, or choose another port: make run WAITPOINTS_PORT=3001"
                ) from None
            raise
        self.port = self._gateway.server_address[1]
        self.env_file.unlink(missing_ok=True)  # a stale file of a stack that died: this stack owns the directory
        self._emulator = emulator.start(self.template)
        self.refs = self._emulator.refs
        # The WebSocket gateway first: the functions' environments name its @connections endpoint. Its invoke
        # looks the realtime function's pool up when a client arrives (the pools are made below).
        self._ws = WebSocketGateway(
            lambda event: self.functions["RealtimeFunction"].invoke(event),  # noqa: PLW0108 - not made yet
            host=self.host,
            port=int(os.environ.get("WAITPOINTS_WS_PORT", "0")),
        ).start()
        functions = self.template.functions()
        durable = self._start_durable_runner()
        tuned = tuning()  # read before the template's values are copied into this process's environment, below
        for function in functions:
            environment = {k: str(self._local_value(k, v)) for k, v in function.environment.items()}
            if function.logical_id == "RealtimeFunction":  # on AWS it reads the endpoint from its event
                environment.setdefault("WAITPOINTS_WS_MANAGEMENT_URL", self._ws.management_url)
            environment.update(tuned)
            os.environ.update(environment)  # this process mints keys with the same settings
            self.functions[function.logical_id] = ContainerPool(
                function, {**emulator.fake_aws_environment(self._emulator.endpoint), **environment, **durable}
            )
        stepfunctions.start(self._emulator.endpoint, self.template, self.functions, self.refs)
        self._gateway.router = Router(
            [Binding.of(route, self.functions[f.logical_id]) for f in functions for route in f.routes]
        )
        for pool in self.functions.values():
            pool.warm()
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        self._serving = True
        for function in functions:
            pool = self.functions[function.logical_id]
            for source in function.streams:
                queue = self.refs.get(source.on_failure) if source.on_failure else None
                self._threads.append(StreamPoller(source, pool, str(self.refs[source.table]), queue))  # type: ignore[arg-type]
            self._threads += [Scheduler(pool, SCHEDULE_SECONDS) for _ in function.schedules]
        for thread in self._threads:
            thread.start()
        self._store().set_new_environment_shards(NEW_ENVIRONMENT_SHARDS)
        key = self.mint_key(DEV_ENV)
        self._write_env_file(key)
        return key

    def _claim_state_dir(self) -> None:
        """An exclusive lock on state_dir/run.lock for this process's life (the OS drops it if the process dies)."""
        self.state_dir.mkdir(parents=True, exist_ok=True)
        lock = (self.state_dir / "run.lock").open("a+")
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.seek(0)
            owner = lock.read().strip() or "?"
            lock.close()
            raise StackBusy(
                f"error: another local stack (pid {owner}) is running with {self.state_dir}; stop it first, or "
                "give this one its own WAITPOINTS_STATE_DIR and WAITPOINTS_PORT"
            ) from None
        lock.truncate(0)
        lock.write(f"{os.getpid()}\n")
        lock.flush()
        self._lock = lock

    def _release_state_dir(self) -> None:
        if self._lock is not None:
            self._lock.close()  # closing the file releases the lock
            self._lock = None

    def _start_durable_runner(self) -> dict[str, str]:
        """The template's durable functions on AWS's local runner (in this process: their IAM invokes reach the
        containers through the emulated Lambda); returns what the functions need to resume them."""
        try:
            self.durable = LocalDurableRunner.for_template(self.template)
            for name, handler in load_extra_functions(os.environ.get("WAITPOINTS_LOCAL_DURABLE_FUNCTIONS", "")).items():
                self.durable.register(name, handler)
            endpoint = self.durable.start()
        except ImportError:  # the durable execution SDKs are not installed: the rest of the stack still runs
            self.durable = None
            return {}
        return {"WAITPOINTS_DURABLE_ENDPOINT": endpoint}

    def _local_value(self, name: str, value: object) -> object:
        if name == "WAITPOINTS_API_URL":  # the API's URL is this gateway's
            return self.url
        if name == "WAITPOINTS_WS_MANAGEMENT_URL" and self._ws:  # the WebSocket gateway's @connections endpoint
            return self._ws.management_url
        if name == "WAITPOINTS_WS_URL" and self._ws:  # the console's live updates: this WebSocket gateway
            return self._ws.url
        return resolve(value, self.refs, self.template.conditions)

    def mint_key(self, env: str) -> str:
        return mint_api_key(self._store(), env)

    @staticmethod
    def _store() -> DynamoDBStore:
        return DynamoDBStore(boto3.client("dynamodb"), os.environ["WAITPOINTS_TABLE_NAME"])

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
            f"WAITPOINTS_WS_URL={self.ws_url}",
        ]
        if self.durable is not None:  # start an execution there, watch it with boto3's lambda client
            lines += [
                f"WAITPOINTS_DURABLE_ENDPOINT={self.durable.endpoint_url}",
                "WAITPOINTS_EXAMPLE_DURABLE_FUNCTION=waitpoints-ExampleDurableFunction",
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
        if self._ws:
            self._ws.stop()
        if self._gateway:
            if self._serving:  # shutdown() waits for serve_forever, which a failed start never ran
                self._gateway.shutdown()
            self._gateway.server_close()
        for pool in self.functions.values():
            pool.stop()
        if self.durable:
            self.durable.stop()
        if self._emulator:
            self._emulator.stop()
        if self._lock is not None:  # only the stack that owns the directory removes its local.env
            self.env_file.unlink(missing_ok=True)
            self._release_state_dir()
