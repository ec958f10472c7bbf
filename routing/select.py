"""Choose the service point that should act on a case, with a fallback chain and a reason.

Rules (DESIGN §8), applied in this order and deterministically (ties broken by code):

1. Tiers: points of the caller's current commune(s); then points of the same former district
   (district-wide points, then points of its other communes, the seat commune first); then
   province-wide points; the provincial centre (``social_work_center`` with no place) is
   always the last link of the chain.
2. A point qualifies when it is open now (hours read in ``HOTLINE_TIMEZONE``), offers every
   need, and, when shelter is needed, has a free bed (a shelter with no capacity listed is
   taken to have room). Police points are never primary; ``health`` and ``legal_aid`` points
   qualify only for needs they cover. Within a tier: trusted address, shelter, social work
   centre, commune committee, health, legal aid; for a child, points offering
   ``child_protection`` first.
3. ``immediate`` risk (or a ``police`` need): instruction to call 113 and the nearest open
   police point by the same tiers. A survivor aged 0-11 or 12-17: instruction to call 111 and
   the provincial centre on the child-protection path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from routing.codes import AGE_BANDS, RISKS, SERVICES
from routing.hours import OpeningHours
from routing.i18n import N_, Gettext, Message, TermList, identity, join_sentence, msg
from routing.places import Gazetteer, load_gazetteer
from routing.resolve import DISTRICT_KINDS, PlaceMatch, Resolution

DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
CHILD_AGE_BANDS = frozenset({"0-11", "12-17"})
#: Display names of directory services, for reasons.
SERVICE_NAMES: dict[str, str] = {
    "shelter": N_("shelter"),
    "medical": N_("medical care"),
    "psychosocial": N_("psychosocial support"),
    "legal": N_("legal help"),
    "police": N_("police"),
    "livelihood": N_("livelihood support"),
    "child_protection": N_("child protection"),
    "counselling": N_("counselling"),
}
_KIND_RANK = {
    "trusted_address": 0,
    "shelter": 1,
    "social_work_center": 2,
    "commune_committee": 3,
    "health": 4,
    "legal_aid": 5,
}
_NEEDS_ONLY_KINDS = frozenset({"health", "legal_aid"})

TIER_COMMUNE = "commune"
TIER_DISTRICT = "district"
TIER_PROVINCE = "province"
TIER_CENTRE = "centre"

CALL_113 = "call_113"
CALL_111 = "call_111"
_INSTRUCTION_TEXT = {
    CALL_113: N_("Call 113 (police) now."),
    CALL_111: N_("Call 111, the child protection hotline (free, 24/7)."),
}


class PlaceCodeError(ValueError):
    """A commune or district code that is in neither version of the gazetteer."""

    def __init__(self, msgid: str, **params: object) -> None:
        self.message: Message = msg(msgid, **params)
        super().__init__(self.message.render())


@dataclass(frozen=True, slots=True)
class ServicePoint:
    """A directory entry (DESIGN §6) as routing needs it.

    ``commune_code`` is a 2025 code, or a pre-2025 one mapped through the merge table;
    ``district_code`` (pre-2025) marks a district-wide point; neither: province-wide.
    """

    code: str
    name: str
    kind: str
    commune_code: str | None
    district_code: str | None
    phone: str
    services: frozenset[str]
    hours: OpeningHours
    capacity: int | None = None
    occupancy: int = 0
    #: A neutral name for SMS replies to survivors (the directory's optional ``sms_name``).
    sms_name: str | None = None

    @property
    def sms_label(self) -> str:
        """The name an SMS to a survivor shows: the neutral one when the point has one."""
        return self.sms_name or self.name

    @property
    def free_beds(self) -> int | None:
        """Beds free now, or None when no capacity is listed."""
        return None if self.capacity is None else max(0, self.capacity - self.occupancy)


@dataclass(frozen=True, slots=True)
class PlaceRef:
    """A place given as codes: 2025 communes and/or pre-2025 districts."""

    commune_codes: tuple[str, ...] = ()
    district_codes: tuple[str, ...] = ()
    label: str = ""
    #: For a district-level place: its communes in preference order (seat first).
    area_communes: tuple[str, ...] = ()

    @property
    def level(self) -> str:
        if self.commune_codes:
            return "commune"
        return "district" if self.district_codes else "unknown"


@dataclass(frozen=True, slots=True)
class Instruction:
    """Something the caller should be told to do, e.g. call 113."""

    code: str
    message: Message


@dataclass(frozen=True, slots=True)
class Decision:
    """The routing decision: ``primary`` then ``alternates`` form the escalation chain."""

    primary: ServicePoint | None
    alternates: tuple[ServicePoint, ...]
    tiers: tuple[str, ...]  # the tier of each point of ``chain``
    police: ServicePoint | None
    child_protection: ServicePoint | None
    instructions: tuple[Instruction, ...]
    reason_parts: tuple[Message, ...]
    place: PlaceRef
    needs: frozenset[str] = field(default_factory=frozenset)

    @property
    def chain(self) -> tuple[ServicePoint, ...]:
        """Primary first, then alternates: the order alerts escalate in."""
        return ((self.primary,) if self.primary else ()) + self.alternates

    @property
    def instruction_codes(self) -> tuple[str, ...]:
        return tuple(i.code for i in self.instructions)

    def reason(self, gettext: Gettext = identity) -> str:
        """A readable reason in the language of ``gettext`` (identity gives English)."""
        return join_sentence(self.reason_parts, gettext)


# --------------------------------------------------------------------------------------------
# Places and directory


def normalize_commune_code(code: str, gazetteer: Gazetteer | None = None) -> tuple[str, ...]:
    """2025 commune code(s) for a 2025 code (or alias such as 06978) or a pre-2025 code.

    A code valid in 2025 is read as 2025 (codes are reused); a pre-2025 code of a split
    commune gives all its new communes. Raises :class:`PlaceCodeError` for unknown codes.
    """
    g = gazetteer or load_gazetteer()
    new = g.commune(code)
    if new is not None:
        return (new.code,)
    mapped = g.new_codes_for_old(code)
    if mapped:
        return tuple(sorted(mapped))
    raise PlaceCodeError(N_("Unknown commune code %(code)s"), code=code)


def place_from_codes(
    commune_code: str | None = None,
    district_code: str | None = None,
    gazetteer: Gazetteer | None = None,
) -> PlaceRef:
    """A :class:`PlaceRef` from API-style codes (``{"commune_code"}`` or
    ``{"district_code"}``)."""
    g = gazetteer or load_gazetteer()
    if commune_code:
        communes = normalize_commune_code(commune_code, g)
        old = g.old_commune(commune_code) if g.commune(commune_code) is None else None
        if old is not None:
            districts: tuple[str, ...] = (old.district_code,)
        else:
            districts = tuple(dict.fromkeys(d for c in communes for d in g.old_districts_of(c)))
        names = [g.commune(c).name for c in communes]  # type: ignore[union-attr]
        return PlaceRef(communes, districts, old.name if old else " / ".join(names))
    if district_code:
        d = g.district(district_code)
        if d is None:
            raise PlaceCodeError(N_("Unknown district code %(code)s"), code=district_code)
        return PlaceRef((), (d.code,), d.name, g.communes_of_district(d.code))
    return PlaceRef()


def _to_place(place: object, g: Gazetteer) -> PlaceRef:
    if place is None:
        return PlaceRef()
    if isinstance(place, PlaceRef):
        return place
    if isinstance(place, Resolution):
        return _to_place(place.best, g)
    if isinstance(place, PlaceMatch):
        if place.unit_kind in DISTRICT_KINDS:
            return PlaceRef((), place.district_codes, place.label, place.commune_codes)
        if place.level != "commune":
            return PlaceRef()
        return PlaceRef(place.commune_codes, place.district_codes, place.label)
    if isinstance(place, Mapping):
        unknown = set(place) - {"commune_code", "district_code"}
        if unknown:
            raise ValueError(f"unsupported place fields: {sorted(unknown)}")
        return place_from_codes(place.get("commune_code"), place.get("district_code"), g)
    raise TypeError(f"cannot route by place of type {type(place).__name__}")


class Directory:
    """Service points indexed by place; build once per directory version and reuse."""

    def __init__(self, points: Iterable[ServicePoint], gazetteer: Gazetteer | None = None):
        g = gazetteer or load_gazetteer()
        self.gazetteer = g
        self.points = tuple(sorted(points, key=lambda p: p.code))
        self.by_commune: dict[str, list[ServicePoint]] = {}
        self.by_district: dict[str, list[ServicePoint]] = {}
        self.province: list[ServicePoint] = []
        centres = []
        for p in self.points:
            if p.commune_code:
                for c in normalize_commune_code(p.commune_code, g):
                    self.by_commune.setdefault(c, []).append(p)
            elif p.district_code:
                if g.district(p.district_code) is None:
                    raise PlaceCodeError(
                        N_("Unknown district code %(code)s"), code=p.district_code
                    )
                self.by_district.setdefault(p.district_code, []).append(p)
            else:
                self.province.append(p)
                if p.kind == "social_work_center":
                    centres.append(p)
        self.centre: ServicePoint | None = centres[0] if centres else None

    def tiers(self, place: PlaceRef) -> list[tuple[tuple[int, int, int], str, ServicePoint]]:
        """Every point in fallback order, with its tier and a sort position (no filtering).

        The position is (tier, sub-tier, place order): the caller's communes in order; then
        district-wide points, then the district's other communes (seat first, then by code);
        then province-wide points; the provincial centre last.
        """
        out: list[tuple[tuple[int, int, int], str, ServicePoint]] = []
        seen: set[str] = set()

        def add(pos: tuple[int, int, int], tier: str, pts: Iterable[ServicePoint]) -> None:
            for p in pts:
                if p.code not in seen:
                    seen.add(p.code)
                    out.append((pos, tier, p))

        for i, c in enumerate(place.commune_codes):
            add((0, 0, i), TIER_COMMUNE, self.by_commune.get(c, ()))
        for i, d in enumerate(place.district_codes):
            add((1, 0, i), TIER_DISTRICT, self.by_district.get(d, ()))
        order = list(place.area_communes)
        for d in place.district_codes:
            order.extend(c for c in self.gazetteer.communes_of_district(d) if c not in order)
        for i, c in enumerate(order):
            add((1, 1, i), TIER_DISTRICT, self.by_commune.get(c, ()))
        add((2, 0, 0), TIER_PROVINCE, (p for p in self.province if p is not self.centre))
        if self.centre is not None:
            add((3, 0, 0), TIER_CENTRE, (self.centre,))
        return out


_DIRECTORY_CACHE: dict[tuple[int, int], tuple[object, Directory]] = {}


def _directory(points: Sequence[ServicePoint] | Directory, g: Gazetteer) -> Directory:
    if isinstance(points, Directory):
        return points
    if not isinstance(points, tuple):
        return Directory(points, g)
    key = (id(points), id(g))
    hit = _DIRECTORY_CACHE.get(key)
    if hit is not None and hit[0] is points:
        return hit[1]
    directory = Directory(points, g)
    if len(_DIRECTORY_CACHE) > 8:
        _DIRECTORY_CACHE.clear()
    _DIRECTORY_CACHE[key] = (points, directory)
    return directory


# --------------------------------------------------------------------------------------------
# Decision


def _hours_text(p: ServicePoint, now: datetime) -> Message:
    if p.hours.is_always_open:
        return msg(N_("24/7"))
    closes = p.hours.closes_at(now)
    if closes is None:
        return msg(N_("closed now"))
    return msg(N_("open until %(time)s"), time=closes.strftime("%H:%M"))


def _why_not(p: ServicePoint, needs: frozenset[str], now: datetime) -> Message | None:
    """Why ``p`` cannot take the case now, or None when it qualifies."""
    if not p.hours.is_open(now):
        return msg(N_("%(point)s is closed at this time"), point=p.name)
    if p.kind in _NEEDS_ONLY_KINDS and not needs:
        return msg(N_("%(point)s is not a case-handling point"), point=p.name)
    missing = needs - p.services
    if missing:
        return msg(
            N_("%(point)s does not offer %(services)s"),
            point=p.name,
            services=TermList(tuple(SERVICE_NAMES[c] for c in sorted(missing))),
        )
    if "shelter" in needs and p.free_beds == 0:
        return msg(N_("%(point)s has no free beds"), point=p.name)
    return None


def choose_service_point(
    place: PlaceMatch | PlaceRef | Resolution | Mapping[str, str] | None,
    needs: Iterable[str],
    risk: str,
    age_band: str | None,
    now: datetime,
    points: Sequence[ServicePoint] | Directory,
    gazetteer: Gazetteer | None = None,
    tz: tzinfo | str | None = DEFAULT_TIMEZONE,
) -> Decision:
    """Decide which service point acts on a case (see the module docstring for the rules).

    ``now`` must be timezone-aware; it is converted to ``tz`` (pass the configured
    ``HOTLINE_TIMEZONE``) before opening hours are read. ``points`` may be a prebuilt
    :class:`Directory` (fastest) or a sequence (a tuple is indexed once and cached).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if risk not in RISKS:
        raise ValueError(f"unknown risk {risk!r}; expected one of {RISKS}")
    age = age_band or "unknown"
    if age not in AGE_BANDS:
        raise ValueError(f"unknown age band {age!r}; expected one of {AGE_BANDS}")
    need_set = frozenset(needs)
    unknown = need_set - set(SERVICES)
    if unknown:
        raise ValueError(f"unknown needs {sorted(unknown)}; expected some of {SERVICES}")
    if tz is not None:
        now = now.astimezone(ZoneInfo(tz) if isinstance(tz, str) else tz)

    g = gazetteer or load_gazetteer()
    directory = _directory(points, g)
    ref = _to_place(place, g)
    primary_needs = need_set - {"police"}
    child = age in CHILD_AGE_BANDS
    ordered = directory.tiers(ref)

    def rank(item: tuple[tuple[int, int, int], str, ServicePoint]) -> tuple:
        pos, _, p = item
        return (
            *pos,
            not (child and "child_protection" in p.services),
            _KIND_RANK.get(p.kind, 9),
            p.code,
        )

    candidates = sorted((i for i in ordered if i[2].kind != "police"), key=rank)
    chain: list[tuple[str, ServicePoint]] = []
    skipped: list[tuple[str, Message]] = []
    for _, tier, p in candidates:
        why = _why_not(p, primary_needs, now)
        if why is None:
            chain.append((tier, p))
        else:
            skipped.append((tier, why))
    centre = directory.centre
    if centre is not None and all(p is not centre for _, p in chain):
        chain.append((TIER_CENTRE, centre))  # the last fallback, whatever its state

    police = None
    instructions: list[Instruction] = []
    if risk == "immediate" or "police" in need_set:
        police = next(
            (
                p
                for _, _, p in sorted(ordered, key=rank)
                if p.kind == "police" and p.hours.is_open(now)
            ),
            None,
        )
    if risk == "immediate":
        instructions.append(Instruction(CALL_113, msg(_INSTRUCTION_TEXT[CALL_113])))
    if child:
        instructions.append(Instruction(CALL_111, msg(_INSTRUCTION_TEXT[CALL_111])))

    primary = chain[0][1] if chain else None
    parts: list[Message] = []
    if ref.level == "unknown":
        parts.append(msg(N_("place not known")))
    elif ref.level == "commune" and not any(t == TIER_COMMUNE for _, t, _ in ordered):
        parts.append(msg(N_("no service point is listed for %(place)s"), place=ref.label))
    first_tier = chain[0][0] if chain else None
    # Say why the nearest points were passed over; for a district-level place only the first
    # two (district-wide points, seat commune) to keep the reason short.
    district_notes = 0
    for tier, why in skipped:
        if tier == TIER_COMMUNE:
            parts.append(why)
        elif tier == TIER_DISTRICT and ref.level == "district" and district_notes < 2:
            parts.append(why)
            district_notes += 1
    if first_tier in (TIER_PROVINCE, TIER_CENTRE) and any(t == TIER_DISTRICT for t, _ in skipped):
        parts.append(msg(N_("no suitable point is open in the same former district")))
    if primary is not None:
        hours = _hours_text(primary, now)
        if first_tier == TIER_CENTRE:
            text = N_("routed to the provincial centre %(point)s (%(hours)s)")
        elif first_tier == TIER_PROVINCE:
            text = N_("routed to the province-wide point %(point)s (%(hours)s)")
        elif first_tier == TIER_DISTRICT and ref.level == "commune":
            text = N_("routed to %(point)s in the same former district (%(hours)s)")
        else:
            text = N_("routed to %(point)s (%(hours)s)")
        parts.append(msg(text, point=primary.name, hours=hours))
        why_primary = _why_not(primary, primary_needs, now)
        if why_primary is not None:
            parts.append(why_primary)
    else:
        parts.append(
            msg(N_("no service point can take this case now; the hotline operator must follow up"))
        )
    if risk == "immediate":
        if police is not None:
            parts.append(
                msg(N_("immediate danger: call 113; alerting %(police)s"), police=police.name)
            )
        else:
            parts.append(msg(N_("immediate danger: call 113; no open police point is listed")))
    elif police is not None:
        parts.append(msg(N_("police help needed: alerting %(police)s"), police=police.name))
    child_point = centre if child else None
    if child:
        if centre is not None:
            parts.append(
                msg(
                    N_("survivor under 18: child protection hotline 111 and %(centre)s"),
                    centre=centre.name,
                )
            )
        else:
            parts.append(msg(N_("survivor under 18: child protection hotline 111")))

    return Decision(
        primary=primary,
        alternates=tuple(p for _, p in chain[1:]),
        tiers=tuple(t for t, _ in chain),
        police=police,
        child_protection=child_point,
        instructions=tuple(instructions),
        reason_parts=tuple(parts),
        place=ref,
        needs=need_set,
    )


__all__ = [
    "CALL_111",
    "CALL_113",
    "DEFAULT_TIMEZONE",
    "SERVICE_NAMES",
    "Decision",
    "Directory",
    "Instruction",
    "PlaceCodeError",
    "PlaceRef",
    "ServicePoint",
    "choose_service_point",
    "normalize_commune_code",
    "place_from_codes",
]
