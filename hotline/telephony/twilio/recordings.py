"""Twilio's Recording resource: ``DELETE /2010-04-01/Accounts/{AccountSid}/Recordings/
{RecordingSid}.json`` with the account's credentials (``TWILIO_API_BASE_URL`` honoured)."""

from __future__ import annotations

import re

import requests
from flask import current_app

from hotline.telephony.recordings import RecordingDeleteFailed

API_BASE = "https://api.twilio.com"
TIMEOUT_SECONDS = 10
RECORDING_SID = re.compile(r"^RE[0-9a-fA-F]{32}$")


def delete_twilio_recording(sid: str) -> bool:
    """True when Twilio deleted it now (204), False when it was already gone (404)."""
    if not RECORDING_SID.match(sid):
        raise RecordingDeleteFailed("bad-sid")
    cfg = current_app.config
    base = (cfg.get("TWILIO_API_BASE_URL") or API_BASE).rstrip("/")
    account = cfg["TWILIO_ACCOUNT_SID"]
    url = f"{base}/2010-04-01/Accounts/{account}/Recordings/{sid}.json"
    try:
        response = requests.delete(
            url,
            auth=(account, cfg["TWILIO_AUTH_TOKEN"]),
            timeout=cfg.get("TWILIO_TIMEOUT_SECONDS") or TIMEOUT_SECONDS,
        )
    except requests.RequestException:
        raise RecordingDeleteFailed("provider-unreachable") from None
    with response:
        if response.status_code in (200, 204):
            return True
        if response.status_code == 404:
            return False
    raise RecordingDeleteFailed(f"http-{response.status_code}")
