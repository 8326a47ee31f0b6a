"""Metrics and tracing for every handler (the edge: the core emits no metric).

Metrics are CloudWatch EMF lines through Powertools, in the `Waitpoints` namespace with the dimension
`service` (the dashboard in template.yaml reads them there). The X-Ray tracer costs about 250 ms of cold start to
import, so it is loaded only when the deployment enables tracing.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit, single_metric
from waitpoints_core.config import tracing_enabled

F = TypeVar("F", bound=Callable[..., Any])

NAMESPACE, SERVICE = "Waitpoints", "waitpoints"
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)
warnings.filterwarnings("ignore", message="No application metrics to publish")


def count(name: str, value: int = 1, **dimensions: str) -> None:
    """Add to a count metric; extra dimensions (e.g. reason=...) get a metric line of their own."""
    if not value:
        return
    if not dimensions:
        metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)
        return
    with single_metric(
        name=name,
        unit=MetricUnit.Count,
        value=value,
        namespace=NAMESPACE,
        default_dimensions=metrics.default_dimensions,
    ) as metric:
        for key, dimension in dimensions.items():
            metric.add_dimension(name=key, value=dimension)


def error_name(error: BaseException) -> str:
    """What a log line may say of a failure: its type, and an AWS error's code (never its message, which may
    quote the request)."""
    source = error if hasattr(error, "response") else error.__cause__
    response = getattr(source, "response", None)
    code = response.get("Error", {}).get("Code") if isinstance(response, dict) else None
    return f"{type(error).__name__}:{code}" if isinstance(code, str) else type(error).__name__


def milliseconds(name: str, value: float) -> None:
    metrics.add_metric(name=name, unit=MetricUnit.Milliseconds, value=value)


def instrument(handler: F) -> F:
    """Flush the handler's metrics after each invocation, and trace it when tracing is enabled."""
    wrapped: Any = metrics.log_metrics(handler)
    if tracing_enabled():
        from aws_lambda_powertools import Tracer

        wrapped = Tracer().capture_lambda_handler(wrapped)
    return wrapped  # type: ignore[no-any-return]
