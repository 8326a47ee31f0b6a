"""The admin commands' guard rails (waitpoints_admin): a missing region or argument says what to type, and a
signing key is not retired while warm functions could still be signing with it."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from waitpoints_admin import signing_keys
from waitpoints_local.emulator import fake_aws_environment

from tests.local_stack import REPO

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


def make(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`make ARGS` as a user types it (not as a sub-make of `make test`, whose MAKEFLAGS would reach it)."""
    env = {k: v for k, v in env.items() if k not in {"MAKEFLAGS", "MAKELEVEL", "MFLAGS"}}
    return subprocess.run(
        ["make", "--no-print-directory", *args], cwd=REPO, capture_output=True, text=True, env=env, check=False
    )


def no_aws_config(tmp_path: Path) -> dict[str, str]:
    """This environment without any AWS region (nor a profile or config file that could name one)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    return {**env, "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}


@pytest.mark.parametrize("target", ["key", "keys", "rotate-signing-key"])
def test_a_deployed_stack_without_a_region_is_one_clear_line(tmp_path: Path, target: str) -> None:
    result = make(target, "STACK=waitpoints-prod", **no_aws_config(tmp_path))
    assert result.returncode != 0 and result.stdout == ""
    assert "Traceback" not in result.stderr and "NoRegionError" not in result.stderr
    (line,) = [line for line in result.stderr.splitlines() if not line.startswith("make")]
    assert line.startswith("error: no AWS region for stack waitpoints-prod") and "AWS_REGION" in line


def test_revoke_key_without_key_id_says_how(tmp_path: Path) -> None:
    result = make("revoke-key", **no_aws_config(tmp_path), WAITPOINTS_STATE_DIR=str(tmp_path))
    assert result.returncode != 0 and result.stdout == ""
    assert "make revoke-key KEY_ID=" in result.stderr and "Traceback" not in result.stderr


def test_retire_signing_key_without_kid_says_how(tmp_path: Path) -> None:
    result = make("retire-signing-key", **no_aws_config(tmp_path), WAITPOINTS_STATE_DIR=str(tmp_path))
    assert result.returncode != 0 and result.stdout == ""
    assert "make retire-signing-key KID=" in result.stderr


def test_force_1_passes_force() -> None:
    dry = make("-n", "retire-signing-key", "KID=k1", "FORCE=1", **os.environ).stdout
    assert "waitpoints_admin.signing_keys --retire 'k1' --force" in dry
    assert "--force" not in make("-n", "retire-signing-key", "KID=k1", **os.environ).stdout


@pytest.fixture
def secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, str]]:
    """A local stack's state dir whose signing secret (k1 current) lives in moto; yields (state dir, secret arn)."""
    for name, value in fake_aws_environment("").items():
        monkeypatch.setenv(name, value)  # restored afterwards, though the command sets them again
    monkeypatch.delenv("AWS_ENDPOINT_URL")
    monkeypatch.delenv("WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", raising=False)
    with mock_aws():
        arn = boto3.client("secretsmanager").create_secret(
            Name="signing", SecretString=json.dumps({"current": "k1", "k1": "a" * 64})
        )["ARN"]
        (tmp_path / "local.env").write_text(f"AWS_ENDPOINT_URL=\nWAITPOINTS_SIGNING_SECRET_ARN={arn}\n")
        yield tmp_path, arn


def keys_in(arn: str) -> set[str]:
    value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return set(json.loads(value)) - {"current"}


def test_retiring_right_after_a_rotation_is_refused_until_the_cache_age_has_passed(
    secret: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, arn = secret
    assert signing_keys.main(["--state-dir", str(state)]) == 0
    assert capsys.readouterr().out == (
        "k2 now signs new URLs and tokens; older keys still verify. "
        "Warm functions pick the change up within WAITPOINTS_SIGNING_KEY_CACHE_SECONDS (300 s).\n"
    )
    assert signing_keys.main(["--retire", "k1", "--state-dir", str(state)]) == 1
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and err.startswith("error: k1 stopped being the current key")
    assert "(300 s)" in err and "safe to retire from" in err and "FORCE=1" in err
    assert keys_in(arn) == {"k1", "k2"}

    later = datetime.now(UTC) + timedelta(seconds=301)
    monkeypatch.setattr(signing_keys, "datetime", type("Clock", (datetime,), {"now": staticmethod(lambda tz: later)}))
    assert signing_keys.main(["--retire", "k1", "--state-dir", str(state)]) == 0
    assert capsys.readouterr().out.startswith("retired k1. ")
    assert keys_in(arn) == {"k2"}
    tags = boto3.client("secretsmanager").describe_secret(SecretId=arn).get("Tags", [])
    assert not [t for t in tags if t["Key"] == "waitpoints:superseded:k1"]


def test_the_cache_age_comes_from_waitpoints_signing_key_cache_seconds(
    secret: tuple[Path, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, arn = secret
    monkeypatch.setenv("WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", "0")
    assert signing_keys.main(["--state-dir", str(state)]) == 0
    assert signing_keys.main(["--retire", "k1", "--state-dir", str(state)]) == 0
    assert keys_in(arn) == {"k2"}


def test_force_retires_at_once_but_never_the_current_key(
    secret: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    state, arn = secret
    assert signing_keys.main(["--state-dir", str(state)]) == 0
    assert signing_keys.main(["--retire", "k2", "--force", "--state-dir", str(state)]) == 1
    assert "k2 is the current key" in capsys.readouterr().err
    assert signing_keys.main(["--retire", "k1", "--force", "--state-dir", str(state)]) == 0
    assert keys_in(arn) == {"k2"}


def test_a_secret_rotated_without_the_record_goes_by_its_last_change(
    secret: tuple[Path, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """Rotated by hand (or before rotation recorded anything): the secret's last change is the safe bound."""
    state, arn = secret
    client = boto3.client("secretsmanager")
    client.put_secret_value(SecretId=arn, SecretString=json.dumps({"current": "k2", "k1": "a" * 64, "k2": "b" * 64}))
    assert signing_keys.main(["--retire", "k1", "--state-dir", str(state)]) == 1
    assert "safe to retire from" in capsys.readouterr().err
    assert keys_in(arn) == {"k1", "k2"}
