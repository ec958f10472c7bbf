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


@dataclass(frozen=True)
class Recording:
    """A recording's audio as the provider serves it."""

    content: bytes
    content_type: str


class RecordingUnavailable(Exception):
    """The provider has no such recording (deleted, shredded) or could not be asked;
    ``code`` says which, never the URL."""

    def __init__(self, code: str) -> None:
        super().__init__(f"recording unavailable: {code}")
        self.code = code


@dataclass(frozen=True)
class InboundSms:
    """One SMS as any adapter received it.

    ``sender`` is the number as the provider gave it (any format, possibly empty), or on
    ``channel`` ``zalo`` the Zalo user id; ``sid`` is the provider's message id, which makes
    a redelivery recognisable. The conversation is the same on every channel.
    """

    provider: str
    sid: str
    sender: str
    to: str = ""
    body: str = ""
    media_count: int = 0
    channel: str = "sms"  # sms | zalo


# Voice steps, provider-neutral: the flow (``hotline.voice``) returns a list of these and
# the adapter renders them (TwiML for Twilio). ``step`` names the flow's next step; the
# adapter turns it into a URL.


@dataclass(frozen=True)
class Say:
    text: str
    language: str  # vi | en


@dataclass(frozen=True)
class Gather:
    """Wait for keys (and speech when ``speech``) and send them to ``step``."""

    step: str
    prompts: tuple[Say, ...]
    language: str
    num_digits: int | None = None
    finish_on_key: str = ""
    timeout: int = 6
    speech: bool = False
    hints: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dial:
    """Ring all ``numbers`` at once; the first to answer is connected.

    With ``whisper`` (a step), each answered phone first runs that step (a one-key screen)
    and joins only when it ends without hanging up; the other phones stop ringing then.
    """

    numbers: tuple[str, ...]
    step: str
    timeout: int
    whisper: str | None = None


@dataclass(frozen=True)
class Enqueue:
    """Put the caller on hold in ``queue``; ``wait_step`` is played (repeatedly) while they
    wait, ``step`` runs when they leave the queue (bridged, left, hung up)."""

    queue: str
    wait_step: str
    step: str


@dataclass(frozen=True)
class DialQueue:
    """Connect this call (an operator's) to the longest-waiting caller in ``queue``;
    ``announce_step`` is played to the caller just before."""

    queue: str
    step: str
    announce_step: str
    timeout: int = 10


@dataclass(frozen=True)
class Conference:
    """Join the conference ``name`` (a transfer: caller, operator, service point).
    ``ends_it`` ends the conference for everyone when this call leaves."""

    name: str
    ends_it: bool = False


@dataclass(frozen=True)
class Leave:
    """Leave the hold queue (the caller's ``Enqueue`` step runs next)."""


@dataclass(frozen=True)
class Record:
    step: str
    status_step: str
    max_length: int


@dataclass(frozen=True)
class Redirect:
    step: str


@dataclass(frozen=True)
class Hangup:
    pass


VoiceAction = (
    Say | Gather | Dial | Record | Redirect | Hangup | Enqueue | DialQueue | Conference | Leave
)
