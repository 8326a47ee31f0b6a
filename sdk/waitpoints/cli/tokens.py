"""``waitpoints tokens create | retrieve | list | complete | reject | timeout | extend | wait | watch``.

``get`` is a hidden alias of ``retrieve``."""

from __future__ import annotations

import json
import time
from itertools import chain
from typing import TYPE_CHECKING, Any

import click

from .. import NOT_GIVEN, Client, Token, TokenStatus, WaitpointRejectedError, WaitpointsError, WaitTimeoutError
from .._subscription import watch as subscription_watch
from .._types import format_iso, format_seconds, parse_datetime
from .options import Duration, Instant, api_options, human_delta, json_option, make_client, until
from .output import EXIT_NOT_COMPLETED, EXIT_REJECTED, Output, status_text, when_text

if TYPE_CHECKING:
    from collections.abc import Iterator

    from rich.text import Text


@click.group()
def tokens() -> None:
    """Create, inspect, complete, reject and wait on waitpoint tokens."""


@tokens.command()
@click.option(
    "--timeout",
    metavar="DURATION|DATETIME",
    help="When the token times out: 10m, 1h30m, 2w3d, or an ISO 8601 date-time. Default 10m.",
)
@click.option("--idempotency-key", metavar="KEY", help="Return the same token while this key lives.")
@click.option("--idempotency-key-ttl", metavar="DURATION", help="How long the key lives (default 1h).")
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="A tag; repeat for more (up to 10).")
@click.option("--description", metavar="TEXT", help="What the token waits for (up to 1,000 characters).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the id.")
@json_option
@api_options
@click.pass_obj
def create(
    out: Output,
    timeout: str | None,
    idempotency_key: str | None,
    idempotency_key_ttl: str | None,
    tags: tuple[str, ...],
    description: str | None,
    quiet: bool,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """Create a token. Prints its id, callback URL and public access token."""
    with make_client(api_url, secret_key) as client:
        token = client.create_token(
            timeout=timeout,
            idempotency_key=idempotency_key,
            idempotency_key_ttl=idempotency_key_ttl,
            tags=list(tags) if tags else None,
            description=description,
        )
    if as_json:
        out.json(token.to_dict())
    elif quiet:
        out.line(token.id)
    else:
        out.fields(
            [
                ("id", token.id),
                ("url", token.url),
                ("cached", "yes" if token.is_cached else "no"),
                ("public access token", token.public_access_token),
            ]
        )


@tokens.command()
@click.argument("token_id", metavar="ID")
@json_option
@api_options
@click.pass_obj
def retrieve(out: Output, token_id: str, as_json: bool, api_url: str | None, secret_key: str | None) -> None:
    """Show a token: status, dates, tags and output."""
    with make_client(api_url, secret_key) as client:
        token = client.retrieve_token(token_id)
    if as_json:
        out.json(token.to_dict())
    else:
        show_token(out, token)


# `tokens get`, the command's first name: still accepted, no longer listed (retrieve, as in the API and the SDK).
tokens.add_command(
    click.Command("get", callback=retrieve.callback, params=retrieve.params, help=retrieve.help, hidden=True)
)


@tokens.command(name="list")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    metavar="STATUS",
    help="WAITING, COMPLETED or TIMED_OUT; repeat or separate with commas for any of several.",
)
@click.option("--tag", "tags", multiple=True, metavar="TAG", help="Tokens with this tag; repeat for any of several.")
@click.option("--idempotency-key", metavar="KEY", help="The token created with this idempotency key.")
@click.option("--period", metavar="DURATION", help="Created within this long before now: 1h, 1d, 7d, 30d...")
@click.option("--from", "from_", type=Instant(), help="Created at or after (ISO 8601, UTC if no offset; or epoch ms).")
@click.option("--to", type=Instant(), help="Created at or before (ISO 8601, UTC if no offset; or epoch ms).")
@click.option("--limit", type=click.IntRange(1, 100), metavar="N", help="Page size, 1 to 100 (server default 25).")
@click.option("--after", metavar="CURSOR", help="The page after this cursor (printed under a page that has more).")
@click.option("--before", metavar="CURSOR", help="The page before this cursor.")
@click.option("--all", "all_pages", is_flag=True, help="Follow the pages to the end (from --after's page, if given).")
@json_option
@api_options
@click.pass_obj
def list_(
    out: Output,
    statuses: tuple[str, ...],
    tags: tuple[str, ...],
    idempotency_key: str | None,
    period: str | None,
    from_: Any,
    to: Any,
    limit: int | None,
    after: str | None,
    before: str | None,
    all_pages: bool,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """List tokens, newest first, one page at a time (or --all).

    With --json a page prints as the API returns it; with --all, every token in one {"data": [...]}.
    """
    wanted = [s.strip().upper() for s in chain.from_iterable(v.split(",") for v in statuses) if s.strip()]
    bad = [s for s in wanted if s not in TokenStatus.__members__]
    if bad:
        raise click.BadParameter(f"{', '.join(bad)} (choose from WAITING, COMPLETED, TIMED_OUT)", param_hint="--status")
    filters: dict[str, Any] = {
        "status": wanted or None,
        "tags": list(tags) or None,
        "idempotency_key": idempotency_key,
        "period": period,
        "from_": from_,
        "to": to,
        "limit": limit,
    }
    if all_pages and before:
        raise click.UsageError("--all follows the pages forward to the end: give --after CURSOR with it, not --before")
    with make_client(api_url, secret_key) as client:
        if all_pages:
            found = list(every_page(client, filters, after))
            if as_json:
                out.json({"data": [token.to_dict() for token in found], "pagination": {}})
            else:
                out.token_table(found)
                out.info(f"{len(found)} token{'' if len(found) == 1 else 's'}")
            return
        page = client.list_tokens_page(**filters, after=after, before=before)
    if as_json:
        out.json(page.to_dict())
        return
    out.token_table(page.data)
    if page.next_cursor:
        out.info(f"More: add --after {page.next_cursor} (or use --all)")
    if page.previous_cursor:
        out.info(f"Newer: add --before {page.previous_cursor}")


def every_page(client: Client, filters: dict[str, Any], after: str | None) -> Iterator[Token]:
    """The tokens of every page from the one after `after` (the first page when None) to the last."""
    cursor = after
    while True:
        page = client.list_tokens_page(**filters, after=cursor)
        yield from page.data
        if not page.next_cursor:
            return
        cursor = page.next_cursor


@tokens.command()
@click.argument("token_id", metavar="ID")
@click.argument("data", required=False)
@click.option(
    "--data-file",
    type=click.File("r"),
    metavar="PATH",
    help="Read the JSON data from a file ('-' for stdin) instead of the DATA argument.",
)
@json_option
@api_options
@click.pass_obj
def complete(
    out: Output,
    token_id: str,
    data: str | None,
    data_file: Any,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """Complete a token with DATA (JSON), which becomes its output.

    Without DATA the token completes with no output. Text must be quoted as JSON: '"approved"'.
    Completing a token that is already completed or timed out succeeds and changes nothing; the command
    says which happened. --secret-key may be the token's public access token.
    """
    if data is not None and data_file is not None:
        raise click.UsageError("give DATA or --data-file, not both")
    text = data_file.read() if data_file is not None else data
    value: Any = NOT_GIVEN
    if text is not None:
        try:
            value = json.loads(text)
        except ValueError as error:
            raise click.BadParameter(
                f"not JSON ({error}); to send text, quote it: '\"{text[:40]}\"'", param_hint="DATA"
            ) from None
    with make_client(api_url, secret_key) as client:
        completed = client.complete_token(token_id, value)
        final: Token | None = None
        if not completed and not as_json:
            try:  # its status, for the message; a public access token may complete its token but not read it
                final = client.retrieve_token(token_id)
            except WaitpointsError:
                final = None
    if as_json:
        out.json({"success": True})
    elif completed:
        out.line(f"Completed {token_id}")
    else:
        state = f" ({final.status.value})" if final is not None else ""
        out.line(f"{token_id} was already final{state}: nothing changed (the first completion wins)")


@tokens.command("timeout")
@click.argument("token_id", metavar="ID")
@json_option
@api_options
@click.pass_obj
def force_timeout(out: Output, token_id: str, as_json: bool, api_url: str | None, secret_key: str | None) -> None:
    """Time a waiting token out now (secret key only): waiters get Waitpoint.TimedOut.

    A token already completed or timed out is left as it is.
    """
    with make_client(api_url, secret_key) as client:
        timed_out = client.force_timeout_token(token_id)
    if as_json:
        out.json({"success": True, "timedOut": timed_out})
    else:
        out.line(f"Timed out {token_id}" if timed_out else f"{token_id} was already final; nothing changed")


@tokens.command()
@click.argument("token_id", metavar="ID")
@click.option(
    "--timeout",
    "new_timeout",
    required=True,
    metavar="WHEN",
    help="The new timeout: a duration from now (1h, 2d), an ISO 8601 date-time, or epoch milliseconds.",
)
@json_option
@api_options
@click.pass_obj
def extend(
    out: Output, token_id: str, new_timeout: str, as_json: bool, api_url: str | None, secret_key: str | None
) -> None:
    """Move a waiting token's timeout later (secret key only); at most 365 days away."""
    value: str | int = int(new_timeout) if new_timeout.isdigit() else new_timeout
    with make_client(api_url, secret_key) as client:
        timeout_at = client.extend_token(token_id, value)
    iso = timeout_at.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if as_json:
        out.json({"success": True, "timeoutAt": iso})
    else:
        out.line(f"Extended {token_id}: it now times out at {iso}")


@tokens.command()
@click.argument("token_id", metavar="ID")
@click.option("--reason", metavar="TEXT", help="Why (at most 1,000 characters); shown to whoever waits.")
@click.option("--data", "data", metavar="JSON", help="Any JSON value kept with the rejection.")
@json_option
@api_options
@click.pass_obj
def reject(
    out: Output,
    token_id: str,
    reason: str | None,
    data: str | None,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """Reject a token, with a --reason and --data if given.

    A waiting workflow fails with Waitpoint.Rejected; 'waitpoints tokens wait' exits 5. Rejecting a token that
    is already completed, rejected or timed out succeeds and changes nothing. --secret-key may be the token's
    public access token.
    """
    value: Any = NOT_GIVEN
    if data is not None:
        try:
            value = json.loads(data)
        except ValueError as error:
            raise click.BadParameter(f"not JSON ({error})", param_hint="--data") from None
    with make_client(api_url, secret_key) as client:
        client.reject_token(token_id, reason=reason, data=value)
    if as_json:
        out.json({"success": True})
    else:
        out.line(f"Rejected {token_id}")


@tokens.command()
@click.argument("token_id", metavar="ID")
@click.option(
    "--timeout",
    type=Duration(),
    metavar="DURATION",
    help="Give up after this long (30, 30s, 10m, 1h30m) and exit 3. Default: until the token's own timeout.",
)
@click.option(
    "--poll-interval",
    type=Duration(),
    default="2s",
    show_default=True,
    metavar="DURATION",
    help="The longest pause between reads (they start at 0.25s and double).",
)
@json_option
@api_options
@click.pass_obj
def wait(
    out: Output,
    token_id: str,
    timeout: float | None,
    poll_interval: float,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """Wait until a token is completed, then print its output.

    Exits 3 when the token times out, or when --timeout runs out first; exits 5 when it was rejected. With
    --json, prints the token as the API returns it.
    """
    if poll_interval <= 0:
        raise click.BadParameter("must be positive", param_hint="--poll-interval")
    with make_client(api_url, secret_key) as client:
        first = client.retrieve_token(token_id)
        if not first.is_final:
            out.info(waiting_line(first, timeout))
        started = time.monotonic()
        with out.waiting(f"Waiting for {first.id}"):
            result = client.for_token(first, poll_interval=poll_interval, timeout=timeout)
        waited = time.monotonic() - started
    token = result.token
    if as_json:
        out.json(token.to_dict())
    elif result.ok:
        print_output(out, token.output)
    if result.ok:
        if not first.is_final:
            out.success(f"Completed after {format_seconds(waited)}")
        return
    assert result.error is not None
    out.error(str(result.error))
    if isinstance(result.error, WaitTimeoutError):
        out.info(f"The token still waits; run 'waitpoints tokens wait {token.id}' again to keep waiting.")
    if isinstance(result.error, WaitpointRejectedError):
        click.get_current_context().exit(EXIT_REJECTED)
    click.get_current_context().exit(EXIT_NOT_COMPLETED)


@tokens.command()
@click.option("--tag", metavar="TAG", help="Every token with this tag (a secret key only).")
@click.option("--id", "token_id", metavar="ID", help="One token (a secret key or its public access token).")
@click.option("--count", type=click.IntRange(1), metavar="N", help="Stop after N transitions (default: never).")
@click.option(
    "--poll-interval",
    type=Duration(),
    default="2s",
    show_default=True,
    metavar="DURATION",
    help="Between reads, when no WebSocket API is known (WAITPOINTS_WS_URL) and it has to poll.",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object per line: transition, token, outputOmitted.")
@api_options
@click.pass_obj
def watch(
    out: Output,
    tag: str | None,
    token_id: str | None,
    count: int | None,
    poll_interval: float,
    as_json: bool,
    api_url: str | None,
    secret_key: str | None,
) -> None:
    """Print a token's transitions, or a tag's tokens', as they happen (until Ctrl-C or --count).

    Subscribes over the WebSocket API when its URL is known (WAITPOINTS_WS_URL, or local.env), else polls.
    A token subscription first prints its current state as transition "snapshot". Transitions: created,
    completed, rejected, timed_out, extended. A subscription is not a replay log: what happened before it
    started is not printed (use 'tokens list --tag' for that).
    """
    if (tag is None) == (token_id is None):
        raise click.UsageError("give exactly one of --tag and --id")
    with make_client(api_url, secret_key) as client:
        seen = 0
        for change in subscription_watch(
            client, token_id=token_id, tag=tag, ws_url=client.ws_url, poll_interval=poll_interval
        ):
            if as_json:
                out.json(
                    {
                        "transition": change.transition,
                        "token": change.token.to_dict(),
                        "outputOmitted": change.output_omitted,
                    }
                )
            else:
                token = change.token
                out.line(f"{change.transition:<10} {token.id}  {token.status.value}  {', '.join(token.tags)}".rstrip())
            seen += 1
            if count is not None and seen >= count:
                return


def waiting_line(token: Token, timeout: float | None) -> str:
    parts = [f"Waiting for {token.id}"]
    if token.timeout_at is not None:
        parts.append(f"the token times out at {format_iso(token.timeout_at)} ({human_delta(until(token.timeout_at))})")
    if timeout is not None:
        parts.append(f"giving up after {format_seconds(timeout)}")
    return "; ".join(parts) + " ..."


def print_output(out: Output, value: Any) -> None:
    """A token's output for people and for $(...): text as is, JSON pretty-printed, nothing for no output."""
    if value is None:
        return
    if isinstance(value, str):
        out.line(value)
    else:
        out.line(json.dumps(value, indent=2, ensure_ascii=False))


def show_token(out: Output, token: Token) -> None:
    rows: list[tuple[str, str | Text]] = [
        ("id", token.id),
        ("status", status_text(token.status)),
        ("created", when_text(token.created_at)),
    ]
    if token.description is not None:
        rows.insert(1, ("description", token.description))
    if token.timeout_at is not None:
        suffix = "" if token.is_final else f"  ({human_delta(until(token.timeout_at))})"
        rows.append(("times out", when_text(token.timeout_at) + suffix))
    if token.completed_at is not None:
        rows.append(("completed", when_text(token.completed_at)))
    rows.append(("tags", ", ".join(token.tags) or "-"))
    if token.idempotency_key is not None:
        expires_at = token.idempotency_key_expires_at
        expires = f"  (expires {when_text(expires_at)})" if expires_at else ""
        rows.append(("idempotency key", token.idempotency_key + expires))
    rows.append(("url", token.url))
    if token.rejected:
        rows.append(("rejected", token.reject_reason or "(no reason given)"))
    if token.error is not None:
        rows.append(("error", token.error.message))
    elif token.status is TokenStatus.COMPLETED:
        if token.output is None:
            rows.append(("output", "(none)"))
        elif isinstance(token.output, str) and token.output_type == "text/plain":
            rows.append(("output", token.output))
        else:
            rows.append(("output", json.dumps(token.output, indent=2, ensure_ascii=False)))
    if token.waiters is not None:
        rows.append(("waiters", waiters_text(token)))
    out.fields(rows)


def waiters_text(token: Token) -> str:
    """One line per waiter: kind, digest of its handle, when it attached, and whether it was resumed."""
    lines = []
    for waiter in token.waiters or []:
        attached, resumed = waiter.get("attachedAt"), waiter.get("resumedAt")
        line = f"{waiter.get('kind', '?')} {waiter.get('digest', '?')}"
        if isinstance(attached, str):
            line += f"  attached {when_text(parse_datetime(attached))}"
        line += f"  resumed {when_text(parse_datetime(resumed))}" if isinstance(resumed, str) else "  not resumed yet"
        lines.append(line)
    if token.waiters_truncated:
        lines.append("(more not listed)")
    return "\n".join(lines) or "(none)"
