"""A small fake of Zalo's OA API and OAuth server for tests, served over HTTP on loopback.

``url`` serves both ``ZALO_API_BASE_URL`` (``POST /v3.0/oa/message/cs``) and
``ZALO_OAUTH_BASE_URL`` (``POST /v4/oa/access_token``). Like Zalo: the message endpoint
wants the current access token in the ``access_token`` header and answers
``{"error": -216, …}`` otherwise; a refresh token works once. Every request is recorded;
``fail_next`` scripts answers (an HTTP status or a Zalo error code) first-in first-out, and
``expire()`` makes the current access token invalid, as after its 25 hours.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

from tests.fakes.loopback import close, serve, url_of


@dataclass
class Sent:
    user_id: str
    text: str
    token: str
    message_id: str | None


@dataclass
class FakeZalo:
    app_id: str = "4321000000000000001"
    app_secret: str = "fake-app-secret"
    access_token: str = "AT-seed"
    refresh_token: str = "RT-seed"
    expires_in: int = 90000
    #: Every message request, accepted or not, in order.
    requests: list[Sent] = field(default_factory=list)
    #: Refresh requests: (refresh token presented, accepted?).
    refreshes: list[tuple[str, bool]] = field(default_factory=list)
    #: Scripted answers to message requests: an int < 0 is a Zalo error, >= 400 an HTTP status.
    failures: list[int] = field(default_factory=list)
    #: Seconds each refresh takes (widens the window for concurrent refreshes).
    refresh_delay: float = 0.0
    #: How many of the next refreshes answer HTTP 503 (before looking at the request).
    refresh_outages: int = 0
    _spent: set[str] = field(default_factory=set)
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return url_of(self._server)

    @property
    def messages(self) -> list[Sent]:
        """Messages Zalo accepted, in order."""
        return [r for r in self.requests if r.message_id]

    @property
    def accepted_refreshes(self) -> int:
        return sum(1 for _token, ok in self.refreshes if ok)

    def env(self) -> dict[str, str]:
        """The app's settings pointing at this fake."""
        return {
            "ZALO_APP_ID": self.app_id,
            "ZALO_APP_SECRET": self.app_secret,
            "ZALO_API_BASE_URL": self.url,
            "ZALO_OAUTH_BASE_URL": self.url,
            "ZALO_ACCESS_TOKEN": self.access_token,
            "ZALO_REFRESH_TOKEN": self.refresh_token,
        }

    def expire(self) -> None:
        """The current access token stops working (its refresh token still works)."""
        with self._lock:
            self.access_token = "AT-expired-" + secrets.token_hex(4) + "-never-issued"

    def fail_next(self, *answers: int) -> None:
        self.failures.extend(answers)

    # --- server -----------------------------------------------------------------------

    def _message(self, headers, body: bytes) -> tuple[int, dict]:
        token = headers.get("access_token", "")
        try:
            data = json.loads(body)
            user_id = data["recipient"]["user_id"]
            text = data["message"]["text"]
        except (ValueError, KeyError, TypeError):
            return 200, {"error": -201, "message": "Parameters are invalid"}
        with self._lock:
            scripted = self.failures.pop(0) if self.failures else None
            if scripted is not None and scripted >= 400:
                self.requests.append(Sent(user_id, text, token, None))
                return scripted, {"message": "scripted failure"}
            if scripted is not None:
                self.requests.append(Sent(user_id, text, token, None))
                return 200, {"error": scripted, "message": "scripted error"}
            if token != self.access_token:
                self.requests.append(Sent(user_id, text, token, None))
                return 200, {"error": -216, "message": "Access token is invalid"}
            message_id = secrets.token_hex(16)
            self.requests.append(Sent(user_id, text, token, message_id))
        return 200, {"error": 0, "message": "Success", "data": {"message_id": message_id}}

    def _refresh(self, headers, body: bytes) -> tuple[int, dict]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        presented = form.get("refresh_token", "")
        if self.refresh_delay:
            time.sleep(self.refresh_delay)
        with self._lock:
            if self.refresh_outages > 0:
                self.refresh_outages -= 1
                self.refreshes.append((presented, False))
                return 503, {"message": "service unavailable"}
            ok = (
                headers.get("secret_key") == self.app_secret
                and form.get("app_id") == self.app_id
                and form.get("grant_type") == "refresh_token"
                and presented == self.refresh_token
                and presented not in self._spent
            )
            self.refreshes.append((presented, ok))
            if not ok:
                return 200, {"error": -14014, "error_name": "Invalid refresh token"}
            self._spent.add(presented)
            n = len(self._spent)
            self.access_token = f"AT-{n}-{secrets.token_hex(4)}"
            self.refresh_token = f"RT-{n}-{secrets.token_hex(4)}"
            return 200, {
                "access_token": self.access_token,
                "refresh_token": self.refresh_token,
                "expires_in": str(self.expires_in),
            }

    def start(self) -> FakeZalo:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if self.path == "/v3.0/oa/message/cs":
                    status, answer = fake._message(self.headers, body)
                elif self.path == "/v4/oa/access_token":
                    status, answer = fake._refresh(self.headers, body)
                else:
                    status, answer = 404, {"error": -1, "message": "not found"}
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):  # quiet
                pass

        self._server = serve(Handler)
        return self

    def stop(self) -> None:
        close(self._server)
