"""Phone numbers: every Vietnamese way of writing one, stored as E.164."""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberType

#: National short numbers a service point may publish (police, fire, ambulance, children).
SHORT_NUMBERS = frozenset({"111", "112", "113", "114", "115"})

_MOBILE_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE)


def normalise_phone(value: str, *, region: str = "VN") -> str | None:
    """E.164 form of a valid number written in any common format, else None."""
    try:
        number = phonenumbers.parse(value, region)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def is_mobile(e164: str) -> bool:
    """Whether an E.164 number is a mobile line (can receive SMS alerts)."""
    return phonenumbers.number_type(phonenumbers.parse(e164)) in _MOBILE_TYPES


@lru_cache(maxsize=1024)
def public_phone(phone: str) -> str:
    """A service point's phone as people write it (``0900 000 123``; ``113`` stays)."""
    if not phone.startswith("+"):
        return phone
    try:
        parsed = phonenumbers.parse(phone)
    except phonenumbers.NumberParseException:
        return phone
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def spoken_phone(phone: str) -> str:
    """Digits read one by one, grouped as written: ``0 9 0 0, 0 0 0, 1 2 3``."""
    text = phone
    if phone.startswith("+"):
        try:
            text = phonenumbers.format_number(
                phonenumbers.parse(phone), phonenumbers.PhoneNumberFormat.NATIONAL
            )
        except phonenumbers.NumberParseException:
            text = phone
    groups = ["".join(c for c in g if c.isdigit()) for g in text.split()]
    return ", ".join(" ".join(g) for g in groups if g)


#: Mobile prefixes Vietnam retired in 2018 (11 digits) and the 10-digit ones that replaced
#: them, so a number written down before then is still found.
_OLD_MOBILE_PREFIXES = {
    **{f"016{d}": f"03{d}" for d in "23456789"},
    "0120": "070",
    "0121": "079",
    "0122": "077",
    "0126": "076",
    "0128": "078",
    "0123": "083",
    "0124": "084",
    "0125": "085",
    "0127": "081",
    "0129": "082",
    "0186": "056",
    "0188": "058",
    "0199": "059",
}
_SEPARATORS = re.compile(r"[\s.\-()/]")


def search_phone(text: str) -> str | None:
    """The E.164 number an operator means, written any way people write Vietnamese
    numbers (``0912 345 678``, ``0912.345.678``, ``+84 912 345 678``, ``84912345678``,
    an old 11-digit ``0168…`` mobile number); None when it is not a phone number."""
    compact = _SEPARATORS.sub("", text.strip())
    if not compact or len(compact) > 20 or not re.fullmatch(r"\+?\d+", compact):
        return None
    if compact.startswith("0") and len(compact) == 11 and compact[:4] in _OLD_MOBILE_PREFIXES:
        compact = _OLD_MOBILE_PREFIXES[compact[:4]] + compact[4:]
    elif compact.startswith("84") and not compact.startswith("+") and len(compact) >= 11:
        compact = "+" + compact
    elif compact.startswith("0084"):
        compact = "+" + compact[2:]
    return normalise_phone(compact)
