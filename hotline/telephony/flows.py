"""The conversation flows that providers hand their requests to, filled in at setup.

Providers (``twilio/``, ``gateway``) turn a request into neutral values and call these;
the flows themselves live in :mod:`hotline.conversations`, which the app factory
registers here. So telephony imports no feature package, and the spool replays a kept
request through the handler its provider registered (:func:`register_replay`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from hotline.telephony import InboundSms, SendResult, VoiceAction


class VoiceFlow(Protocol):
    """The voice IVR as providers drive it (see :mod:`hotline.conversations.voice`)."""

    STEPS: Mapping[str, Any]
    LEG_STEPS: Mapping[str, Any]

    def run_leg_step(
        self, provider: str, step: str, query: dict[str, str], form: dict[str, str]
    ) -> list[VoiceAction]: ...

    def incoming_call(self, provider: str, sid: str, sender: str, to: str) -> tuple[Any, bool]: ...

    def start(self, contact: Any) -> list[VoiceAction]: ...

    def run_step(self, contact: Any, step: str, form: dict[str, str]) -> list[VoiceAction]: ...

    def find_call(self, provider: str, sid: str) -> Any | None: ...

    def store_recording(self, contact: Any, url: str, sid: str, duration: str) -> None: ...

    def request_callback(self, contact: Any) -> None: ...

    def call_status(
        self, provider: str, sid: str, status: str, duration: str, parent_sid: str, to: str
    ) -> bool: ...


@dataclass(frozen=True)
class Flows:
    #: An inbound SMS → the reply text; recorded and committed by the flow, idempotent on
    #: the provider's message id (a retry gets the first answer).
    handle_sms: Callable[[InboundSms], str]
    #: The reply when the flow cannot run: the emergency numbers, nothing stored.
    safe_reply: Callable[..., str]
    #: A delivery report for a message the service sent: (provider id, status, error code).
    message_status: Callable[[str, str, str], bool]
    voice: VoiceFlow
    #: A caller's menu step answered from the call's state alone, committed: (provider,
    #: call id, step or None for the incoming call, form, receipt key, render(step count,
    #: actions) → answer) → the answer, or None when the step must run the full way.
    quick_voice: Callable[..., str | None] = lambda *_args: None


@dataclass(frozen=True)
class ReplySender:
    """How a provider whose webhook answer cannot carry the reply (Zalo, an SMS gateway
    that only notifies) sends it: the worker calls ``send(recipient, text)`` through the
    outbox, exactly once. ``find(recipient, text, since)`` looks for a message an
    interrupted send may have left at the provider (None when the provider cannot say).

    ``send`` answers the message just received, so it does not check opt-out itself (the
    reply to STOP must still go); the flow decides what is said.

    With ``keyed``, ``send`` and ``find`` also take ``key=``: the stable message id of the
    piece of work (``hotline.jobs.delivery``), for providers that deduplicate on an id of
    the sender's choosing (SMS gateways).
    """

    send: Callable[..., SendResult]
    find: Callable[..., str | None] | None = None
    keyed: bool = False


_flows: Flows | None = None
_replays: dict[str, Callable[[str, dict[str, Any]], object]] = {}
_reply_senders: dict[str, ReplySender] = {}


def register(flows: Flows) -> None:
    global _flows
    _flows = flows


def flows() -> Flows:
    if _flows is None:
        raise RuntimeError("no conversation flows registered: build the app with create_app()")
    return _flows


def register_replay(provider: str, handler: Callable[[str, dict[str, Any]], object]) -> None:
    """How the spool feeds a kept request of ``provider`` (path, fields) back in."""
    _replays[provider] = handler


def replay_handler(provider: str) -> Callable[[str, dict[str, Any]], object]:
    try:
        return _replays[provider]
    except KeyError:
        raise LookupError(f"no replay handler for provider {provider!r}") from None


def register_reply_sender(provider: str, sender: ReplySender) -> None:
    """Replies to ``provider``'s inbound messages are sent by the worker through ``sender``
    (see :mod:`hotline.conversations.journal`)."""
    _reply_senders[provider] = sender


def reply_sender(provider: str) -> ReplySender | None:
    """The worker's way to answer ``provider``'s messages, or None when the webhook's own
    response carries the reply (Twilio, the generic gateway)."""
    return _reply_senders.get(provider)
