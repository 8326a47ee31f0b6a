"""Scheduled timeout sweep: persist TIMED_OUT for waiting tokens past their timeout.

Reads already show TIMED_OUT lazily; this write is what tells waiting workflows (through the stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger
from waitpoints_core import get_service
from waitpoints_http.metrics import count, error_name, instrument

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

logger = Logger()
_SAFETY_MS = 5_000


def _report(token_id: str, error: Exception) -> None:
    """One token the sweep could not time out: skipped this run (every other token still times out), retried
    by the next. Only the error's type is logged: an AWS error message may quote the request."""
    count("SweepFailures")
    logger.warning("timeout sweep skipped a token", extra={"waitpoint_id": token_id, "error": error_name(error)})


@instrument
@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, int]:
    budget = max(1_000, context.get_remaining_time_in_millis() - _SAFETY_MS)
    timed_out = get_service().workflows.sweep_timeouts(budget_ms=budget, on_failure=_report)
    count("TokensTimedOut", timed_out)
    if timed_out:
        logger.info("timed out waiting tokens", extra={"timed_out": timed_out})
    return {"timedOut": timed_out}
