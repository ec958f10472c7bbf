"""CSV and XLSX of exactly what the dashboard shows, and the 6-monthly / annual report
workbook (one sheet per indicator group). Suppressed values are written as the same
marker the page shows, never as numbers."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.stats.report import Report, monthly_reports
from hotline.stats.views import Group, Value, area_label, build_groups
from models.types import utcnow


def suppressed_marker() -> str:
    return _("suppressed")


def _plain(value: str | Value) -> str | int | float:
    if not isinstance(value, Value):
        return str(value)
    if value.v is None:
        return suppressed_marker()
    return value.v


def _meta(report: Report, generated_at: datetime) -> list[list[str]]:
    return [
        [_("Hotline 18001769 — anonymised statistics")],
        [_("Period"), report.period.code],
        [_("Area"), area_label(report)],
        [_("Generated (UTC)"), generated_at.strftime("%Y-%m-%d %H:%M")],
        [
            _(
                "Only cases with reporting consent. Counts from 1 to 4, and other cells "
                "that would reveal them, are suppressed."
            )
        ],
    ]


def view_csv(report: Report, groups: list[Group], generated_at: datetime | None = None) -> bytes:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    for row in _meta(report, generated_at or utcnow()):
        w.writerow(row)
    for group in groups:
        for section in group.sections:
            w.writerow([])
            w.writerow([group.title, section.title])
            w.writerow(section.headers)
            for row in section.rows:
                w.writerow([_plain(v) for v in row])
    # A byte-order mark so spreadsheet programs read the Vietnamese correctly.
    return ("\ufeff" + out.getvalue()).encode("utf-8")


_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


def _sheet_title(title: str, used: set[str]) -> str:
    base = _SHEET_BAD.sub(" ", title)[:28].strip() or "Sheet"
    name, n = base, 2
    while name in used:
        name = f"{base[:25]} {n}"
        n += 1
    used.add(name)
    return name


def view_xlsx(report: Report, groups: list[Group], generated_at: datetime | None = None) -> bytes:
    """One sheet per group, after an "About" sheet."""
    wb = Workbook()
    about = wb.active
    about.title = _sheet_title(_("About"), used := set())
    for row in _meta(report, generated_at or utcnow()):
        about.append(row)
    about["A1"].font = Font(bold=True)
    for group in groups:
        if not group.sections:
            continue
        ws = wb.create_sheet(_sheet_title(group.title, used))
        for section in group.sections:
            ws.append([section.title])
            ws.cell(row=ws.max_row, column=1).font = Font(bold=True)
            ws.append(section.headers)
            for row in section.rows:
                ws.append([_plain(v) for v in row])
                for col, v in enumerate(row, start=1):
                    if isinstance(v, Value) and v.v is not None and v.kind == "rate":
                        ws.cell(row=ws.max_row, column=col).number_format = "0.0%"
            if section.note:
                ws.append([section.note])
            ws.append([])
        ws.column_dimensions["A"].width = 48
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def report_workbook(report: Report) -> bytes:
    """The 6-monthly / annual report: every indicator group, with the months as trends."""
    monthly = (
        monthly_reports(report.period, report.area) if report.period.kind != "month" else None
    )
    return view_xlsx(report, build_groups(report, monthly))
