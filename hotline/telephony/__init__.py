"""Provider-neutral telephony: what the rest of the service knows about calls and SMS.

Adapters (``hotline.telephony.twilio``, a local SMS gateway, the development outbox)
turn provider requests into these values and these values into provider calls. Only the
Twilio adapter imports ``twilio``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SendResult:
    """A message the provider accepted: its id and first status."""

    sid: str
    status: str
    provider: str


class SendError(Exception):
    """The provider did not accept a message.

    ``permanent`` errors (an invalid or opted-out number) must not be retried and are
    flagged for an administrator; the others (provider 5xx, rate limits, timeouts,
    refused connections) are retried with backoff. The message never holds the number or
    the text.
    """

    def __init__(self, code: str, *, permanent: bool, detail: str = "") -> None:
        super().__init__(f"send failed: {code}{' (' + detail + ')' if detail else ''}")
        self.code = code
        self.permanent = permanent
