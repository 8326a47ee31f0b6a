"""The signing keys of a deployment: `make rotate-signing-key`, `make retire-signing-key KID=<id>`.

Rotating adds a key and makes it the one that signs; every older key keeps verifying, so outstanding
callback URLs and access tokens stay valid. Retiring removes an old key: what it signed stops working.
Works on the running local stack, or with --stack on a deployed one (with the caller's AWS credentials).
"""

from __future__ import annotations

import argparse
import sys

import boto3
from waitpoints_core.signing import retired, rotated

from .keys import local_values, stack_output, target_args


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make rotate-signing-key", description=__doc__)
    parser.add_argument("--retire", metavar="KID", help="remove this old key instead of rotating")
    target_args(parser)
    args = parser.parse_args(argv)
    secret_id = (
        stack_output(args.stack, "SigningSecretArn")
        if args.stack
        else local_values(args.state_dir)["WAITPOINTS_SIGNING_SECRET_ARN"]
    )
    client = boto3.client("secretsmanager")
    current = client.get_secret_value(SecretId=secret_id)["SecretString"]
    try:
        if args.retire:
            updated, message = retired(current, args.retire), f"retired {args.retire}"
        else:
            updated, kid = rotated(current)
            message = f"{kid} now signs new URLs and tokens; older keys still verify"
    except ValueError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    client.put_secret_value(SecretId=secret_id, SecretString=updated)
    print(f"{message}. Warm functions pick the change up within WAITPOINTS_SIGNING_KEY_CACHE_SECONDS (300 s).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
