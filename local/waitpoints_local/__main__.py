"""`make run`: start the local stack and serve until Ctrl-C."""

from __future__ import annotations

import argparse
import faulthandler
import os
import signal
import sys
import threading
from pathlib import Path

from .stack import DEV_ENV, LocalStack, StackBusy


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="waitpoints-local", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        default=int(os.environ.get("WAITPOINTS_PORT", "3000")),
        help="port to listen on (env WAITPOINTS_PORT; default 3000; 0 picks a free one; the WebSocket API's port "
        "is WAITPOINTS_WS_PORT, default a free one)",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("WAITPOINTS_STATE_DIR", ".waitpoints")),
        help="where local.env is written (env WAITPOINTS_STATE_DIR; default .waitpoints)",
    )
    args = parser.parse_args(argv)
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints every thread's stack, to debug a hang

    stack = LocalStack(args.host, args.port, args.state_dir)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        key = stack.start()
    except StackBusy as busy:  # nothing was started and nothing of the running stack was touched
        print(busy, file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C while starting
        stack.stop()
        print("waitpoints local stack stopped.", file=sys.stderr)
        return 0
    except BaseException:
        stack.stop()
        raise
    try:
        print(
            f"waitpoints local stack is up\n"
            f"  API:              {stack.url}\n"
            f"  WebSocket API:    {stack.ws_url}\n"
            f"  Console:          {stack.url}/console\n"
            f"  Secret key ({DEV_ENV}): {key}\n"
            f"  Emulated AWS:     {os.environ['AWS_ENDPOINT_URL']}\n"
            + (f"  Durable runner:   {stack.durable.endpoint_url}\n" if stack.durable else "")
            + f"  Wrote {stack.env_file} (source it: set -a; . {stack.env_file}; set +a)\n"
            f"Press Ctrl-C to stop.",
            flush=True,
        )
        stopping.wait()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C (make passes one on) must not cut this short
        stack.stop()
        print("waitpoints local stack stopped.", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
