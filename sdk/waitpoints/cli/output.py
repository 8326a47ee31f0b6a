"""The terminal: data to stdout, messages to stderr, JSON rendering, and SDK exceptions → exit codes.

Markup, emoji and highlighting are off, so user data (tags, outputs) is never interpreted.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console, RenderableType
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from .. import (
    AuthenticationError,
    ConfigurationError,
    PermissionDeniedError,
    Token,
    TokenStatus,
    WaitpointRejectedError,
    WaitpointsError,
    WaitpointTimeoutError,
)
from .._types import format_seconds

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NOT_COMPLETED = 3
EXIT_AUTH = 4
EXIT_REJECTED = 5  # `tokens wait`: the token was rejected
EXIT_INTERRUPTED = 130

STATUS_STYLES = {
    TokenStatus.WAITING: "yellow",
    TokenStatus.COMPLETED: "green",
    TokenStatus.TIMED_OUT: "red",
    TokenStatus.REJECTED: "red",
}


def exit_code(error: BaseException) -> int:
    """The exit code for an error: 3 a wait that ended without completion, 5 a rejection, 4 auth,
    2 configuration, else 1."""
    if isinstance(error, WaitpointRejectedError):
        return EXIT_REJECTED
    if isinstance(error, WaitpointTimeoutError):
        return EXIT_NOT_COMPLETED
    if isinstance(error, AuthenticationError | PermissionDeniedError):
        return EXIT_AUTH
    if isinstance(error, ConfigurationError):
        return EXIT_USAGE
    return EXIT_FAILURE


class Output:
    """One pair of rich consoles for the whole run."""

    def __init__(self, color: bool | None = None) -> None:
        no_color = None if color is None else not color
        # Piped output must not be folded at 80 columns: URLs and ids are copied from it.
        stdout_width = None if sys.stdout.isatty() else 4096
        self.out = Console(
            highlight=False,
            markup=False,
            emoji=False,
            no_color=no_color,
            width=stdout_width,
            force_terminal=True if color else None,
            color_system=None if color is False else "auto",  # --no-color: no styles at all, bold included
            soft_wrap=False,
        )
        self.err = Console(
            stderr=True,
            highlight=False,
            markup=False,
            emoji=False,
            no_color=no_color,
            force_terminal=True if color else None,
            color_system=None if color is False else "auto",
            soft_wrap=True,
        )

    # --- data (stdout) ----------------------------------------------------------------------------

    def json(self, data: Any) -> None:
        """The API's JSON, compact, on one line."""
        sys.stdout.write(json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def line(self, text: str) -> None:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()

    def render(self, renderable: RenderableType) -> None:
        """A rich renderable, without the trailing spaces rich pads lines with."""
        with self.out.capture() as captured:
            self.out.print(renderable)
        sys.stdout.write("".join(line.rstrip(" ") + "\n" for line in captured.get().splitlines()))
        sys.stdout.flush()

    def fields(self, rows: Sequence[tuple[str, str | Text]]) -> None:
        """Aligned ``name  value`` lines; a value of several lines is indented under the first."""
        width = max((len(name) for name, _ in rows), default=0) + 2
        for name, value in rows:
            text = value if isinstance(value, Text) else Text(value)
            lines = text.split("\n", allow_blank=True)
            for index, line in enumerate(lines):
                label = Text(name.ljust(width), style="bold") if index == 0 else Text(" " * width)
                self.out.print(Text.assemble(label, line), soft_wrap=True)

    def token_table(self, tokens: Sequence[Token]) -> None:
        table = Table(box=None, pad_edge=False, header_style="bold", show_edge=False)
        for name in ("ID", "STATUS", "CREATED", "TIMES OUT / COMPLETED", "TAGS"):
            table.add_column(name, no_wrap=name != "TAGS", overflow="fold")
        for token in tokens:
            when = token.completed_at if token.is_final else token.timeout_at
            table.add_row(
                token.id, status_text(token.status), when_text(token.created_at), when_text(when), ", ".join(token.tags)
            )
        self.render(table)

    # --- messages (stderr) ------------------------------------------------------------------------

    def info(self, text: str) -> None:
        self.err.print(text)

    def success(self, text: str) -> None:
        self.err.print(Text(text, style="green"))

    def warning(self, text: str) -> None:
        self.err.print(Text(text, style="yellow"))

    def error(self, text: str) -> None:
        self.err.print(Text.assemble(("Error: ", "bold red"), text))

    def crash(self, error: BaseException) -> None:
        self.error(f"unexpected {type(error).__name__}: {error}")
        self.err.print("".join(traceback.format_exception(error)), style="dim")

    @contextmanager
    def waiting(self, label: str) -> Iterator[None]:
        """A spinner with the time waited so far, on an interactive stderr; nothing otherwise."""
        if not self.err.is_terminal:
            yield
            return
        started = time.monotonic()

        spinner = Spinner("dots", style="cyan")

        class Progress:
            def __rich__(self) -> RenderableType:
                grid = Table.grid(padding=(0, 1))
                grid.add_row(spinner, Text(f"{label} {format_seconds(time.monotonic() - started)}"))
                return grid

        with Live(Progress(), console=self.err, refresh_per_second=8, transient=True):
            yield


def status_text(status: TokenStatus) -> Text:
    return Text(status.value, style=STATUS_STYLES[status])


def when_text(value: datetime | None) -> str:
    if value is None:
        return "-"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")


def describe_error(error: WaitpointsError) -> str:
    """The message for an SDK error, with a hint where one helps. Never includes the key."""
    if isinstance(error, AuthenticationError):
        return f"{error} - check --secret-key / WAITPOINTS_SECRET_KEY"
    if isinstance(error, PermissionDeniedError):
        return f"{error} - this access token is for another token"
    return str(error)
