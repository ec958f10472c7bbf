"""A small fake of an SMS gateway's outbound API for tests, served over HTTP on loopback.

It speaks either dialect the service supports (``kind``): ``generic`` (bearer token,
``{"id", "to", "text", "status_url"}``) or ``android`` (SMS Gateway for Android: basic
auth, ``{"id", "textMessage": {"text"}, "phoneNumbers": [...], "withDeliveryReport"}``).
Like the real gateways it keeps every accepted message by id and refuses the same id
twice (409), and answers ``GET /messages/<id>`` (200 or 404). A test can script failures:
``fail_next`` (refused, nothing kept), ``accept_then_fail`` (kept, but answered with an
error — the sender cannot tell), ``hold_after_accept`` (kept, answered after the
client's timeout) and ``hide_next_lookups`` (a lookup answers 404 although it is kept).
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote

from tests.fakes.loopback import close, serve, url_of


@dataclass
class Recorded:
    method: str
    path: str
    body: dict | None
    authorised: bool
    status: int = 0


@dataclass
class Accepted:
    """One message the gateway holds (it would send it from its SIM)."""

    id: str
    to: str
    text: str
    status_url: str | None = None


@dataclass
class FakeSmsGateway:
    """Start with :meth:`start`; :meth:`env` is the worker's environment for it."""

    kind: str = "generic"
    token: str = "fake-gateway-token"
    username: str = "sms"
    password: str = "fake-gateway-password"
    requests: list[Recorded] = field(default_factory=list)
    #: Accepted messages by id, in the order accepted.
    held: dict[str, Accepted] = field(default_factory=dict)
    failures: list[int] = field(default_factory=list)
    accept_failures: list[int] = field(default_factory=list)
    hold_after_accept: float = 0.0
    hide_next_lookups: int = 0
    _server: ThreadingHTTPServer | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return url_of(self._server)

    @property
    def accepted(self) -> list[Accepted]:
        """Messages the gateway holds (each id once), in order."""
        with self._lock:
            return list(self.held.values())

    def to(self, number: str) -> list[Accepted]:
        return [m for m in self.accepted if m.to == number]

    @property
    def posts(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"]

    @property
    def lookups(self) -> list[Recorded]:
        return [r for r in self.requests if r.method == "GET"]

    def env(self, secret: str = "", timeout: int = 2) -> dict[str, str]:
        """Environment variables pointing a worker at this gateway."""
        env = {
            "SMS_GATEWAY_URL": self.url,
            "SMS_GATEWAY_KIND": self.kind,
            "SMS_GATEWAY_TIMEOUT_SECONDS": str(timeout),
        }
        if self.kind == "android":
            env.update(SMS_GATEWAY_USERNAME=self.username, SMS_GATEWAY_PASSWORD=self.password)
        else:
            env["SMS_GATEWAY_TOKEN"] = self.token
        if secret:
            env["SMS_GATEWAY_SECRET"] = secret
        return env

    def config(self, timeout: int = 2) -> dict:
        """The same, as app configuration values."""
        env = self.env(timeout=timeout)
        return {
            "SMS_GATEWAY_URL": env["SMS_GATEWAY_URL"],
            "SMS_GATEWAY_KIND": self.kind,
            "SMS_GATEWAY_TIMEOUT_SECONDS": timeout,
            "SMS_GATEWAY_TOKEN": env.get("SMS_GATEWAY_TOKEN"),
            "SMS_GATEWAY_USERNAME": env.get("SMS_GATEWAY_USERNAME"),
            "SMS_GATEWAY_PASSWORD": env.get("SMS_GATEWAY_PASSWORD"),
        }

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self.failures.extend([status] * times)

    def accept_then_fail(self, status: int, times: int = 1) -> None:
        with self._lock:
            self.accept_failures.extend([status] * times)

    def _authorised(self, header: str) -> bool:
        if self.kind == "android":
            if not header.startswith("Basic "):
                return False
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
            return (user, password) == (self.username, self.password)
        return header == f"Bearer {self.token}"

    def _message(self, body: dict) -> Accepted | None:
        """The message in a POST body of this dialect, or None when malformed."""
        try:
            if self.kind == "android":
                (to,) = body["phoneNumbers"]
                text = body["textMessage"]["text"]
                assert body.get("withDeliveryReport") is True
                return Accepted(body["id"], to, text)
            return Accepted(body["id"], body["to"], body["text"], body.get("status_url"))
        except (KeyError, TypeError, ValueError, AssertionError):
            return None

    def _resource(self, message: Accepted) -> dict:
        if self.kind == "android":
            return {
                "id": message.id,
                "deviceId": "fake-device",
                "state": "Pending",
                "isHashed": False,
                "isEncrypted": False,
                "recipients": [{"phoneNumber": message.to, "state": "Pending"}],
                "states": {},
            }
        return {"id": message.id, "status": "queued"}

    def start(self) -> FakeSmsGateway:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                record = Recorded(
                    "GET", self.path, None, fake._authorised(self.headers.get("Authorization", ""))
                )
                with fake._lock:
                    fake.requests.append(record)
                    hide = fake.hide_next_lookups > 0
                    if hide:
                        fake.hide_next_lookups -= 1
                if not record.authorised:
                    return self._answer(record, 401, {"message": "Unauthorized"})
                if not self.path.startswith("/messages/"):
                    return self._answer(record, 404, {"message": "Not found"})
                found = fake.held.get(unquote(self.path.removeprefix("/messages/")))
                if found is None or hide:
                    return self._answer(record, 404, {"message": "Not found"})
                return self._answer(record, 200, fake._resource(found))

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                except ValueError:
                    body = None
                record = Recorded(
                    "POST",
                    self.path,
                    body,
                    fake._authorised(self.headers.get("Authorization", "")),
                )
                with fake._lock:
                    fake.requests.append(record)
                    failure = fake.failures.pop(0) if fake.failures else None
                if not record.authorised:
                    return self._answer(record, 401, {"message": "Unauthorized"})
                if failure:
                    return self._answer(record, failure, {"message": "scripted"})
                message = fake._message(body) if isinstance(body, dict) else None
                if self.path != "/messages" or message is None:
                    return self._answer(record, 400, {"message": "bad request"})
                with fake._lock:
                    if message.id in fake.held:
                        duplicate = True
                    else:
                        duplicate = False
                        fake.held[message.id] = message
                    after = fake.accept_failures.pop(0) if fake.accept_failures else None
                if duplicate:
                    return self._answer(
                        record, 409, {"message": "Message with the same ID already exists"}
                    )
                if fake.hold_after_accept:
                    threading.Event().wait(fake.hold_after_accept)
                if after:
                    return self._answer(record, after, {"message": "scripted after accept"})
                return self._answer(record, 202, fake._resource(message))

            def _answer(self, record: Recorded, status: int, payload: dict) -> None:
                record.status = status
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up waiting (a timeout the test scripted)

        self._server = serve(Handler)
        return self

    def stop(self) -> None:
        close(self._server)
