"""The `waitpoints` command, run as a subprocess against the session's local stack: exit codes, --json
output (the API's JSON), tables, stderr messages, and secrets never echoed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from waitpoints import Client

from tests.local_stack import default_sigint

from .conftest import REPO, SdkStack, server_env

SCRIPT = Path(sys.executable).parent / "waitpoints"


def command() -> list[str]:
    return [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "waitpoints.cli"]


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WAITPOINTS_")}
    # This checkout's package and server code, whatever the venv's editable install points at (an editable install
    # puts the same folders on the path: dev-mode-dirs in pyproject.toml).
    paths = os.pathsep.join(str(REPO / p) for p in ("sdk", "layers/core", "local", "admin", "."))
    env.update(PYTHONPATH=paths, NO_COLOR="1", **(extra or {}))
    return env


class Run:
    def __init__(self, stack: SdkStack, cwd: Path) -> None:
        self.stack, self.cwd = stack, cwd

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None, configured: bool = True
    ) -> subprocess.CompletedProcess[str]:
        extra = {**(self.stack.env() if configured else {}), **(env or {})}
        result = subprocess.run(
            [*command(), *args],
            cwd=self.cwd,
            env=cli_env(extra),
            input=stdin,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert self.stack.key not in result.stdout + result.stderr, "the secret key was echoed"
        assert "Traceback" not in result.stderr, result.stderr
        return result


@pytest.fixture
def run(sdk_stack: SdkStack, tmp_path: Path) -> Run:
    return Run(sdk_stack, tmp_path)


@pytest.fixture(scope="module")
def sdk(sdk_stack: SdkStack) -> Client:
    return Client(sdk_stack.url, sdk_stack.key)


def api_json(stack: SdkStack, token_id: str) -> object:
    return httpx.get(
        f"{stack.url}/api/v1/waitpoints/tokens/{token_id}", headers={"Authorization": f"Bearer {stack.key}"}
    ).json()


# --- installation and help ------------------------------------------------------------------------


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.exists(), "no waitpoints command in the venv: run `make test` (it installs -e '.[cli]')"


def test_help_and_version(run: Run) -> None:
    result = run("--help", configured=False)
    assert result.returncode == 0 and "Usage: waitpoints" in result.stdout and "Exit codes" in result.stdout
    assert run("--version", configured=False).stdout.strip() == "waitpoints, version 0.1.0"


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["tokens"],
        ["tokens", "create"],
        ["tokens", "retrieve"],
        ["tokens", "get"],
        ["tokens", "list"],
        ["tokens", "complete"],
        ["tokens", "wait"],
        ["tokens", "timeout"],
        ["tokens", "extend"],
        ["keys"],
        ["keys", "create"],
        ["keys", "list"],
        ["keys", "revoke"],
        ["signing-keys"],
        ["signing-keys", "rotate"],
        ["signing-keys", "retire"],
        ["dev"],
    ],
)
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help(args: list[str], flag: str) -> None:
    from waitpoints.cli.app import cli

    result = CliRunner().invoke(cli, [*args, flag])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_api_options_name_their_environment_variables() -> None:
    from waitpoints.cli.app import cli

    output = CliRunner().invoke(cli, ["tokens", "retrieve", "--help"]).output
    assert "WAITPOINTS_API_URL" in output and "WAITPOINTS_SECRET_KEY" in output


# --- tokens create / retrieve / complete ---------------------------------------------------------------


def test_create_json_is_the_apis_json(run: Run, sdk_stack: SdkStack) -> None:
    result = run(
        "tokens",
        "create",
        "--timeout",
        "1h",
        "--tag",
        "cli",
        "--tag",
        "order:7",
        "--idempotency-key",
        f"cli-{time.time_ns()}",
        "--idempotency-key-ttl",
        "10m",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    created = json.loads(result.stdout)
    assert set(created) == {"id", "url", "isCached", "publicAccessToken"} and created["isCached"] is False
    stored = api_json(sdk_stack, created["id"])
    assert stored["tags"] == ["cli", "order:7"] and stored["status"] == "WAITING"  # type: ignore[index]
    got = run("tokens", "retrieve", created["id"], "--json")
    assert got.returncode == 0 and json.loads(got.stdout) == stored


def test_get_is_a_hidden_alias_of_retrieve(run: Run, sdk: Client) -> None:
    from waitpoints.cli.app import cli

    token = sdk.create_token(tags=["cli-alias"])
    alias, named = run("tokens", "get", token.id, "--json"), run("tokens", "retrieve", token.id, "--json")
    assert alias.returncode == named.returncode == 0 and json.loads(alias.stdout) == json.loads(named.stdout)
    listing = CliRunner().invoke(cli, ["tokens", "--help"]).output
    assert "retrieve" in listing and " get " not in listing


def test_create_prints_a_readable_table(run: Run) -> None:
    result = run("tokens", "create", "--tag", "cli-table")
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == ["id", "url", "cached", "public"]
    assert lines[0].split()[1].startswith("waitpoint_") and "/callback/" in lines[1]
    assert all(line == line.rstrip() for line in lines)


def test_create_quiet_prints_only_the_id(run: Run) -> None:
    result = run("tokens", "create", "-q")
    assert result.returncode == 0 and result.stdout.strip().startswith("waitpoint_")
    assert len(result.stdout.split()) == 1


def test_complete_then_retrieve_shows_the_output(run: Run, sdk: Client) -> None:
    token = sdk.create_token(tags=["cli"])
    done = run("tokens", "complete", token.id, '{"status": "approved", "n": 1}')
    assert (done.returncode, done.stdout.strip()) == (0, f"Completed {token.id}")
    again = run("tokens", "complete", token.id, '"late"')  # the first completion wins, and the command says so
    assert again.returncode == 0 and again.stdout.strip() == (
        f"{token.id} was already final (COMPLETED): nothing changed (the first completion wins)"
    )
    table = run("tokens", "retrieve", token.id)
    assert table.returncode == 0
    fields = {line.split()[0]: line for line in table.stdout.splitlines() if line and not line.startswith(" ")}
    assert "COMPLETED" in fields["status"] and "cli" in fields["tags"] and token.id in fields["id"]
    assert '"status": "approved"' in table.stdout
    assert sdk.retrieve_token(token).output == {"status": "approved", "n": 1}


def test_operator_verbs_extend_and_time_out_and_the_sdk_methods(run: Run, sdk: Client) -> None:
    token = sdk.create_token(timeout="1h")
    extended = run("tokens", "extend", token.id, "--timeout", "3h", "--json")
    assert extended.returncode == 0, extended.stderr
    new = json.loads(extended.stdout)["timeoutAt"]
    assert sdk.retrieve_token(token).timeout_at.isoformat(timespec="milliseconds").replace("+00:00", "Z") == new
    later = sdk.extend_token(token, "4h")  # the SDK's own extend returns the new deadline
    assert sdk.retrieve_token(token).timeout_at == later
    assert run("tokens", "extend", token.id, "--timeout", "1m").returncode == 1  # not later: a 400
    done = run("tokens", "timeout", token.id)
    assert (done.returncode, done.stdout.strip()) == (0, f"Timed out {token.id}")
    final = sdk.retrieve_token(token)
    assert final.status.value == "TIMED_OUT" and final.audit is not None and final.audit["action"] == "force_timeout"
    assert sdk.force_timeout_token(token) is False  # already final
    again = run("tokens", "timeout", token.id, "--json")
    assert json.loads(again.stdout) == {"success": True, "timedOut": False}
    from waitpoints import ConflictError

    with pytest.raises(ConflictError):
        sdk.extend_token(token, "5h")
    other = sdk.create_token(timeout="1h")
    refused = run("tokens", "timeout", other.id, "--secret-key", other.public_access_token)
    assert refused.returncode == 4  # permission failure: a public access token may not


def test_complete_reads_data_from_stdin_and_prints_json(run: Run, sdk: Client) -> None:
    token = sdk.create_token()
    result = run("tokens", "complete", token.id, "--data-file", "-", "--json", stdin='["from", "stdin"]')
    assert result.returncode == 0 and json.loads(result.stdout) == {"success": True}
    assert sdk.retrieve_token(token).output == ["from", "stdin"]


def test_complete_without_data_and_with_the_public_access_token(run: Run, sdk: Client) -> None:
    token = sdk.create_token()
    result = run("tokens", "complete", token.id, "--secret-key", token.public_access_token)
    assert result.returncode == 0 and token.public_access_token not in result.stdout + result.stderr
    final = sdk.retrieve_token(token)
    assert final.status.value == "COMPLETED" and final.output is None


def test_complete_with_data_that_is_not_json_is_a_usage_error(run: Run, sdk: Client) -> None:
    token = sdk.create_token()
    result = run("tokens", "complete", token.id, "approved")
    assert result.returncode == 2 and "not JSON" in result.stderr and "'\"approved\"'" in result.stderr
    assert sdk.retrieve_token(token).status.value == "WAITING"


# --- tokens wait ----------------------------------------------------------------------------------


def test_wait_on_a_completed_token_prints_its_output(run: Run, sdk: Client) -> None:
    token = sdk.create_token()
    sdk.complete_token(token, {"ok": True})
    result = run("tokens", "wait", token.id)
    assert result.returncode == 0 and json.loads(result.stdout) == {"ok": True}
    text = sdk.create_token()
    sdk.complete_token(text, "plain words")
    assert run("tokens", "wait", text.id).stdout == "plain words\n"


def test_wait_json_prints_the_apis_json(run: Run, sdk: Client, sdk_stack: SdkStack) -> None:
    token = sdk.create_token()
    sdk.complete_token(token, 5)
    result = run("tokens", "wait", token.id, "--json")
    assert result.returncode == 0 and json.loads(result.stdout) == api_json(sdk_stack, token.id)


def _waiting(sdk_stack: SdkStack, tmp_path: Path, token_id: str) -> tuple[subprocess.Popen[str], str]:
    """`waitpoints tokens wait <id>` started, and the first line it printed (it is waiting from then on)."""
    proc = subprocess.Popen(
        [*command(), "tokens", "wait", token_id, "--poll-interval", "0.2"],
        cwd=tmp_path,
        env=cli_env(sdk_stack.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    return proc, proc.stderr.readline()


def test_wait_exits_3_when_the_token_times_out_and_says_how_long_it_waits(
    sdk_stack: SdkStack, sdk: Client, tmp_path: Path
) -> None:
    # The token times out only once the CLI is waiting (a one-second token could time out before a slow start).
    token = sdk.create_token(timeout="1h")
    proc, first = _waiting(sdk_stack, tmp_path, token.id)
    assert first.startswith(f"Waiting for {token.id}") and "the token times out at" in first
    assert sdk.force_timeout_token(token)
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 3 and stdout == ""
    assert "Error: Waitpoint timed out at" in stderr


def test_wait_exits_3_when_its_own_timeout_runs_out(run: Run, sdk: Client) -> None:
    token = sdk.create_token(timeout="1h")
    result = run("tokens", "wait", token.id, "--timeout", "0.4", "--poll-interval", "0.1")
    assert result.returncode == 3
    assert "giving up after 0.4s" in result.stderr and "still WAITING" in result.stderr


def test_wait_returns_when_the_token_is_completed_meanwhile(sdk_stack: SdkStack, sdk: Client, tmp_path: Path) -> None:
    token = sdk.create_token(timeout="1h")
    proc, first = _waiting(sdk_stack, tmp_path, token.id)
    assert first.startswith(f"Waiting for {token.id}")
    sdk.complete_token(token, {"approved": True})
    stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert json.loads(stdout) == {"approved": True} and "Completed after" in stderr


def test_ctrl_c_exits_130(sdk_stack: SdkStack, sdk: Client, tmp_path: Path) -> None:
    token = sdk.create_token(timeout="1h")
    proc = subprocess.Popen(
        [*command(), "tokens", "wait", token.id],
        cwd=tmp_path,
        env=cli_env(sdk_stack.env()),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("Waiting for")
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 130 and "interrupted" in stderr and "Traceback" not in stderr


# --- failures and exit codes ----------------------------------------------------------------------


def test_an_unknown_token_exits_1_with_the_servers_message(run: Run) -> None:
    result = run("tokens", "retrieve", "waitpoint_" + "0" * 25)
    assert result.returncode == 1 and result.stderr.strip() == "Error: Waitpoint not found (HTTP 404)"
    assert result.stdout == ""


def test_a_bad_key_exits_4_without_echoing_it(run: Run) -> None:
    bad = "wp_dev_" + "z" * 43
    result = run("tokens", "create", "--secret-key", bad)
    assert result.returncode == 4 and "Invalid API key" in result.stderr
    assert bad not in result.stdout + result.stderr


def test_a_public_access_token_for_another_token_exits_4(run: Run, sdk: Client) -> None:
    mine, other = sdk.create_token(), sdk.create_token()
    result = run("tokens", "complete", other.id, "1", "--secret-key", mine.public_access_token)
    assert result.returncode == 4 and "HTTP 403" in result.stderr


def test_a_bad_timeout_exits_1_naming_the_field(run: Run) -> None:
    result = run("tokens", "create", "--timeout", "soon")
    assert result.returncode == 1 and "timeout" in result.stderr and "HTTP 400" in result.stderr


def test_no_configuration_exits_2_saying_what_to_set(run: Run) -> None:
    result = run("tokens", "retrieve", "waitpoint_x", configured=False)
    assert result.returncode == 2 and "WAITPOINTS_API_URL" in result.stderr


def test_usage_errors_exit_2(run: Run) -> None:
    assert run("tokens", "retrieve").returncode == 2
    assert run("tokens", "frobnicate").returncode == 2
    bad_status = run("tokens", "list", "--status", "DONE")
    assert bad_status.returncode == 2 and "DONE" in bad_status.stderr
    assert run("tokens", "wait", "waitpoint_x", "--timeout", "forever").returncode == 2


def test_the_local_env_file_is_used_when_nothing_is_configured(run: Run, sdk_stack: SdkStack, tmp_path: Path) -> None:
    (tmp_path / ".waitpoints").mkdir()
    (tmp_path / ".waitpoints" / "local.env").write_text(
        f"WAITPOINTS_API_URL={sdk_stack.url}\nWAITPOINTS_SECRET_KEY={sdk_stack.key}\n"
    )
    result = run("tokens", "create", "-q", configured=False)
    assert result.returncode == 0 and result.stdout.startswith("waitpoint_")


# --- keys create and dev (the local stack) --------------------------------------------------------


def test_keys_create_prints_only_a_working_key(run: Run, local_state: Path, sdk_stack: SdkStack, sdk: Client) -> None:
    result = run("keys", "create", "--env", "cli-test", "--state-dir", str(local_state), configured=False)
    assert result.returncode == 0 and result.stderr == ""
    key = result.stdout.strip()
    assert result.stdout == key + "\n" and key.startswith("wp_cli-test_") and len(key) == len("wp_cli-test_") + 43
    with Client(sdk_stack.url, key) as other_env:
        created = other_env.create_token()
        assert other_env.retrieve_token(created).id == created.id
    foreign = run("tokens", "retrieve", created.id)  # the dev key cannot see the other environment's token
    assert foreign.returncode == 1 and "not found" in foreign.stderr


def test_keys_create_rejects_a_bad_environment_name(run: Run, local_state: Path) -> None:
    result = run("keys", "create", "--env", "Not Valid", "--state-dir", str(local_state), configured=False)
    assert result.returncode == 2 and "env" in result.stderr


@pytest.mark.parametrize(
    "args", [["keys", "create", "--env", "x"], ["keys", "list"], ["keys", "revoke", "k"], ["signing-keys", "rotate"]]
)
def test_the_admin_verbs_without_a_running_local_stack_exit_2_in_cli_syntax(
    run: Run, tmp_path: Path, args: list[str]
) -> None:
    result = run(*args, "--state-dir", str(tmp_path / "none"), configured=False)
    assert result.returncode == 2 and "local.env not found" in result.stderr, result.stderr
    assert "--stack NAME" in result.stderr and "STACK=" not in result.stderr


def test_keys_list_and_revoke(run: Run, local_state: Path, sdk_stack: SdkStack) -> None:
    key = run("keys", "create", "--env", "cli-revoke", "--state-dir", str(local_state), configured=False).stdout.strip()
    listed = run("keys", "list", "--state-dir", str(local_state), configured=False)
    assert listed.returncode == 0 and key not in listed.stdout
    (row,) = [line for line in listed.stdout.splitlines() if " cli-revoke " in line]
    key_id = row.split()[0]
    revoked = run("keys", "revoke", key_id, "--state-dir", str(local_state), configured=False)
    assert revoked.returncode == 0 and f"revoked {key_id}" in revoked.stderr
    again = run("keys", "revoke", key_id, "--state-dir", str(local_state), configured=False)
    assert again.returncode == 1 and "waitpoints keys list" in again.stderr


def test_the_clone_commands_are_stand_ins_without_the_clone() -> None:
    from waitpoints.cli._server import CLONE_COMMANDS, _stand_in

    for name, summary in CLONE_COMMANDS.items():
        result = CliRunner().invoke(_stand_in(name, summary), ["create", "--env", "x"])
        assert result.exit_code == 2 and "clone of the repository" in result.output and "make run" in result.output


def test_no_color_reaches_error_lines(tmp_path: Path) -> None:
    env = {k: v for k, v in cli_env().items() if k != "NO_COLOR"}
    env["FORCE_COLOR"] = "1"
    args = ["tokens", "retrieve", "waitpoint_x"]
    plain = subprocess.run([*command(), "--no-color", *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert plain.returncode == 2 and plain.stderr.startswith("Error: ") and "\x1b[" not in plain.stderr
    coloured = subprocess.run([*command(), "--color", *args], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert coloured.returncode == 2 and "\x1b[" in coloured.stderr


def test_dev_runs_the_local_stack_until_ctrl_c(tmp_path: Path) -> None:
    state = tmp_path / "state"
    env = {**server_env(), **cli_env(), "WAITPOINTS_SCHEDULE_SECONDS": "1"}
    proc = subprocess.Popen(
        [*command(), "dev", "--port", "0", "--state-dir", str(state)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    env_file = state / "local.env"
    try:
        deadline = time.monotonic() + 60
        while not env_file.exists():
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[1]
            time.sleep(0.1)
        values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
        with Client(values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"]) as client:
            created = client.create_token()
            assert client.complete_token(created, 1) and client.retrieve_token(created).output == 1
    finally:
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr
    assert values["WAITPOINTS_API_URL"] in stdout and "Traceback" not in stderr
    assert not env_file.exists()


# --- tokens list (runs once the stack serves GET /api/v1/waitpoints/tokens) -------------------------


def test_list_json_table_and_all(run: Run, sdk: Client, sdk_stack: SdkStack) -> None:
    tag = f"cli-list-{time.time_ns()}"
    ids = [sdk.create_token(tags=[tag]).id for _ in range(3)]
    sdk.complete_token(ids[0], 1)
    page = run("tokens", "list", "--tag", tag, "--limit", "2", "--json")
    assert page.returncode == 0
    body = json.loads(page.stdout)
    expected = httpx.get(
        f"{sdk_stack.url}/api/v1/waitpoints/tokens",
        params={"filter[tags]": tag, "page[size]": "2"},
        headers={"Authorization": f"Bearer {sdk_stack.key}"},
    ).json()
    assert [t["id"] for t in body["data"]] == [t["id"] for t in expected["data"]] and "next" in body["pagination"]
    more = run("tokens", "list", "--tag", tag, "--limit", "2", "--after", body["pagination"]["next"], "--json")
    assert len(json.loads(more.stdout)["data"]) == 1
    everything = run("tokens", "list", "--tag", tag, "--limit", "2", "--all", "--json")
    assert {t["id"] for t in json.loads(everything.stdout)["data"]} == set(ids)
    rest = run("tokens", "list", "--tag", tag, "--limit", "2", "--all", "--after", body["pagination"]["next"], "--json")
    assert [t["id"] for t in json.loads(rest.stdout)["data"]] == [t["id"] for t in json.loads(more.stdout)["data"]]
    backwards = run("tokens", "list", "--tag", tag, "--all", "--before", body["pagination"]["next"])
    assert backwards.returncode == 2 and "--before" in backwards.stderr
    table = run("tokens", "list", "--tag", tag, "--limit", "2")
    assert table.returncode == 0 and table.stdout.splitlines()[0].split()[:2] == ["ID", "STATUS"]
    assert "More: add --after" in table.stderr
    # By creation window: a tag listing may show a status the stream has not synced yet.
    window = [sdk.retrieve_token(ids[0]).created_at.isoformat(), sdk.retrieve_token(ids[2]).created_at.isoformat()]
    waiting = run("tokens", "list", "--from", window[0], "--to", window[1], "--status", "WAITING", "--all")
    assert ids[0] not in waiting.stdout and all(i in waiting.stdout for i in ids[1:]) and "2 tokens" in waiting.stderr


# --- reject (issue 15) ----------------------------------------------------------------------------------


def test_reject_with_reason_and_data_then_wait_exits_5(run: Run, sdk: Client, sdk_stack: SdkStack) -> None:
    token = sdk.create_token()
    result = run("tokens", "reject", token.id, "--reason", "Not this quarter", "--data", '{"by": "ana"}')
    assert result.returncode == 0 and result.stdout.strip() == f"Rejected {token.id}"
    stored = api_json(sdk_stack, token.id)
    assert isinstance(stored, dict) and stored["rejected"] is True and stored["rejectReason"] == "Not this quarter"
    waited = run("tokens", "wait", token.id)
    assert waited.returncode == 5 and waited.stdout == ""
    assert "Waitpoint rejected: Not this quarter" in waited.stderr
    shown = run("tokens", "retrieve", token.id)
    assert "Not this quarter" in shown.stdout
    again = run("tokens", "reject", token.id, "--json")
    assert again.returncode == 0 and json.loads(again.stdout) == {"success": True}


def test_reject_with_data_that_is_not_json_is_a_usage_error(run: Run, sdk: Client) -> None:
    token = sdk.create_token()
    result = run("tokens", "reject", token.id, "--data", "{nope")
    assert result.returncode == 2 and "not JSON" in result.stderr
