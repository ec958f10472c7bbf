"""What is counted: the published tables, the outcome dimension, the plan indicators and
the hotline metrics, defined once on plain facts about a case or a contact. Pure.

A case contributes to the statistics only with ``consent.reporting`` (the caller of
:func:`case_rows` filters). Every case and contact is reduced to rows
``(table, district, key, n)`` of its local day; reports sum those rows over a period.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from routing.codes import AGE_BANDS, CHANNELS, CONTEXTS, RISKS, SEXES, VIOLENCE_TYPES

UNKNOWN = "unknown"

#: Single-valued outcome of a case (docs/statistics.md):
#: ``service_received`` — some referral of the case has a non-empty ``services_received``;
#: ``referred`` — referred to a service point, no service recorded (yet);
#: ``not_referred`` — no referral (no referral consent, or no point found).
OUTCOMES = ("service_received", "referred", "not_referred")

#: Perpetrator relationships the intake offers; anything else is counted as ``other``
#: so no typed-in text can ever reach a table.
RELATIONSHIPS = (
    "husband",
    "wife",
    "former_partner",
    "partner",
    "parent",
    "child",
    "other_family",
    "in_law",
    "acquaintance",
    "employer",
    "teacher",
    "stranger",
    "other",
    UNKNOWN,
)

#: Violence types that make a case a *detected GBV victim*: all but ``non_gbv``.
GBV_TYPES = tuple(t for t in VIOLENCE_TYPES if t != "non_gbv")

#: Case tables with one value per case: each district's cells add up to its case total.
CASE_PARTITIONS: dict[str, tuple[str, ...]] = {
    "sex": SEXES,
    "age_band": AGE_BANDS,
    "channel": CHANNELS,
    "risk": RISKS,
    "outcome": OUTCOMES,
    "relationship": RELATIONSHIPS,
}
#: Case tables where a case may have several values: cells do not add up to totals.
CASE_MULTI: dict[str, tuple[str, ...]] = {
    "violence_type": VIOLENCE_TYPES,
    "context": CONTEXTS,
}
#: Tables whose dimension is a contract key (DESIGN.md section 9) and so may be pushed;
#: ``relationship`` and ``context`` are shown to managers only.
PAYLOAD_DIMENSIONS = ("sex", "age_band", "channel", "risk", "outcome", "violence_type")

#: Answered within this many seconds counts for the service level.
SERVICE_LEVEL_SECONDS = 20
CALL_RESULTS = ("answered_fast", "answered_slow", "abandoned")
#: Contact tables with one cell per district (k2 = "").
CONTACT_COUNTS = ("voicemail", "callback", "sms")
#: Case-derived counts with one cell per district.
CASE_COUNTS = ("ack", "escalation")

_STEP = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


@dataclass(frozen=True)
class Indicator:
    """A plan indicator: the share ``numerator / denominator`` against ``targets``."""

    code: str
    table: str
    plan_ref: str
    #: (year, target share): the target for a period is the first milestone not before
    #: the period's year, else the last one.
    targets: tuple[tuple[int, float], ...]

    def target_for(self, year: int) -> float:
        for y, t in self.targets:
            if year <= y:
                return t
        return self.targets[-1][1]


INDICATORS = (
    # Denominator: consented cases with at least one GBV violence type ("detected
    # victims"). Numerator: of those, cases with a referral whose services_received is
    # not empty ("accessed at least one basic support service").
    Indicator(
        "SUPPORT_ACCESS", "ind_support", "Mục tiêu 3, Chỉ tiêu 2a", ((2025, 0.8), (2030, 0.9))
    ),
    # Denominator: consented GBV cases whose perpetrator is identified (relationship given
    # and not "unknown") and not recorded as criminally prosecuted. Numerator: of those,
    # cases where perpetrator_counselled is true.
    Indicator(
        "PERPETRATOR_COUNSELLING",
        "ind_perpetrator",
        "Mục tiêu 3, Chỉ tiêu 2b",
        ((2025, 0.5), (2030, 0.7)),
    ),
    # Denominator: consented cases with context "trafficking" and at least one need.
    # Numerator: of those, cases with a service received.
    Indicator("TRAFFICKING_SUPPORT", "ind_trafficking", "Mục tiêu 3, Chỉ tiêu 3", ((2030, 1.0),)),
)
INDICATOR_PARTS = ("met", "unmet")


@dataclass
class CaseFacts:
    """What the statistics read from one consented case (no identifiers, no text)."""

    district_code: str | None
    commune_code: str | None
    survivor_sex: str
    survivor_age_band: str
    channel: str
    risk: str
    perpetrator_relationship: str | None = None
    perpetrator_prosecuted: bool | None = None
    perpetrator_counselled: bool | None = None
    violence_types: set[str] = field(default_factory=set)
    contexts: set[str] = field(default_factory=set)
    needs: set[str] = field(default_factory=set)
    referred: bool = False
    service_received: bool = False
    #: Minutes from each referral to its acknowledgement (acknowledged referrals only).
    ack_minutes: list[int] = field(default_factory=list)
    escalations: int = 0


def _code(value: str | None, allowed: tuple[str, ...]) -> str:
    return value if value in allowed else UNKNOWN


def place(district_code: str | None, commune_code: str | None) -> tuple[str, str]:
    return district_code or UNKNOWN, commune_code or UNKNOWN


def outcome(f: CaseFacts) -> str:
    if f.service_received:
        return "service_received"
    return "referred" if f.referred else "not_referred"


def relationship(value: str | None) -> str:
    if not value:
        return UNKNOWN
    return value if value in RELATIONSHIPS else "other"


def is_gbv(f: CaseFacts) -> bool:
    return any(t in GBV_TYPES for t in f.violence_types)


def indicator_part(code: str, f: CaseFacts) -> str | None:
    """``met``/``unmet`` when the case is in the indicator's denominator, else None."""
    if code == "SUPPORT_ACCESS":
        if not is_gbv(f):
            return None
        return "met" if f.service_received else "unmet"
    if code == "PERPETRATOR_COUNSELLING":
        if not is_gbv(f) or relationship(f.perpetrator_relationship) == UNKNOWN:
            return None
        if f.perpetrator_prosecuted:
            return None
        return "met" if f.perpetrator_counselled else "unmet"
    if code == "TRAFFICKING_SUPPORT":
        if "trafficking" not in f.contexts or not f.needs:
            return None
        return "met" if f.service_received else "unmet"
    raise KeyError(code)


def case_rows(f: CaseFacts) -> list[tuple[str, str, str, int]]:
    """The rollup rows ``(table, district, key, n)`` one consented case contributes."""
    district, commune = place(f.district_code, f.commune_code)
    rows = [
        ("place", district, commune, 1),
        ("sex", district, _code(f.survivor_sex, SEXES), 1),
        ("age_band", district, _code(f.survivor_age_band, AGE_BANDS), 1),
        ("channel", district, f.channel if f.channel in CHANNELS else "other", 1),
        ("risk", district, f.risk if f.risk in RISKS else "medium", 1),
        ("outcome", district, outcome(f), 1),
        ("relationship", district, relationship(f.perpetrator_relationship), 1),
    ]
    rows += [
        ("violence_type", district, t, 1) for t in sorted(f.violence_types) if t in VIOLENCE_TYPES
    ]
    rows += [("context", district, c, 1) for c in sorted(f.contexts) if c in CONTEXTS]
    for ind in INDICATORS:
        part = indicator_part(ind.code, f)
        if part:
            rows.append((ind.table, district, part, 1))
    rows += [("ack_minutes", district, str(ack_bucket(m)), 1) for m in f.ack_minutes]
    if f.ack_minutes:
        rows.append(("ack", district, "", len(f.ack_minutes)))
    if f.escalations:
        rows.append(("escalation", district, "", f.escalations))
    return rows


def ack_bucket(minutes: int) -> int:
    """The upper bound (in minutes) of the histogram bucket for an acknowledgement delay:
    exact to the minute for the first hour, then 5 minutes to 6 hours, 30 minutes to two
    days, 6 hours beyond (capped at 30 days). Percentiles are read as these bounds."""
    m = max(0, int(minutes))
    if m < 60:
        return m
    for limit, step in ((360, 5), (2880, 30), (43200, 360)):
        if m < limit:
            return -(-(m + 1) // step) * step
    return 43200


@dataclass
class ContactFacts:
    """What the statistics read from one contact (call or SMS conversation)."""

    channel: str  # voice | sms
    district_code: str | None
    started_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    abandoned_step: str | None = None
    ivr_step: str | None = None
    voicemail: bool = False
    callback_requested: bool = False
    #: When the caller chose the counsellor (None for calls that never did, and for calls
    #: recorded before this was kept).
    counsellor_requested_at: datetime | None = None


#: A call that ended here without asking for a counsellor got what it came for from the
#: IVR (the nearest point's name and number): not offered to operators, not abandoned.
SELF_SERVED_STEPS = frozenset({"place_result"})


def ivr_step(value: str | None) -> str:
    if not value:
        return UNKNOWN
    value = value.strip().lower()
    return value if _STEP.match(value) else "other"


def contact_rows(f: ContactFacts) -> list[tuple[str, str, str, int]]:
    """Rollup rows of one contact. A call is *offered* to the operators unless it ended
    in the IVR with what it needed (:data:`SELF_SERVED_STEPS`) without asking for a
    counsellor; it is *answered* when an operator took it, else *abandoned* (voicemails
    included). Waits run from the counsellor request (from the start of the call when none
    was recorded), so time spent in the menus never counts against the operators."""
    district = f.district_code or UNKNOWN
    if f.channel == "sms":
        return [("sms", district, "", 1)]
    rows = []
    start = f.counsellor_requested_at or f.started_at
    self_served = (
        f.answered_at is None
        and f.counsellor_requested_at is None
        and (f.abandoned_step or f.ivr_step) in SELF_SERVED_STEPS
    )
    if self_served:
        pass
    elif f.answered_at is not None:
        wait = max(0, int((f.answered_at - start).total_seconds()))
        fast = wait <= SERVICE_LEVEL_SECONDS
        rows.append(("calls", district, "answered_fast" if fast else "answered_slow", 1))
        rows.append(("wait_sum", district, "", wait))
        rows.append(("wait_max", district, "", wait))
    else:
        rows.append(("calls", district, "abandoned", 1))
        rows.append(("abandoned_step", district, ivr_step(f.abandoned_step or f.ivr_step), 1))
        if f.ended_at is not None:
            wait = max(0, int((f.ended_at - start).total_seconds()))
            rows.append(("wait_max", district, "", wait))
    if f.voicemail:
        rows.append(("voicemail", district, "", 1))
    if f.callback_requested:
        rows.append(("callback", district, "", 1))
    return rows
