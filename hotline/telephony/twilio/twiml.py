"""TwiML: the provider-neutral voice actions and SMS replies, rendered for Twilio."""

from __future__ import annotations

from collections.abc import Callable
from xml.sax.saxutils import escape

from flask_babel import force_locale
from flask_babel import gettext as _
from twilio.twiml.messaging_response import MessagingResponse
from twilio.twiml.voice_response import Dial as TwimlDial
from twilio.twiml.voice_response import Gather as TwimlGather
from twilio.twiml.voice_response import VoiceResponse

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

CONTENT_TYPE = "text/xml; charset=utf-8"
#: The ``language`` attribute and a text-to-speech voice that speaks it, per language.
VOICES = {
    "vi": ("vi-VN", "Google.vi-VN-Standard-A"),
    "en": ("en-US", "Google.en-US-Standard-C"),
}


def _say(target, say: Say) -> None:
    language, voice = VOICES.get(say.language, VOICES["vi"])
    target.say(say.text, voice=voice, language=language)


def render_voice(
    actions: list[VoiceAction], url: Callable[[str], str], status_url: str | None = None
) -> str:
    """TwiML for the actions; ``url(step)`` gives the absolute URL of a flow step."""
    response = VoiceResponse()
    for action in actions:
        if isinstance(action, Say):
            _say(response, action)
        elif isinstance(action, Gather):
            gather = TwimlGather(
                action=url(action.step),
                method="POST",
                input="dtmf speech" if action.speech else "dtmf",
                language=VOICES.get(action.language, VOICES["vi"])[0],
                timeout=action.timeout,
                num_digits=action.num_digits,
                finish_on_key=action.finish_on_key if action.finish_on_key else None,
                speech_timeout="auto" if action.speech else None,
                hints=", ".join(action.hints) if action.hints else None,
                action_on_empty_result=False,
            )
            for prompt in action.prompts:
                _say(gather, prompt)
            response.append(gather)
        elif isinstance(action, Dial):
            dial = TwimlDial(action=url(action.step), method="POST", timeout=action.timeout)
            for number in action.numbers:
                attrs: dict = {}
                if action.whisper:
                    attrs.update(url=url(action.whisper), method="POST")
                if status_url:
                    attrs.update(
                        status_callback=status_url,
                        status_callback_event="answered completed",
                        status_callback_method="POST",
                    )
                dial.number(number, **attrs)
            response.append(dial)
        elif isinstance(action, Enqueue):
            response.enqueue(
                action.queue,
                action=url(action.step),
                method="POST",
                wait_url=url(action.wait_step),
                wait_url_method="POST",
            )
        elif isinstance(action, DialQueue):
            dial = TwimlDial(action=url(action.step), method="POST", timeout=action.timeout)
            dial.queue(action.queue, url=url(action.announce_step), method="POST")
            response.append(dial)
        elif isinstance(action, Conference):
            dial = TwimlDial()
            dial.conference(
                action.name,
                start_conference_on_enter=True,
                end_conference_on_exit=action.ends_it,
                beep=False,
            )
            response.append(dial)
        elif isinstance(action, Leave):
            response.leave()
        elif isinstance(action, Record):
            response.record(
                action=url(action.step),
                method="POST",
                max_length=action.max_length,
                finish_on_key="#",
                play_beep=True,
                timeout=5,
                recording_status_callback=url(action.status_step),
                recording_status_callback_method="POST",
                recording_status_callback_event="completed",
            )
        elif isinstance(action, Redirect):
            response.redirect(url(action.step), method="POST")
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response)


_MESSAGE = '<?xml version="1.0" encoding="UTF-8"?><Response><Message>{}</Message></Response>'


def render_message(text: str | None) -> str:
    """The TwiML answer to an inbound SMS: one reply, or none. Written out directly (what
    ``MessagingResponse`` makes, escaped the same way: ``tests/telephony/test_twiml.py``);
    building the XML tree was a tenth of the SMS webhook's time."""
    if not text:
        return str(MessagingResponse())
    return _MESSAGE.format(escape(text))


def empty() -> str:
    return str(VoiceResponse())


def fallback_voice() -> str:
    """What a caller hears when the service cannot take the call: needs no database."""
    response = VoiceResponse()
    for lang in ("vi", "en"):
        with force_locale(lang):
            text = _(
                "If you are in danger now, call 113. For children, call 111. Hotline "
                "18001769 cannot take your call right now. Please call again in a few minutes."
            )
        _say(response, Say(text, lang))
    response.hangup()
    return str(response)


def fallback_sms() -> str:
    """The reply when the SMS flow cannot run: the emergency numbers and the hotline."""
    with force_locale("vi"):
        text = _("In danger, call 113. Children: 111. Hotline 18001769.")
    return render_message(text)
