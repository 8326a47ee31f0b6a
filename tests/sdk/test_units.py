"""The SDK's pure pieces: the polling generator, duration and date formatting, the retry schedule,
the wait module's default client, the public surface, and the CLI's parsers and exit codes."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import waitpoints
from waitpoints import Token, TokenStatus, WaitResult, WaitTimeoutError, wait
from waitpoints._base import format_instant, format_timeout
from waitpoints._config import RetryPolicy, server_hint
from waitpoints._polling import FETCH, poll
from waitpoints._types import Token as WireToken

from .wire import API, KEY, TOKEN_ID, Recorder, ok, token

REPO = Path(__file__).resolve().parents[2]
SITE_PACKAGES = [p for p in sys.path if p.endswith("site-packages")]  # click, httpx, rich without the .pth files


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def waiting(timeout_at: datetime | None = None) -> Token:
    body = token(timeoutAt=(timeout_at or datetime.now(UTC) + timedelta(hours=1)).isoformat())
    return WireToken.from_wire(body)


def drive(steps: object, reads: list[Token], clock: Clock) -> tuple[WaitResult[object], list[float]]:
    """Run a poll generator: answer FETCH from `reads`, advance the fake clock on each sleep."""
    sleeps: list[float] = []
    gen = steps
    step = next(gen)  # type: ignore[call-overload]
    try:
        while True:
            if step is FETCH:
                step = gen.send(reads.pop(0))  # type: ignore[attr-defined]
            else:
                sleeps.append(step)
                clock.now += step
                step = next(gen)  # type: ignore[call-overload]
    except StopIteration as done:
        return done.value, sleeps


# --- polling --------------------------------------------------------------------------------------


def test_poll_backs_off_to_the_interval_and_stops_at_the_final_token() -> None:
    clock = Clock()
    done = WireToken.from_wire(token(status="COMPLETED", output="yes", outputType="text/plain"))
    result, sleeps = drive(poll(poll_interval=2, timeout=None, monotonic=clock), [waiting()] * 6 + [done], clock)
    assert result.ok and result.output == "yes"
    assert sleeps == [0.25, 0.5, 1.0, 2.0, 2.0, 2.0]


def test_poll_makes_its_last_read_at_its_own_deadline() -> None:
    clock = Clock()
    result, sleeps = drive(poll(poll_interval=5, timeout=1.0, monotonic=clock), [waiting()] * 10, clock)
    assert isinstance(result.error, WaitTimeoutError) and "after 1.0s" in result.error.message
    assert sleeps == [0.25, 0.5, 0.25]


def test_poll_never_sleeps_less_than_a_floor() -> None:
    clock = Clock()
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token_timeout = now + timedelta(milliseconds=1)
    steps = poll(poll_interval=5, timeout=None, monotonic=clock, now=lambda: now)
    timed_out = WireToken.from_wire(token(status="TIMED_OUT", outputIsError=True))
    result, sleeps = drive(steps, [waiting(token_timeout), timed_out], clock)
    assert result.timed_out and sleeps == [pytest.approx(0.051)]


@pytest.mark.parametrize(("interval", "timeout"), [(0, None), (-1, None), (1, -1)])
def test_poll_rejects_bad_settings(interval: float, timeout: float | None) -> None:
    with pytest.raises(ValueError):
        next(poll(poll_interval=interval, timeout=timeout))


# --- formatting -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1h30m", "1h30m"),
        (timedelta(seconds=90), "90s"),
        (timedelta(milliseconds=1500), "2s"),
        (timedelta(days=2), "172800s"),
        (datetime(2030, 1, 1, tzinfo=UTC), "2030-01-01T00:00:00.000Z"),
    ],
)
def test_format_timeout(value: object, expected: str) -> None:
    assert format_timeout(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [timedelta(0), timedelta(seconds=-5)])
def test_format_timeout_rejects_non_positive_durations(value: timedelta) -> None:
    with pytest.raises(ValueError, match="positive"):
        format_timeout(value)


def test_format_timeout_rejects_other_types() -> None:
    with pytest.raises(TypeError):
        format_timeout(600)  # type: ignore[arg-type]


def test_format_instant_is_epoch_milliseconds() -> None:
    assert format_instant(datetime(2026, 1, 1, tzinfo=UTC)) == "1767225600000"
    assert format_instant(1767225600000) == "1767225600000"
    with pytest.raises(ValueError, match="naive"):
        format_instant(datetime(2026, 1, 1))


def test_retry_policy_schedule_is_capped_and_jittered() -> None:
    policy = RetryPolicy(initial_delay=1, max_delay=4)
    for retry, ceiling in enumerate([1, 2, 4, 4, 4]):
        assert ceiling * 0.75 <= policy.backoff(retry) <= ceiling


def test_server_hint_reads_retry_after_and_ratelimit_reset() -> None:
    assert server_hint(httpx.Headers({"Retry-After": "1.5"}), 0) == 1.5
    assert server_hint(httpx.Headers({"Retry-After": "Thu, 01 Jan 1970 00:00:10 GMT"}), 4) == 6
    assert server_hint(httpx.Headers({"x-ratelimit-reset": "5000"}), 2) == 3
    assert server_hint(httpx.Headers({"Retry-After": "soon"}), 0) is None
    assert server_hint(httpx.Headers({}), 0) is None


def test_token_status_is_a_string_enum() -> None:
    assert TokenStatus("TIMED_OUT") is TokenStatus.TIMED_OUT and TokenStatus.WAITING == "WAITING"


def test_a_token_reads_its_waiters_as_retrieve_lists_them() -> None:
    from waitpoints.cli.tokens import waiters_text

    waiters = [
        {"kind": "stepFunctions", "digest": "0123456789ab", "attachedAt": "2026-11-23T21:11:00.000Z"},
        {
            "kind": "durable",
            "digest": "ba9876543210",
            "attachedAt": "2026-11-23T21:11:01.000Z",
            "resumedAt": "2026-11-23T21:12:00.000Z",
        },
    ]
    listed = WireToken.from_wire(token(waiters=waiters, waitersTruncated=True))
    assert listed.waiters == waiters and listed.waiters_truncated is True
    assert waiters_text(listed).splitlines() == [
        "stepFunctions 0123456789ab  attached 2026-11-23 21:11:00Z  not resumed yet",
        "durable ba9876543210  attached 2026-11-23 21:11:01Z  resumed 2026-11-23 21:12:00Z",
        "(more not listed)",
    ]
    none = WireToken.from_wire(token(waiters=[]))
    assert none.waiters == [] and none.waiters_truncated is False and waiters_text(none) == "(none)"
    older = WireToken.from_wire(token())  # a list item, or a server that does not list waiters
    assert older.waiters is None and older.waiters_truncated is False


def test_created_token_repr_hides_the_access_token() -> None:
    assert "pat-secret" not in repr(waitpoints.CreatedToken(TOKEN_ID, "u", False, "pat-secret"))


# --- the wait module ------------------------------------------------------------------------------


@pytest.fixture
def fresh_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(wait, "_client", None)


@pytest.mark.usefixtures("fresh_default")
def test_wait_builds_its_default_client_lazily_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAITPOINTS_API_URL", raising=False)
    monkeypatch.delenv("WAITPOINTS_SECRET_KEY", raising=False)
    import importlib

    importlib.reload(wait)  # importing builds nothing
    monkeypatch.setenv("WAITPOINTS_API_URL", API)
    monkeypatch.setenv("WAITPOINTS_SECRET_KEY", KEY)
    client = wait.get_client()
    assert client.api_url == API and wait.get_client() is client
    client.close()
    monkeypatch.setattr(wait, "_client", None)


@pytest.mark.usefixtures("fresh_default")
def test_wait_functions_use_the_configured_client() -> None:
    recorder = Recorder(
        ok({"id": TOKEN_ID, "url": "u", "isCached": False, "publicAccessToken": "p"}),
        ok({"success": True}),
        ok(token(status="COMPLETED", output="{}")),
    )
    wait.configure(API, KEY, http_client=httpx.Client(transport=httpx.MockTransport(recorder)))
    created = wait.create_token(timeout="10m", tags=["t"])
    assert wait.complete_token(created, {}) is True
    assert wait.for_token(created).unwrap() == {}
    assert [r.method for r in recorder.requests] == ["POST", "POST", "GET"]


@pytest.mark.usefixtures("fresh_default")
def test_wait_without_settings_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WAITPOINTS_API_URL", raising=False)
    with pytest.raises(waitpoints.ConfigurationError, match="WAITPOINTS_API_URL"):
        wait.retrieve_token(TOKEN_ID)


# --- the public surface ---------------------------------------------------------------------------


def test_all_lists_exactly_the_public_names() -> None:
    public = {name for name in vars(waitpoints) if not name.startswith("_")} - {"cli", "durable", "annotations"}
    assert set(waitpoints.__all__) == public | {"__version__"}


def test_public_classes_show_as_waitpoints_names() -> None:
    assert repr(waitpoints.NotFoundError) == "<class 'waitpoints.NotFoundError'>"


def test_the_exception_tree() -> None:
    assert issubclass(waitpoints.APITimeoutError, waitpoints.APIConnectionError)
    assert issubclass(waitpoints.RateLimitError, waitpoints.APIStatusError)
    assert issubclass(waitpoints.WaitTimeoutError, waitpoints.WaitpointTimeoutError)
    for name in waitpoints.__all__:
        value = getattr(waitpoints, name)
        if isinstance(value, type) and issubclass(value, Exception):
            assert issubclass(value, waitpoints.WaitpointsError), name
            assert value.__doc__, name
            assert value is waitpoints.WaitpointsError or value.__doc__.startswith("Raised"), name


def test_the_package_ships_py_typed() -> None:
    assert (REPO / "sdk" / "waitpoints" / "py.typed").is_file()


def test_the_sdk_imports_no_server_code_and_the_cli_does_not_import_it_at_startup() -> None:
    code = (
        "import sys, waitpoints, waitpoints.cli.app; "
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('waitpoints_core', 'waitpoints_http', 'waitpoints_local', 'boto3', 'botocore', 'aws_lambda_powertools')]; "
        "print(bad)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(REPO / "sdk"), "PATH": ""},
    )
    assert result.stdout.strip() == "[]"


# --- CLI pieces -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("2.5", 2.5),
        ("30s", 30),
        ("10m", 600),
        ("1h30m", 5400),
        ("1hr", 3600),
        ("2d", 172800),
        ("1w", 604800),
    ],
)
def test_cli_durations(text: str, seconds: float) -> None:
    from waitpoints.cli.options import parse_seconds

    assert parse_seconds(text) == seconds


@pytest.mark.parametrize("text", ["", "ten", "10x", "m10", "-5", "1h 30m"])
def test_cli_durations_reject_nonsense(text: str) -> None:
    from waitpoints.cli.options import parse_seconds

    with pytest.raises(ValueError):
        parse_seconds(text)


def test_cli_exit_codes() -> None:
    from waitpoints.cli.output import exit_code

    response = httpx.Response(401, request=httpx.Request("GET", API))
    assert exit_code(waitpoints.AuthenticationError("x", response=response)) == 4
    assert exit_code(waitpoints.PermissionDeniedError("x", response=response)) == 4
    assert exit_code(waitpoints.NotFoundError("x", response=response)) == 1
    assert exit_code(waitpoints.WaitpointTimeoutError("x", token_id=TOKEN_ID)) == 3
    assert exit_code(waitpoints.WaitTimeoutError("x", token_id=TOKEN_ID)) == 3
    assert exit_code(waitpoints.ConfigurationError("x")) == 2
    assert exit_code(waitpoints.APIConnectionError("x")) == 1


def test_cli_without_click_explains_how_to_install_it() -> None:
    code = "import sys; sys.modules['click'] = None; from waitpoints.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "sdk"), "PATH": ""}
    )
    assert result.returncode == 1
    assert "pip install 'waitpoints[cli]'" in result.stderr and "Traceback" not in result.stderr


def test_cli_server_commands_explain_missing_server_dependencies() -> None:
    code = (
        "import sys; sys.modules['boto3'] = None; from waitpoints.cli.app import run; "
        "sys.exit(run(['keys', 'create', '--env', 'x']))"
    )
    server_path = os.pathsep.join(str(REPO / p) for p in ("sdk", "layers/core", "local", "admin", "."))
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": server_path, "PATH": ""},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "dependencies are missing (boto" in result.stderr and "make run" in result.stderr  # boto3 or botocore


def test_cli_server_commands_without_the_server_code_say_how_to_get_it() -> None:
    """No sys.path edits: with only the SDK importable, `keys` is a stand-in that says it needs a clone (exit 2)."""
    code = "import sys; from waitpoints.cli.app import run; sys.exit(run(['keys', 'create', '--env', 'x']))"
    result = subprocess.run(
        [sys.executable, "-S", "-c", code],  # -S: no site-packages, so no editable install of the clone either
        capture_output=True,
        text=True,
        cwd=REPO,
        env={"PYTHONPATH": os.pathsep.join([str(REPO / "sdk"), *SITE_PACKAGES]), "PATH": ""},
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "clone of the repository" in result.stderr and "make run" in result.stderr
