"""Baseline for ``bench/webhook_bench.py`` (DESIGN §10): the smallest Flask app that answers
Twilio's SMS and voice webhooks with fixed TwiML — no signature check, no database, no queue.

    gunicorn bench.baseline_app:app --workers 2 --threads 4
"""

from __future__ import annotations

from flask import Flask, Response

SMS_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Message>Đường dây nóng 18001769 đã nhận '
    "tin nhắn của bạn. Nếu nguy hiểm, gọi 113.</Message></Response>"
)
VOICE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say language="vi-VN">Xin chào. Nếu nguy '
    "hiểm, gọi 113.</Say></Response>"
)

app = Flask(__name__)


@app.post("/twilio/sms")
def sms() -> Response:
    return Response(SMS_TWIML, content_type="text/xml; charset=utf-8")


@app.post("/twilio/voice")
def voice() -> Response:
    return Response(VOICE_TWIML, content_type="text/xml; charset=utf-8")
