"""Who is calling or texting: the number as stored, and its keyed hash."""

from __future__ import annotations

import re

from hotline.phones import normalise_phone
from hotline.privacy import number_hash

_PLAIN_SENDER = re.compile(r"[+0-9A-Za-z]{1,20}")


def caller_identity(raw: str | None) -> tuple[str | None, str | None]:
    """The number to store (E.164 when it is one) and its keyed hash.

    Withheld or odd senders ("anonymous", an alphanumeric sender, garbage) are kept as
    given when short and plain, otherwise not at all: (None, None).
    """
    raw = (raw or "").strip()
    if not raw:
        return None, None
    number = normalise_phone(raw) if len(raw) <= 32 else None
    if number is None:
        if not _PLAIN_SENDER.fullmatch(raw):
            return None, None
        number = raw
    return number, number_hash(number)
