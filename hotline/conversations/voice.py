"""The voice IVR and the call lifecycle, provider-neutral.

Each step takes what the caller pressed or said and returns voice actions
(``hotline.telephony.Say``, ``Gather``, ``Dial`` …) that the adapter renders (TwiML for
Twilio). Steps run in the caller's transaction and never call the network.

Menu (every prompt through Babel, in the caller's language):
1 talk to a counsellor (every on-duty operator's phone rings at once; nobody answers →
voicemail and a callback request), 2 find support near you (keypad menu of the former
districts or the place's name spoken), 8 the other language, 9 repeat.
"""

from __future__ import annotations

from datetime import timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.accounts.duty import on_duty_phones
from hotline.conversations.callers import caller_identity
from hotline.conversations.pending import pending_candidates, remember_candidates
from hotline.directory.decisions import decide
from hotline.jobs.outbox import add_work
from hotline.phones import spoken_phone
from hotline.tasks import open_task
from hotline.telephony import Dial, Gather, Hangup, Record, Redirect, Say, VoiceAction
from hotline.telephony.outbound import is_recording_url
from models import Contact, User, db
from models.types import utcnow
from routing.i18n import Message
from routing.resolve import (
    AMBIGUOUS,
    RESOLVED,
    choose_candidate,
    district_menu,
    menu_intro,
    resolve_digits,
    resolve_place,
)

#: At most this many phones ring at once (Twilio's limit for one ``<Dial>``).
MAX_RING = 10
RING_TIMEOUT_SECONDS = 20
VOICEMAIL_MAX_SECONDS = 120
MAX_PLACE_ASKS = 2
CALLBACK_JOB = "alerts.notify_callback"
#: Call outcomes that end the call (status callbacks).
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


def _other(language: str) -> str:
    return "en" if language == "vi" else "vi"


def _say(contact: Contact, text: str) -> Say:
    return Say(text, contact.language)


def _render(message: Message) -> str:
    return message.render(_)


# --------------------------------------------------------------------------------------------
# Steps


def find_call(provider: str, sid: str) -> Contact | None:
    return db.session.scalar(
        select(Contact).where(
            Contact.provider == provider, Contact.provider_sid == sid, Contact.channel == "voice"
        )
    )


def incoming_call(provider: str, sid: str, sender: str, to: str) -> tuple[Contact, bool]:
    """The call's contact (offered), created on first sight; True when new."""
    contact = find_call(provider, sid)
    if contact is not None:
        return contact, False
    number, caller_hash = caller_identity(sender)
    contact = Contact(
        channel="voice",
        provider=provider,
        provider_sid=sid,
        caller_number=number,
        caller_hash=caller_hash,
        hotline_number=(to or "")[:32] or None,
        status="in_progress",
        language="vi",
        ivr_step="greeting",
        place_asks=0,
        step_count=0,
        started_at=utcnow(),
    )
    db.session.add(contact)
    db.session.flush()
    return contact, True


def _menu_gather(contact: Contact, *, greeting: bool) -> Gather:
    prompts = []
    if greeting:
        prompts.append(
            _say(
                contact,
                _(
                    "If you are in danger now, call 113. You have reached hotline 18001769. "
                    "This call is confidential."
                ),
            )
        )
    prompts.append(
        _say(
            contact,
            _(
                "To talk to a counsellor, press 1. To find support near you, press 2. "
                "To hear this again, press 9."
            ),
        )
    )
    other = _other(contact.language)
    with force_locale(other):
        switch = _("For English, press 8.") if other == "en" else _("For Vietnamese, press 8.")
    prompts.append(Say(switch, other))
    return Gather(step="menu", prompts=tuple(prompts), language=contact.language, num_digits=1)


def greeting(contact: Contact) -> list[VoiceAction]:
    contact.ivr_step = "greeting"
    return [_menu_gather(contact, greeting=True), Redirect("menu-silence")]


def menu(contact: Contact, digits: str) -> list[VoiceAction]:
    """The caller's choice in the main menu."""
    choice = digits.strip().rstrip("#")
    contact.ivr_step = "menu"
    if choice == "1":
        return dial(contact)
    if choice == "2":
        contact.place_asks = 0
        contact.pending_places = None
        return place_prompt(contact)
    if choice == "8":
        contact.language = _other(contact.language)
        with force_locale(contact.language):
            return [_menu_gather(contact, greeting=False), Redirect("menu-silence")]
    actions: list[VoiceAction] = []
    if choice != "9":
        actions.append(_say(contact, _("Sorry, that is not an option.")))
    return [*actions, _menu_gather(contact, greeting=False), Redirect("menu-silence")]


def menu_silence(contact: Contact) -> list[VoiceAction]:
    """No key pressed: say the menu once more, then put the caller through to a person."""
    contact.ivr_step = "menu"
    return [_menu_gather(contact, greeting=False), Redirect("dial")]


def place_prompt(contact: Contact, lead: str | None = None) -> list[VoiceAction]:
    contact.ivr_step = "place"
    prompts = [_say(contact, lead)] if lead else []
    prompts.append(_say(contact, _("Say the name of your commune or ward.")))
    prompts.append(_say(contact, _render(menu_intro())))
    prompts.extend(_say(contact, _render(e.prompt)) for e in district_menu())
    gather = Gather(
        step="place",
        prompts=tuple(prompts),
        language=contact.language,
        finish_on_key="#",
        timeout=8,
        speech=True,
        hints=tuple(e.label for e in district_menu()),
    )
    return [gather, Redirect("place-silence")]


def place(contact: Contact, digits: str, speech: str) -> list[VoiceAction]:
    """Resolve the place the caller keyed or said; ask again (twice at most) or answer."""
    digits, speech = digits.strip()[:20], speech.strip()[:300]
    found = None
    candidates = pending_candidates(contact)
    answer = digits or speech
    if candidates and answer:
        found = choose_candidate(answer, candidates)
    resolution = None
    if found is None and answer:
        resolution = resolve_digits(digits) if digits else resolve_place(speech)
        if resolution.status == RESOLVED:
            found = resolution.best
    if found is not None:
        contact.pending_places = None
        return place_result(contact, found)
    contact.place_asks += 1
    if contact.place_asks >= MAX_PLACE_ASKS:
        return place_result(contact, None)
    if resolution is not None and resolution.status == AMBIGUOUS:
        remember_candidates(contact, resolution.candidates)
        options = " ".join(
            _("For %(place)s, press %(key)s.", place=m.label, key=i)
            for i, m in enumerate(resolution.candidates, start=1)
        )
        gather = Gather(
            step="place",
            prompts=(
                _say(contact, _render(resolution.question)),  # type: ignore[arg-type]
                _say(contact, options),
            ),
            language=contact.language,
            finish_on_key="#",
            timeout=8,
            speech=True,
        )
        contact.ivr_step = "place"
        return [gather, Redirect("place-silence")]
    return place_prompt(contact, lead=_("Sorry, I did not find that place."))


def place_silence(contact: Contact) -> list[VoiceAction]:
    contact.place_asks += 1
    if contact.place_asks >= MAX_PLACE_ASKS:
        return place_result(contact, None)
    return place_prompt(contact)


def _stored_place(contact: Contact) -> object | None:
    if contact.commune_code:
        return {"commune_code": contact.commune_code}
    if contact.district_code:
        return {"district_code": contact.district_code}
    return None


def place_result(contact: Contact, found: object | None) -> list[VoiceAction]:
    """Read out the chosen service point's name and phone (the provincial centre when the
    place stays unknown)."""
    decision = decide(found, risk="high")
    codes = decision.place.commune_codes
    contact.commune_code = codes[0] if len(codes) == 1 else None
    contact.district_code = (
        decision.place.district_codes[0] if decision.place.district_codes else None
    )
    contact.ivr_step = "place_result"
    point = decision.primary
    if point is None:
        info = _("Please stay on the line to talk to a counsellor.")
        return [_say(contact, info), *dial(contact)]
    info = _(
        "The nearest support is %(name)s. Phone: %(phone)s.",
        name=point.name,
        phone=spoken_phone(point.phone),
    )
    again = _("To hear this again, press 9. To talk to a counsellor, press 1.")
    gather = Gather(
        step="after-place",
        prompts=(_say(contact, info), _say(contact, again)),
        language=contact.language,
        num_digits=1,
    )
    return [gather, *goodbye(contact)]


def after_place(contact: Contact, digits: str) -> list[VoiceAction]:
    choice = digits.strip().rstrip("#")
    if choice == "1":
        return dial(contact)
    if choice == "9":
        return place_result(contact, _stored_place(contact))
    return goodbye(contact)


def goodbye(contact: Contact) -> list[VoiceAction]:
    return [
        _say(contact, _("If you are in danger, call 113. For children, call 111. Goodbye.")),
        Hangup(),
    ]


def dial(contact: Contact) -> list[VoiceAction]:
    """Ring every on-duty operator at once; nobody on duty → voicemail."""
    phones = on_duty_phones(exclude=contact.caller_number, limit=MAX_RING)
    if not phones:
        return voicemail(contact)
    contact.ivr_step = "ringing"
    return [
        _say(contact, _("Connecting you to a counsellor. Please stay on the line.")),
        Dial(numbers=tuple(phones), step="dial-done", timeout=RING_TIMEOUT_SECONDS),
    ]


def dial_done(contact: Contact, dial_status: str, dial_duration: str) -> list[VoiceAction]:
    """After the ``<Dial>``: the conversation took place, or nobody answered."""
    if dial_status in ("completed", "answered"):
        if contact.answered_at is None:
            seconds = int(dial_duration) if dial_duration.isdigit() else 0
            contact.answered_at = utcnow() - timedelta(seconds=seconds)
        contact.status = "answered"
        contact.ivr_step = "connected"
        return [Hangup()]
    return voicemail(contact)


def voicemail(contact: Contact) -> list[VoiceAction]:
    """Invite a short message and flag a callback request (operators see it; an alert
    goes out through the outbox)."""
    contact.ivr_step = "voicemail"
    request_callback(contact)
    return [
        _say(
            contact,
            _(
                "Nobody can answer right now. After the tone, leave a short message and say "
                "when it is safe to call you back. Press the hash key when you are done."
            ),
        ),
        Record(step="recorded", status_step="recording", max_length=VOICEMAIL_MAX_SECONDS),
        *goodbye(contact),
    ]


def request_callback(contact: Contact) -> None:
    if not contact.callback_requested:
        contact.callback_requested = True
        contact.callback_requested_at = utcnow()
    db.session.flush()
    open_task("callback", f"contact:{contact.id}", contact_id=contact.id)
    add_work(
        CALLBACK_JOB,
        {"contact_id": contact.id},
        queue="alerts",
        dedupe_key=f"callback:{contact.id}",
    )


def store_recording(contact: Contact, url: str, sid: str, duration: str) -> None:
    if url and is_recording_url(url):
        contact.recording_url = url[:1000]
        db.session.flush()
        open_task("voicemail", f"contact:{contact.id}", contact_id=contact.id)
    if sid:
        contact.recording_sid = sid[:64]
    if duration.isdigit():
        contact.recording_seconds = int(duration)


def recorded(contact: Contact, url: str, sid: str, duration: str) -> list[VoiceAction]:
    store_recording(contact, url, sid, duration)
    contact.ivr_step = "recorded"
    return [
        _say(contact, _("Thank you. Your message was received.")),
        *goodbye(contact),
    ]


STEPS = {
    "menu": lambda c, f: menu(c, f.get("Digits", "")),
    "menu-silence": lambda c, f: menu_silence(c),
    "place": lambda c, f: place(c, f.get("Digits", ""), f.get("SpeechResult", "")),
    "place-silence": lambda c, f: place_silence(c),
    "after-place": lambda c, f: after_place(c, f.get("Digits", "")),
    "dial": lambda c, f: dial(c),
    "dial-done": lambda c, f: dial_done(
        c, f.get("DialCallStatus", ""), f.get("DialCallDuration", "")
    ),
    "recorded": lambda c, f: recorded(
        c, f.get("RecordingUrl", ""), f.get("RecordingSid", ""), f.get("RecordingDuration", "")
    ),
}


def run_step(contact: Contact, step: str, form: dict[str, str]) -> list[VoiceAction]:
    """Run one named step in the caller's language."""
    with force_locale(contact.language):
        actions = STEPS[step](contact, form)
    contact.step_count = (contact.step_count or 0) + 1
    return actions


def start(contact: Contact) -> list[VoiceAction]:
    with force_locale(contact.language):
        actions = greeting(contact)
    contact.step_count = (contact.step_count or 0) + 1
    return actions


# --------------------------------------------------------------------------------------------
# Lifecycle from status callbacks


def call_status(
    provider: str, sid: str, status: str, duration: str, parent_sid: str, to: str
) -> bool:
    """Record a call's progress; False when the call is unknown (nothing stored)."""
    if parent_sid:
        # An operator's leg of the <Dial>: answered means the caller was answered.
        contact = find_call(provider, parent_sid)
        if contact is None:
            return False
        if status in ("in-progress", "answered") and contact.answered_at is None:
            contact.answered_at = utcnow()
            contact.status = "answered"
            contact.ivr_step = "connected"
            operator = db.session.scalar(
                select(User).where(User.phone == to, User.role == "operator").limit(1)
            )
            if operator is not None:
                contact.answered_by_id = operator.id
        return True
    contact = find_call(provider, sid)
    if contact is None:
        return False
    if status not in ENDED or contact.ended_at is not None:
        return True
    contact.ended_at = utcnow()
    if duration.isdigit():
        contact.duration_seconds = int(duration)
    if contact.status == "fallback":
        pass  # the caller heard only the fallback: it stays marked, for its callback
    elif contact.answered_at is not None:
        contact.status = "completed"
    elif contact.recording_sid or contact.recording_url:
        contact.status = "voicemail"
    else:
        contact.status = "abandoned"
        contact.abandoned_step = contact.ivr_step
    return True
