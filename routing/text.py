"""Vietnamese text normalisation for place matching.

Each word gets two forms:

* ``folded``: lower case, no diacritics, ``đ`` → ``d``, common SMS spellings undone
  (``f`` → ``ph``, ``w`` → ``qu``, ``k`` → ``c`` before a/o/u, final ``k`` → ``c``,
  final ``j`` → ``i``, ``z`` → ``d``). Matching is done on this form.
* ``toned``: the vowel letters with their quality marks (â ă ê ô ơ ư) followed by the tone
  mark as a separate character, so tone placement (``hòa`` / ``hoà``, ``thủy`` / ``thuỷ``)
  and NFC/NFD input give the same key. It is compared only when the caller typed marks.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Combining marks that carry a tone in Vietnamese (grave, acute, tilde, hook above, dot below).
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_WORD_RE = re.compile(r"[^\W_]+")
_STRIP = str.maketrans({"đ": "d", "Đ": "d"})


@dataclass(frozen=True, slots=True)
class Word:
    """One word of the input with its position in the NFC text."""

    text: str
    folded: str
    toned: str
    marked: bool  # the caller typed at least one diacritic (or đ) in this word
    toneless: bool  # ``toned`` carries no tone mark
    start: int
    end: int


def nfc(text: str) -> str:
    """NFC form of ``text`` (input may arrive decomposed, e.g. from some phones)."""
    return unicodedata.normalize("NFC", text)


def toned_key(word: str) -> str:
    """Vowel-quality marks kept, the tone moved to the end; ``đ`` folded to ``d``."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tone = "".join(c for c in decomposed if c in TONE_MARKS)
    base = "".join(c for c in decomposed if c not in TONE_MARKS).translate(_STRIP)
    return unicodedata.normalize("NFC", base) + tone


def fold(word: str) -> str:
    """Lower case without any diacritics; ``đ`` → ``d``."""
    decomposed = unicodedata.normalize("NFD", word.lower()).translate(_STRIP)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def unteen(folded: str) -> str:
    """Undo common SMS spellings in a folded word (letters Vietnamese does not use)."""
    w = folded
    if w.startswith("f"):
        w = "ph" + w[1:]
    elif w.startswith("w") and len(w) > 1:
        w = "qu" + w[1:]
    elif w.startswith("k") and len(w) > 1 and w[1] in "aou":
        w = "c" + w[1:]
    if "z" in w:
        w = w.replace("dz", "d").replace("z", "d")
    if len(w) > 2 and w.endswith("k") and not w.endswith("nk"):
        w = w[:-1] + "c"
    if len(w) > 1 and w.endswith("j"):
        w = w[:-1] + "i"
    return w


def words(text: str) -> tuple[Word, ...]:
    """Split NFC ``text`` into words with both matching forms."""
    out = []
    for m in _WORD_RE.finditer(text):
        raw = m.group(0)
        folded, toned, marked, toneless = _forms(raw)
        out.append(Word(raw, folded, toned, marked, toneless, m.start(), m.end()))
    return tuple(out)


@lru_cache(maxsize=16384)
def _forms(raw: str) -> tuple[str, str, bool, bool]:
    """A word's matching forms (folded, toned, marked, toneless). Cached: Vietnamese is
    written in a few thousand syllables, and this was a sixth of reading a message."""
    toned = toned_key(raw)
    folded = fold(raw)
    return (
        unteen(folded),
        toned,
        folded != raw.lower(),
        not any(c in TONE_MARKS for c in toned),
    )


def damerau1(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by at most one edit (insert, delete, substitute or
    swap of two adjacent letters)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]
