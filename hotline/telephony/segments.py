"""How many SMS segments a text costs.

GSM-7 texts fit 160 characters in one segment (153 per part when split); any character
outside GSM-7, such as Vietnamese letters with diacritics, makes the whole text UCS-2:
70 UTF-16 code units in one segment, 67 per part.
"""

from __future__ import annotations

import math

_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def encoding(text: str) -> str:
    """``gsm7`` or ``ucs2``."""
    return "gsm7" if all(c in _GSM_BASIC or c in _GSM_EXTENDED for c in text) else "ucs2"


def segments(text: str) -> int:
    """The number of SMS segments ``text`` is sent as (at least 1)."""
    if encoding(text) == "gsm7":
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        return 1 if units <= 160 else math.ceil(units / 153)
    units = len(text.encode("utf-16-le")) // 2
    return 1 if units <= 70 else math.ceil(units / 67)
