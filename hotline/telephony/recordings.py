"""Deleting the provider's copy of a recording (retention).

Shredding our row is not enough: the provider keeps the audio until it is deleted there.
:func:`delete_recording` asks the configured provider to delete one recording by its id;
"already gone" counts as done, so retrying is always safe.
"""

from __future__ import annotations

from typing import Literal

from flask import current_app

Outcome = Literal["deleted", "gone", "no-provider"]


class RecordingDeleteFailed(Exception):
    """The provider could not be asked or refused for now (retry later); ``code`` says
    why, never the URL or the account."""

    def __init__(self, code: str) -> None:
        super().__init__(f"recording delete failed: {code}")
        self.code = code


def _uses_twilio() -> bool:
    cfg = current_app.config
    return bool(cfg.get("TWILIO_LIVE") or cfg.get("TWILIO_API_BASE_URL"))


def delete_recording(sid: str) -> Outcome:
    """Delete recording ``sid`` at the provider: ``deleted`` now, ``gone`` already (404),
    ``no-provider`` in development (nothing was ever stored there). Raise
    :class:`RecordingDeleteFailed` otherwise."""
    if not _uses_twilio():
        return "no-provider"
    from hotline.telephony.twilio.recordings import delete_twilio_recording

    return "deleted" if delete_twilio_recording(sid) else "gone"
