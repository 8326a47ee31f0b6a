"""Server-rendered HTML pages (issue 15): the approval page. Pure functions from plain data to
`(status, headers, html)`; no I/O, no service calls (the handler does those)."""

from .approval import ApprovalView, card_page, format_when, redirect_to, render_approval, render_not_found
from .form import Decision, Field, FormResult, decode_form_body, form_fields, parse_decision, parse_form
from .html import CONTENT_SECURITY_POLICY, security_headers

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "ApprovalView",
    "Decision",
    "Field",
    "FormResult",
    "card_page",
    "decode_form_body",
    "form_fields",
    "format_when",
    "parse_decision",
    "parse_form",
    "redirect_to",
    "render_approval",
    "render_not_found",
    "security_headers",
]
