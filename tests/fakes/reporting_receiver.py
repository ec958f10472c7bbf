"""A fake of the provincial reporting system, served over real HTTP on loopback.

It checks the HMAC signature, records every body it accepts, and keeps one current
report per period and area (a re-push replaces it). ``stop()`` then ``start()`` on the
same port simulates the receiver being down (connection refused) and back.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class ReportingReceiver:
    def __init__(self, secret: str, port: int) -> None:
        self.secret = secret
        self.port = port
        self.received: list[dict] = []  # every accepted request
        self.rejected: list[dict] = []
        self.current: dict[str, dict] = {}  # period-area → latest body
        self.status = 200
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/reports"

    def start(self) -> ReportingReceiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                expected = (
                    "sha256="
                    + hmac.new(receiver.secret.encode(), body, hashlib.sha256).hexdigest()
                )
                sent = self.headers.get("X-Hotline-Signature", "")
                record = {
                    "path": self.path,
                    "body": body,
                    "key": self.headers.get("Idempotency-Key"),
                    "signature_ok": hmac.compare_digest(sent, expected),
                }
                if not record["signature_ok"]:
                    receiver.rejected.append(record)
                    self.send_response(401)
                    self.end_headers()
                    return
                if receiver.status >= 400:
                    receiver.rejected.append(record)
                    self.send_response(receiver.status)
                    self.end_headers()
                    return
                receiver.received.append(record)
                key = record["key"] or ""
                slot = key.rsplit("-", 1)[0]  # period-area (the hash changes with the data)
                receiver.current[slot] = json.loads(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status":"ok"}')

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
