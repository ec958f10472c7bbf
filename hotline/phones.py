"""Phone numbers: every Vietnamese way of writing one, stored as E.164."""

from __future__ import annotations

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
