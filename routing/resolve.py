"""Resolve where a caller is: keypad digits, speech text or free SMS text → Quảng Ninh places.

A :class:`Resolution` says whether the place is known (``resolved``), needs one short follow-up
question (``ambiguous``: two or more places are equally likely, never guessed), is unknown
(``not_found``) or lies outside the province (``outside_province``). Each :class:`PlaceMatch`
gives the current (2025) commune codes and the former (pre-2025) district codes to route by.

How text is read (all indexes are built once per gazetteer and cached):

1. Words are folded (no diacritics, SMS spellings undone) and every run of 1–4 words is looked
   up, joined without spaces, among the names of 2025 communes, pre-2025 communes, pre-2025
   districts, the former Hoành Bồ district, a few older names, the province itself and places
   outside it. Runs that match nothing may match a name one typing error away.
2. A type word before a name (``xã``, ``phường``, ``TT``, ``huyện``, ``TP``…) keeps the units
   of that type; a street word (``đường``, ``phố``) drops the match. Where the caller typed
   diacritics they must agree with the name (tone placement and NFC/NFD do not matter).
3. Units of one name are grouped by the current communes they cover. A bare name that is also
   a district (``Tiên Yên``, ``Cẩm Phả``) means the district; with a type word, the commune. A
   current unit is preferred to a former one of the same name unless ``cũ`` follows.
4. Another place in the same message picks among groups (``Bắc Sơn, Uông Bí``) and a district
   named next to one of its communes only qualifies it. Names that are also common words or
   people's names (``Đoàn Kết``, ``Quang Trung``) count only with a type word, ``ở``/``tại``,
   a district beside them, or (for some) matching diacritics.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache

from routing.i18n import N_, Message, msg
from routing.places import Gazetteer, load_gazetteer
from routing.text import TONE_MARKS, Word, damerau1, fold, nfc, words

#: Resolution statuses.
RESOLVED = "resolved"
AMBIGUOUS = "ambiguous"
NOT_FOUND = "not_found"
OUTSIDE_PROVINCE = "outside_province"

#: ``PlaceMatch.unit_kind`` values.
NEW_COMMUNE = "new_commune"  # in force since 01/07/2025
OLD_COMMUNE = "old_commune"  # 01/11/2024 – 30/06/2025 (communes-2024.csv)
LEGACY_COMMUNE = "legacy_commune"  # older still (renamed or merged before 11/2024)
DISTRICT = "district"  # pre-2025 district, city or town
FORMER_DISTRICT = "former_district"  # Hoành Bồ, merged into Hạ Long in 2020
PROVINCE = "province"
OUTSIDE = "outside_province"

DISTRICT_KINDS = frozenset({DISTRICT, FORMER_DISTRICT})
COMMUNE_KINDS = frozenset({NEW_COMMUNE, OLD_COMMUNE, LEGACY_COMMUNE})

#: GSO code of the former Hoành Bồ district; its communes were in Hạ Long (193) from 2020.
HOANH_BO_CODE = "204"

# Older names not in communes-2024.csv, with their GSO code, type, district and the
# communes-2024 unit they became part of (SOURCES.md §1).
_LEGACY: tuple[tuple[str, str, str, str, str], ...] = (
    ("07030", "Trới", "Thị trấn", "193", "07030"),  # renamed Phường Hoành Bồ (2020)
    ("06799", "Cộng Hòa", "Xã", "195", "06799"),  # merged into Xã Hải Hòa (2024)
    ("06802", "Cẩm Hải", "Xã", "195", "06799"),
    ("06985", "Lương Mông", "Xã", "202", "06985"),  # merged into Xã Lương Minh (2024)
    ("06991", "Minh Cầm", "Xã", "202", "06985"),
)

# Other names for a current commune: Hòn Gai is the historic name of Hồng Gai.
_ALIASES: tuple[tuple[str, str], ...] = (("Hòn Gai", "06685"),)

# Places outside the province callers name: provinces and nearby districts, as
# (name, type, province key). Old provinces are kept: people still use them.
_PROVINCES = (
    "Hà Giang",
    "Cao Bằng",
    "Lào Cai",
    "Yên Bái",
    "Tuyên Quang",
    "Thái Nguyên",
    "Phú Thọ",
    "Vĩnh Phúc",
    "Bắc Kạn",
    "Điện Biên",
    "Lai Châu",
    "Sơn La",
    "Hòa Bình",
    "Hà Nam",
    "Hưng Yên",
    "Hải Dương",
    "Thái Bình",
    "Nam Định",
    "Ninh Bình",
    "Thanh Hóa",
    "Nghệ An",
    "Hà Tĩnh",
    "Quảng Bình",
    "Quảng Trị",
    "Thừa Thiên Huế",
    "Quảng Nam",
    "Quảng Ngãi",
    "Bình Định",
    "Phú Yên",
    "Khánh Hòa",
    "Ninh Thuận",
    "Bình Thuận",
    "Kon Tum",
    "Gia Lai",
    "Đắk Lắk",
    "Đắk Nông",
    "Lâm Đồng",
    "Bình Phước",
    "Tây Ninh",
    "Bình Dương",
    "Đồng Nai",
    "Bà Rịa Vũng Tàu",
    "Vũng Tàu",
    "Long An",
    "Tiền Giang",
    "Bến Tre",
    "Trà Vinh",
    "Vĩnh Long",
    "Đồng Tháp",
    "An Giang",
    "Kiên Giang",
    "Hậu Giang",
    "Sóc Trăng",
    "Bạc Liêu",
    "Cà Mau",
    "Bắc Giang",
    "Bắc Ninh",
    "Lạng Sơn",
)
_CITIES = ("Hà Nội", "Hải Phòng", "Đà Nẵng", "Cần Thơ", "Hồ Chí Minh")
_OUTSIDE_EXTRA: tuple[tuple[str, str, str], ...] = (
    ("Sài Gòn", "Thành phố", "Hồ Chí Minh"),
    ("HCM", "Thành phố", "Hồ Chí Minh"),
    ("TPHCM", "Thành phố", "Hồ Chí Minh"),
    ("Thủy Nguyên", "Huyện", "Hải Phòng"),
    ("Cát Bà", "Huyện", "Hải Phòng"),
    ("Cát Hải", "Huyện", "Hải Phòng"),
    ("Đồ Sơn", "Quận", "Hải Phòng"),
    ("Kiến An", "Quận", "Hải Phòng"),
    ("Chí Linh", "Thành phố", "Hải Dương"),
    ("Kinh Môn", "Thị xã", "Hải Dương"),
    ("Đình Lập", "Huyện", "Lạng Sơn"),
    ("Lộc Bình", "Huyện", "Lạng Sơn"),
    ("Sơn Động", "Huyện", "Bắc Giang"),
    ("Lục Ngạn", "Huyện", "Bắc Giang"),
    ("Trung Quốc", "Quốc gia", "Trung Quốc"),
    ("Campuchia", "Quốc gia", "Campuchia"),
    ("Hàn Quốc", "Quốc gia", "Hàn Quốc"),
    ("Đài Loan", "Quốc gia", "Đài Loan"),
    ("Nhật Bản", "Quốc gia", "Nhật Bản"),
)

# Names that are everyday words, famous people (street names) or common personal names: they
# count as a place only with a type word, a locative (ở, tại…) or a district next to them.
_COMMON_WORD_NAMES = frozenset(
    [
        "doanket",
        "thongnhat",
        "hoabinh",
        "danchu",
        "thangloi",
        "dongtam",
        "ansinh",
        "conghoa",
        "tienphong",
        "quangtrung",
        "tranhungdao",
        "nguyenhue",
        "leloi",
        "bachdang",
        "tranphu",
        "hungdao",
        "tanlap",
        "dongtien",
        "minhchau",
        "minhthanh",
        "thanhlam",
        "hongha",
        "kimson",
        "xuanson",
        "hongphong",
        "yentho",
        "phuongdong",
        "phuongnam",
        "camdong",
        "vanyen",
        "tanan",
        "tanbinh",
        "binhdan",
        "troi",
        "dongson",
        "namson",
        "yenthanh",
    ]
)
# Names that look like ordinary words only without diacritics ("Quang là" / "Quảng La"):
# typed with matching diacritics they count on their own.
_ASCII_WEAK_NAMES = frozenset(["quangla", "haiyen", "hoangtan", "dongmai", "dongvan", "hatrung"])

# Words that precede a name and say its type: (level, unit types).
_TYPE_WORDS: dict[tuple[str, ...], tuple[str, frozenset[str]]] = {
    ("thanh", "pho"): ("district", frozenset({"Thành phố"})),
    ("tp",): ("district", frozenset({"Thành phố"})),
    ("thi", "xa"): ("district", frozenset({"Thị xã"})),
    ("tx",): ("district", frozenset({"Thị xã"})),
    ("huyen",): ("district", frozenset({"Huyện"})),
    ("h",): ("district", frozenset({"Huyện"})),
    ("thi", "tran"): ("commune", frozenset({"Thị trấn"})),
    ("tt",): ("commune", frozenset({"Thị trấn"})),
    ("dac", "khu"): ("commune", frozenset({"Đặc khu"})),
    ("xa",): ("commune", frozenset({"Xã"})),
    ("x",): ("commune", frozenset({"Xã"})),
    ("phuong",): ("commune", frozenset({"Phường"})),
    ("p",): ("commune", frozenset({"Phường"})),
    ("tinh",): ("province", frozenset({"Tỉnh"})),
}
_STREET_WORDS = frozenset({"duong", "pho", "ngo", "ngach", "hem", "kiet"})
_LOCATIVES = frozenset({"o", "tai", "thuoc", "gan", "ve", "den", "tu", "qua", "sang", "ra"})
_NOW_WORDS = frozenset({"dang", "hien", "bay", "luc"})
_ORIGIN_WORDS = frozenset({"que"})
_MAX_WORDS = 4
_TONES = "".join(sorted(TONE_MARKS))


@dataclass(frozen=True, slots=True)
class PlaceMatch:
    """One place the input names, with the codes to route by.

    ``commune_codes`` are 2025 codes (several for a split old commune or a district);
    ``district_codes`` are pre-2025 district codes. ``matched_text`` is the part of the
    (NFC-normalised) input that matched, at ``start:end``.
    """

    unit_kind: str
    code: str
    name: str
    full_name: str
    label: str
    commune_codes: tuple[str, ...]
    district_codes: tuple[str, ...]
    confidence: float
    matched_text: str
    start: int = -1
    end: int = -1

    @property
    def level(self) -> str:
        """``commune``, ``district``, ``province`` or ``outside``."""
        if self.unit_kind in COMMUNE_KINDS:
            return "commune"
        if self.unit_kind in DISTRICT_KINDS:
            return "district"
        return "province" if self.unit_kind == PROVINCE else "outside"

    @property
    def is_split(self) -> bool:
        """A pre-2025 commune now divided between several current communes."""
        return self.level == "commune" and len(self.commune_codes) > 1


@dataclass(frozen=True, slots=True)
class Resolution:
    """The outcome of resolving one input; ``matches`` are best first."""

    status: str
    matches: tuple[PlaceMatch, ...] = ()
    outside: tuple[PlaceMatch, ...] = ()
    province_mentioned: bool = False
    text: str = ""

    @property
    def best(self) -> PlaceMatch | None:
        """The place to route by, when resolved."""
        return self.matches[0] if self.status == RESOLVED and self.matches else None

    @property
    def candidates(self) -> tuple[PlaceMatch, ...]:
        """The places to offer in one follow-up question, when ambiguous."""
        return self.matches if self.status == AMBIGUOUS else ()

    @property
    def question(self) -> Message | None:
        """A short follow-up question for the caller, or None when resolved."""
        if self.status == AMBIGUOUS:
            labels = [m.label for m in self.matches]
            if len(labels) == 2:
                return msg(
                    N_("Do you mean %(first)s or %(second)s?"), first=labels[0], second=labels[1]
                )
            return msg(N_("Which place do you mean: %(options)s?"), options=", ".join(labels))
        if self.status == OUTSIDE_PROVINCE:
            return msg(
                N_(
                    "%(place)s is outside Quảng Ninh. Which commune or ward of Quảng Ninh are "
                    "you in?"
                ),
                place=self.outside[0].label,
            )
        if self.status == NOT_FOUND:
            return msg(N_("Which commune or ward are you in? The old district name helps too."))
        return None


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """One keypad choice: press ``key`` (then #) for this place."""

    key: str
    label: str
    district_code: str
    commune_codes: tuple[str, ...]

    @property
    def prompt(self) -> Message:
        """What the voice flow says for this entry."""
        return msg(N_("For %(place)s, press %(key)s."), place=self.label, key=self.key)


# --------------------------------------------------------------------------------------------
# Index


@dataclass(frozen=True, slots=True)
class _Unit:
    kind: str
    code: str
    name: str
    type: str
    full_name: str
    label: str
    commune_codes: tuple[str, ...]
    district_codes: tuple[str, ...]  # for outside places: ("out:<province>",)
    weak: int = 0  # 0 strong, 1 weak unless diacritics agree, 2 weak (common word)

    @property
    def level(self) -> str:
        if self.kind in COMMUNE_KINDS:
            return "commune"
        if self.kind in DISTRICT_KINDS:
            return "district"
        return "province" if self.kind == PROVINCE else "outside"


@dataclass(frozen=True, slots=True)
class _Name:
    key: str
    toned: tuple[str, ...]
    units: tuple[_Unit, ...]


@dataclass(slots=True)
class _Index:
    names: dict[str, _Name]
    deletes: dict[str, tuple[str, ...]]  # one-letter deletions of a key → keys
    syllables: frozenset[str]
    district_communes: dict[str, tuple[str, ...]]
    menu: tuple[MenuEntry, ...]
    gazetteer: Gazetteer
    #: key → :func:`_fuzzy_keys` (a memo, filled as messages are read)
    fuzzy: dict[str, tuple[str, ...]] = field(default_factory=dict, compare=False, repr=False)


def _key_parts(name: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    ws = words(nfc(name))
    return tuple(w.folded for w in ws), tuple(w.toned for w in ws)


def _weak(key: str) -> int:
    if key in _COMMON_WORD_NAMES:
        return 2
    return 1 if key in _ASCII_WEAK_NAMES else 0


@lru_cache(maxsize=4)
def _index(g: Gazetteer) -> _Index:
    units: list[_Unit] = []
    dname = {d.code: d.name for d in g.districts}
    district_communes = {d.code: g.communes_of_district(d.code) for d in g.districts}
    for c in g.communes:
        ds = g.old_districts_of(c.code)
        label = f"{c.name} ({dname[ds[0]]})" if ds and dname[ds[0]] != c.name else c.name
        units.append(_Unit(NEW_COMMUNE, c.code, c.name, c.type, c.full_name, label, (c.code,), ds))
    for o in g.old_communes:
        units.append(
            _Unit(
                OLD_COMMUNE,
                o.code,
                o.name,
                o.type,
                o.full_name,
                f"{o.name} ({dname[o.district_code]})",
                tuple(sorted(g.new_codes_for_old(o.code))),
                (o.district_code,),
            )
        )
    for code, name, typ, district, successor in _LEGACY:
        units.append(
            _Unit(
                LEGACY_COMMUNE,
                code,
                name,
                typ,
                f"{typ} {name}",
                f"{name} ({dname[district]})",
                tuple(sorted(g.new_codes_for_old(successor))),
                (district,),
            )
        )
    for alias, code in _ALIASES:
        c = g.commune(code)
        assert c is not None
        units.append(
            _Unit(
                NEW_COMMUNE,
                c.code,
                alias,
                c.type,
                c.full_name,
                f"{c.name} ({dname[g.old_districts_of(c.code)[0]]})",
                (c.code,),
                g.old_districts_of(c.code),
            )
        )
    for d in g.districts:
        units.append(
            _Unit(
                DISTRICT,
                d.code,
                d.name,
                d.type,
                d.full_name,
                d.name,
                district_communes[d.code],
                (d.code,),
            )
        )
    # Hoành Bồ's communes kept their codes 07030-07066 when they moved to Hạ Long in 2020.
    hoanh_bo_old = [o.code for o in g.old_communes if "07030" <= o.code <= "07066"]
    hoanh_bo_new = sorted(
        {n for o in hoanh_bo_old for n in g.new_codes_for_old(o)}, key=lambda c: (c != "07030", c)
    )
    units.append(
        _Unit(
            FORMER_DISTRICT,
            HOANH_BO_CODE,
            "Hoành Bồ",
            "Huyện",
            "Huyện Hoành Bồ",
            "Hoành Bồ",
            tuple(hoanh_bo_new),
            ("193",),
        )
    )
    units.append(
        _Unit(PROVINCE, "22", "Quảng Ninh", "Tỉnh", "Tỉnh Quảng Ninh", "Quảng Ninh", (), ())
    )
    outside = [(p, "Tỉnh", p) for p in _PROVINCES] + [(c, "Thành phố", c) for c in _CITIES]
    for name, typ, province in [*outside, *_OUTSIDE_EXTRA]:
        pkey = "out:" + "".join(_key_parts(province)[0])
        units.append(_Unit(OUTSIDE, "", name, typ, f"{typ} {name}", name, (), (pkey,)))

    grouped: dict[str, tuple[tuple[str, ...], list[_Unit]]] = {}
    for u in units:
        folded, toned = _key_parts(u.name)
        key = "".join(folded)
        u = replace(u, weak=_weak(key))
        grouped.setdefault(key, (toned, []))[1].append(u)
    names = {k: _Name(k, toned, tuple(us)) for k, (toned, us) in grouped.items()}
    deletes: dict[str, set[str]] = {}
    for k in names:
        if len(k) >= 5:
            for i in range(len(k)):
                deletes.setdefault(k[:i] + k[i + 1 :], set()).add(k)
    syllables = frozenset(s for k in grouped for s in _key_parts(grouped[k][1][0].name)[0])
    menu = tuple(
        MenuEntry(str(i), d.name, d.code, district_communes[d.code])
        for i, d in enumerate(sorted(g.districts, key=lambda d: d.code), start=1)
    )
    return _Index(
        names,
        {k: tuple(sorted(v)) for k, v in deletes.items()},
        syllables,
        district_communes,
        menu,
        g,
    )


# --------------------------------------------------------------------------------------------
# Matching


@dataclass(slots=True)
class _Mention:
    start: int  # word indexes [start, end)
    end: int
    name: _Name
    fuzzy: bool
    penalty: float
    groups: list[list[_Unit]] = field(default_factory=list)
    type_word: bool = False
    locative: bool = False
    old_cue: bool = False
    now_cue: bool = False
    origin_cue: bool = False
    weak: int = 0
    support: bool = False
    dropped_minor: bool = False

    @property
    def level_units(self) -> list[_Unit]:
        return [u for g in self.groups for u in g]


def _diacritic_penalty(ws: Sequence[Word], toned: tuple[str, ...]) -> tuple[float, bool]:
    """Penalty for diacritics that disagree with the name; and whether they confirm it."""
    if len(ws) != len(toned):
        return 0.0, False
    penalty, confirmed = 0.0, True
    for w, t in zip(ws, toned, strict=True):
        if not w.marked:
            if fold(t) != t:
                confirmed = False
            continue
        if w.toned == t:
            continue
        confirmed = False
        # Only the tone left out ("lâm" for "Lầm") is a small slip; a different letter or tone
        # ("là" for "La") is evidence against the name.
        same_letters = w.toned.rstrip(_TONES) == t.rstrip(_TONES)
        penalty += 0.03 if same_letters and w.toneless else 0.15
    return penalty, confirmed


def _fuzzy_keys(index: _Index, key: str) -> tuple[str, ...]:
    """Names within one typing error of ``key`` (remembered per index: the same words
    come back in message after message)."""
    known = index.fuzzy.get(key)
    if known is None:
        if len(index.fuzzy) >= _FUZZY_MEMO:
            index.fuzzy.clear()
        known = index.fuzzy[key] = _fuzzy_keys_of(index, key)
    return known


#: How many keys' fuzzy matches an index remembers (then it starts again).
_FUZZY_MEMO = 50_000


def _fuzzy_keys_of(index: _Index, key: str) -> tuple[str, ...]:
    found: set[str] = set()
    found.update(index.deletes.get(key, ()))  # one letter too many
    for i in range(len(key)):
        d = key[:i] + key[i + 1 :]
        if d in index.names:  # one letter missing
            found.add(d)
        found.update(index.deletes.get(d, ()))  # one letter wrong or swapped
    return tuple(sorted(k for k in found if damerau1(key, k)))


def _name_weak(name: _Name) -> int:
    return min(u.weak for u in name.units)


def _find_mentions(index: _Index, ws: tuple[Word, ...]) -> list[_Mention]:
    raw: list[_Mention] = []
    names = index.names
    n_words = len(ws)
    for i in range(n_words):
        key = ""
        for j in range(i, min(i + _MAX_WORDS, n_words)):
            key += ws[j].folded
            span = ws[i : j + 1]
            name = names.get(key)
            if name is not None:
                penalty, _ = _diacritic_penalty(span, name.toned)
                raw.append(_Mention(i, j + 1, name, False, penalty))
                continue
            if len(key) < 6:
                continue
            if j > i and sum(w.folded not in index.syllables for w in span) > 1:
                continue
            for k in _fuzzy_keys(index, key):
                name = names[k]
                # Typing errors rarely hit the first letter of a word; "xâm hại" is not
                # "Cẩm Hải" and "công an" is not "Long An".
                if len(span) == len(name.toned):
                    if any(
                        w.folded[0] != fold(t)[0] for w, t in zip(span, name.toned, strict=True)
                    ):
                        continue
                elif key[0] != k[0]:
                    continue
                raw.append(_Mention(i, j + 1, name, True, 0.2))
    # Longest exact spans first, then fuzzy ones; no word belongs to two mentions.
    raw.sort(
        key=lambda m: (
            m.fuzzy,
            _name_weak(m.name) > 0,
            -len(m.name.key),
            m.penalty,
            m.start,
            m.name.key,
        )
    )
    taken = [False] * n_words
    chosen: list[_Mention] = []
    for m in raw:
        if any(taken[m.start : m.end]):
            continue
        for k in range(m.start, m.end):
            taken[k] = True
        chosen.append(m)
    chosen.sort(key=lambda m: m.start)
    return chosen


def _type_before(ws: tuple[Word, ...], start: int, free: list[bool]) -> tuple | None:
    for size in (2, 1):
        s = start - size
        if s >= 0 and all(free[s:start]):
            t = _TYPE_WORDS.get(tuple(w.folded for w in ws[s:start]))
            if t is not None:
                return t
    return None


def _group(units: Iterable[_Unit]) -> list[list[_Unit]]:
    """Units covering overlapping current communes belong to one group (one real place)."""
    groups: list[tuple[set[str], list[_Unit]]] = []
    for u in units:
        keys = set(u.commune_codes) or {f"{u.kind}:{u.district_codes}:{u.name}"}
        hits = [g for g in groups if g[0] & keys]
        merged_keys, merged_units = set(keys), [u]
        for g in hits:
            merged_keys |= g[0]
            merged_units = g[1] + merged_units
            groups.remove(g)
        groups.append((merged_keys, merged_units))
    return [sorted(g[1], key=_unit_order) for g in groups]


def _unit_order(u: _Unit) -> tuple:
    order = {DISTRICT: 0, FORMER_DISTRICT: 0, NEW_COMMUNE: 1, OLD_COMMUNE: 2, LEGACY_COMMUNE: 3}
    return (order.get(u.kind, 4), u.code, u.name)


def _districts(group: list[_Unit]) -> set[str]:
    return {d for u in group for d in u.district_codes}


def _major(group: list[_Unit]) -> bool:
    return any(u.level in ("district", "outside", "province") for u in group)


def _annotate(ws: tuple[Word, ...], mentions: list[_Mention]) -> None:
    free = [True] * len(ws)
    for m in mentions:
        for k in range(m.start, m.end):
            free[k] = False
    for m in mentions:
        units = list(m.name.units)
        t = _type_before(ws, m.start, free)
        before = ws[m.start - 1].folded if m.start > 0 and free[m.start - 1] else ""
        if t is not None:
            level, types = t
            exact = [u for u in units if u.type in types]
            if level == "province":
                by_level = [u for u in units if u.level in ("outside", "province")]
            elif level == "district":
                by_level = [u for u in units if u.level in ("district", "outside")]
            else:
                by_level = [u for u in units if u.level == "commune"]
            units = exact or by_level or units
            m.type_word = bool(exact or by_level)
        elif before in _STREET_WORDS:
            units = []
        m.locative = before in _LOCATIVES
        after = ws[m.end] if m.end < len(ws) else None
        m.old_cue = (
            after is not None
            and after.folded == "cu"
            and (not after.marked or after.toned == "cu\u0303")
        )
        # "đang/hiện ở X": X is where the caller is now (no other place in between).
        prior = []
        for k in range(m.start - 1, max(-1, m.start - 9), -1):
            if not free[k]:
                break
            prior.append(ws[k].folded)
        m.now_cue = any(w in _NOW_WORDS for w in prior)
        m.origin_cue = any(w in _ORIGIN_WORDS for w in prior[:2])
        m.weak = 0 if m.type_word else min((u.weak for u in units), default=0)
        if m.weak == 1 and not m.fuzzy:
            _, confirmed = _diacritic_penalty(ws[m.start : m.end], m.name.toned)
            if confirmed:
                m.weak = 0
        m.groups = _group(units)


def _choose_groups(mentions: list[_Mention], whole: tuple[int, int]) -> list[_Mention]:
    """Use the other mentions to pick among each mention's groups; drop weak ones that
    nothing supports (unless the name is the whole message: an answer to "where?")."""
    strong = [m for m in mentions if m.groups and not m.weak]
    for m in mentions:
        if not m.groups:
            continue
        others = [o for o in strong if o is not m]
        other_districts = {d for o in others for g in o.groups for d in _districts(g)}
        supported = [g for g in m.groups if _districts(g) & other_districts]
        if supported:
            m.support = True
            m.groups = supported
        elif len(m.groups) > 1 and any(_major(g) for g in m.groups):
            m.groups = [g for g in m.groups if _major(g)]
            m.dropped_minor = True
    kept = []
    for m in mentions:
        if not m.groups:
            continue
        if m.weak and not (m.locative or m.support or (m.start, m.end) == whole):
            continue
        kept.append(m)
    return kept


_FILLER = frozenset({"a", "o", "tai", "em", "toi", "minh", "nha", "dang", "song"})


def _whole_span(ws: tuple[Word, ...]) -> tuple[int, int]:
    """Word span left after trimming fillers ("ở", "ạ", "em"…) at both ends."""
    start, end = 0, len(ws)
    while start < end and ws[start].folded in _FILLER:
        start += 1
    while end > start and ws[end - 1].folded in _FILLER:
        end -= 1
    return start, end


def _representative(m: _Mention, group: list[_Unit]) -> _Unit:
    districts = [u for u in group if u.kind in DISTRICT_KINDS]
    news = [u for u in group if u.kind == NEW_COMMUNE]
    olds = [u for u in group if u.kind in (OLD_COMMUNE, LEGACY_COMMUNE)]
    if districts:
        d = districts[0]
        # A special zone covering exactly its old district (Vân Đồn, Cô Tô) is the same place.
        if news and d.commune_codes == news[0].commune_codes:
            return news[0]
        return d
    if m.old_cue and olds:
        return olds[0]
    return (news or olds or group)[0]


def _confidence(m: _Mention) -> float:
    c = 1.0 - m.penalty
    if not m.type_word:
        c -= 0.05
    if m.weak and not m.support:
        c -= 0.15
    if m.support:
        c += 0.05
    if m.dropped_minor:
        c -= 0.05
    return round(max(0.05, min(1.0, c)), 3)


def _match(u: _Unit, m: _Mention, ws: tuple[Word, ...], text: str, conf: float) -> PlaceMatch:
    start, end = ws[m.start].start, ws[m.end - 1].end
    return PlaceMatch(
        unit_kind=u.kind,
        code=u.code,
        name=u.name,
        full_name=u.full_name,
        label=u.label,
        commune_codes=u.commune_codes,
        district_codes=tuple(d for d in u.district_codes if not d.startswith("out:")),
        confidence=conf,
        matched_text=text[start:end],
        start=start,
        end=end,
    )


def resolve_place(text: str, gazetteer: Gazetteer | None = None) -> Resolution:
    """Resolve free SMS text or speech to places in Quảng Ninh (see the module docstring)."""
    index = _index(gazetteer or load_gazetteer())
    text = nfc(text)
    ws = words(text)
    mentions = _find_mentions(index, ws)
    _annotate(ws, mentions)
    mentions = _choose_groups(mentions, _whole_span(ws))

    province = any(u.kind == PROVINCE for m in mentions for u in m.level_units)
    mentions = [m for m in mentions if not all(u.kind == PROVINCE for u in m.level_units)]
    outside_ms = [m for m in mentions if all(u.kind == OUTSIDE for u in m.level_units)]
    local = [m for m in mentions if m not in outside_ms]
    for m in local:  # an ambiguous name may still include an outside reading: drop it here
        m.groups = [g for g in m.groups if not all(u.kind == OUTSIDE for u in g)] or m.groups
    outside = tuple(_match(m.groups[0][0], m, ws, text, _confidence(m)) for m in outside_ms)
    if not local:
        if outside:
            return Resolution(OUTSIDE_PROVINCE, (), outside, province, text)
        return Resolution(NOT_FOUND, (), (), province, text)

    if len(local) > 1 and any(not m.origin_cue for m in local):
        local = [m for m in local if not m.origin_cue]

    # A district named beside one of its communes only qualifies that commune.
    def specific(m: _Mention) -> bool:
        return any(_representative(m, g).level == "commune" for g in m.groups)

    qualified = []
    for m in local:
        if not specific(m):
            own = {d for g in m.groups for d in _districts(g)}
            if any(
                o is not m and specific(o) and own & {d for g in o.groups for d in _districts(g)}
                for o in local
            ):
                continue
        qualified.append(m)
    local = qualified

    # Several mentions naming the same current communes are one place.
    places: list[tuple[_Mention, list[_Unit]]] = []
    seen: set[tuple[str, ...]] = set()
    for m in local:
        for g in m.groups:
            rep = _representative(m, g)
            key = (rep.code if rep.kind in DISTRICT_KINDS else "", *rep.commune_codes)
            if key not in seen:
                seen.add(key)
                places.append((m, g))

    penalty = 0.05 if outside else 0.0
    if len(places) > 1:
        by_mention = {id(m) for m, _ in places}
        now = [m for m in local if m.now_cue]
        if len(by_mention) > 1 and len(now) == 1 and len(now[0].groups) == 1:
            places = [(now[0], now[0].groups[0])]
            penalty += 0.15
    if len(places) == 1:
        m, g = places[0]
        rep = _representative(m, g)
        conf = round(max(0.05, _confidence(m) - penalty), 3)
        return Resolution(RESOLVED, (_match(rep, m, ws, text, conf),), outside, province, text)
    matches = tuple(
        _match(_representative(m, g), m, ws, text, round(_confidence(m) / len(places), 3))
        for m, g in places
    )
    return Resolution(AMBIGUOUS, matches, outside, province, text)


def _answers(reply: PlaceMatch, candidate: PlaceMatch) -> bool:
    """Whether a place named in a reply points at this candidate."""
    if reply.level == "district":
        return bool(set(reply.district_codes) & set(candidate.district_codes))
    return bool(set(reply.commune_codes) & set(candidate.commune_codes))


def choose_candidate(
    reply: str, candidates: Sequence[PlaceMatch], gazetteer: Gazetteer | None = None
) -> PlaceMatch | None:
    """Pick one of ``candidates`` from the caller's answer to the follow-up question: its
    number (1, 2…) or words naming it (``Uông Bí``); None when the answer does not decide."""
    digits = reply.strip().rstrip("#")
    if digits.isdigit():
        n = int(digits)
        return candidates[n - 1] if 1 <= n <= len(candidates) else None
    res = resolve_place(reply, gazetteer)
    picked = [c for c in candidates if any(_answers(m, c) for m in res.matches)]
    return picked[0] if len(picked) == 1 else None


# --------------------------------------------------------------------------------------------
# Keypad


def district_menu(gazetteer: Gazetteer | None = None) -> tuple[MenuEntry, ...]:
    """The 13 former districts numbered 1–13 in GSO code order; the caller keys the number
    and then # (``Gather finishOnKey="#"``); 0 means "I don't know"."""
    return _index(gazetteer or load_gazetteer()).menu


def commune_menu(district_code: str, gazetteer: Gazetteer | None = None) -> tuple[MenuEntry, ...]:
    """Current communes formed from a former district (seat first, then by code), numbered
    from 1; keyed after the district as ``D*C#``."""
    index = _index(gazetteer or load_gazetteer())
    entry = next((e for e in index.menu if e.district_code == district_code), None)
    if entry is None:
        return ()
    g = index.gazetteer
    return tuple(
        MenuEntry(f"{entry.key}*{i}", g.commune(c).name, district_code, (c,))  # type: ignore[union-attr]
        for i, c in enumerate(index.district_communes[district_code], start=1)
    )


def resolve_digits(digits: str, gazetteer: Gazetteer | None = None) -> Resolution:
    """Resolve keypad input: ``N`` (district menu entry), ``N*M`` (commune M of district N),
    with an optional trailing ``#``; ``0`` or anything else → ``not_found``."""
    g = gazetteer or load_gazetteer()
    index = _index(g)
    raw = digits.strip().rstrip("#").replace(" ", "")
    parts = raw.split("*")
    if not 1 <= len(parts) <= 2 or not all(p.isdigit() for p in parts):
        return Resolution(NOT_FOUND, text=digits)
    n = int(parts[0])
    if not 1 <= n <= len(index.menu):
        return Resolution(NOT_FOUND, text=digits)
    entry = index.menu[n - 1]
    district = g.district(entry.district_code)
    assert district is not None
    if len(parts) == 1:
        match = PlaceMatch(
            DISTRICT,
            district.code,
            district.name,
            district.full_name,
            district.name,
            entry.commune_codes,
            (district.code,),
            1.0,
            digits,
        )
        return Resolution(RESOLVED, (match,), text=digits)
    communes = commune_menu(entry.district_code, g)
    k = int(parts[1])
    if not 1 <= k <= len(communes):
        return Resolution(NOT_FOUND, text=digits)
    commune = g.commune(communes[k - 1].commune_codes[0])
    assert commune is not None
    match = PlaceMatch(
        NEW_COMMUNE,
        commune.code,
        commune.name,
        commune.full_name,
        f"{commune.name} ({district.name})",
        (commune.code,),
        (district.code,),
        1.0,
        digits,
    )
    return Resolution(RESOLVED, (match,), text=digits)


def menu_intro() -> Message:
    """What the voice flow says before reading the district menu."""
    return msg(
        N_("Key the number of your district, then the hash key. If you do not know, key 0.")
    )


__all__ = [
    "AMBIGUOUS",
    "NOT_FOUND",
    "OUTSIDE_PROVINCE",
    "RESOLVED",
    "MenuEntry",
    "PlaceMatch",
    "Resolution",
    "choose_candidate",
    "commune_menu",
    "district_menu",
    "menu_intro",
    "resolve_digits",
    "resolve_place",
]
