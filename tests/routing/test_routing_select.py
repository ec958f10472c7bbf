"""Service-point selection: tiers, opening hours, needs, shelter beds, risk and age."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime

import pytest

from routing.hours import parse_hours
from routing.i18n import identity
from routing.resolve import resolve_digits, resolve_place
from routing.select import (
    CALL_111,
    CALL_113,
    Directory,
    PlaceCodeError,
    PlaceRef,
    ServicePoint,
    choose_service_point,
    normalize_commune_code,
    place_from_codes,
)


def decide(points, place, when=None, needs=(), risk="medium", age="26-40", **kw):
    now = when or datetime(2026, 3, 2, 9, 0, tzinfo=UTC).replace(hour=2)  # Mon 09:00 VN
    return choose_service_point(place, needs, risk, age, now, points, **kw)


def codes(decision) -> list[str]:
    return [p.code for p in decision.chain]


def test_open_trusted_address_of_the_commune_is_primary(points, when):
    d = decide(points, {"commune_code": "06877"}, when(2, 9))
    assert d.primary.code == "TA-06877"
    assert d.tiers[0] == "commune"
    assert d.reason() == "Routed to Địa chỉ tin cậy xã Đông Ngũ (open until 11:30)."


def test_closed_commune_point_falls_back_to_same_former_district(points, when):
    d = decide(points, resolve_place("xã Đông Ngũ"), when(8, 10))  # Sunday
    assert d.primary.code == "SHELTER-199"
    assert d.tiers[0] == "district"
    assert d.reason() == (
        "Địa chỉ tin cậy xã Đông Ngũ is closed at this time; routed to Nhà tạm lánh Tiên Yên "
        "in the same former district (24/7)."
    )


def test_chain_runs_commune_then_former_district_then_provincial_centre(points, when):
    d = decide(points, {"commune_code": "06877"}, when(2, 9))
    assert d.tiers[0] == "commune"
    assert d.tiers[-1] == "centre"
    assert d.chain[-1].code == "CENTRE"
    ranks = [("commune", "district", "province", "centre").index(t) for t in d.tiers]
    assert ranks == sorted(ranks)
    district_part = [p.code for p, t in zip(d.chain, d.tiers, strict=True) if t == "district"]
    # District-wide points first, then the seat commune, then other communes by code.
    assert district_part[:2] == ["SHELTER-199", "TA-06862"]
    assert "TA-06793" not in codes(d)  # another former district
    assert len(d.alternates) == len(d.chain) - 1


def test_lunch_break_closes_office_hours_points(points, when):
    d = decide(points, {"commune_code": "06877"}, when(2, 12))
    assert d.primary.code == "SHELTER-199"
    assert "TA-06877" not in codes(d)


def test_provincial_centre_is_the_last_fallback_when_nothing_else_is_open(points, when):
    d = decide(points, {"commune_code": "06724"}, when(8, 10))  # Hải Sơn, Sunday
    assert codes(d) == ["CENTRE"]
    assert d.tiers == ("centre",)
    assert d.reason().endswith(
        "routed to the provincial centre Trung tâm Công tác xã hội tỉnh (24/7)."
    )


def test_shelter_need_skips_a_full_shelter(points, when):
    d = decide(points, {"commune_code": "06793"}, when(2, 9), needs=["shelter"])
    assert "SHELTER-06793" not in codes(d)
    assert d.primary.code == "CENTRE"
    assert "Nhà tạm lánh Cẩm Phả has no free beds" in d.reason()


def test_shelter_need_picks_a_shelter_with_free_beds(points, when):
    d = decide(points, {"commune_code": "06877"}, when(2, 9), needs=["shelter"])
    assert d.primary.code == "SHELTER-199"
    assert codes(d) == ["SHELTER-199", "CENTRE"]
    assert "Địa chỉ tin cậy xã Đông Ngũ does not offer shelter" in d.reason()


def test_shelter_becomes_full_when_occupancy_reaches_capacity(points, when):
    full = [replace(p, occupancy=4) if p.code == "SHELTER-199" else p for p in points]
    d = decide(full, {"commune_code": "06877"}, when(2, 9), needs=["shelter"])
    assert d.primary.code == "CENTRE"


def test_point_must_offer_every_need(points, when):
    d = decide(points, {"commune_code": "06793"}, when(2, 9), needs=["medical"])
    assert d.primary.code == "HEALTH-195"
    assert d.tiers[0] == "district"


def test_health_and_legal_points_do_not_take_cases_without_a_matching_need(points, when):
    d = decide(points, {"commune_code": "06793"}, when(8, 10))
    assert "HEALTH-195" not in codes(d)
    # The full shelter still counsels: beds matter only when shelter is needed.
    assert codes(d) == ["SHELTER-06793", "CENTRE"]


def test_police_is_never_primary(points, when):
    d = decide(points, {"commune_code": "06793"}, when(8, 10), risk="immediate")
    assert all(p.kind != "police" for p in d.chain)


def test_immediate_risk_adds_police_point_and_113(points, when):
    d = decide(points, {"commune_code": "06793"}, when(2, 9), risk="immediate")
    assert d.police.code == "POLICE-06793"
    assert d.instruction_codes == (CALL_113,)
    assert d.instructions[0].message.render() == "Call 113 (police) now."
    assert "immediate danger: call 113; alerting Công an phường Cẩm Phả" in d.reason()


def test_immediate_risk_uses_nearest_police_by_tier(points, when):
    assert decide(points, {"commune_code": "06877"}, risk="immediate").police.code == (
        "POLICE-199"
    )
    assert decide(points, {"commune_code": "06724"}, risk="immediate").police.code == ("POLICE-QN")


def test_lower_risks_do_not_alert_police(points):
    for risk in ("high", "medium", "low"):
        d = decide(points, {"commune_code": "06793"}, risk=risk)
        assert d.police is None
        assert CALL_113 not in d.instruction_codes


def test_police_need_alerts_police_without_the_113_instruction(points):
    d = decide(points, {"commune_code": "06793"}, needs=["police"], risk="high")
    assert d.police.code == "POLICE-06793"
    assert d.instruction_codes == ()
    assert d.primary.code == "TA-06793"


@pytest.mark.parametrize("age", ["0-11", "12-17"])
def test_child_survivor_gets_111_and_the_provincial_centre(points, age):
    d = decide(points, {"commune_code": "06877"}, age=age)
    assert CALL_111 in d.instruction_codes
    assert d.child_protection.code == "CENTRE"
    assert "CENTRE" in codes(d)
    assert "child protection hotline 111 and Trung tâm Công tác xã hội tỉnh" in d.reason()


@pytest.mark.parametrize("age", ["18-25", "61+", "unknown", None])
def test_adult_or_unknown_age_has_no_child_path(points, age):
    d = decide(points, {"commune_code": "06877"}, age=age)
    assert CALL_111 not in d.instruction_codes
    assert d.child_protection is None


def test_child_and_immediate_risk_give_both_instructions(points):
    d = decide(points, {"commune_code": "06877"}, risk="immediate", age="0-11")
    assert d.instruction_codes == (CALL_113, CALL_111)


def test_child_protection_points_come_first_within_a_tier(points, when):
    pts = [
        *points,
        ServicePoint(
            "CP-06877",
            "Điểm bảo vệ trẻ em Đông Ngũ",
            "commune_committee",
            "06877",
            None,
            "0",
            frozenset({"child_protection"}),
            parse_hours("24/7"),
        ),
    ]
    assert decide(pts, {"commune_code": "06877"}, age="12-17").primary.code == "CP-06877"
    assert decide(pts, {"commune_code": "06877"}, age="26-40").primary.code == "TA-06877"


def test_split_old_commune_considers_all_its_new_communes(points, when):
    d = decide(points, {"commune_code": "06868"}, when(2, 9))  # Đại Dực → Tiên Yên, Đông Ngũ
    assert d.place.commune_codes == ("06862", "06877")
    assert d.place.district_codes == ("199",)
    assert codes(d)[:2] == ["TA-06862", "TA-06877"]
    assert d.tiers[:2] == ("commune", "commune")


def test_split_commune_from_resolution_routes_to_both(points):
    d = decide(points, resolve_place("xã Đồng Lâm"))
    assert codes(d)[:3] == ["TA-07030", "TA-OLD-07042", "TA-07060"]


def test_directory_point_with_pre_2025_code_serves_the_new_communes(points, when):
    d = decide(points, {"commune_code": "07060"}, when(8, 10))  # Thống Nhất, Sunday
    assert d.primary.code == "TA-OLD-07042"
    assert d.tiers[0] == "commune"


def test_district_code_only_routes_at_district_level(points, when):
    d = decide(points, {"district_code": "199"}, when(2, 9))
    assert d.place.level == "district"
    assert codes(d)[:2] == ["SHELTER-199", "TA-06862"]
    assert d.tiers[0] == "district"


def test_district_resolution_and_keypad_route_like_the_district_code(points):
    by_code = codes(decide(points, {"district_code": "199"}))
    assert codes(decide(points, resolve_place("huyện Tiên Yên"))) == by_code
    assert codes(decide(points, resolve_digits("6#"))) == by_code


def test_former_hoanh_bo_district_prefers_its_own_communes(points):
    d = decide(points, resolve_place("huyện Hoành Bồ"))
    district_points = [p.code for p, t in zip(d.chain, d.tiers, strict=True) if t == "district"]
    assert district_points[:3] == ["SW-193", "TA-07030", "TA-OLD-07042"]


def test_ba_che_alias_code_06978_is_accepted(points):
    assert normalize_commune_code("06978") == ("06970",)
    assert decide(points, {"commune_code": "06978"}).primary.code == "TA-06970"


def test_reused_code_is_read_as_2025_first():
    # 06820 was Phường Trưng Vương (split) before 2025 and is Phường Vàng Danh now.
    assert normalize_commune_code("06820") == ("06820",)
    assert normalize_commune_code("06664") == ("06652",)  # old Hà Tu → new Hà Tu


def test_unknown_codes_are_rejected():
    with pytest.raises(PlaceCodeError):
        place_from_codes(commune_code="99999")
    with pytest.raises(PlaceCodeError):
        place_from_codes(district_code="204")


def test_unknown_place_goes_to_province_wide_points(points, when):
    legal = decide(points, None, when(2, 9), needs=["legal"])
    assert codes(legal) == ["LEGAL-QN", "CENTRE"]
    d = decide(points, None, when(2, 9))
    assert d.place.level == "unknown"
    assert codes(d) == ["CENTRE"]  # the legal-aid centre takes only legal needs
    assert d.reason().startswith("Place not known")


def test_outside_province_resolution_routes_to_the_centre(points, when):
    res = resolve_place("Hải Phòng")
    d = decide(points, res, when(8, 10))
    assert codes(d) == ["CENTRE"]


def test_without_a_centre_and_nothing_open_there_is_no_primary(when):
    office = parse_hours("Mo-Fr 08:00-17:00")
    pts = [
        ServicePoint(
            "TA",
            "TA Đông Ngũ",
            "trusted_address",
            "06877",
            None,
            "0",
            frozenset({"counselling"}),
            office,
        )
    ]
    d = decide(pts, {"commune_code": "06877"}, when(8, 10))
    assert d.primary is None
    assert d.chain == ()
    assert "the hotline operator must follow up" in d.reason()


def test_commune_without_points_is_said_so(when):
    pts = [
        ServicePoint(
            "C",
            "Trung tâm",
            "social_work_center",
            None,
            None,
            "0",
            frozenset({"counselling"}),
            parse_hours("24/7"),
        )
    ]
    d = decide(pts, {"commune_code": "06877"}, when(2, 9))
    assert d.reason().startswith("No service point is listed for Đông Ngũ")


def test_now_is_converted_to_the_hotline_timezone(points):
    monday_9_vn = datetime(2026, 3, 2, 2, 0, tzinfo=UTC)
    assert decide(points, {"commune_code": "06877"}, monday_9_vn).primary.code == "TA-06877"
    d = decide(points, {"commune_code": "06877"}, monday_9_vn, tz="UTC")
    assert d.primary.code == "SHELTER-199"  # 02:00 read as local time: closed


def test_bad_inputs_are_rejected(points):
    with pytest.raises(ValueError, match="timezone-aware"):
        decide(points, None, datetime(2026, 3, 2, 9))
    with pytest.raises(ValueError, match="risk"):
        decide(points, None, risk="urgent")
    with pytest.raises(ValueError, match="needs"):
        decide(points, None, needs=["food"])
    with pytest.raises(ValueError, match="age band"):
        decide(points, None, age="15")
    with pytest.raises(ValueError, match="place fields"):
        decide(points, {"text": "Hạ Long"})


def test_decision_is_deterministic_whatever_the_directory_order(points, when):
    shuffled = list(points)
    random.Random(7).shuffle(shuffled)
    for place in ({"commune_code": "06877"}, {"district_code": "193"}, None):
        a = decide(points, place, when(8, 10), needs=["counselling"], risk="immediate")
        b = decide(shuffled, place, when(8, 10), needs=["counselling"], risk="immediate")
        assert codes(a) == codes(b)
        assert a.reason() == b.reason()


def test_prebuilt_directory_gives_the_same_decision(points):
    directory = Directory(points)
    assert codes(decide(directory, {"commune_code": "06877"})) == codes(
        decide(points, {"commune_code": "06877"})
    )


def test_reason_renders_in_the_active_language(points, when):
    vi = {
        "%(point)s is closed at this time": "%(point)s đóng cửa lúc này",
        "routed to %(point)s in the same former district (%(hours)s)": (
            "chuyển tới %(point)s cùng huyện cũ (%(hours)s)"
        ),
        "24/7": "24/7",
    }
    d = decide(points, {"commune_code": "06877"}, when(8, 10))
    assert d.reason(lambda s: vi.get(s, s)) == (
        "Địa chỉ tin cậy xã Đông Ngũ đóng cửa lúc này; chuyển tới Nhà tạm lánh Tiên Yên "
        "cùng huyện cũ (24/7)."
    )
    assert d.reason(identity) == d.reason()


def test_place_ref_levels():
    assert PlaceRef().level == "unknown"
    assert PlaceRef(district_codes=("199",)).level == "district"
    assert PlaceRef(commune_codes=("06877",)).level == "commune"


def test_district_level_reason_stays_short_when_many_points_are_closed(points, when):
    d = decide(points, {"district_code": "193"}, when(8, 10))  # Hạ Long, Sunday
    assert d.primary.code == "TA-OLD-07042"  # the only point open in Hạ Long on Sunday
    assert d.reason().count("is closed at this time") == 2
    assert d.reason().startswith("Phòng công tác xã hội Hạ Long is closed at this time; ")
