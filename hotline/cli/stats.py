"""``stats synthesize`` (realistic synthetic cases for benchmarks) and ``stats refresh``."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _
from sqlalchemy import func, insert, select, text

from hotline.stats.periods import month
from hotline.stats.report import places
from hotline.stats.rollup import rebuild, refresh_dirty
from models import Case, CaseCode, Contact, Referral, ServicePoint, StatRollup, db

cli = AppGroup("stats", help="Statistics: rollups and synthetic data for benchmarks.")

#: Approximate population (thousands, 2019 census) of the former districts: cases are
#: spread in proportion.
DISTRICT_WEIGHTS = {
    "193": 300,
    "194": 108,
    "195": 190,
    "196": 120,
    "198": 32,
    "199": 52,
    "200": 40,
    "201": 62,
    "202": 22,
    "203": 46,
    "205": 170,
    "206": 145,
    "207": 7,
}
CHANNELS = {"voice": 70, "sms": 20, "walk_in": 7, "other": 3}
SEXES = {"female": 82, "male": 12, "unknown": 6}
AGES = {"0-11": 5, "12-17": 9, "18-25": 17, "26-40": 36, "41-60": 24, "61+": 5, "unknown": 4}
RISKS = {"immediate": 8, "high": 22, "medium": 45, "low": 25}
TYPES = {
    "physical_assault": 45,
    "psychological_abuse": 40,
    "denial_of_resources": 10,
    "sexual_assault": 8,
    "rape": 4,
    "forced_marriage": 2,
}
RELATIONSHIPS = {
    "husband": 45,
    "former_partner": 6,
    "partner": 5,
    "parent": 8,
    "other_family": 6,
    "in_law": 6,
    "acquaintance": 8,
    "employer": 2,
    "teacher": 1,
    "stranger": 5,
    None: 8,
}
NEEDS = ("shelter", "medical", "psychosocial", "legal", "police", "counselling", "livelihood")
IVR_STEPS = {"welcome": 30, "menu": 40, "place": 10, "queue": 20}
BATCH = 5000
#: Every synthetic row is recognisable: references start with this, contacts use this
#: provider, and the one service point is a sample point.
SYNTHETIC = "SYN"


def _pick(rnd: random.Random, weights: dict):
    return rnd.choices(list(weights), weights=list(weights.values()))[0]


def _synthetic_point() -> int:
    point = db.session.scalar(select(ServicePoint).where(ServicePoint.code == "SYN-POINT"))
    if point is None:
        point = ServicePoint(
            code="SYN-POINT",
            name="[SYNTHETIC] benchmark service point",
            kind="social_work_center",
            is_sample=True,
            notes="synthetic data for statistics benchmarks",
        )
        db.session.add(point)
        db.session.flush()
    return point.id


def _next_id(column) -> int:
    return (db.session.scalar(select(func.max(column))) or 0) + 1


def _flush(table, rows: list[dict]) -> None:
    if rows:
        db.session.execute(insert(table), rows)
        rows.clear()


@cli.command("synthesize")
@click.option("--cases", "n_cases", type=click.IntRange(1, 5_000_000), default=10_000)
@click.option("--seed", type=int, default=7)
@click.option("--months", type=click.IntRange(1, 120), default=12)
@click.option(
    "--end", "end_month", default=None, help="Last month (YYYY-MM); default: last month."
)
def synthesize(n_cases: int, seed: int, months: int, end_month: str | None) -> None:
    """Insert realistic synthetic cases and contacts for benchmarks (never in production)."""
    if current_app.config["HOTLINE_ENV"] == "production":
        raise click.ClickException(_("Synthetic data is never created in production."))
    tz = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    today = datetime.now(tz).date()
    if end_month:
        y, m = (int(x) for x in end_month.split("-"))
    else:
        last = today.replace(day=1) - timedelta(days=1)
        y, m = last.year, last.month
    end = month(y, m).end
    start_y, start_m = y, m
    for _i in range(months - 1):
        start_y, start_m = (start_y - 1, 12) if start_m == 1 else (start_y, start_m - 1)
    start = date(start_y, start_m, 1)
    lo = datetime.combine(start, time(), tz).astimezone(UTC)
    span = (datetime.combine(end, time(), tz).astimezone(UTC) - lo).total_seconds()

    rnd = random.Random(seed)  # noqa: S311 - synthetic data, not secrets
    _districts, pairs = places()
    communes_of: dict[str, list[str]] = {}
    for d, c in pairs:
        communes_of.setdefault(d, []).append(c)
    point_id = _synthetic_point()
    case_id = _next_id(Case.id)
    referral_id = _next_id(Referral.id)
    contact_id = _next_id(Contact.id)
    cases: list[dict] = []
    codes: list[dict] = []
    referrals: list[dict] = []
    contacts: list[dict] = []
    click.echo(
        _(
            "Creating %(n)d synthetic cases from %(start)s to %(end)s…",
            n=n_cases,
            start=start,
            end=end,
        )
    )
    with click.progressbar(length=n_cases, label=_("Cases")) as bar:
        for _n in range(n_cases):
            created = lo + timedelta(seconds=rnd.random() * span)
            district = _pick(rnd, DISTRICT_WEIGHTS)
            commune = rnd.choice(communes_of[district]) if rnd.random() < 0.9 else None
            channel = _pick(rnd, CHANNELS)
            age = _pick(rnd, AGES)
            referral = rnd.random() < 0.8
            prosecuted = rnd.choices([True, False, None], [10, 60, 30])[0]
            cases.append(
                {
                    "id": case_id,
                    "reference": f"{SYNTHETIC}{case_id:012d}",
                    "channel": channel,
                    "commune_code": commune,
                    "district_code": district,
                    "survivor_sex": _pick(rnd, SEXES),
                    "survivor_age_band": age,
                    "perpetrator_relationship": _pick(rnd, RELATIONSHIPS),
                    "risk": _pick(rnd, RISKS),
                    "consent_referral": referral,
                    "consent_follow_up": False,
                    "consent_reporting": rnd.random() < 0.85,
                    "safe_channel": "none",
                    "status": "referred" if referral else "open",
                    "perpetrator_prosecuted": prosecuted,
                    "perpetrator_counselled": (not prosecuted) and rnd.random() < 0.45,
                    "legal_hold": False,
                    "created_at": created,
                    "updated_at": created,
                }
            )
            if rnd.random() < 0.08:
                types = {"non_gbv"}
            else:
                types = {_pick(rnd, TYPES) for _k in range(rnd.choice((1, 1, 2)))}
            contexts = set()
            if rnd.random() < 0.7:
                contexts.add("domestic_violence")
            if age in ("0-11", "12-17") and rnd.random() < 0.5:
                contexts.add("child_abuse")
            if rnd.random() < 0.015:
                contexts.add("trafficking")
            if rnd.random() < 0.05:
                contexts.add("sexual_harassment")
            needs = set(rnd.sample(NEEDS, rnd.choice((1, 1, 2, 3))))
            for dim, values in (("violence_type", types), ("context", contexts), ("need", needs)):
                codes += [{"case_id": case_id, "dimension": dim, "code": v} for v in values]
            if referral:
                acked = rnd.random() < 0.92
                ack_at = (
                    created + timedelta(minutes=rnd.lognormvariate(2.1, 1.0)) if acked else None
                )
                served = acked and rnd.random() < 0.75
                referrals.append(
                    {
                        "id": referral_id,
                        "case_id": case_id,
                        "service_point_id": point_id,
                        "step": 0,
                        "status": "closed" if served else ("acknowledged" if acked else "pending"),
                        "urgency": "normal",
                        "chosen_by": "routing",
                        "acknowledged_at": ack_at,
                        "services_received": sorted(needs)[:1] if served else None,
                        "outcome_at": ack_at + timedelta(days=2) if served else None,
                        "created_at": created,
                    }
                )
                referral_id += 1
            if channel in ("voice", "sms"):
                # The call or conversation that led to the case, and sometimes an abandoned
                # call before it.
                for abandoned in (False, True) if rnd.random() < 0.25 else (False,):
                    started = created - timedelta(minutes=rnd.randint(5, 60) if abandoned else 3)
                    wait = rnd.expovariate(1 / 14)
                    answered = (
                        None
                        if abandoned or channel == "sms"
                        else started + timedelta(seconds=wait)
                    )
                    contacts.append(
                        {
                            "id": contact_id,
                            "channel": channel if not abandoned else "voice",
                            "provider": "synthetic",
                            "provider_sid": None,
                            "status": "closed",
                            "language": "vi",
                            "ivr_step": None,
                            "district_code": district,
                            "commune_code": commune,
                            "place_asks": 0,
                            "callback_requested": abandoned and rnd.random() < 0.3,
                            "started_at": started,
                            "answered_at": answered,
                            "ended_at": started + timedelta(seconds=wait + 300),
                            "abandoned_step": _pick(rnd, IVR_STEPS) if abandoned else None,
                            "updated_at": started,
                        }
                    )
                    contact_id += 1
            case_id += 1
            if len(cases) >= BATCH:
                _flush(Case.__table__, cases)
                _flush(CaseCode.__table__, codes)
                _flush(Referral.__table__, referrals)
                _flush(Contact.__table__, contacts)
                db.session.commit()
                bar.update(BATCH)
        for table, rows in (
            (Case.__table__, cases),
            (CaseCode.__table__, codes),
            (Referral.__table__, referrals),
            (Contact.__table__, contacts),
        ):
            _flush(table, rows)
        db.session.commit()
        bar.update(n_cases % BATCH)
    if db.engine.dialect.name == "postgresql":
        for table in ("hotline_case", "referral", "contact"):
            db.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
            )
        db.session.commit()
        for table in ("hotline_case", "case_code", "referral", "contact"):
            db.session.execute(text(f"ANALYZE {table}"))
        db.session.commit()
    _rebuild(start - timedelta(days=1), end + timedelta(days=1))


def _rebuild(start: date, end: date) -> None:
    days = (end - start).days
    with click.progressbar(length=days, label=_("Rollups")) as bar:
        rebuild(start, end, progress=bar.update)
    click.echo(_("Done."))


@cli.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Rebuild every day that has data.")
def refresh(everything: bool) -> None:
    """Recompute the daily rollups of changed days (or of every day with --all)."""
    if not everything:
        n = refresh_dirty()
        click.echo(_("%(n)d days refreshed.", n=n))
        return
    first = db.session.scalar(select(func.min(Case.created_at)))
    first_contact = db.session.scalar(select(func.min(Contact.started_at)))
    candidates = [d for d in (first, first_contact) if d is not None]
    if not candidates:
        db.session.execute(StatRollup.__table__.delete())
        db.session.commit()
        click.echo(_("Done."))
        return
    start = min(candidates).date() - timedelta(days=1)
    end = datetime.now(UTC).date() + timedelta(days=2)
    _rebuild(start, end)
