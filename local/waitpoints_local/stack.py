"""The local stack: emulated AWS + the template's functions behind an API Gateway-like HTTP server."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import boto3

from waitpoints_core import DynamoDBStore, mint_api_key

from . import emulator
from .gateway import Binding, GatewayServer, Router
from .lambdas import ContainerPool
from .template import Template, resolve

DEV_ENV = "dev"


class LocalStack:
    def __init__(self, host: str = "127.0.0.1", port: int = 3000, state_dir: Path = Path(".waitpoints")) -> None:
        self.host, self.port, self.state_dir = host, port, state_dir
        self.template = Template()
        self.functions: dict[str, ContainerPool] = {}
        self._gateway: GatewayServer | None = None
        self._emulator: emulator.Emulator | None = None

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
        bindings = []
        for function in self.template.functions():
            environment = {k: str(resolve(v, self._emulator.refs)) for k, v in function.environment.items()}
            os.environ.update(environment)  # this process mints keys with the same settings
            pool = ContainerPool(function, {**emulator.fake_aws_environment(self._emulator.endpoint), **environment})
            self.functions[function.logical_id] = pool
            bindings += [Binding.of(route, pool) for route in function.routes]
        self._gateway = GatewayServer((self.host, self.port), Router(bindings))
        self.port = self._gateway.server_address[1]
        for local in self.functions.values():
            local.warm()
        threading.Thread(target=self._gateway.serve_forever, name="gateway", daemon=True).start()
        key = self.mint_key(DEV_ENV)
        self._write_env_file(key)
        return key

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
        ]
        tmp = self.env_file.with_suffix(".tmp")
        tmp.write_text("\n".join(lines) + "\n")
        tmp.chmod(0o600)
        tmp.replace(self.env_file)

    def stop(self) -> None:
        if self._gateway:
            self._gateway.shutdown()
            self._gateway.server_close()
        for pool in self.functions.values():
            pool.stop()
        if self._emulator:
            self._emulator.stop()
        self.env_file.unlink(missing_ok=True)
