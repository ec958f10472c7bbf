"""Babel catalogs: Vietnamese for every message, both catalogs compile and are current."""

from __future__ import annotations

import io

import pytest
from babel.messages.mofile import read_mo, write_mo
from babel.messages.pofile import read_po

from hotline.cli.translate import LOCALES, extract


def load_po(lang: str):
    with open(LOCALES / lang / "LC_MESSAGES" / "messages.po", "rb") as f:
        return read_po(f, locale=lang)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory):
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    extract(pot)
    with open(pot, "rb") as f:
        return read_po(f)


def test_every_message_in_the_code_has_a_vietnamese_translation(extracted):
    vi = load_po("vi")
    missing = [
        m.id
        for m in extracted
        if m.id and (m.id not in vi or not vi[m.id].string or vi[m.id].fuzzy)
    ]
    assert missing == [], "translate these in locales/vi (flask translate update)"


def test_english_catalog_knows_every_message(extracted):
    en = load_po("en")
    assert [m.id for m in extracted if m.id and m.id not in en] == []


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_catalog_compiles_without_errors(lang):
    catalog = load_po(lang)
    problems = [(m.id, [str(e) for e in errs]) for m, errs in catalog.check()]
    assert problems == []
    write_mo(io.BytesIO(), catalog)


def _key(value):
    """Plural messages have a list of ids and of strings: compare them as tuples."""
    return tuple(value) if isinstance(value, list | tuple) else value


@pytest.mark.parametrize("lang", ["vi", "en"])
def test_compiled_catalog_is_up_to_date(lang):
    po = load_po(lang)
    with open(LOCALES / lang / "LC_MESSAGES" / "messages.mo", "rb") as f:
        mo = read_mo(f)
    expected = {_key(m.id): _key(m.string) for m in po if m.id and m.string and not m.fuzzy}
    compiled = {_key(m.id): _key(m.string) for m in mo if m.id}
    assert compiled == expected, "run `flask --app app translate compile`"


def test_pages_are_vietnamese_by_default(client):
    page = client.get("/").get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "Đang gặp nguy hiểm? Gọi công an 113." in page
    assert "In danger now?" not in page


def test_english_is_chosen_explicitly_and_remembered(client):
    page = client.get("/?lang=en").get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "In danger now?" in page
    again = client.get("/").get_data(as_text=True)
    assert '<html lang="en">' in again
