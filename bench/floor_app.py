"""Second reference for ``bench/webhook_bench.py``: the least any webhook that keeps the
project's rules must do before it answers — check Twilio's signature, encrypt the sender
and the text, store them durably (one row, one commit; a repeated ``MessageSid`` or
``CallSid`` is ignored) and answer fixed TwiML. No conversation, no routing, no case.

    FLOOR_DATABASE_URL=… FLOOR_KEY=… FLOOR_AUTH_TOKEN=… FLOOR_PUBLIC_BASE_URL=… \\
        gunicorn bench.floor_app:app --workers 2 --threads 4

It shows how far the target (DESIGN §10: median ≤ 1.3× a route answering fixed TwiML)
can be reached by a Python service that stores a message before answering it.
"""

from __future__ import annotations

import os

from cryptography.fernet import Fernet
from flask import Flask, Response, request
from sqlalchemy import (
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
)
from sqlalchemy.exc import DBAPIError
from twilio.request_validator import RequestValidator

from bench.baseline_app import SMS_TWIML, VOICE_TWIML
from config import normalise_database_url

URL = normalise_database_url(os.environ["FLOOR_DATABASE_URL"])
fernet = Fernet(os.environ["FLOOR_KEY"])
validator = RequestValidator(os.environ["FLOOR_AUTH_TOKEN"])
PUBLIC = os.environ["FLOOR_PUBLIC_BASE_URL"]

metadata = MetaData()
received = Table(
    "bench_floor_received",
    metadata,
    Column("sid", String(64), primary_key=True),
    Column("sender", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), server_default=func.now()),
)
engine = create_engine(URL, pool_size=8)
if URL.startswith("sqlite"):

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection, _record) -> None:  # the app's own settings
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    from sqlalchemy.dialects.sqlite import insert
else:
    from sqlalchemy.dialects.postgresql import insert

try:
    metadata.create_all(engine, checkfirst=True)
except DBAPIError:
    if not inspect(engine).has_table(received.name):
        raise  # not the other gunicorn worker creating it at the same moment

INSERT = insert(received).on_conflict_do_nothing(index_elements=["sid"])

app = Flask(__name__)


def _store(sid_field: str, twiml: str) -> Response:
    form = request.form
    signature = request.headers.get("X-Twilio-Signature", "")
    if not validator.validate(PUBLIC + request.path, form, signature):
        return Response("<Response/>", status=403, content_type="text/xml")
    row = {
        "sid": form.get(sid_field, "")[:64],
        "sender": fernet.encrypt(form.get("From", "").encode()).decode(),
        "body": fernet.encrypt(form.get("Body", "").encode()).decode(),
    }
    with engine.begin() as conn:
        conn.execute(INSERT, row)
    return Response(twiml, content_type="text/xml; charset=utf-8")


@app.post("/twilio/sms")
def sms() -> Response:
    return _store("MessageSid", SMS_TWIML)


@app.post("/twilio/voice")
def voice() -> Response:
    return _store("CallSid", VOICE_TWIML)
