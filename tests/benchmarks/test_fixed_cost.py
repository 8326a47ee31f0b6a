"""docs/cost.md's idle-stack table is what bench.fixed_cost computes from template.yaml."""

from __future__ import annotations

from pathlib import Path

from bench.fixed_cost import alarm_metrics, idle_month

DOC = Path(__file__).resolve().parents[2] / "docs" / "cost.md"


def test_the_idle_month_in_docs_is_the_computed_one() -> None:
    month = idle_month()
    text = DOC.read_text()
    assert f"about ${month['total']:.2f} a month" in text
    assert f"**${month['total']:.2f}**" in text
    assert f"{month['alarms']} alarms, {month['billed_alarm_metrics']} metrics" in text
    for label, item in (
        ("CloudWatch alarms", "alarms"),
        ("CloudWatch dashboard", "dashboard"),
        ("Signing secret", "signing_secret"),
    ):
        row = next(line for line in text.splitlines() if line.startswith(f"| {label} "))
        assert row.endswith(f"${month['items'][item]:.2f} |"), row


def test_a_metric_math_alarm_is_billed_per_metric() -> None:
    assert alarm_metrics({"MetricName": "5xx"}) == 1
    assert (
        alarm_metrics(
            {
                "Metrics": [
                    {"Id": "e", "Expression": "SUM([a,b])"},
                    {"Id": "a", "MetricStat": {}},
                    {"Id": "b", "MetricStat": {}},
                ]
            }
        )
        == 2
    )
