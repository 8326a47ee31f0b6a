"""A tiny local server for the approval page alone (no service, no storage): GET renders the current view,
POST parses the form, records the decision and redirects (303) to the final state, or re-renders with errors.
Serves 127.0.0.1 only. Later phases test the same page through `make run`'s stack instead."""

from __future__ import annotations

import dataclasses
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from waitpoints_http.pages import (
    ApprovalView,
    Decision,
    decode_form_body,
    parse_decision,
    redirect_to,
    render_approval,
    render_not_found,
)

PAGE_PATH = "/approval/0123abcd"
DECIDED_AT_MS = 1_796_227_500_000  # 2026-12-02 16:05 UTC


class PageServer:
    def __init__(self) -> None:
        self.view = ApprovalView(title="Approve?")
        self.decisions: list[Decision] = []
        self.extra_pages: dict[str, tuple[int, dict[str, str], str]] = {}
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}{PAGE_PATH}"

    def origin(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> PageServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _post(self, body: bytes) -> tuple[int, dict[str, str], str]:
        view = self.view
        if view.state != "waiting":
            return render_approval(view)
        decision = parse_decision(view.schema, decode_form_body(body), reason_required=view.reason_required)
        if not decision.ok:
            return render_approval(
                dataclasses.replace(
                    view,
                    errors=decision.errors,
                    reason_error=decision.reason_error,
                    values=decision.values if decision.action == "approve" else None,
                    reason=decision.reason,
                )
            )
        self.decisions.append(decision)
        state = "completed" if decision.action == "approve" else "rejected"
        self.view = dataclasses.replace(view, state=state, decided_at_ms=DECIDED_AT_MS)
        return redirect_to(PAGE_PATH)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, page: tuple[int, dict[str, str], str], head: bool = False) -> None:
                status, headers, html = page
                body = html.encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path in server.extra_pages:
                    self._send(server.extra_pages[self.path])
                else:
                    self._send(render_approval(server.view) if self.path == PAGE_PATH else render_not_found())

            def do_HEAD(self) -> None:
                self._send(render_approval(server.view) if self.path == PAGE_PATH else render_not_found(), head=True)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                self._send(server._post(body) if self.path == PAGE_PATH else render_not_found())

            def log_message(self, *args: Any) -> None:
                pass

        return Handler
