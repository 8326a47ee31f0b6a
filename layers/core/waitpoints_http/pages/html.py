"""The HTML shell every server-rendered page shares: escaping, the stylesheet, and the security headers.

Decisions (issue 15):
- No script at all, anywhere: the pages work without JavaScript, and the CSP says `default-src 'none'`, so even an
  injected `<script>` or `onerror=` attribute could not run.
- The stylesheet is a constant, shipped inline in one `<style>` element and allowed by its SHA-256 in
  `style-src` (no nonce: the hash is fixed, so responses need no per-request randomness, and no stylesheet route
  is needed). `style=` attributes are never written: `style-src` with a hash blocks them, as a strict CSP should.
- `form-action 'self'`: the forms post back to the page's own URL (no `action` attribute), nowhere else.
"""

from __future__ import annotations

import base64
import hashlib
import html

CSS = """\
:root{color-scheme:light;--ink:#1b1f24;--muted:#4a5360;--line:#c9ced6;--bg:#eef1f5;--card:#fff;--brand:#0b57d0;
--ok:#146c2e;--bad:#a1161a;--focus:#ffbf47}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--ink);font:1rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif}
main{max-width:40rem;margin:0 auto;padding:1rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:.75rem;padding:1.25rem 1.25rem 1.5rem;
box-shadow:0 1px 3px rgba(16,24,40,.08)}
.eyebrow{margin:0 0 .25rem;color:var(--muted);font-size:.875rem;font-weight:600;letter-spacing:.04em;
text-transform:uppercase}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem;overflow-wrap:anywhere}
h2{font-size:1.125rem;margin:0 0 .5rem}
.description{white-space:pre-wrap;overflow-wrap:anywhere;margin:0 0 1.25rem;color:var(--ink)}
.field{margin:0 0 1.125rem}
.field>label,legend{display:block;font-weight:600;margin:0 0 .25rem;overflow-wrap:anywhere}
fieldset{border:0;margin:0 0 1.125rem;padding:0;min-width:0}
legend{padding:0}
.help{display:block;color:var(--muted);font-size:.9375rem;margin:0 0 .375rem;white-space:pre-wrap;
overflow-wrap:anywhere}
.req{color:var(--muted);font-weight:400}
input[type=text],input[type=number],select,textarea{display:block;width:100%;font:inherit;color:inherit;
background:#fff;border:2px solid #6b7380;border-radius:.375rem;padding:.5rem .625rem;min-height:2.75rem}
textarea{min-height:6rem;resize:vertical}
.choice{display:flex;gap:.625rem;align-items:flex-start;margin:.375rem 0}
.choice input{width:1.375rem;height:1.375rem;margin:.125rem 0 0;flex:none;accent-color:var(--brand)}
.choice label{font-weight:400;overflow-wrap:anywhere}
:focus-visible{outline:3px solid var(--focus);outline-offset:0;box-shadow:0 0 0 5px var(--ink)}
input:focus-visible,select:focus-visible,textarea:focus-visible{border-color:var(--ink)}
.invalid input[type=text],.invalid input[type=number],.invalid select,.invalid textarea{border-color:var(--bad)}
.invalid{border-left:4px solid var(--bad);padding-left:.75rem}
.error{color:var(--bad);font-weight:600;margin:0 0 .375rem}
.error-summary{border:3px solid var(--bad);border-radius:.5rem;padding:.75rem 1rem;margin:0 0 1.25rem}
.error-summary ul{margin:.25rem 0 0;padding-left:1.25rem}
.error-summary a{color:var(--bad);font-weight:600}
.actions{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.5rem}
button{font:inherit;font-weight:600;border-radius:.375rem;padding:.625rem 1.25rem;min-height:2.75rem;cursor:pointer;
border:2px solid transparent}
.approve{background:var(--ok);color:#fff}
.approve:hover{background:#0f5424}
.reject{background:#fff;color:var(--bad);border-color:var(--bad)}
.reject:hover{background:#fbeaea}
.divider{border:0;border-top:1px solid var(--line);margin:1.5rem 0 1.25rem}
.state{border-radius:.5rem;padding:.875rem 1rem;margin:0;font-weight:600;border:2px solid}
.state-completed{color:var(--ok);background:#eaf5ee;border-color:var(--ok)}
.state-rejected{color:var(--bad);background:#fbeaea;border-color:var(--bad)}
.state-timed_out,.state-gone{color:var(--muted);background:#f3f4f6;border-color:#6b7380}
.state span{display:block;font-weight:400;color:var(--ink);margin-top:.25rem;white-space:pre-wrap;
overflow-wrap:anywhere}
.foot{color:var(--muted);font-size:.8125rem;text-align:center;margin:1rem 0 0}
.visually-hidden{position:absolute!important;width:1px;height:1px;margin:-1px;padding:0;overflow:hidden;
clip:rect(0 0 0 0);white-space:nowrap;border:0}
@media (max-width:30rem){main{padding:.5rem}.card{padding:1rem;border-radius:.5rem}
.actions button{width:100%}h1{font-size:1.3125rem}}
"""

STYLE_HASH = "sha256-" + base64.b64encode(hashlib.sha256(CSS.encode()).digest()).decode()
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{STYLE_HASH}'; img-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def security_headers() -> dict[str, str]:
    """Headers of every page: a strict CSP, no referrer, no caching, no indexing, no sniffing, no framing."""
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-store",
        "X-Robots-Tag": "noindex, nofollow",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


def esc(value: object) -> str:
    """Text and attribute-value escaping (quotes included): the only way creator text reaches a page."""
    return html.escape(str(value), quote=True)


def attrs(**values: str | bool | None) -> str:
    """` name="value"` pairs, escaped; True writes a bare boolean attribute, False/None writes nothing.
    A trailing underscore is dropped (`for_`, `class_`) and other underscores become dashes (`aria_describedby`)."""
    out = []
    for key, value in values.items():
        name = key.rstrip("_").replace("_", "-")
        if value is True:
            out.append(f" {name}")
        elif value is not None and value is not False:
            out.append(f' {name}="{esc(value)}"')
    return "".join(out)


def document(title: str, body: str) -> str:
    """A whole page: `title` is escaped here; `body` is HTML the caller built with `esc`."""
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="robots" content="noindex, nofollow">\n<meta name="referrer" content="no-referrer">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )
