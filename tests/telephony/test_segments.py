"""SMS segment counts against the standard's known answers (3GPP TS 23.038 / 23.040): one
segment holds 160 GSM-7 septets or 70 UCS-2 characters; each part of a concatenated
message holds 153 septets or 67 characters (the rest is the concatenation header)."""

from __future__ import annotations

import pytest

from hotline.telephony.segments import encoding, segments


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (159, 1), (160, 1), (161, 2), (305, 2), (306, 2), (307, 3), (459, 3), (460, 4)],
)
def test_gsm7_text(length, expected):
    text = ("Goi 113 ngay. " * 40)[:length]
    assert len(text) == length and encoding(text) == "gsm7"
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("length", "expected"),
    [(1, 1), (69, 1), (70, 1), (71, 2), (133, 2), (134, 2), (135, 3), (201, 3), (202, 4)],
)
def test_any_vietnamese_letter_makes_the_whole_text_ucs2(length, expected):
    text = "ệ" + "a" * (length - 1)
    assert encoding(text) == "ucs2"
    assert segments(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Xin chào", 1),  # "à" is in the GSM-7 basic set
        ("Việt Nam", 1),
        ("ệ" * 70, 1),
        ("ệ" * 71, 2),
        ("Tiên Yên", 1),  # "ê" is not GSM-7: UCS-2, still one segment
        ("😀" * 35, 1),  # outside the BMP: two UTF-16 units each, 70 in all
        ("😀" * 36, 2),
    ],
)
def test_short_texts(text, expected):
    assert segments(text) == expected


@pytest.mark.parametrize("char", ["€", "[", "^", "]", "{", "}", "\\", "~", "|"])
def test_extension_characters_take_two_septets(char):
    assert encoding(char * 81) == "gsm7"
    assert segments(char * 80) == 1  # 160 septets
    assert segments(char * 81) == 2  # 162 septets
    assert segments("a" * 158 + char) == 1  # 160 septets
    assert segments("a" * 159 + char) == 2  # 161 septets


def test_extension_characters_in_concatenated_texts():
    assert segments("€" * 153) == 2  # 306 septets
    assert segments("€" * 154) == 3  # 308 septets


def test_empty_text_is_still_one_message():
    assert segments("") == 1
