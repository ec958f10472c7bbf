"""What a new password must be: long enough, and not one of the most common passwords.

The list (``data/common-passwords.txt``, its source and licence in its header) holds the
passwords attackers try first; a staff password on it would fall to a slow, spread-out
guessing attack that the lockout and the login limit cannot see.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

#: A new password is at least this long (DESIGN.md section 15).
MIN_LENGTH = 12
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common-passwords.txt"
_TRAILING = re.compile(r"[\d\W_]+$")


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def is_common(password: str, *, username: str | None = None) -> bool:
    """True for a listed password, a listed one with digits or symbols added at the end
    ("password2024!"), one of digits and symbols only, or one that contains the username."""
    lowered = password.strip().lower()
    listed = common_passwords()
    stem = _TRAILING.sub("", lowered)
    if lowered in listed or not stem or stem in listed:
        return True
    return bool(username) and username.lower() in lowered
