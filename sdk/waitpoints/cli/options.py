"""Options shared by the commands that call the API, and the client they build."""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from .. import ENV_API_URL, ENV_SECRET_KEY, Client, ConfigurationError

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:  # click's ParamType is generic in its stubs (8.2+), not at runtime in older releases
    _SecondsParam = click.ParamType[float]
    _InstantParam = click.ParamType[datetime | int]
else:
    _SecondsParam = _InstantParam = click.ParamType

ENV_STATE_DIR = "WAITPOINTS_STATE_DIR"
ENV_WS_URL = "WAITPOINTS_WS_URL"
_DURATION = re.compile(r"(\d+)(w|d|hr|h|m|s)")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "hr": 3600, "h": 3600, "m": 60, "s": 1}


def api_options(command: F) -> F:
    """``--api-url`` and ``--secret-key``, each with its environment variable."""
    command = click.option(
        "--secret-key",
        metavar="KEY",
        envvar=ENV_SECRET_KEY,
        show_envvar=True,
        help="A secret key (wp_<env>_...), or for 'complete' a token's public access token. Never printed.",
    )(command)
    return click.option(
        "--api-url",
        metavar="URL",
        envvar=ENV_API_URL,
        show_envvar=True,
        help="The API's base URL. Without this and --secret-key, .waitpoints/local.env (written by "
        "'waitpoints dev' or 'make run') is read from the current directory.",
    )(command)


def json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print the API's JSON instead of a table.")(command)


def local_env_file() -> Path:
    return Path(os.environ.get(ENV_STATE_DIR) or ".waitpoints") / "local.env"


def make_client(api_url: str | None, secret_key: str | None, ws_url: str | None = None) -> Client:
    """A client from the options; when neither is given, from the local stack's local.env (its WebSocket URL
    too: `tokens wait` and `tokens watch` subscribe when they can)."""
    if not api_url and not secret_key:
        env_file = local_env_file()
        if env_file.is_file():
            values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line)
            api_url, secret_key = values.get(ENV_API_URL), values.get(ENV_SECRET_KEY)
            ws_url = ws_url or values.get(ENV_WS_URL)
    if not api_url:
        raise ConfigurationError(f"No API URL: pass --api-url or set {ENV_API_URL} (or start 'waitpoints dev')")
    if not secret_key:
        raise ConfigurationError(f"No secret key: pass --secret-key or set {ENV_SECRET_KEY}")
    return Client(api_url, secret_key, ws_url=ws_url)


def parse_seconds(text: str) -> float:
    """A CLI duration: ``90``, ``2.5``, ``90s``, ``10m``, ``1h30m``, ``2d`` → seconds."""
    text = text.strip()
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        if value < 0:
            raise ValueError("must not be negative")
        return value
    position, total = 0, 0
    for match in _DURATION.finditer(text):
        if match.start() != position:
            break
        total += int(match.group(1)) * _UNIT_SECONDS[match.group(2)]
        position = match.end()
    if position != len(text) or not text:
        raise ValueError(f"'{text}' is not a duration such as 30, 30s, 10m or 1h30m")
    return float(total)


class Duration(_SecondsParam):
    """A length of time in seconds: ``30``, ``30s``, ``10m``, ``1h30m``."""

    name = "duration"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        if isinstance(value, int | float):
            return float(value)
        try:
            return parse_seconds(str(value))
        except ValueError as error:
            self.fail(str(error), param, ctx)


class Instant(_InstantParam):
    """An ISO 8601 date-time (no offset means UTC) or epoch milliseconds."""

    name = "datetime"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime | int:
        if isinstance(value, datetime | int):
            return value
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"'{text}' is neither an ISO 8601 date-time nor epoch milliseconds", param, ctx)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def human_delta(seconds: float) -> str:
    """``in 9m58s`` / ``5s ago``."""
    from .._types import format_seconds

    return f"in {format_seconds(seconds)}" if seconds >= 0 else f"{format_seconds(-seconds)} ago"


def until(moment: datetime) -> float:
    return (moment - datetime.now(UTC)) / timedelta(seconds=1)
