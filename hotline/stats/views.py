"""What the managers' dashboard shows, as plain data: groups of sections, each a table
(and the chart drawn from the same rows). The page, the CSV/XLSX exports and the
6-monthly / annual workbook are all rendered from this, so they show exactly the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from hotline.stats.definitions import CASE_MULTI, CASE_PARTITIONS, INDICATORS
from hotline.stats.report import PROVINCE, Metric, Report
from routing.places import load_gazetteer


@dataclass
class Value:
    """One number as shown: ``kind`` says how to format it; None = suppressed."""

    v: int | float | None
    kind: str = "count"  # count | rate | seconds | minutes


@dataclass
class Section:
    id: str
    title: str
    headers: list[str]
    rows: list[list[str | Value]]
    chart: str | None = None  # bars | columns | progress | None
    note: str | None = None


@dataclass
class Group:
    id: str
    title: str
    sections: list[Section] = field(default_factory=list)


GROUP_TITLES = {
    "indicators": _l("Plan indicators"),
    "hotline": _l("Hotline service"),
    "place": _l("Cases by place"),
    "type": _l("Cases by type of violence"),
    "people": _l("Survivors and perpetrators"),
    "handling": _l("Channel, risk and outcome"),
}

INDICATOR_NAMES = {
    "SUPPORT_ACCESS": _l("Detected GBV victims who received at least one basic support service"),
    "PERPETRATOR_COUNSELLING": _l(
        "Detected perpetrators (not criminally prosecuted) who received counselling"
    ),
    "TRAFFICKING_SUPPORT": _l(
        "Returned trafficking victims needing support who received services"
    ),
}
INDICATOR_DEFINITIONS = {
    "SUPPORT_ACCESS": _l(
        "Denominator: cases with reporting consent and at least one violence type other "
        "than “not gender-based violence”. Numerator: those with a referral where a "
        "service was recorded as received."
    ),
    "PERPETRATOR_COUNSELLING": _l(
        "Denominator: such GBV cases whose perpetrator is identified (relationship "
        "recorded) and not recorded as criminally prosecuted. Numerator: those where the "
        "perpetrator was recorded as counselled."
    ),
    "TRAFFICKING_SUPPORT": _l(
        "Denominator: cases with reporting consent in the trafficking context with at "
        "least one need. Numerator: those with a service recorded as received."
    ),
}
METRIC_NAMES = {
    "CALLS_OFFERED": _l("Calls offered"),
    "CALLS_ANSWERED": _l("Calls answered"),
    "CALLS_ABANDONED": _l("Calls abandoned"),
    "ANSWER_RATE": _l("Answer rate"),
    "SERVICE_LEVEL_20S": _l("Service level (answered within 20 s)"),
    "AVG_SPEED_OF_ANSWER_S": _l("Average speed of answer (seconds)"),
    "LONGEST_WAIT_S": _l("Longest wait (seconds)"),
    "VOICEMAILS": _l("Voicemails"),
    "CALLBACKS_REQUESTED": _l("Callbacks requested"),
    "SMS_CONVERSATIONS": _l("SMS conversations"),
    "REFERRAL_ACK_MEDIAN_MIN": _l("Time to referral acknowledgement, median (minutes)"),
    "REFERRAL_ACK_P90_MIN": _l("Time to referral acknowledgement, 90th percentile (minutes)"),
    "ESCALATIONS": _l("Escalations"),
}
DIMENSION_TITLES = {
    "sex": _l("Cases by survivor sex"),
    "age_band": _l("Cases by survivor age"),
    "relationship": _l("Cases by perpetrator relationship"),
    "channel": _l("Cases by channel"),
    "risk": _l("Cases by risk"),
    "outcome": _l("Cases by outcome"),
    "violence_type": _l("Cases by violence type"),
    "context": _l("Cases by context"),
}
OUTCOME_LABELS = {
    "service_received": _l("Service received"),
    "referred": _l("Referred, no service recorded yet"),
    "not_referred": _l("Not referred"),
}
STEP_NOTE = _l("IVR step codes as the telephony flow records them.")


def code_label(dimension: str, code: str) -> str:
    if code == "unknown":
        return _("Not known")
    if dimension == "outcome":
        return str(OUTCOME_LABELS.get(code, code))
    if dimension == "relationship" and code == "other":
        return _("Other")
    try:
        from hotline.labels import label
    except ImportError:  # pragma: no cover - the web labels are part of the app
        return code
    return label(code, dimension)


def place_label(code: str) -> str:
    if code == "unknown":
        return _("Place not known")
    g = load_gazetteer()
    unit = g.district(code) if len(code) == 3 else g.commune(code)
    return unit.full_name if unit else code


def metric_name(code: str) -> str:
    if code in METRIC_NAMES:
        return str(METRIC_NAMES[code])
    if code.startswith("CALLS_ABANDONED_STEP_"):
        return _(
            "Abandoned at step: %(step)s", step=code.removeprefix("CALLS_ABANDONED_STEP_").lower()
        )
    return code


def area_label(report: Report) -> str:
    return _("Quảng Ninh province") if report.area == PROVINCE else place_label(report.area)


def build_groups(report: Report, monthly: list[Report] | None = None) -> list[Group]:
    """Every section of the dashboard for one report (and its months, for the trends)."""
    groups = {gid: Group(gid, str(title)) for gid, title in GROUP_TITLES.items()}

    # Plan indicators.
    rows: list[list[str | Value]] = []
    for ind, m in zip(INDICATORS, report.indicators(), strict=True):
        rows.append(
            [
                str(INDICATOR_NAMES[ind.code]),
                ind.plan_ref,
                Value(m.numerator),
                Value(m.denominator),
                Value(m.value, "rate"),
                Value(m.target, "rate"),
            ]
        )
    groups["indicators"].sections.append(
        Section(
            "indicators",
            _("Progress against the plan's targets"),
            [_("Indicator"), _("Plan"), _("Numerator"), _("Denominator"), _("Share"), _("Target")],
            rows,
            chart="progress",
            note=" ".join(str(INDICATOR_DEFINITIONS[i.code]) for i in INDICATORS),
        )
    )

    # Hotline metrics.
    metrics = report.metrics()
    groups["hotline"].sections.append(
        Section(
            "metrics",
            _("Hotline service metrics"),
            [_("Measure"), _("Value"), _("Out of")],
            [
                [metric_name(m.code), Value(m.value, m.kind), Value(m.denominator)]
                for m in metrics
                if not m.code.startswith("CALLS_ABANDONED_STEP_")
            ],
        )
    )
    steps = [m for m in metrics if m.code.startswith("CALLS_ABANDONED_STEP_")]
    if steps:
        groups["hotline"].sections.append(
            Section(
                "abandoned_steps",
                _("Calls abandoned, by IVR step"),
                [_("Step"), _("Calls")],
                [
                    [m.code.removeprefix("CALLS_ABANDONED_STEP_").lower(), Value(m.value)]
                    for m in steps
                ],
                chart="bars",
                note=str(STEP_NOTE),
            )
        )
    if monthly and len(monthly) > 1:
        trend = []
        for mr in monthly:
            mm = {m.code: m for m in mr.metrics()}
            trend.append(
                [
                    mr.period.code,
                    Value(mm["CALLS_OFFERED"].value),
                    Value(mm["CALLS_ANSWERED"].value),
                    Value(mm["CALLS_ABANDONED"].value),
                    Value(mm["ANSWER_RATE"].value, "rate"),
                    Value(mm["SERVICE_LEVEL_20S"].value, "rate"),
                    Value(mr.value("cases")),
                ]
            )
        groups["hotline"].sections.append(
            Section(
                "trend",
                _("Month by month"),
                [
                    _("Month"),
                    _("Calls offered"),
                    _("Calls answered"),
                    _("Calls abandoned"),
                    _("Answer rate"),
                    _("Service level"),
                    _("Cases"),
                ],
                trend,
                chart="columns",
            )
        )

    # Cases by place.
    total = report.value("cases")
    if report.area == PROVINCE:
        groups["place"].sections.append(
            Section(
                "districts",
                _("Cases by former district"),
                [_("Former district"), _("Cases")],
                [[place_label(d), Value(v)] for d, v in report.by_district()]
                + [[_("Total"), Value(total)]],
                chart="bars",
            )
        )
    communes = sorted(report.communes(), key=lambda cv: place_label(cv[0]))
    groups["place"].sections.append(
        Section(
            "communes",
            _("Cases by commune (since 1 July 2025)"),
            [_("Commune"), _("Cases")],
            [[place_label(c), Value(v)] for c, v in communes] + [[_("Total"), Value(total)]],
            chart="bars",
        )
    )

    # Case breakdowns.
    for gid, dims in (
        ("type", list(CASE_MULTI)),
        ("people", ["sex", "age_band", "relationship"]),
        ("handling", ["channel", "risk", "outcome"]),
    ):
        for dim in dims:
            codes = list(CASE_PARTITIONS.get(dim) or CASE_MULTI[dim])
            rows = [[code_label(dim, c), Value(v)] for c, v in report.breakdown(dim, codes)]
            note = None
            if dim in CASE_MULTI:
                note = _("A case can have several; these do not add up to the total.")
            else:
                rows.append([_("Total"), Value(total)])
            groups[gid].sections.append(
                Section(
                    dim,
                    str(DIMENSION_TITLES[dim]),
                    [_("Category"), _("Cases")],
                    rows,
                    "bars",
                    note,
                )
            )
    return list(groups.values())


def metric_by_code(metrics: list[Metric]) -> dict[str, Metric]:
    return {m.code: m for m in metrics}
