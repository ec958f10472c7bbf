"""The managers' statistics dashboard and its exports (``GET /api/v1/stats`` is in
:mod:`hotline.api.stats`).

Managers only, anonymised only: every number comes from
:func:`hotline.stats.report.build_report`, which applies consent and suppression.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from hotline.dashboard import charts, overview, tilemap
from hotline.stats.messages import area_error, check_area, period_error
from hotline.stats.periods import Period, PeriodError, custom, half, month, parse_period
from hotline.stats.report import PROVINCE, build_report, district_codes, monthly_reports
from hotline.stats.rollup import timezone_name
from hotline.stats.views import (
    GROUP_TITLES,
    INDICATOR_NAMES,
    Value,
    build_groups,
    place_label,
)
from hotline.web.security import login_required
from models import ReportPush, db
from models.types import utcnow
from routing.places import load_gazetteer

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")

#: The page's tabs (``?tab=``): the overview, one per group of detail tables, the pushes.
TABS: tuple[tuple[str, object], ...] = (
    ("overview", _l("Overview")),
    *GROUP_TITLES.items(),
    ("pushes", _l("Pushes")),
)
TAB_IDS = tuple(t for t, _label in TABS)
#: Query parameters that select the view (kept by the tabs and the exports).
VIEW_ARGS = ("range", "period", "from", "to", "start", "end", "district")
#: The first year the service reports on (it opened in 2025).
FIRST_YEAR = 2025


def default_period(today: date) -> Period:
    return half(today.year, 1 if today.month <= 6 else 2)


def _month_start(text: str) -> date:
    """The first day of a ``YYYY-MM`` month (what ``<input type=month>`` sends)."""
    try:
        y, m = text.split("-")
        if len(y) != 4 or len(m) != 2:
            raise ValueError(text)
        return date(int(y), int(m), 1)
    except ValueError:
        raise PeriodError("format", "months") from None


def _month_end(text: str) -> date:
    first = _month_start(text)
    nxt = date(first.year + 1, 1, 1) if first.month == 12 else date(first.year, first.month + 1, 1)
    return nxt - timedelta(days=1)


def _refusal(exc: PeriodError) -> str:
    """Words for a period the periods module refused: its own reason when the shared
    messages have nothing specific to say about the code."""
    message = period_error(exc)
    if exc.code in ("format", "order", "length", "range"):
        return message
    generic = period_error(PeriodError("format", ""))
    if message != generic:
        return message
    return _("This range cannot be used: %(reason)s", reason=str(exc))


def selection(args) -> tuple[Period | None, str | None, dict[str, str]]:
    """The period and area the request asks for, with field errors. A custom range is
    given in whole months (``from``/``to`` as ``YYYY-MM``); ``start``/``end`` dates are
    still read for old links and go through the same checks of the periods module."""
    errors: dict[str, str] = {}
    period = None
    first, last = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    start, end = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    chosen = args.get("period")
    # The form says which of its two controls counts; links without it use whichever
    # is there (a custom range before a reporting period).
    if args.get("range") == "period":
        first = last = start = end = ""
    elif args.get("range") == "months":
        chosen = None
    months_asked = args.get("range") == "months" or bool(first or last)
    try:
        if months_asked:
            if not (first and last):
                raise PeriodError("format", "months")
            period = custom(_month_start(first), _month_end(last))
        elif start or end:
            try:
                period = custom(date.fromisoformat(start), date.fromisoformat(end))
            except ValueError as exc:
                if isinstance(exc, PeriodError):
                    raise
                raise PeriodError("format", "dates") from None
        elif chosen:
            period = parse_period(chosen)
        else:
            from hotline.stats.periods import local_day

            period = default_period(local_day(utcnow(), timezone_name()))
    except PeriodError as exc:
        if exc.code == "format" and months_asked:
            errors["period"] = _("Give both months, from and to, as YYYY-MM.")
        elif exc.code == "format" and (start or end):
            errors["period"] = _("Give both dates as YYYY-MM-DD.")
        else:
            errors["period"] = _refusal(exc)
    area = check_area(args.get("district"))
    if area is None:
        errors["district"] = area_error()
    return period, area, errors


def fmt(value: Value) -> str:
    """A value as the active locale writes it (suppressed values get a marker)."""
    if value.v is None:
        return "—"
    if value.kind == "rate":
        return format_percent(value.v, "#,##0.0%")
    if value.kind in ("seconds",):
        return format_decimal(value.v, "#,##0.#")
    return format_decimal(value.v)


def fmt_unit(value: Value | None) -> str:
    """A value with its unit, for the KPI tiles ("12.5 s", "35 min"); "n/a" where the
    measure does not apply."""
    if value is None:
        return _("n/a")
    if value.v is None:
        return "—"
    if value.kind == "seconds":
        return _("%(n)s s", n=format_decimal(value.v, "#,##0.#"))
    if value.kind == "minutes":
        return _("%(n)s min", n=format_decimal(value.v, "#,##0"))
    return fmt(value)


def fmt_change(c: overview.Change) -> str:
    """A KPI's change in words and signs; "no data" where a change would mislead."""
    if c.delta is None:
        return {
            "suppressed": _("hidden (small numbers)"),
            "not_applicable": _("none in this period"),
            "previous_zero": _("no data: 0 before"),
            "previous_suppressed": _("no data: hidden before"),
            "previous_not_applicable": _("no data: none before"),
        }.get(c.reason or "", _("no data for the previous period"))
    sign = "+" if c.delta > 0 else "−" if c.delta < 0 else "±"
    n = format_decimal(abs(c.delta), "#,##0.#")
    if c.unit == "percent":
        return f"{sign}{n} %"
    if c.unit == "points":
        return _("%(sign)s%(n)s percentage points", sign=sign, n=n)
    if c.unit == "seconds":
        return _("%(sign)s%(n)s s", sign=sign, n=n)
    return _("%(sign)s%(n)s min", sign=sign, n=n)


def period_name(period: Period) -> str:
    """A period as people say it: "March 2026", "First half of 2026", "Year 2026"."""
    if period.kind == "month":
        return format_date(period.start, "MMMM y")
    if period.kind == "half":
        if period.start.month == 1:
            return _("First half of %(year)s", year=period.start.year)
        return _("Second half of %(year)s", year=period.start.year)
    if period.kind == "year":
        return _("Year %(year)s", year=period.start.year)
    if period.start.day == 1 and period.end.day == 1:
        return _(
            "%(start)s to %(end)s",
            start=format_date(period.start, "MM/y"),
            end=format_date(period.last_day, "MM/y"),
        )
    return _period_label(period)


def period_options(today: date, chosen: Period | None) -> list[tuple[str, list[tuple[str, str]]]]:
    """The periods offered in the picker, newest first, grouped by year: the year, its
    halves and its months, only those that have begun."""
    groups = []
    for y in range(today.year, FIRST_YEAR - 1, -1):
        options = [(str(y), _("Year %(year)s", year=y))]
        for h in (2, 1):
            p = half(y, h)
            if p.start <= today:
                options.append((p.code, period_name(p)))
        for m in range(12, 0, -1):
            p = month(y, m)
            if p.start <= today:
                options.append((p.code, period_name(p)))
        groups.append((str(y), options))
    if chosen is not None and chosen.kind != "custom":
        codes = {c for _y, opts in groups for c, _n in opts}
        if chosen.code not in codes:
            groups.append((_("Other"), [(chosen.code, period_name(chosen))]))
    return groups


def _today() -> date:
    from hotline.stats.periods import local_day

    return local_day(utcnow(), timezone_name())


def _tab(args) -> str:
    tab = (args.get("tab") or "overview").strip()
    return tab if tab in TAB_IDS else "overview"


def _page(template: str, status: int = 200, **context):
    period = context.get("period")
    return (
        render_template(
            template,
            args=request.args,
            districts=_districts(),
            period_groups=period_options(_today(), period),
            selected_period=(
                request.args.get("period")
                or (period.code if period and period.kind != "custom" else "")
            ),
            tabs=[(t, str(label)) for t, label in TABS],
            view_args={k: v for k, v in request.args.items() if k in VIEW_ARGS},
            indicator_names={k: str(v) for k, v in INDICATOR_NAMES.items()},
            fmt=fmt,
            fmt_unit=fmt_unit,
            fmt_change=fmt_change,
            **context,
        ),
        status,
    )


@bp.get("/")
@login_required("manager")
def index():
    """The overview (KPIs, plan indicators, trend, where cases come from) or one tab of
    detail tables (``?tab=``), for the chosen period and place."""
    period, area, errors = selection(request.args)
    tab = _tab(request.args)
    if errors:
        return _page("dashboard/index.html", 422, errors=errors, report=None, tab=tab, period=None)
    if tab == "pushes":
        return _page(
            "dashboard/index.html",
            errors={},
            report=None,
            tab=tab,
            period=period,
            pushes=_pushes(),
            **_heading(period, area),
        )
    report = build_report(period, area)
    context = {}
    if tab == "overview":
        context = _overview(period, area, report)
    else:
        monthly = None
        if tab == "hotline" and len(period.months()) > 1:
            monthly = monthly_reports(period, area)
        groups = [g for g in build_groups(report, monthly) if g.id == tab]
        context = {"groups": groups, "chart": lambda s: charts.render(s, fmt)}
        if tab == "indicators":
            context["progress"] = overview.indicator_progress(report)
    return _page(
        "dashboard/index.html",
        errors={},
        report=report,
        tab=tab,
        period=period,
        **_heading(period, area),
        **context,
    )


def _heading(period: Period, area: str) -> dict:
    return {
        "area_name": _("Quảng Ninh province") if area == PROVINCE else place_label(area),
        "period_name": period_name(period),
        "period_label": _period_label(period),
    }


def _overview(period: Period, area: str, report) -> dict:
    previous = overview.previous_period(period)
    prev_report = build_report(previous, area) if previous else None
    span = overview.trend_period(period)
    monthly = monthly_reports(span, area)
    months = [r.period.code for r in monthly]
    trend = {
        "months": months,
        "offered": [Value(r.value("calls")) for r in monthly],
        "answered": [Value(r.value("calls", result="answered")) for r in monthly],
        "cases": [Value(r.value("cases")) for r in monthly],
    }
    calls_title = _("Calls offered and answered, by month")
    cases_title = _("Cases, by month")
    series_calls = [
        (_("Calls offered"), trend["offered"]),
        (_("Calls answered"), trend["answered"]),
    ]
    series_cases = [(_("Cases"), trend["cases"])]
    trend_charts = {
        "calls": [
            charts.lines(months, series_calls, fmt, calls_title, narrow=n) for n in (False, True)
        ],
        "cases": [
            charts.lines(months, series_cases, fmt, cases_title, narrow=n) for n in (False, True)
        ],
    }
    g = load_gazetteer()
    short = {d.code: d.name for d in g.districts}
    districts = [(d, place_label(d), Value(v)) for d, v in report.by_district() if d != "unknown"]
    unknown = next((Value(v) for d, v in report.by_district() if d == "unknown"), None)
    map_values = {d: v for d, _n, v in districts}
    map_title = _("Cases by former district: map")
    tile_maps = [
        charts.tile_map(map_values, short, fmt, map_title, narrow=n) for n in (False, True)
    ]
    ranked_districts = rank([(short.get(d, name), v) for d, name, v in districts])
    communes = rank([(place_label(c), Value(v)) for c, v in report.communes()])
    unknown_commune = place_label("unknown")
    # The chart ranks the communes with cases (or hidden small numbers); those with none
    # are listed in one line below it rather than drawn as dozens of empty bars.
    drawn = [(n, v) for n, v in communes if v.v != 0]
    half_at = (len(drawn) + 1) // 2
    commune_parts = [drawn[:half_at], drawn[half_at:]] if len(drawn) > 14 else [drawn]
    commune_charts = [
        charts.bars(part, fmt, _("Cases by commune, ranked")) for part in commune_parts if part
    ]
    return {
        "kpis": overview.kpis(report, prev_report),
        "previous": previous,
        "previous_name": period_name(previous) if previous else None,
        "progress": overview.indicator_progress(report),
        "trend": trend,
        "trend_span": span,
        "trend_charts": trend_charts,
        "tile_maps": tile_maps,
        "district_rows": districts,
        "map_keys": {code: t[2] for code, t in tilemap.TILES.items()},
        "unknown_place": unknown,
        "district_chart": (
            charts.bars(ranked_districts, fmt, _("Cases by former district, ranked"))
            if area == PROVINCE
            else None
        ),
        "ranked_districts": ranked_districts,
        "communes": communes,
        "communes_without": sorted(n for n, v in communes if v.v == 0 and n != unknown_commune),
        "commune_charts": commune_charts,
    }


def rank(rows: list[tuple[str, Value]]) -> list[tuple[str, Value]]:
    """Largest first; suppressed rows last (their rank is not known), in their order."""
    shown = sorted((r for r in rows if r[1].v is not None), key=lambda r: (-(r[1].v or 0), r[0]))
    return shown + [r for r in rows if r[1].v is None]


@bp.get("/print")
@login_required("manager")
def printable():
    """The 6-monthly or annual report as a page to print (or save as PDF from the
    browser's print dialogue), laid out as the province's report: the plan's indicators,
    then the counts by place, type of violence, sex and age, then the rest."""
    period, area, errors = selection(request.args)
    if errors:
        return _page(
            "dashboard/index.html", 422, errors=errors, report=None, tab="overview", period=None
        )
    report = build_report(period, area)
    monthly = monthly_reports(period, area) if len(period.months()) > 1 else None
    groups = build_groups(report, monthly)
    sections = {s.id: s for g in groups for s in g.sections}
    return _page(
        "dashboard/print.html",
        errors={},
        report=report,
        period=period,
        sections=sections,
        progress=overview.indicator_progress(report),
        generated=format_date(_today(), "long"),
        **_heading(period, area),
    )


def _context(period: Period, area: str):
    report = build_report(period, area)
    monthly = monthly_reports(period, area) if len(period.months()) > 1 else None
    return report, build_groups(report, monthly)


@bp.get("/export.<kind>")
@login_required("manager")
def export(kind: str):
    """CSV or XLSX of exactly the view on screen."""
    from hotline.reporting.exports import view_csv, view_xlsx

    if kind not in ("csv", "xlsx"):
        abort(404)
    period, area, errors = selection(request.args)
    if errors:
        abort(422)
    report, groups = _context(period, area)
    name = f"hotline-stats-{period.code.replace('..', '_')}-{area}"
    if kind == "csv":
        body, mime = view_csv(report, groups), "text/csv; charset=utf-8"
    else:
        body = view_xlsx(report, groups)
        mime = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return Response(
        body,
        mimetype=mime,
        headers={"Content-Disposition": f'attachment; filename="{name}.{kind}"'},
    )


@bp.get("/report.xlsx")
@login_required("manager")
def report_xlsx():
    """The 6-monthly or annual report workbook (one sheet per indicator group)."""
    from hotline.reporting.exports import report_workbook

    period, area, errors = selection(request.args)
    if errors or period.kind == "custom":
        abort(422)
    body = report_workbook(build_report(period, area))
    return Response(
        body,
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": (
                f'attachment; filename="hotline-report-{period.code}-{area}.xlsx"'
            )
        },
    )


def _period_label(period: Period) -> str:
    return _(
        "%(start)s to %(end)s",
        start=format_date(period.start, "medium"),
        end=format_date(period.last_day, "medium"),
    )


def _districts() -> list[tuple[str, str]]:
    return [(PROVINCE, _("Whole province"))] + [(d, place_label(d)) for d in district_codes()]


def _pushes() -> list[ReportPush]:
    return list(db.session.scalars(select(ReportPush).order_by(ReportPush.id.desc()).limit(10)))


def url_with(**kw) -> str:
    args = {k: v for k, v in request.args.items() if k not in kw}
    args.update({k: v for k, v in kw.items() if v})
    return url_for(request.endpoint, **args)
