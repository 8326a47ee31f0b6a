"""Soak run of a fresh local stack (`make soak`): mixed load for a bounded time, loopback only, then checks.

Each worker loops over one scenario at a time, chosen at random: create then complete by the API, create then
complete by the callback URL, create with a 2 s timeout and let it time out, list a page, or attach a workflow
(a Step Functions execution waiting on the token) and complete the token. Afterwards (once the last timeouts
have passed and the sweep and the stream have run) every token is read back and must be in the state its
scenario expects, with its output; every workflow must have SUCCEEDED (completed) or FAILED with
Waitpoint.TimedOut, once. The stack's RSS (its process and every container) is sampled through the run: after
the warm-up it must stay flat (the last fifth's median within 15% + 20 MiB of the second fifth's).

    make soak                          # 10 minutes, 8 workers
    python -m bench.soak --seconds 20  # what make test runs (tests/benchmarks/test_soak.py)

Exit status 1 on any 5xx, transport error, wrong final state or growing RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import boto3
import httpx
from waitpoints_local.stepfunctions import waiting_machine

from tests.local_stack import running_stack

TOKENS = "/api/v1/waitpoints/tokens"
SCENARIOS = ("complete", "callback", "timeout", "list", "attach")


def _rss_kib(pid: int) -> int:
    """RSS of a process and all its descendants, KiB (Linux /proc)."""
    total, pending = 0, [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        pending += [int(c) for c in children]
    return total


def run(values: dict[str, str], stack_pid: int, seconds: float, workers: int, seed: int) -> int:
    url, key = values["WAITPOINTS_API_URL"], values["WAITPOINTS_SECRET_KEY"]
    sfn: Any = boto3.client(
        "stepfunctions",
        endpoint_url=values["AWS_ENDPOINT_URL"],
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    machine = waiting_machine(sfn, "soak")
    expected: dict[str, tuple[str, Any]] = {}  # token id -> (final status, output data)
    executions: dict[str, str] = {}  # execution arn -> token id
    problems: list[str] = []
    counts: Counter[str] = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + seconds
    samples: list[int] = []

    def check(response: httpx.Response, what: str) -> httpx.Response:
        if response.status_code != 200:
            with lock:
                problems.append(f"{what}: {response.status_code} {response.text[:200]}")
        return response

    def worker(number: int) -> None:
        rng = random.Random(seed + number)
        with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
            while time.monotonic() < deadline:
                scenario = rng.choice(SCENARIOS)
                data = {"n": rng.randrange(10**9), "worker": number}
                try:
                    if scenario == "list":
                        check(api.get(TOKENS, params={"page[size]": "20"}), "list")
                    elif scenario == "timeout":
                        created = check(api.post(TOKENS, json={"timeout": "2s"}), "create").json()
                        with lock:
                            expected[created["id"]] = ("TIMED_OUT", None)
                    else:
                        created = check(api.post(TOKENS, json={"timeout": "1h"}), "create").json()
                        token_id = created["id"]
                        if scenario == "attach":
                            arn = sfn.start_execution(
                                stateMachineArn=machine, name=uuid.uuid4().hex, input=json.dumps({"id": token_id})
                            )["executionArn"]
                            with lock:
                                executions[arn] = token_id
                            time.sleep(0.2)  # let it attach, most of the time (an attach after completion also works)
                        with lock:
                            expected[token_id] = ("COMPLETED", data)
                        if scenario == "callback":
                            path = "/" + created["url"].split("/", 3)[3]
                            check(httpx.post(url + path, json=data, timeout=30), "callback")
                        else:
                            check(api.post(f"{TOKENS}/{token_id}/complete", json={"data": data}), "complete")
                except httpx.HTTPError as exc:
                    with lock:
                        problems.append(f"{scenario}: {type(exc).__name__}")
                with lock:
                    counts[scenario] += 1

    def sampler() -> None:
        while time.monotonic() < deadline:
            samples.append(_rss_kib(stack_pid))
            time.sleep(max(0.5, seconds / 100))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(workers)]
    threads.append(threading.Thread(target=sampler))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # The last timeouts pass, the sweep (every second locally) persists them, the stream resumes the workflows.
    time.sleep(4)
    wrong: Counter[str] = Counter()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as api:
        for token_id, (status, data) in expected.items():
            token = api.get(f"{TOKENS}/{token_id}").json()
            output = json.loads(token["output"]) if status == "COMPLETED" and token.get("output") else None
            if token.get("status") != status or (status == "COMPLETED" and output != data):
                wrong[status] += 1
        settle = time.monotonic() + 30
        outcomes: Counter[str] = Counter()
        for arn, token_id in executions.items():
            while (description := sfn.describe_execution(executionArn=arn))["status"] == "RUNNING":
                if time.monotonic() > settle:
                    break
                time.sleep(0.1)
            history = sfn.get_execution_history(executionArn=arn, maxResults=1000)["events"]
            succeeded = sum(e["type"] == "TaskSucceeded" for e in history)
            want = expected[token_id][1]
            if description["status"] == "SUCCEEDED" and succeeded == 1 and json.loads(description["output"]) == want:
                outcomes["resumed once"] += 1
            else:
                outcomes[f"{description['status']} ({succeeded} TaskSucceeded)"] += 1
    fifth = max(1, len(samples) // 5)
    warm, last = statistics.median(samples[fifth : 2 * fifth] or samples), statistics.median(samples[-fifth:])
    flat = last <= warm * 1.15 + 20 * 1024
    print(
        f"soak: {seconds:.0f} s, {workers} workers, scenarios {dict(counts)}; {len(expected)} tokens "
        f"({sum(1 for s, _ in expected.values() if s == 'TIMED_OUT')} timed out), {len(executions)} workflows "
        f"{dict(outcomes)}; wrong final states {dict(wrong) or 0}; problems {len(problems)}"
    )
    print(
        f"soak: RSS of the stack's processes: start {samples[0] / 1024:.0f} MiB, after warm-up {warm / 1024:.0f} MiB, "
        f"end {last / 1024:.0f} MiB, max {max(samples) / 1024:.0f} MiB ({len(samples)} samples): "
        f"{'flat' if flat else 'GROWING'}"
    )
    for problem in problems[:10]:
        print("  ", problem)
    ok = not problems and not wrong and set(outcomes) <= {"resumed once"} and flat
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--seed", type=int, default=20261202)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="waitpoints-soak-") as state:
        with running_stack(Path(state)) as values:
            pid = int((Path(state) / "stack.pid").read_text()) if (Path(state) / "stack.pid").exists() else 0
            return run(values, pid or _stack_pid(Path(state)), args.seconds, args.workers, args.seed)


def _stack_pid(state: Path) -> int:
    """The local stack's process: the child of this one running waitpoints_local on this state directory."""
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"waitpoints_local" in cmdline and str(state).encode() in cmdline:
                return int(proc.name)
    return os.getpid()


if __name__ == "__main__":
    sys.exit(main())
