"""The voice IVR and the call lifecycle, provider-neutral.

Each step takes what the caller pressed or said and returns voice actions
(``hotline.telephony.Say``, ``Gather``, ``Dial`` …) that the adapter renders (TwiML for
Twilio). Steps run in the caller's transaction and never call the network.

Menu (every prompt through Babel, in the caller's language):
1 talk to a counsellor (every on-duty, available operator's phone rings at once, each
screened: the operator hears a short whisper and joins only by pressing 1; every operator
busy → hold with the safety message and the caller's place in line, then voicemail; nobody
on duty or nobody answers → voicemail and a callback request), 2 find support near you
(keypad menu of the former districts, then of that district's communes, or the place's
name spoken), 8 the other language, 9 repeat.

Steps in :data:`LEG_STEPS` run on an operator's phone (the whisper of a rung phone, the
call offering a waiting caller), not on the caller's call: their URL names the caller's
call (``c``) or the call the service started (``l``).
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from flask import current_app
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.conversations import calls
from hotline.conversations.callers import caller_identity
from hotline.conversations.pending import pending_candidates, remember_candidates
from hotline.directory.decisions import decide
from hotline.jobs.outbox import add_work
from hotline.phones import spoken_phone
from hotline.tasks import open_task
from hotline.telephony import (
    Conference,
    Dial,
    DialQueue,
    Enqueue,
    Gather,
    Hangup,
    Leave,
    Record,
    Redirect,
    Say,
    VoiceAction,
)
from hotline.telephony.outbound import is_recording_url
from models import CallLeg, Contact, User, db
from models.types import utcnow
from routing.i18n import Message
from routing.resolve import (
    AMBIGUOUS,
    DISTRICT,
    RESOLVED,
    choose_candidate,
    commune_menu,
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
#: Seconds an operator has to press 1 after the whisper.
SCREEN_SECONDS = 8
#: Seconds of the hold message's pause for a key before it is said again.
HOLD_KEY_SECONDS = 15
CALLBACK_JOB = "alerts.notify_callback"
#: Call outcomes that end the call (status callbacks).
ENDED = frozenset({"completed", "busy", "failed", "no-answer", "canceled"})


class NeedsSession(Exception):
    """A step run on a plain copy of the call's state (``voice_quick``) reached work that
    needs the database (ringing operators, the hold queue, a voicemail): run it the full
    way instead. Raised before anything is changed."""


def _needs_session(contact: object) -> None:
    if not isinstance(contact, Contact):
        raise NeedsSession()


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
    return _menu_gather_in(contact.language, str(get_locale()), greeting)


@lru_cache(maxsize=16)
def _menu_gather_in(language: str, _locale: str, greeting: bool) -> Gather:
    """The main menu in this language, said in the current locale (cached: the same words
    every time; gettext for each of them on every step was a tenth of a step's time)."""
    prompts = []
    if greeting:
        prompts.append(
            Say(
                _(
                    "If you are in danger now, call 113. You have reached hotline 18001769. "
                    "This call is confidential."
                ),
                language,
            )
        )
    prompts.append(
        Say(
            _(
                "To talk to a counsellor, press 1. To find support near you, press 2. "
                "To hear this again, press 9."
            ),
            language,
        )
    )
    other = _other(language)
    with force_locale(other):
        switch = _("For English, press 8.") if other == "en" else _("For Vietnamese, press 8.")
    prompts.append(Say(switch, other))
    return Gather(step="menu", prompts=tuple(prompts), language=language, num_digits=1)


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
    gather = _place_gather(contact.language, str(get_locale()))
    if lead:
        gather = replace(gather, prompts=(_say(contact, lead), *gather.prompts))
    return [gather, Redirect("place-silence")]


@lru_cache(maxsize=16)
def _place_gather(language: str, _locale: str) -> Gather:
    """The place question with the district menu, in the current locale (cached)."""
    prompts = [Say(_("Say the name of your commune or ward."), language)]
    prompts.append(Say(_render(menu_intro()), language))
    prompts.extend(Say(_render(e.prompt), language) for e in district_menu())
    return Gather(
        step="place",
        prompts=tuple(prompts),
        language=language,
        finish_on_key="#",
        timeout=8,
        speech=True,
        hints=tuple(e.label for e in district_menu()),
    )


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
            if digits and "*" not in digits and found.unit_kind == DISTRICT:
                entries = commune_menu(found.code)
                if entries:
                    contact.pending_places = None
                    return commune_prompt(contact, found.code, entries)
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


def commune_prompt(contact: Contact, district_code: str, entries) -> list[VoiceAction]:
    """The district key was pressed: read that district's communes, each with its key."""
    contact.ivr_step = "commune"
    contact.district_code = district_code
    prompts = [
        _say(
            contact,
            _("Key the number of your commune, then the hash key. For the whole district, key 0."),
        )
    ]
    prompts.extend(
        _say(
            contact,
            _("For %(place)s, press %(key)s.", place=e.label, key=e.key.rpartition("*")[2]),
        )
        for e in entries
    )
    gather = Gather(
        step="commune",
        prompts=tuple(prompts),
        language=contact.language,
        finish_on_key="#",
        timeout=8,
    )
    return [gather, Redirect("commune-silence")]


def _district_key(district_code: str | None) -> str | None:
    entry = next((e for e in district_menu() if e.district_code == district_code), None)
    return entry.key if entry else None


def commune(contact: Contact, digits: str) -> list[VoiceAction]:
    """The commune key after the district key; 0, silence or a wrong key → the district."""
    key = _district_key(contact.district_code)
    if key is None:
        return place_prompt(contact)
    choice = digits.strip().rstrip("#")[:4]
    resolution = resolve_digits(f"{key}*{choice}") if choice.isdigit() and choice != "0" else None
    if resolution is None or resolution.status != RESOLVED:
        resolution = resolve_digits(key)
    return place_result(contact, resolution.best)


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
    # A step run by ``voice_quick`` read the directory's version with the call's state.
    decision = decide(found, risk="high", version=getattr(contact, "directory_version", None))
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
    """The caller asked for a counsellor: ring every on-duty, available operator at once
    (each screened); all of them busy → hold; nobody who could answer → voicemail."""
    _needs_session(contact)
    if contact.counsellor_requested_at is None:
        contact.counsellor_requested_at = utcnow()
    phones = calls.phones_to_ring(contact.caller_number, MAX_RING)
    if phones:
        contact.ivr_step = "ringing"
        return [
            _say(contact, _("Connecting you to a counsellor. Please stay on the line.")),
            Dial(
                numbers=tuple(phones),
                step="dial-done",
                timeout=RING_TIMEOUT_SECONDS,
                whisper=f"screen?c={contact.id}",
            ),
        ]
    if calls.someone_will_be_free():
        return enqueue(contact)
    return voicemail(contact)


def dial_done(contact: Contact, dial_status: str, dial_duration: str) -> list[VoiceAction]:
    """After the ``<Dial>``: an operator took the call (pressed 1) and it is over, the
    operator's leg moved to a transfer's conference, or nobody took it."""
    if contact.conference:
        return [Conference(contact.conference, ends_it=True)]
    if contact.answered_at is not None:
        return [Hangup()]
    return voicemail(contact)


def enqueue(contact: Contact) -> list[VoiceAction]:
    contact.ivr_step = "queued"
    contact.queued_at = contact.queued_at or utcnow()
    return [
        _say(contact, _("All counsellors are busy. Please hold.")),
        Enqueue(queue=calls.QUEUE, wait_step="hold", step="queue-done"),
    ]


def max_wait_seconds() -> int:
    return int(current_app.config.get("VOICE_MAX_WAIT_SECONDS") or 120)


def hold(contact: Contact, queue_time: str) -> list[VoiceAction]:
    """What a caller on hold hears, repeated: 113, their place in line, the way out."""
    if contact.ivr_step != "queued" or contact.queued_at is None:
        return [Leave()]
    waited = int((utcnow() - contact.queued_at).total_seconds())
    if queue_time.isdigit():
        waited = max(waited, int(queue_time))
    if waited >= max_wait_seconds():
        contact.ivr_step = "hold_timeout"
        return [Leave()]
    text = _(
        "If you are in danger, call 113. You are number %(n)d in line. "
        "Press any key to leave a message.",
        n=calls.position(contact),
    )
    gather = Gather(
        step="hold-key",
        prompts=(_say(contact, text),),
        language=contact.language,
        num_digits=1,
        timeout=HOLD_KEY_SECONDS,
    )
    return [gather, Redirect("hold")]


def hold_key(contact: Contact, digits: str) -> list[VoiceAction]:
    """A key on hold: leave the line for voicemail and a callback."""
    if contact.ivr_step == "queued" and digits.strip():
        contact.ivr_step = "hold_left"
        return [Leave()]
    return hold(contact, "")


def queue_done(contact: Contact, result: str) -> list[VoiceAction]:
    """The caller left the hold queue: answered (and done), moved to a transfer,
    hung up, or out of patience (time or key) → voicemail."""
    if contact.conference:
        return [Conference(contact.conference, ends_it=True)]
    if contact.answered_at is not None or result == "bridged":
        return [Hangup()]
    if result == "hangup":
        return [Hangup()]
    return voicemail(contact)


def dequeued(contact: Contact, operator_call_sid: str, leg_id: str) -> list[VoiceAction]:
    """Played to the caller just before an operator who pressed 1 is connected."""
    leg = db.session.get(CallLeg, int(leg_id)) if leg_id.isdigit() else None
    if leg is None and operator_call_sid:
        leg = calls.find_leg(contact.provider, operator_call_sid)
    user = db.session.get(User, leg.user_id) if leg is not None and leg.user_id else None
    if leg is not None:
        leg.contact_id = contact.id
        leg.answered_at = leg.answered_at or utcnow()
        leg.status = "answered"
    calls.take(contact, user, operator_call_sid or (leg.sid if leg else "") or "")
    return [_say(contact, _("Connecting you to a counsellor now."))]


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


# --------------------------------------------------------------------------------------------
# Operator legs: the whisper on a rung phone, and the call offering a waiting caller


def _leg_language(user: User | None) -> str:
    return user.language if user is not None and user.language in ("vi", "en") else "vi"


def _screen_gather(step: str, text: str, language: str) -> Gather:
    return Gather(
        step=step,
        prompts=(Say(text, language),),
        language=language,
        num_digits=1,
        timeout=SCREEN_SECONDS,
    )


def _waiting_contact(contact: Contact | None) -> bool:
    return bool(contact and contact.answered_at is None and contact.ended_at is None)


def screen(contact: Contact | None, user: User | None, form: dict[str, str]) -> list:
    """An operator's phone answered (a person or its voicemail): a short whisper; only
    pressing 1 connects, anything else or nothing hangs up this phone only."""
    if not _waiting_contact(contact):
        return [Hangup()]
    language = _leg_language(user)
    with force_locale(language):
        text = _("Hotline call. Press 1 to take it.")
    return [_screen_gather(f"screen-key?c={contact.id}", text, language), Hangup()]  # type: ignore[union-attr]


def screen_key(contact: Contact | None, user: User | None, form: dict[str, str]) -> list:
    """The operator's key after the whisper: 1 takes the call (an empty answer lets the
    ``<Dial>`` connect this phone and stop the others), anything else hangs up this leg."""
    if form.get("Digits", "").strip() != "1" or not _waiting_contact(contact):
        return [Hangup()]
    calls.take(contact, user, form.get("CallSid", ""))  # type: ignore[arg-type]
    return []


def offer(contact: Contact | None, user: User | None, form: dict[str, str]) -> list:
    """A free operator answered the call offering the longest-waiting caller."""
    language = _leg_language(user)
    with force_locale(language):
        if contact is None or contact.ivr_step != "queued" or not _waiting_contact(contact):
            return [Say(_("The caller is no longer waiting."), language), Hangup()]
        text = _("A hotline caller is waiting. Press 1 to take the call.")
    return [_screen_gather(f"offer-key?l={form['_leg']}", text, language), Hangup()]


def offer_key(contact: Contact | None, user: User | None, form: dict[str, str]) -> list:
    """1 connects the operator to the longest-waiting caller."""
    if form.get("Digits", "").strip() != "1" or calls.first_waiting() is None:
        return [Hangup()]
    leg_id = form["_leg"]
    return [
        DialQueue(
            queue=calls.QUEUE, step=f"offer-done?l={leg_id}", announce_step=f"dequeued?l={leg_id}"
        )
    ]


def offer_done(contact: Contact | None, user: User | None, form: dict[str, str]) -> list:
    return [Hangup()]


#: Steps on an operator's leg: (contact, operator, form) → actions.
LEG_STEPS = {
    "screen": screen,
    "screen-key": screen_key,
    "offer": offer,
    "offer-key": offer_key,
    "offer-done": offer_done,
}


def run_leg_step(provider: str, step: str, query: dict[str, str], form: dict[str, str]) -> list:
    """Run a step on an operator's leg; the caller's call comes from the URL (``c``), or
    from the call the service started (``l``)."""
    contact: Contact | None = None
    user: User | None = None
    leg_id = query.get("l", "")
    if leg_id.isdigit():
        leg = db.session.get(CallLeg, int(leg_id))
        if leg is not None:
            contact = leg.contact
            user = db.session.get(User, leg.user_id) if leg.user_id else None
            if contact is not None and contact.ivr_step == "queued":
                # The queue serves its longest-waiting caller, whoever was first asked for.
                contact = calls.first_waiting() or contact
    else:
        cid = query.get("c", "")
        contact = db.session.get(Contact, int(cid)) if cid.isdigit() else None
        user = calls.operator_by_phone(form.get("To", ""))
    if contact is not None and contact.provider != provider:
        contact = None
    form = {**form, "_leg": leg_id}
    with force_locale(_leg_language(user)):
        return LEG_STEPS[step](contact, user, form)


STEPS = {
    "menu": lambda c, f: menu(c, f.get("Digits", "")),
    "menu-silence": lambda c, f: menu_silence(c),
    "place": lambda c, f: place(c, f.get("Digits", ""), f.get("SpeechResult", "")),
    "place-silence": lambda c, f: place_silence(c),
    "commune": lambda c, f: commune(c, f.get("Digits", "")),
    "commune-silence": lambda c, f: commune(c, ""),
    "after-place": lambda c, f: after_place(c, f.get("Digits", "")),
    "dial": lambda c, f: dial(c),
    "dial-done": lambda c, f: dial_done(
        c, f.get("DialCallStatus", ""), f.get("DialCallDuration", "")
    ),
    "hold": lambda c, f: hold(c, f.get("QueueTime", "")),
    "hold-key": lambda c, f: hold_key(c, f.get("Digits", "")),
    "queue-done": lambda c, f: queue_done(c, f.get("QueueResult", "")),
    "dequeued": lambda c, f: dequeued(c, f.get("DequeingCallSid", ""), f.get("_leg", "")),
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
        # An operator's phone rung by the caller's <Dial>. Its being answered says nothing
        # (a voicemail answers too): the call is answered when the operator presses 1 after
        # the whisper (``screen_key``). Its end frees the operator.
        contact = find_call(provider, parent_sid)
        if contact is None:
            return False
        if status in ENDED and contact.operator_call_sid == sid and contact.answered_by_id:
            calls.release(db.session.get(User, contact.answered_by_id), contact)
        return True
    contact = find_call(provider, sid)
    if contact is None:
        leg = calls.find_leg(provider, sid)
        if leg is None:
            return False
        calls.leg_status(leg, status)
        return True
    if status not in ENDED or contact.ended_at is not None:
        return True
    contact.ended_at = utcnow()
    contact.answer_key = contact.answer = None  # no step comes after the end
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
    if contact.answered_by_id:
        calls.release(db.session.get(User, contact.answered_by_id), contact)
    return True
