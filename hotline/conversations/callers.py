"""Who is calling or texting: the number as stored, and its keyed hash."""

from __future__ import annotations

import re

from hotline.phones import normalise_phone
from hotline.privacy import number_hash
from hotline.telephony.zalo import zalo_key

_PLAIN_SENDER = re.compile(r"[+0-9A-Za-z]{1,20}")
#: Zalo user ids are decimal, scoped to the Official Account (about 19 digits).
_ZALO_USER_ID = re.compile(r"[0-9]{1,32}")


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


def zalo_identity(user_id: str | None) -> tuple[str | None, str | None]:
    """A Zalo user id to store (encrypted, like a number) and its keyed hash.

    The hash is the number hash of ``zalo:<id>``: the same key, a namespace of its own, so
    an id can never collide with a phone number's hash (opt-outs, repeat senders)."""
    user_id = (user_id or "").strip()
    if not _ZALO_USER_ID.fullmatch(user_id):
        return None, None
    return user_id, number_hash(zalo_key(user_id))


def sender_identity(channel: str, raw: str | None) -> tuple[str | None, str | None]:
    """The sender to store and its keyed hash, on any written channel."""
    return zalo_identity(raw) if channel == "zalo" else caller_identity(raw)
