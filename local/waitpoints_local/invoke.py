"""`make invoke FN=<function> EVENT=events/<file>`: run one handler with a sample event, locally, without Docker.

The event goes to the function's real handler in a local stack on the embedded AWS emulation (moto), started for
this one call on a free port and stopped after it: the table, the signing secret and the other functions exist, as
they do for `make run`. The sample events carry placeholders; they are filled in first:
- `wp_dev_REPLACE_ME...` in an Authorization header becomes a freshly minted dev secret key;
- `waitpoint_replacemewitharealtokenid` and `replace-me-with-the-hash-from-the-callback-url` become the id and the
  callback hash of a token created for the call, so that the callback and complete events find a token.
Prints the handler's return value as JSON on stdout (what `sam local invoke` prints); exits 1 if the handler raised.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

PLACEHOLDER_KEY = "wp_dev_REPLACE_ME_with_a_key_from_make_key_0000000"
PLACEHOLDER_ID = "waitpoint_replacemewitharealtokenid"
PLACEHOLDER_HASH = "replace-me-with-the-hash-from-the-callback-url"
USAGE = "make invoke FN=<function> EVENT=events/<file>.json"


def fill_placeholders(text: str, key: str, token_url: str | None) -> str:
    """The sample event's text with its placeholders replaced (the token's id and hash from its callback URL)."""
    text = text.replace(PLACEHOLDER_KEY, key)
    if token_url:
        parts = token_url.rstrip("/").split("/")
        token_id, token_hash = parts[-3], parts[-1]
        text = text.replace(PLACEHOLDER_ID, token_id).replace(PLACEHOLDER_HASH, token_hash)
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make invoke", description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument(
        "--function", help="the function's logical id in template.yaml (ApiFunction, CallbackFunction...)"
    )
    parser.add_argument("--event", type=Path, help="a JSON event file (events/ holds one for every function)")
    args = parser.parse_args(argv)

    from .template import Template

    names = [f.logical_id for f in Template().functions()]
    if not args.function or args.function not in names:
        what = f"no function {args.function!r} in template.yaml" if args.function else "which function?"
        print(f"error: {what}: {USAGE}\n  functions: {', '.join(names)}", file=sys.stderr)
        return 2
    if not args.event or not args.event.is_file():
        what = f"no event file {args.event}" if args.event else "which event?"
        samples = ", ".join(sorted(p.name for p in Path("events").glob("*.json")))
        print(f"error: {what}: {USAGE}\n  events/: {samples}", file=sys.stderr)
        return 2
    try:
        json.loads(args.event.read_text())
    except ValueError as error:
        print(f"error: {args.event} is not JSON ({error})", file=sys.stderr)
        return 2

    import os

    import httpx

    from .lambdas import InvocationError
    from .stack import LocalStack

    # The functions' own output (logs, metrics) goes to stderr, as Lambda's does to CloudWatch: stdout is the result.
    sys.stdout.flush()
    result_out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    with tempfile.TemporaryDirectory(prefix="waitpoints-invoke-") as state_dir:
        stack = LocalStack(port=0, state_dir=Path(state_dir))
        try:
            key = stack.start()
            token = httpx.post(
                f"{stack.url}/api/v1/waitpoints/tokens",
                json={"timeout": "1h", "tags": ["make-invoke"]},
                headers={"Authorization": f"Bearer {key}"},
                timeout=30,
            ).json()
            event: Any = json.loads(fill_placeholders(args.event.read_text(), key, token.get("url")))
            try:
                result = stack.functions[args.function].invoke(event)
            except InvocationError as error:
                print(json.dumps(error.payload(), indent=2), file=sys.stderr)
                return 1
        finally:
            stack.stop()
    with result_out:
        print(json.dumps(result, indent=2, default=str), file=result_out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
