"""The managers' statistics dashboard and its exports (``GET /api/v1/stats`` is in
:mod:`hotline.api.stats`).

Managers only, anonymised only: every number comes from
:func:`hotline.stats.report.build_report`, which applies consent and suppression.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, Response, abort, render_template, request, url_for
from flask_babel import format_date, format_decimal, format_percent
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.dashboard import charts
from hotline.stats.messages import area_error, check_area, period_error
from hotline.stats.periods import Period, PeriodError, custom, half, parse_period
from hotline.stats.report import PROVINCE, build_report, district_codes, monthly_reports
from hotline.stats.rollup import timezone_name
from hotline.stats.views import Value, area_label, build_groups, place_label
from hotline.web.security import login_required
from models import ReportPush, db
from models.types import utcnow

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def default_period(today: date) -> Period:
    return half(today.year, 1 if today.month <= 6 else 2)


def selection(args) -> tuple[Period | None, str | None, dict[str, str]]:
    """The period and area the request asks for, with field errors."""
    errors: dict[str, str] = {}
    period = None
    start, end = (args.get("start") or "").strip(), (args.get("end") or "").strip()
    try:
        if start or end:
            try:
                period = custom(date.fromisoformat(start), date.fromisoformat(end))
            except ValueError as exc:
                if isinstance(exc, PeriodError):
                    raise
                raise PeriodError("format", "dates") from None
        elif args.get("period"):
            period = parse_period(args["period"])
        else:
            from hotline.stats.periods import local_day

            period = default_period(local_day(utcnow(), timezone_name()))
    except PeriodError as exc:
        errors["period"] = (
            _("Give both dates as YYYY-MM-DD.")
            if exc.code == "format" and (start or end)
            else period_error(exc)
        )
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


def _context(period: Period, area: str):
    report = build_report(period, area)
    monthly = monthly_reports(period, area) if len(period.months()) > 1 else None
    return report, build_groups(report, monthly)


@bp.get("/")
@login_required("manager")
def index():
    """Statistics for the chosen period and place, tables beside charts."""
    period, area, errors = selection(request.args)
    if errors:
        return (
            render_template(
                "dashboard/index.html",
                errors=errors,
                groups=[],
                report=None,
                args=request.args,
                districts=_districts(),
                pushes=_pushes(),
            ),
            422,
        )
    report, groups = _context(period, area)
    return render_template(
        "dashboard/index.html",
        errors={},
        report=report,
        groups=groups,
        args=request.args,
        fmt=fmt,
        chart=lambda s: charts.render(s, fmt),
        area_name=area_label(report),
        period_label=_period_label(period),
        districts=_districts(),
        pushes=_pushes(),
        export_args={
            k: v for k, v in request.args.items() if k in ("period", "start", "end", "district")
        },
    )


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
