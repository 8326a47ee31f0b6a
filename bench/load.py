"""Load test of the local stack (`make load`): many concurrent clients create tokens, race to complete them
through the callback URL and the API, and read them back. Bounded in requests and in time, loopback only.

Afterwards every token is read once more: each must be COMPLETED with exactly the output of one of the
completions sent for it (they all differ), the same one every read sees; every idempotent create must have
returned one id per key. Prints throughput and p50/p99 latency per operation. Exit status 1 on any 5xx,
transport error or wrong final state.

    make load                                     # a fresh local stack, 32 clients, 4,000 requests, at most 60 s
    make load ARGS="--clients 64 --requests 10000 --seconds 120"
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from collections import defaultdict
from contextlib import nullcontext
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from tests.local_stack import running_stack

REPO = Path(__file__).resolve().parents[1]

TOKENS = "/api/v1/waitpoints/tokens"


class Recorder:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = defaultdict(list)
        self.statuses: dict[str, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self.problems: list[str] = []
        self.sent = 0

    def record(self, operation: str, seconds: float, status: int) -> None:
        with self.lock:
            self.latency[operation].append(seconds)
            self.statuses[operation][status] += 1
            self.sent += 1
            if status >= 500:
                self.problems.append(f"{operation}: {status}")


def _loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def run(url: str, key: str, clients: int, budget: int, seconds: float, seed: int) -> int:
    rec = Recorder()
    deadline = time.monotonic() + seconds
    sent_outputs: dict[str, set[str]] = defaultdict(set)  # token id → the outputs its completions carried
    idempotent: dict[str, set[str]] = defaultdict(set)  # idempotency key → ids create returned
    lock = threading.Lock()
    ids: list[str] = []

    def call(client: httpx.Client, operation: str, method: str, path: str, **kwargs: object) -> httpx.Response | None:
        started = time.perf_counter()
        try:
            response = client.request(method, path, **kwargs)  # type: ignore[arg-type]
        except httpx.HTTPError as exc:
            with rec.lock:
                rec.problems.append(f"{operation}: {type(exc).__name__}")
            return None
        rec.record(operation, time.perf_counter() - started, response.status_code)
        return response

    def worker(number: int) -> None:
        rnd = random.Random(seed * 1000 + number)
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as client:
            n = 0
            while time.monotonic() < deadline and rec.sent < budget:
                n += 1
                body: dict[str, object] = {"timeout": "1h", "tags": [f"load-{number % 8}"]}
                if rnd.random() < 0.3:
                    body["idempotencyKey"] = f"load-{rnd.randrange(200)}"
                created = call(client, "create", "POST", TOKENS, json=body)
                if created is None or created.status_code != 200:
                    continue
                token = created.json()
                with lock:
                    ids.append(token["id"])
                    if "idempotencyKey" in body:
                        idempotent[str(body["idempotencyKey"])].add(token["id"])
                # Race: 1 to 3 completions, by callback URL or by the API, from this client and random others.
                for attempt in range(rnd.randint(1, 3)):
                    data = {"client": number, "n": n, "attempt": attempt}
                    with lock:
                        sent_outputs[token["id"]].add(json.dumps(data, separators=(",", ":")))
                    if rnd.random() < 0.5:
                        path = "/" + token["url"].split("/", 3)[3]
                        call(client, "callback", "POST", path, json=data, headers={"Authorization": ""})
                    else:
                        call(client, "complete", "POST", f"{TOKENS}/{token['id']}/complete", json={"data": data})
                call(client, "retrieve", "GET", f"{TOKENS}/{token['id']}")
                if n % 10 == 0:
                    call(
                        client, "list", "GET", TOKENS, params={"filter[tags]": f"load-{number % 8}", "page[size]": "20"}
                    )

    started = time.monotonic()
    threads = [threading.Thread(target=worker, args=(i,)) for i in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started

    # The check: each token holds one of its completions, and reads agree.
    wrong = []
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        for token_id in sorted(set(ids)):
            token = client.get(f"{TOKENS}/{token_id}").json()
            if token.get("status") != "COMPLETED" or token.get("output") not in sent_outputs[token_id]:
                wrong.append((token_id, token.get("status"), token.get("output")))
    split = {k: v for k, v in idempotent.items() if len(v) != 1}

    print(f"{rec.sent} requests from {clients} clients in {elapsed:.1f} s: {rec.sent / elapsed:.0f} requests/s")
    print(f"{'operation':10} {'count':>7} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for operation, values in sorted(rec.latency.items()):
        values.sort()
        p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
        print(
            f"{operation:10} {len(values):7} {statistics.median(values) * 1000:8.1f} {p99 * 1000:8.1f}  "
            f"{dict(sorted(rec.statuses[operation].items()))}"
        )
    print(
        f"{len(set(ids))} tokens: {len(set(ids)) - len(wrong)} hold exactly one of their completions; "
        f"{len(wrong)} do not; {len(idempotent)} idempotency keys, {len(split)} split"
    )
    for problem in rec.problems[:10] + [str(w) for w in wrong[:10]] + [str(s) for s in list(split.items())[:10]]:
        print("  PROBLEM", problem)
    return 1 if rec.problems or wrong or split else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--requests", type=int, default=4000, help="stop after this many requests")
    parser.add_argument("--seconds", type=float, default=60, help="stop after this long")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    url, key = os.environ.get("WAITPOINTS_API_URL"), os.environ.get("WAITPOINTS_SECRET_KEY")
    if url and not _loopback(url):
        print(f"refusing {url}: the load test runs against a loopback stack only", file=sys.stderr)
        return 2
    with (
        nullcontext({"WAITPOINTS_API_URL": url, "WAITPOINTS_SECRET_KEY": key})
        if url and key
        else running_stack(Path(tempfile.mkdtemp(prefix="waitpoints-load-")))
    ) as values:
        return run(
            values["WAITPOINTS_API_URL"],
            values["WAITPOINTS_SECRET_KEY"],
            args.clients,
            args.requests,
            args.seconds,
            args.seed,
        )


if __name__ == "__main__":
    sys.exit(main())
