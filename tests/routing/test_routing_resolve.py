"""Place resolution from free text, speech and keypad digits."""

from __future__ import annotations

import unicodedata

import pytest

from routing.resolve import (
    AMBIGUOUS,
    NOT_FOUND,
    OUTSIDE_PROVINCE,
    RESOLVED,
    choose_candidate,
    commune_menu,
    district_menu,
    menu_intro,
    resolve_digits,
    resolve_place,
)


def best(text: str):
    res = resolve_place(text)
    assert res.status == RESOLVED, (text, res)
    return res.best


def test_with_and_without_diacritics_resolve_the_same():
    assert best("Cẩm Phả").code == best("cam pha").code == "195"
    assert best("phường Cửa Ông").commune_codes == best("phuong cua ong").commune_codes


def test_tone_mark_placement_does_not_matter():
    assert best("Hiệp Hòa").commune_codes == best("Hiệp Hoà").commune_codes == ("07147",)
    assert best("Cẩm Thủy").commune_codes == best("Cẩm Thuỷ").commune_codes == ("06778",)


def test_nfd_input_resolves_like_nfc():
    text = "xã Đông Ngũ, huyện Tiên Yên"
    nfd = unicodedata.normalize("NFD", text)
    assert nfd != text
    assert best(nfd).commune_codes == best(text).commune_codes == ("06877",)
    assert best(nfd).matched_text == "Đông Ngũ"


@pytest.mark.parametrize(
    ("text", "kind", "code"),
    [
        ("TP Cẩm Phả", "district", "195"),
        ("tp. Cẩm Phả", "district", "195"),
        ("thành phố Cẩm Phả", "district", "195"),
        ("TP.Cam Pha", "district", "195"),
        ("huyện Tiên Yên", "district", "199"),
        ("h. Tiên Yên", "district", "199"),
        ("thị xã Quảng Yên", "district", "206"),
        ("tx quang yen", "district", "206"),
        ("xã Đông Ngũ", "new_commune", "06877"),
        ("x. Đông Ngũ", "new_commune", "06877"),
        ("phường Hồng Gai", "new_commune", "06685"),
        ("P. Hồng Gai", "new_commune", "06685"),
        ("p.hong gai", "new_commune", "06685"),
        ("thị trấn Tiên Yên", "old_commune", "06862"),
        ("TT Tiên Yên", "old_commune", "06862"),
        ("đặc khu Vân Đồn", "new_commune", "06994"),
        ("phường Cẩm Phả", "new_commune", "06793"),
    ],
)
def test_type_words_and_abbreviations(text, kind, code):
    match = best(text)
    assert (match.unit_kind, match.code) == (kind, code)


@pytest.mark.parametrize(
    ("text", "communes"),
    [
        ("bai chayy", ("06673",)),
        ("hong gaii", ("06685",)),
        ("mong duog cam pha", ("06760",)),
        ("quanh hanh", ("06778",)),
        ("phong cok quang yen", ("07183",)),
        ("fuong cam pha", ("06793",)),
    ],
)
def test_common_typos_and_sms_spellings(text, communes):
    assert best(text).commune_codes == communes


def test_typo_with_a_wrong_tone_lowers_confidence():
    exact, wrong = best("Cẩm Phả"), best("Cẩm Phã")
    assert exact.code == wrong.code == "195"
    assert wrong.confidence < exact.confidence


def test_old_commune_name_maps_to_its_current_commune():
    match = best("phường Hồng Hải")
    assert match.unit_kind == "old_commune"
    assert match.code == "06688"
    assert match.commune_codes == ("06688",)
    assert match.district_codes == ("193",)


def test_reused_code_is_not_joined_by_name():
    # Old Phường Hà Tu (06664) is now part of Phường Hà Tu 06652, not of old code 06664.
    assert best("phường Hà Phong").commune_codes == ("06652",)


def test_former_hoanh_bo_district_resolves_at_district_level():
    match = best("huyện Hoành Bồ")
    assert match.unit_kind == "former_district"
    assert match.code == "204"
    assert match.district_codes == ("193",)
    assert match.commune_codes[0] == "07030"
    assert {"07030", "07054", "07060", "06979", "06985"} == set(match.commune_codes)


def test_pre_2020_town_name_troi_is_phuong_hoanh_bo():
    assert best("thị trấn Trới").commune_codes == ("07030",)


def test_district_only_answer_lists_its_current_communes_seat_first():
    match = best("huyện Tiên Yên")
    assert match.level == "district"
    assert match.commune_codes[0] == "06862"
    assert {"06874", "06877", "06886", "06799", "06970"} <= set(match.commune_codes)


def test_place_inside_a_longer_sentence():
    match = best("chồng tôi đánh tôi, nhà ở gần chợ Tiên Yên")
    assert match.code == "199"
    assert match.matched_text == "Tiên Yên"
    text = "chồng tôi đánh tôi, nhà ở gần chợ Tiên Yên"
    assert text[match.start : match.end] == "Tiên Yên"


@pytest.mark.parametrize(
    ("text", "communes"),
    [
        ("xã Đồng Lâm", ("07030", "07060")),
        ("phường Hà Khẩu", ("06661", "06706")),
        ("xã Vô Ngại", ("06838", "06862")),
        ("Đại Dực", ("06862", "06877")),
        ("xã Hải Lạng cũ", ("06799", "06886", "06970")),
        ("xã Liên Hòa", ("07168", "07180")),
    ],
)
def test_split_old_commune_returns_all_its_new_communes(text, communes):
    match = best(text)
    assert match.commune_codes == communes
    assert match.is_split


def test_current_name_wins_over_same_named_old_split_commune():
    assert best("xã Đông Ngũ").commune_codes == ("06877",)
    assert best("phường Liên Hòa").commune_codes == ("07180",)


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("Bắc Sơn", {"Bắc Sơn (Móng Cái)", "Bắc Sơn (Uông Bí)"}),
        ("thanh son", {"Thanh Sơn (Uông Bí)", "Thanh Sơn (Ba Chẽ)"}),
        ("Hải Hòa", {"Hải Hòa (Cẩm Phả)", "Hải Hoà (Móng Cái)"}),
    ],
)
def test_shared_name_alone_is_ambiguous_with_short_labels(text, labels):
    res = resolve_place(text)
    assert res.status == AMBIGUOUS
    assert {m.label for m in res.candidates} == labels
    assert res.best is None
    first, second = (m.confidence for m in res.candidates)
    assert first == second
    question = res.question.render()
    assert len(labels) == 2
    assert question.startswith("Do you mean ") and all(label in question for label in labels)


@pytest.mark.parametrize(
    ("text", "communes"),
    [
        ("xã Bắc Sơn", ("06724",)),
        ("phường Bắc Sơn", ("06820",)),
        ("Bắc Sơn, Uông Bí", ("06820",)),
        ("bac son mong cai", ("06724",)),
        ("phường Thanh Sơn", ("06811",)),
        ("Thanh Sơn, Ba Chẽ", ("06970",)),
        ("phường Hải Hòa", ("06712",)),
        ("Hải Hòa, Móng Cái", ("06712",)),
        ("xã Hải Hòa", ("06799",)),
        ("thị trấn Đầm Hà", ("06895",)),
        ("xã Đầm Hà", ("06895",)),
    ],
)
def test_shared_name_is_told_apart_by_type_word_or_district(text, communes):
    assert best(text).commune_codes == communes


def test_two_different_places_are_not_guessed():
    res = resolve_place("Hạ Long hay Tiên Yên")
    assert res.status == AMBIGUOUS
    assert {m.code for m in res.candidates} == {"193", "199"}


def test_where_the_caller_is_now_wins_over_another_place():
    assert best("Nhà chồng ở Cẩm Phả nhưng em đang ở Bãi Cháy").commune_codes == ("06673",)


@pytest.mark.parametrize("text", ["Hải Phòng", "toi o hai phong", "Hà Nội", "em o Lang Son"])
def test_place_outside_the_province_is_not_resolved_and_said_so(text):
    res = resolve_place(text)
    assert res.status == OUTSIDE_PROVINCE
    assert res.matches == ()
    assert res.outside
    assert "is outside Quảng Ninh" in res.question.render()


def test_outside_place_is_named_in_the_question():
    res = resolve_place("Hải Phòng")
    assert res.outside[0].label == "Hải Phòng"
    assert res.question.params["place"] == "Hải Phòng"


def test_place_in_province_wins_over_hometown_outside():
    res = resolve_place("em que Hai Phong nhung dang o phuong Uong Bi")
    assert res.status == RESOLVED
    assert res.best.commune_codes == ("06811",)
    assert res.outside[0].label == "Hải Phòng"


@pytest.mark.parametrize(
    "text",
    [
        "chồng tôi đánh tôi, tôi phải làm sao",
        "con toi bi xam hai",
        "cho toi hoi so dien thoai cong an",
        "chung ta phai doan ket",
        "anh Quang la nguoi yeu cu cua em",
        "",
    ],
)
def test_sentence_without_a_place_is_not_found(text):
    res = resolve_place(text)
    assert res.status == NOT_FOUND
    assert res.question is not None


def test_province_alone_is_not_found_but_noted():
    res = resolve_place("tôi ở Quảng Ninh")
    assert res.status == NOT_FOUND
    assert res.province_mentioned


def test_common_word_names_need_a_type_word_or_locative():
    assert resolve_place("chúng ta phải đoàn kết").status == NOT_FOUND
    assert best("xã Đoàn Kết, Vân Đồn").commune_codes == ("06994",)
    assert best("em ở Thống Nhất").commune_codes == ("07060",)


def test_street_names_are_not_places():
    res = resolve_place("đường Trần Hưng Đạo, phường Hồng Gai")
    assert res.best.commune_codes == ("06685",)
    assert res.best.matched_text == "Hồng Gai"


def test_confidences_are_between_zero_and_one():
    for text in ["Cẩm Phả", "cam phar", "Bắc Sơn", "em ở Thống Nhất", "Cẩm Phã"]:
        for m in resolve_place(text).matches:
            assert 0.0 < m.confidence <= 1.0


def test_district_menu_lists_13_former_districts_in_code_order():
    menu = district_menu()
    assert [e.key for e in menu] == [str(i) for i in range(1, 14)]
    assert [e.district_code for e in menu] == sorted(e.district_code for e in menu)
    assert (menu[0].label, menu[5].label, menu[12].label) == ("Hạ Long", "Tiên Yên", "Cô Tô")
    assert menu[5].prompt.render() == "For Tiên Yên, press 6."
    assert "hash key" in menu_intro().render()


@pytest.mark.parametrize(
    ("digits", "code"),
    [("1", "193"), ("6#", "199"), ("06", "199"), ("10", "203"), ("13#", "207"), (" 12 ", "206")],
)
def test_digits_pick_a_former_district(digits, code):
    res = resolve_digits(digits)
    assert res.status == RESOLVED
    assert res.best.code == code
    assert res.best.level == "district"


def test_digits_pick_a_commune_inside_a_district():
    assert commune_menu("199")[0].label == "Tiên Yên"
    assert commune_menu("199")[0].key == "6*1"
    res = resolve_digits("6*1#")
    assert res.best.commune_codes == ("06862",)
    assert res.best.district_codes == ("199",)


@pytest.mark.parametrize("digits", ["0", "14", "", "#", "abc", "6*99", "6**1", "1*2*3"])
def test_unknown_digits_are_not_found(digits):
    assert resolve_digits(digits).status == NOT_FOUND


def test_follow_up_answer_picks_a_candidate():
    candidates = resolve_place("Bắc Sơn").candidates
    uong_bi = next(c for c in candidates if "Uông Bí" in c.label)
    assert choose_candidate("Uông Bí", candidates) == uong_bi
    assert choose_candidate("phuong bac son uong bi", candidates) == uong_bi
    assert choose_candidate(str(candidates.index(uong_bi) + 1), candidates) == uong_bi
    assert choose_candidate("Hà Nội", candidates) is None
    assert choose_candidate("3", candidates) is None
