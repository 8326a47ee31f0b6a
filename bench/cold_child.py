"""One fresh Lambda "container" for `make bench`: cold start, then memory after requests. Run by perf_bench.py.

    python bench/cold_child.py <handler file | floor> <requests> <canned.pickle> <op>

Only the standard library is imported before the clock starts. Cold start is the time to import the function's
module and run its init (the module's top level, then `get_service()`, which creates the DynamoDB client); the
floor imports boto3 and creates a DynamoDB client, nothing else. Then `requests` requests run with AWS answering
canned responses (no network): the first is timed on its own (`first_request_ms`: what is loaded on first use, such
as pydantic for a create, is paid there), and the peak RSS is read again after the last. Prints one JSON line.
"""

from __future__ import annotations

import time

_START = time.perf_counter()

import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pickle  # noqa: E402
import resource  # noqa: E402
import sys  # noqa: E402
from typing import Any  # noqa: E402


def _rss_mb() -> float:
    """Peak RSS of this process. /proc's VmHWM starts afresh at exec; getrusage's ru_maxrss would carry over the
    high-water mark of the (large) parent that forked this process."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


class Context:
    function_name = "bench"
    aws_request_id = "00000000-0000-0000-0000-000000000000"
    memory_limit_in_mb = 256
    function_version = "$LATEST"
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:bench"
    log_group_name = log_stream_name = "bench"

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 10_000


def main() -> None:
    target, requests, canned_path, op = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
    started = _START
    if target == "floor":
        import boto3

        client: Any = boto3.client("dynamodb")
        cold = time.perf_counter() - started
        result = {"cold_ms": cold * 1000, "rss_init_mb": _rss_mb(), "rss_mb": _rss_mb(), "loads_jsonschema": 0.0}
        assert client
    else:
        spec = importlib.util.spec_from_file_location("app", target)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules["app"] = module
        spec.loader.exec_module(module)
        from waitpoints_core import get_service

        get_service()
        cold = time.perf_counter() - started
        result = {"cold_ms": cold * 1000, "rss_init_mb": _rss_mb()}
        with open(canned_path, "rb") as f:
            canned = pickle.load(f)[op]
        from canned import install

        install(canned["responses"])
        events, expect, context = canned["events"], canned["expect"], Context()
        sys.stdout.flush()
        saved = os.dup(1)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the EMF metric and log lines (the write still happens)
        try:
            for i in range(requests):
                event = json.loads(events[i % len(events)])
                request_started = time.perf_counter()
                response = module.lambda_handler(event, context)
                if i == 0:
                    result["first_request_ms"] = (time.perf_counter() - request_started) * 1000
                    if any(response.get(k) != v for k, v in expect.items()):
                        raise SystemExit(f"unexpected response: {response}")
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
        result["rss_mb"] = _rss_mb()
        result["loads_jsonschema"] = float("jsonschema" in sys.modules)  # tokens without a schema never load it
    print(json.dumps(result))


if __name__ == "__main__":
    main()
