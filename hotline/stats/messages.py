"""Words for people about periods and places (CLI, API and dashboard share them)."""

from __future__ import annotations

from flask_babel import gettext as _

from hotline.stats.periods import PeriodError
from hotline.stats.report import PROVINCE, district_codes


def period_error(exc: PeriodError) -> str:
    if exc.code == "order":
        return _("The end date is before the start date.")
    if exc.code == "length":
        return _("A custom range may cover at most three years.")
    if exc.code == "months":
        return _(
            "A custom range must start on the first day of a month and end on the last day "
            "of a month: only whole months can be protected together with the published "
            "months, half-years and years."
        )
    if exc.code == "custom":
        return _(
            "Only a month, a half-year or a year can be pushed; a range of months can be "
            "shown but not pushed."
        )
    if exc.code == "range":
        return _("This period is outside the years the service reports on.")
    return _("Give the period as YYYY-MM, YYYY-S1, YYYY-S2 or YYYY (for example 2026-S1).")


def check_area(value: str | None) -> str | None:
    """The area code for a report (``QN`` or a former district), or None when unknown."""
    value = (value or "").strip()
    if not value or value.upper() == PROVINCE:
        return PROVINCE
    return value if value in district_codes() else None


def area_error() -> str:
    return _("Choose a former district code of Quảng Ninh (3 digits), or QN for the province.")
