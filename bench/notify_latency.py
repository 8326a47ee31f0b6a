"""Time from a completion reaching the API to the waiting client knowing, on the local stack (`make bench-notify`).

Starts a local stack; for each run, a client waits on a fresh token with the Python SDK's `for_token`, once
over the WebSocket subscription (`ws_url`, the realtime extra) and once by polling (`realtime=False`, the
default poll interval), and the token is completed through its callback URL a random 0.3-2.5 s into the wait
(polling's latency depends on where in its interval the completion falls). Prints p50/p95/max per transport.
Figures, not assertions: they depend on the machine, and the local stream poller's interval is part of them.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
from waitpoints import Client
from waitpoints_local.stack import LocalStack


def _one(client: Client, realtime: bool, delay: float) -> float:
    """Milliseconds from the completion's POST to for_token returning."""
    token = client.create_token(timeout="1h")
    done: dict[str, float] = {}

    def wait() -> None:
        result = client.for_token(token, timeout=60, realtime=realtime)
        done["at"] = time.monotonic()
        assert result.ok, result

    waiter = threading.Thread(target=wait)
    waiter.start()
    time.sleep(delay)
    sent = time.monotonic()
    assert httpx.post(token.url, json={"ok": True}, timeout=30).status_code == 200
    waiter.join(timeout=60)
    return (done["at"] - sent) * 1000


def _summary(name: str, latencies: list[float]) -> str:
    ordered = sorted(latencies)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return (
        f"completion → client notified, {name:<13} over {len(ordered)} runs: "
        f"p50 {statistics.median(ordered):.0f} ms, p95 {p95:.0f} ms, max {ordered[-1]:.0f} ms"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=20)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    stack = LocalStack(port=0, state_dir=Path(tempfile.mkdtemp()))
    key = stack.start()
    try:
        results: dict[str, list[float]] = {"subscription": [], "polling": []}
        with Client(stack.url, key, ws_url=stack.ws_url) as client:
            for _ in range(args.runs):
                delay = rng.uniform(0.3, 2.5)
                results["subscription"].append(_one(client, True, delay))
                results["polling"].append(_one(client, False, delay))
        for name, latencies in results.items():
            print(_summary(name, latencies), flush=True)
    finally:
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
