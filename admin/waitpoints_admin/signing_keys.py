"""The signing keys of a deployment: `make rotate-signing-key`, `make retire-signing-key KID=<id>`, and
`waitpoints signing-keys rotate|retire`.

Rotating adds a key and makes it the one that signs; every older key keeps verifying, so outstanding
callback URLs and access tokens stay valid. Retiring removes an old key: what it signed stops working.
Works on the running local stack, or with --stack on a deployed one (with the caller's AWS credentials).

Warm functions cache the keys for WAITPOINTS_SIGNING_KEY_CACHE_SECONDS (300 s; read here from this environment,
as the functions do), so for that long after a rotation some of them still sign new URLs with the previous key.
Rotating records on the secret (a tag, `waitpoints:superseded:<kid>`) when the previous key stopped being the
current one, and retiring refuses a key until that cache age has passed (a secret rotated before these tags
existed falls back to the secret's last change). --force retires at once, for a compromised key.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from waitpoints_core.signing import retired, rotated

from .stacks import MAKE_STACK, AdminError, local_values, stack_output, target_args

if TYPE_CHECKING:
    from pathlib import Path

SUPERSEDED_TAG = "waitpoints:superseded:"
DEFAULT_CACHE_SECONDS = 300.0
PICKUP_NOTE = "Warm functions pick the change up within WAITPOINTS_SIGNING_KEY_CACHE_SECONDS (300 s)."


def cache_seconds() -> float:
    return float(os.environ.get("WAITPOINTS_SIGNING_KEY_CACHE_SECONDS", DEFAULT_CACHE_SECONDS))


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def superseded_at(client: Any, secret_id: str, kid: str) -> datetime:
    """When `kid` stopped being the current key: its tag, else (an untagged secret) the secret's last change."""
    description = client.describe_secret(SecretId=secret_id)
    for tag in description.get("Tags", []):
        if tag["Key"] == SUPERSEDED_TAG + kid:
            return datetime.fromisoformat(tag["Value"])
    changed = description.get("LastChangedDate") or description.get("CreatedDate")
    return changed if isinstance(changed, datetime) else datetime.now(UTC)


def retire_refusal(
    client: Any, secret_id: str, kid: str, now: datetime, force_hint: str = "FORCE=1 (--force)"
) -> str | None:
    """Why `kid` may not be retired yet (a warm function could still sign with it), or None."""
    max_age = cache_seconds()
    safe_at = superseded_at(client, secret_id, kid) + timedelta(seconds=max_age)
    if now >= safe_at:
        return None
    wait = (safe_at - now).total_seconds()
    return (
        f"{kid} stopped being the current key less than WAITPOINTS_SIGNING_KEY_CACHE_SECONDS ({max_age:g} s) ago, "
        f"so warm functions may still sign new URLs with it; it is safe to retire from {_utc(safe_at)} "
        f"(in {wait:.0f} s). To retire it now anyway (a compromised key): {force_hint}"
    )


def secret_arn(stack: str | None, state_dir: Path, name_a_stack: str = MAKE_STACK) -> str:
    """The signing secret of a deployed stack, or of the running local stack."""
    if stack:
        return stack_output(stack, "SigningSecretArn")
    return local_values(state_dir, name_a_stack)["WAITPOINTS_SIGNING_SECRET_ARN"]


def rotate(secret_id: str) -> str:
    """Add a key that signs from now on; every older key keeps verifying. Returns what to tell the operator."""
    client = boto3.client("secretsmanager")
    current = client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        previous = str(json.loads(current)["current"])
        updated, kid = rotated(current)
    except ValueError as error:
        raise AdminError(str(error)) from None
    client.put_secret_value(SecretId=secret_id, SecretString=updated)
    # Stamped after the new key is in place: no function loads `previous` as current after this moment.
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
    try:
        client.tag_resource(SecretId=secret_id, Tags=[{"Key": SUPERSEDED_TAG + previous, "Value": stamp}])
    except ClientError as error:  # e.g. no secretsmanager:TagResource: retiring then goes by the last change
        print(f"warning: could not record when {previous} was superseded ({error})", file=sys.stderr)
    return f"{kid} now signs new URLs and tokens; older keys still verify. {PICKUP_NOTE}"


def retire(secret_id: str, kid: str, force: bool = False, force_hint: str = "FORCE=1 (--force)") -> str:
    """Remove an old key: what it signed stops working. Refused while warm functions may still sign with it,
    unless `force`. Returns what to tell the operator."""
    client = boto3.client("secretsmanager")
    current = client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        updated = retired(current, kid)
    except ValueError as error:
        raise AdminError(str(error)) from None
    refusal = None if force else retire_refusal(client, secret_id, kid, datetime.now(UTC), force_hint)
    if refusal:
        raise AdminError(refusal)
    client.put_secret_value(SecretId=secret_id, SecretString=updated)
    try:
        client.untag_resource(SecretId=secret_id, TagKeys=[SUPERSEDED_TAG + kid])
    except ClientError as error:  # the key is gone already; a stale tag only names a key that no longer exists
        print(f"warning: could not remove the tag {SUPERSEDED_TAG}{kid} ({error})", file=sys.stderr)
    return f"retired {kid}. {PICKUP_NOTE}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rotate-signing-key", description=__doc__)
    parser.add_argument("--retire", metavar="KID", help="remove this old key instead of rotating")
    parser.add_argument("--force", action="store_true", help="retire even while warm functions may still sign with it")
    target_args(parser)
    args = parser.parse_args(argv)
    if args.retire is not None and not args.retire.strip():  # make retire-signing-key without KID=
        print("error: which key? make retire-signing-key KID=<old key id, e.g. k1> [STACK=<stack>]", file=sys.stderr)
        return 2
    try:
        secret_id = secret_arn(args.stack, args.state_dir)
        print(retire(secret_id, args.retire, args.force) if args.retire else rotate(secret_id))
    except AdminError as error:
        print(f"error: {error.message}", file=sys.stderr)
        return error.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
