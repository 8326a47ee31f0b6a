"""The approval page (issue 15): pure functions from plain data to `(status, headers, html)`.

The page has two forms that post back to its own URL: the approve form (the schema's fields, then Approve; Enter
in a field approves) and the reject form (the reason box, then Reject). Both are `novalidate`: every check is made
on the server, and its messages are shown the same way in every browser: an error summary at the top (focused on
load through `autofocus`, each message a link to its field) and each message beside its field, tied to it with
`aria-describedby` and `aria-invalid`. A final state (completed, rejected, timed out) shows no form at all.

Statuses: 200 for a page, 422 for a form re-rendered with errors, 404 for the not-found page, 303 for the
redirect after a decision (post/redirect/get: a reload never re-posts).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from .form import MAX_REASON_CHARS, Field, form_fields
from .html import attrs, document, esc, security_headers

if TYPE_CHECKING:
    from collections.abc import Mapping

State = Literal["waiting", "completed", "rejected", "timed_out"]
Page = tuple[int, dict[str, str], str]


@dataclass(frozen=True)
class ApprovalView:
    """Everything the page shows. Strings are creator- or person-supplied: all of them are escaped."""

    title: str
    description: str = ""
    approve_label: str = "Approve"
    reject_label: str = "Reject"
    reason_required: bool = False
    schema: Mapping[str, Any] | str | None = None
    state: State = "waiting"
    decided_at_ms: int | None = None  # when it was completed, rejected or timed out
    errors: Mapping[str, str] = field(default_factory=dict)  # by property name; "" for the whole form
    reason_error: str | None = None
    values: Mapping[str, str] | None = None  # raw values typed so far; None on a first visit (defaults shown)
    reason: str = ""  # the reason typed so far


def render_approval(view: ApprovalView) -> Page:
    """The page for a token: its form while waiting (422 when re-rendered with errors), else its final state."""
    headers = security_headers()
    if view.state != "waiting":
        return 200, headers, document(f"{view.title} · {_STATE_WORDS[view.state][0]}", _final(view))
    fields = form_fields(view.schema)
    has_errors = bool(view.errors) or view.reason_error is not None
    body = _card(
        _heading(view)
        + (_error_summary(view, fields) if has_errors else "")
        + _approve_form(view, fields)
        + '<hr class="divider">'
        + _reject_form(view)
    )
    title = f"Error: {view.title}" if has_errors else view.title
    return (422 if has_errors else 200), headers, document(title, body)


def render_not_found() -> Page:
    """The one page for an unknown token, a bad signature or a token gone: it says nothing about which."""
    body = _card(
        '<h1>This link does not work</h1>\n<p class="description">Check that you copied the whole link. '
        "If it came in a message, ask its sender for a new one.</p>"
    )
    return 404, security_headers(), document("Link not found", body)


def card_page(status: int, heading: str, text: str) -> Page:
    """A plain page with a heading and a sentence (busy, too large, wrong method): no form, no detail."""
    body = _card(f'<h1>{esc(heading)}</h1>\n<p class="description">{esc(text)}</p>')
    return status, security_headers(), document(heading, body)


def redirect_to(location: str) -> Page:
    """303 See Other back to the page after a decision, so a reload shows the final state and posts nothing."""
    headers = {**security_headers(), "Location": location}
    return 303, headers, document("Done", _card(f'<p><a href="{esc(location)}">Continue</a></p>'))


def format_when(ms: int) -> tuple[str, str]:
    """(machine ISO 8601, human "3 December 2026 at 14:05 UTC")."""
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    return (
        moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"{moment.day} {moment.strftime('%B %Y')} at {moment.strftime('%H:%M')} UTC",
    )


# --- parts ------------------------------------------------------------------------------------------------

_STATE_WORDS: dict[str, tuple[str, str]] = {
    "completed": ("Approved", "This request was approved"),
    "rejected": ("Rejected", "This request was rejected"),
    "timed_out": ("Expired", "This request expired before anyone decided"),
}


def _card(inner: str) -> str:
    return (
        f'<main id="main">\n<div class="card">\n{inner}\n</div>\n'
        '<p class="foot">Opening this page changes nothing; only the buttons do.</p>\n</main>'
    )


def _heading(view: ApprovalView) -> str:
    description = f'<p class="description">{esc(view.description)}</p>\n' if view.description else ""
    return f'<p class="eyebrow">Approval requested</p>\n<h1>{esc(view.title)}</h1>\n{description}'


def _final(view: ApprovalView) -> str:
    status, sentence = _STATE_WORDS[view.state]
    when = ""
    if view.decided_at_ms is not None:
        iso, human = format_when(view.decided_at_ms)
        when = f' on <time datetime="{iso}">{esc(human)}</time>'
    note = "It can no longer be changed." if view.state != "timed_out" else "It can no longer be approved or rejected."
    return (
        _heading(view)
        + f'<p class="state state-{view.state}" role="status">{esc(status)}'
        + f"<span>{esc(sentence)}{when}. {note}</span></p>"
    )


def _error_summary(view: ApprovalView, fields: list[Field]) -> str:
    ids = {f.name: _id(i) for i, f in enumerate(fields)}
    items = []
    if "" in view.errors:
        items.append(f"<li>{esc(view.errors[''])}</li>")
    for f in fields:
        if f.name in view.errors:
            items.append(f'<li><a href="#{ids[f.name]}">{esc(view.errors[f.name])}</a></li>')
    if view.reason_error is not None:
        items.append(f'<li><a href="#reason">{esc(view.reason_error)}</a></li>')
    return (
        '<div class="error-summary" role="alert" aria-labelledby="error-summary-title" tabindex="-1" autofocus>\n'
        '<h2 id="error-summary-title">There is a problem</h2>\n<ul>' + "".join(items) + "</ul>\n</div>\n"
    )


def _approve_form(view: ApprovalView, fields: list[Field]) -> str:
    controls = "".join(_control(view, f, _id(i)) for i, f in enumerate(fields))
    return (
        '<form method="post" novalidate>\n<input type="hidden" name="action" value="approve">\n'
        + controls
        + f'<div class="actions"><button type="submit" class="approve">{esc(view.approve_label)}</button></div>\n'
        "</form>\n"
    )


def _reject_form(view: ApprovalView) -> str:
    optional = "" if view.reason_required else ' <span class="req">(optional)</span>'
    error = view.reason_error
    described = "reason-help" + (" reason-error" if error else "")
    box = attrs(
        id="reason",
        name="reason",
        rows="3",
        maxlength=str(MAX_REASON_CHARS),
        required=view.reason_required,
        aria_describedby=described,
        aria_invalid="true" if error else None,
    )
    hint = "Required to reject." if view.reason_required else "Shown to whoever asked."
    return (
        '<form method="post" novalidate>\n<input type="hidden" name="action" value="reject">\n'
        f'<div class="field{" invalid" if error else ""}">'
        f'<label for="reason">Reason for rejecting{optional}</label>'
        f'<span class="help" id="reason-help">{hint} Up to {MAX_REASON_CHARS:,} characters.</span>'
        + _inline_error("reason-error", error)
        + f"<textarea{box}>{esc(view.reason)}</textarea></div>\n"
        f'<div class="actions"><button type="submit" class="reject">{esc(view.reject_label)}</button></div>\n'
        "</form>"
    )


def _control(view: ApprovalView, f: Field, id_: str) -> str:
    value = f.initial() if view.values is None else view.values.get(f.name, "")
    error = view.errors.get(f.name)
    help_id, error_id = f"{id_}-help", f"{id_}-error"
    described = " ".join(x for x in (help_id if f.help else "", error_id if error else "") if x) or None
    invalid = "true" if error else None
    mark = "" if f.required or f.kind == "checkbox" else ' <span class="req">(optional)</span>'
    help_html = f'<span class="help" id="{help_id}">{esc(f.help)}</span>' if f.help else ""
    error_html = _inline_error(error_id, error)
    wrap = "field" + (" invalid" if error else "")

    if f.kind in ("radio",):
        choices = []
        options = list(enumerate(f.options))
        if not f.required:
            options = [(-1, None), *options]
        for index, option in options:
            option_id = f"{id_}-{index + 1}" if index >= 0 else f"{id_}-none"
            box = attrs(
                type="radio",
                id=option_id,
                name=f.form_name,
                value="" if index < 0 else str(index),
                checked=value == ("" if index < 0 else str(index)),
                required=f.required,
            )
            label = "No answer" if index < 0 else _option_label(option)
            choices.append(f'<div class="choice"><input{box}><label for="{option_id}">{esc(label)}</label></div>')
        group = attrs(
            class_=wrap, id=id_, tabindex="-1", aria_describedby=described, aria_invalid=invalid
        )  # the summary links to the group
        return (
            f"<fieldset{group}><legend>{esc(f.label)}{mark}</legend>{help_html}{error_html}"
            + "".join(choices)
            + "</fieldset>\n"
        )

    common: dict[str, Any] = {
        "id": id_,
        "name": f.form_name,
        "required": f.required and f.kind != "checkbox",
        "aria_describedby": described,
        "aria_invalid": invalid,
    }
    if f.kind == "checkbox":
        box = attrs(type="checkbox", checked=value != "", **common)
        return (
            f'<div class="{wrap}">{error_html}<div class="choice"><input{box}>'
            f'<label for="{id_}">{esc(f.label)}</label></div>{help_html}</div>\n'
        )
    label = f'<label for="{id_}">{esc(f.label)}{mark}</label>{help_html}{error_html}'
    if f.kind == "select":
        choices = [f'<option value=""{" selected" if value == "" else ""}>Choose…</option>']
        for index, option in enumerate(f.options):
            selected = " selected" if value == str(index) else ""
            choices.append(f'<option value="{index}"{selected}>{esc(_option_label(option))}</option>')
        return f'<div class="{wrap}">{label}<select{attrs(**common)}>{"".join(choices)}</select></div>\n'
    schema = f.schema
    if f.kind == "textarea":
        box = attrs(rows="5", maxlength=_int_attr(schema.get("maxLength")), **common)
        return f'<div class="{wrap}">{label}<textarea{box}>{esc(value)}</textarea></div>\n'
    if f.kind in ("integer", "number"):
        box = attrs(
            type="number",
            value=value,
            step="1" if f.kind == "integer" else "any",
            inputmode="numeric" if f.kind == "integer" else "decimal",
            min=_num_attr(schema.get("minimum")),
            max=_num_attr(schema.get("maximum")),
            **common,
        )
        return f'<div class="{wrap}">{label}<input{box}></div>\n'
    box = attrs(
        type="text",
        value=value,
        maxlength=_int_attr(schema.get("maxLength")),
        autocomplete="off",
        spellcheck="true",
        **common,
    )
    return f'<div class="{wrap}">{label}<input{box}></div>\n'


def _inline_error(id_: str, message: str | None) -> str:
    if message is None:
        return ""
    return f'<p class="error" id="{id_}"><span class="visually-hidden">Error: </span>{esc(message)}</p>'


def _id(index: int) -> str:
    return f"f{index + 1}"  # never the property name: names are arbitrary text


def _option_label(option: object) -> str:
    if isinstance(option, str):
        return option
    if option is None:
        return "None"
    if isinstance(option, bool):
        return "Yes" if option else "No"
    return str(option)


def _int_attr(value: object) -> str | None:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _num_attr(value: object) -> str | None:
    return repr(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
