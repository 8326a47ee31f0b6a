"""What an idle stack costs a month, read from template.yaml at list prices (us-east-1), and what a million tokens
cost on top (bench.perf_bench's dollars per million, which `make bench` measures). docs/cost.md shows the figures.

Idle means no request at all: what is left is the CloudWatch dashboard and alarms, the signing secret, the sweep's
schedule (one invocation and one Query of the due index a minute), its log lines, and storage that rounds to zero.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from waitpoints_local.template import Template

from .perf_bench import call_cost

PRICE_ALARM_METRIC = 0.10  # per standard-resolution alarm metric a month (a metric-math alarm pays per metric in it)
PRICE_DASHBOARD = 3.00  # per dashboard a month (an account's first 3 are free: left out here, as the worst case)
PRICE_SECRET = 0.40  # per Secrets Manager secret a month (plus $0.05 per 10,000 API calls: cached, so negligible)
PRICE_LOG_INGEST_GB = 0.50  # CloudWatch Logs ingestion, per GB
PRICE_LOG_STORAGE_GB = 0.03  # CloudWatch Logs storage, per GB-month
MINUTES_A_MONTH = 60 * 24 * 365 / 12  # 43,800
SWEEP_LOG_BYTES = 350  # an idle invocation's START, END and REPORT lines (Powertools logs nothing at INFO)
# An idle sweep: one Query of the due index that finds nothing (eventually consistent: 0.5 read units), about 2 ms.
IDLE_SWEEP = {"handler_p50_us": 2000.0, "ddb_requests": 1.0, "wcu": 0.0, "rcu": 0.5}


def alarm_metrics(alarm: dict[str, Any]) -> int:
    """The metrics an alarm is billed for: one for a plain alarm, each MetricStat of a metric-math alarm."""
    metrics = alarm.get("Metrics")
    return 1 if metrics is None else sum(1 for metric in metrics if "MetricStat" in metric)


def idle_month(template: Template | None = None, log_retention_days: int | None = None) -> dict[str, Any]:
    """The fixed monthly cost of an idle stack, item by item, in dollars."""
    template = template or Template()
    alarms = template.resources_of_type("AWS::CloudWatch::Alarm")
    billed_alarm_metrics = sum(alarm_metrics(alarm) for alarm in alarms.values())
    dashboards = len(template.resources_of_type("AWS::CloudWatch::Dashboard"))
    secrets = len(template.resources_of_type("AWS::SecretsManager::Secret"))
    sweeps = MINUTES_A_MONTH * sum(len(f.schedules) for f in template.functions())
    retention = log_retention_days or int(template.doc["Parameters"]["LogRetentionDays"]["Default"])
    log_gb = sweeps * SWEEP_LOG_BYTES / 1e9
    items = {
        "alarms": billed_alarm_metrics * PRICE_ALARM_METRIC,
        "dashboard": dashboards * PRICE_DASHBOARD,
        "signing_secret": secrets * PRICE_SECRET,
        "sweep_schedule": sum(call_cost(IDLE_SWEEP, api=False).values()) * sweeps / 1e6,
        "log_ingestion": log_gb * PRICE_LOG_INGEST_GB,
        "log_storage": log_gb * min(retention, 30) / 30 * PRICE_LOG_STORAGE_GB,  # at most a month's lines at rest
    }
    return {
        "items": {name: round(value, 4) for name, value in items.items()},
        "total": round(sum(items.values()), 2),
        "alarms": len(alarms),
        "billed_alarm_metrics": billed_alarm_metrics,
        "sweeps_a_month": round(sweeps),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fixed_cost", description=__doc__)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    month = idle_month()
    if args.json:
        print(json.dumps(month, indent=2))
        return 0
    for name, value in month["items"].items():
        print(f"{name:<16} ${value:.2f}")
    print(
        f"{'total':<16} ${month['total']:.2f} a month "
        f"({month['alarms']} alarms, {month['billed_alarm_metrics']} billed metrics)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
