"""Language choice: Vietnamese unless the person chose English.

The choice is explicit (``?lang=en``, kept for the session, or else the signed-in user's
saved language) rather than taken from the browser, because callers and staff share phones
and the hotline is Vietnamese first.
"""

from __future__ import annotations

import os

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale

from hotline.extensions import babel

LANGUAGES = ("vi", "en")
DEFAULT_LANGUAGE = "vi"


def select_locale() -> str:
    if not has_request_context():
        # Commands print in the operator's chosen language (vi unless HOTLINE_CLI_LANG=en).
        lang = os.environ.get("HOTLINE_CLI_LANG", DEFAULT_LANGUAGE)
        return lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
        return chosen
    saved = session.get("lang")
    if saved in LANGUAGES:
        return saved
    # The signed-in person's saved preference (``User.language``, set on /account).
    preferred = getattr(g.get("user"), "language", None)
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE


def init_i18n(app: Flask) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.globals.update(LANGUAGES=LANGUAGES, get_locale=get_locale)
