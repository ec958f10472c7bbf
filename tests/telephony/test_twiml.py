"""The SMS answer's TwiML, written out directly, is exactly what Twilio's own library
makes (the library is the oracle), whatever the text holds."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.twiml.messaging_response import MessagingResponse

from hotline.telephony.twilio.twiml import render_message


def library(text: str | None) -> str:
    response = MessagingResponse()
    if text:
        response.message(text)
    return str(response)


@pytest.mark.parametrize(
    "text",
    [
        None,
        "",
        "Nguy hiểm: gọi 113. Liên hệ Điểm hỗ trợ Tiên Yên: 0203 3876 113",
        "a < b & c > d \"quoted\" 'single'",
        "]]> <![CDATA[ x ]]>",
        "line one\nline two\r\ttab",
        "🆘 emoji and 한국어",
    ],
)
def test_the_answer_is_the_library_s(text):
    assert render_message(text) == library(text)


@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=200))
def test_any_text_is_written_as_the_library_writes_it(text):
    assert render_message(text) == library(text)
