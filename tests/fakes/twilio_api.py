"""A small fake of Twilio's REST API for tests, served over HTTP on loopback.

The real ``twilio`` client talks to it (``TWILIO_API_BASE_URL``). It records every
request and answers like Twilio: 201 with a Message, Call or conference Participant
resource (a call update answers with the call), or an error that
the test scripted (``fail_next``), or no answer within the client's timeout (``delay``).
"""

from __future__ import annotations

import base64
import io
import json
import math
import secrets
import struct
import threading
import wave
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from tests.fakes.loopback import close, serve, url_of


def tone_wav(seconds: float = 1.0, rate: int = 8000) -> bytes:
    """A short 440 Hz tone as 8 kHz mono 16-bit PCM WAV (what Twilio serves by default)."""
    frames = int(seconds * rate)
    samples = b"".join(
        struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * n / rate)))
        for n in range(frames)
    )
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(samples)
    return out.getvalue()


@dataclass
class Recorded:
    method: str
    path: str
    form: dict[str, str]
    account: str | None
    sid: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeTwilio:
    """Start with :meth:`start`; ``url`` is the value for ``TWILIO_API_BASE_URL``."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    requests: list[Recorded] = field(default_factory=list)
    #: Scripted answers, used first-in first-out: (HTTP status, Twilio error code).
    failures: list[tuple[int, int]] = field(default_factory=list)
    delay: float = 0.0
    #: How many more POSTs ``delay`` applies to (None: all of them).
    delay_posts: int | None = None
    #: Seconds to wait after accepting a message before answering (see module docstring).
    hold_after_accept: float = 0.0
    #: Recordings served at ``/2010-04-01/Accounts/<sid>/Recordings/<RE…>``: bytes and type.
    recordings: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    #: Recording sids deleted with ``DELETE …/Recordings/<RE…>.json`` (204), in order.
    deleted: list[str] = field(default_factory=list)
    _server: ThreadingHTTPServer | None = None
    _released: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return url_of(self._server)

    @property
    def messages(self) -> list[Recorded]:
        """Messages Twilio accepted (201), in order."""
        return [r for r in self.requests if r.path.endswith("/Messages.json") and r.sid]

    @property
    def calls(self) -> list[Recorded]:
        """Calls started through ``POST …/Calls.json`` (accepted), in order."""
        return [r for r in self.requests if r.path.endswith("/Calls.json") and r.sid]

    @property
    def participants(self) -> list[Recorded]:
        """Conference participants added (``POST …/Conferences/<name>/Participants.json``);
        the conference's name or sid is :meth:`conference_of`."""
        return [r for r in self.requests if r.path.endswith("/Participants.json") and r.sid]

    @property
    def call_updates(self) -> list[Recorded]:
        """Live calls steered (``POST …/Calls/<sid>.json``: ``Twiml``, ``Url`` or
        ``Status=completed``)."""
        return [
            r
            for r in self.requests
            if r.method == "POST" and "/Calls/" in r.path and r.path.endswith(".json") and r.sid
        ]

    @staticmethod
    def conference_of(record: Recorded) -> str:
        return unquote(record.path.split("/Conferences/", 1)[1].split("/", 1)[0])

    @staticmethod
    def call_of(record: Recorded) -> str:
        return record.path.split("/Calls/", 1)[1].removesuffix(".json")

    def add_recording(
        self, sid: str, audio: bytes | None = None, content_type: str = "audio/x-wav"
    ) -> str:
        """Serve a recording (a short real WAV by default); its ``RecordingUrl``."""
        self.recordings[sid] = (audio if audio is not None else tone_wav(), content_type)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Recordings/{sid}"

    def _account(self, auth: str) -> str | None:
        if auth.startswith("Basic "):
            user, _, token = base64.b64decode(auth[6:]).decode().partition(":")
            if token == self.auth_token:
                return user
        return None

    def _resource(self, record: Recorded) -> dict:
        """A Message, Call or conference Participant resource as Twilio returns it."""
        form = record.form
        if record.path.endswith("/Participants.json"):
            return {
                "account_sid": record.account,
                "call_sid": record.sid,
                "conference_sid": "CF" + "0" * 32,
                "label": form.get("Label"),
                "status": "queued",
                "muted": False,
                "hold": False,
                "coaching": False,
                "end_conference_on_exit": form.get("EndConferenceOnExit") == "true",
                "start_conference_on_enter": True,
                "date_created": format_datetime(record.created_at, usegmt=True),
                "uri": record.path,
            }
        return {
            "sid": record.sid,
            "account_sid": record.account,
            "status": "queued",
            "to": form.get("To"),
            "from": form.get("From"),
            "body": form.get("Body"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "num_segments": "1",
            "error_code": None,
            "date_created": format_datetime(record.created_at, usegmt=True),
            "date_sent": None,
            "uri": record.path,
        }

    def release(self) -> None:
        """Answer every held request now."""
        self._released.set()

    def fail_next(self, status: int, code: int, times: int = 1) -> None:
        with self._lock:
            self.failures.extend([(status, code)] * times)

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                params = {k: v[0] for k, v in parse_qs(query).items()}
                account = fake._account(self.headers.get("Authorization", ""))
                fake.requests.append(Recorded("GET", self.path, params, account))
                if account != fake.account_sid:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if "/Recordings/" in path:
                    found = fake.recordings.get(path.rsplit("/", 1)[-1])
                    if found is None:
                        return self._answer(404, {"code": 20404, "message": "Not found"})
                    audio, content_type = found
                    self.send_response(200)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(audio)))
                    self.end_headers()
                    self.wfile.write(audio)
                    return None
                if not path.endswith("/Messages.json"):
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                with fake._lock:
                    found = [
                        m for m in fake.messages if params.get("To") in (None, m.form.get("To"))
                    ]
                size = int(params.get("PageSize") or 50)
                items = [fake._resource(m) for m in reversed(found)][:size]
                self._answer(
                    200,
                    {
                        "messages": items,
                        "first_page_uri": path,
                        "next_page_uri": None,
                        "previous_page_uri": None,
                        "page": 0,
                        "page_size": size,
                        "uri": self.path,
                    },
                )

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                account = None
                auth = self.headers.get("Authorization", "")
                if auth.startswith("Basic "):
                    user, _, token = base64.b64decode(auth[6:]).decode().partition(":")
                    if token == fake.auth_token:
                        account = user
                record = Recorded("POST", self.path, form, account)
                with fake._lock:
                    wait = fake.delay if fake.delay_posts is None or fake.delay_posts > 0 else 0
                    if wait and fake.delay_posts:
                        fake.delay_posts -= 1
                if wait:
                    threading.Event().wait(wait)
                with fake._lock:
                    fake.requests.append(record)
                    failure = fake.failures.pop(0) if fake.failures else None
                if account != fake.account_sid:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if failure:
                    status, code = failure
                    return self._answer(
                        status, {"code": code, "message": "scripted", "status": status}
                    )
                kind = "SM" if self.path.endswith("/Messages.json") else "CA"
                if "/Calls/" in self.path:
                    record.sid = fake.call_of(record)  # an update of a live call
                else:
                    record.sid = kind + secrets.token_hex(16)
                if fake.hold_after_accept:
                    fake._released.wait(fake.hold_after_accept)
                self._answer(201, fake._resource(record))

            def do_DELETE(self) -> None:
                """Delete a recording: 204, 404 when unknown or already deleted, or a
                scripted failure (``fail_next``)."""
                account = fake._account(self.headers.get("Authorization", ""))
                with fake._lock:
                    fake.requests.append(Recorded("DELETE", self.path, {}, account))
                    failure = fake.failures.pop(0) if fake.failures else None
                if account != fake.account_sid:
                    return self._answer(401, {"code": 20003, "message": "Authenticate"})
                if failure:
                    status, code = failure
                    return self._answer(status, {"code": code, "message": "scripted"})
                sid = self.path.rsplit("/", 1)[-1].removesuffix(".json")
                with fake._lock:
                    found = fake.recordings.pop(sid, None) if "/Recordings/" in self.path else None
                    if found is not None:
                        fake.deleted.append(sid)
                if found is None:
                    return self._answer(404, {"code": 20404, "message": "Not found"})
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return None

            def _answer(self, status: int, payload: dict) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = serve(Handler)
        return self

    def stop(self) -> None:
        self._released.set()
        close(self._server)
