"""``report push``, ``report show``, ``report log``, ``report xlsx`` and ``report schedule``."""

from __future__ import annotations

import json
import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.reporting.payload import FORMATS, body_bytes, json_payload
from hotline.stats.messages import area_error, check_area, period_error
from hotline.stats.periods import Period, PeriodError, parse_period
from models import ReportPush, db
from models.types import utcnow

cli = AppGroup("report", help="Anonymised reports: push, show, export.")


def _period(value: str, *, allow_custom: bool = False) -> Period:
    """A period for a command; ranges of whole months only where ``allow_custom`` (shown,
    never pushed: a push needs a month, half-year or year)."""
    try:
        return parse_period(value, allow_custom=allow_custom)
    except PeriodError as exc:
        reason = exc
        if not allow_custom and ".." in value:
            reason = PeriodError("custom", "custom ranges are never pushed")
        raise click.BadParameter(period_error(reason), param_hint="--period") from None


def _area(value: str | None) -> str:
    area = check_area(value)
    if area is None:
        raise click.BadParameter(area_error(), param_hint="--area")
    return area


@cli.command("push")
@click.option("--period", "period_text", required=True, help="2026-11, 2026-S1, 2026-S2 or 2026")
@click.option("--area", default="QN", show_default=True, help="QN or a former district code")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default=None)
def push(period_text: str, area: str, fmt: str | None) -> None:
    """Build the period's anonymised report and post it now (retried later if it fails)."""
    from hotline.reporting.push import PushDisabled, push_report

    period = _period(period_text)
    area = _area(area)
    click.echo(_("Building the report for %(period)s…", period=period.code))
    try:
        row = push_report(period, area, fmt)
    except PushDisabled:
        raise click.ClickException(
            _("Pushing is off: set REPORTING_URL and REPORTING_SECRET.")
        ) from None
    if row.status == "delivered":
        click.echo(
            _(
                "Delivered: %(period)s %(area)s (%(format)s), key %(key)s.",
                period=row.period,
                area=row.area,
                format=row.format,
                key=row.idempotency_key,
            )
        )
        return
    click.echo(
        _(
            "Not delivered (%(error)s); it will be retried at %(when)s.",
            error=row.error_code or row.status,
            when=row.next_attempt_at.isoformat() if row.next_attempt_at else "—",
        ),
        err=True,
    )
    sys.exit(1)


@cli.command("show")
@click.option(
    "--period", "period_text", required=True, help="2026-11, 2026-S1, 2026 or 2026-01..2026-04"
)
@click.option("--area", default="QN", show_default=True)
def show(period_text: str, area: str) -> None:
    """Print the anonymised JSON payload for a period (what a push would send; a range of
    whole months is shown as the dashboard shows it, and is never pushed)."""
    from hotline.stats.report import build_report

    report = build_report(_period(period_text, allow_custom=True), _area(area))
    payload = json_payload(report, utcnow())
    click.echo(json.dumps(json.loads(body_bytes(payload)), ensure_ascii=False, indent=2))


@cli.command("log")
@click.option("--limit", default=20, show_default=True)
def push_log(limit: int) -> None:
    """The latest pushes and their outcome."""
    for row in db.session.scalars(select(ReportPush).order_by(ReportPush.id.desc()).limit(limit)):
        click.echo(
            f"{row.id:>5} {row.period:<10} {row.area:<4} {row.format:<6} {row.status:<11} "
            f"{row.attempts:>3} {row.http_status or '-':>4} {row.error_code or '-':<12} "
            f"{row.pushed_at.isoformat() if row.pushed_at else '-'}"
        )


@cli.command("xlsx")
@click.option("--period", "period_text", required=True)
@click.option("--area", default="QN", show_default=True)
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def xlsx(period_text: str, area: str, path: str) -> None:
    """Write the 6-monthly / annual report workbook (one sheet per indicator group)."""
    from hotline.reporting.exports import report_workbook
    from hotline.stats.report import build_report

    report = build_report(_period(period_text), _area(area))
    with open(path, "wb") as f:
        f.write(report_workbook(report))
    click.echo(_("Written: %(path)s", path=path))


@cli.command("schedule")
def schedule() -> None:
    """Push whatever the schedule says is due now (the worker does this by itself)."""
    from hotline.reporting.schedule import run_scheduled_pushes

    rows = run_scheduled_pushes()
    for row in rows:
        click.echo(f"{row.period} {row.area} {row.format} {row.status}")
    if not rows:
        click.echo(_("Nothing is due."))
