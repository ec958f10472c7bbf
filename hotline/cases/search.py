"""The case list: newest first, filtered, paged by cursor, searched by reference or by
phone number (DESIGN.md section 11).

A number is found through the keyed number hash of the caller (the call or conversation
the case came from) and of the safe-contact number: no row is decrypted, and each search
by number is audit-logged (without the number).
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import Integer, Select, bindparam, exists, or_, select, tuple_

from hotline.audit import record_event
from hotline.cases.access import point_ids
from hotline.errors import ValidationError
from hotline.phones import search_phone
from hotline.privacy import number_hash
from models import Case, Contact, Referral, ServicePoint, User, db
from models.types import UTCDateTime

#: Case statuses a filter may name.
CASE_STATUSES = ("open", "referred", "closed")
DEFAULT_LIMIT = 50
MAX_LIMIT = 100
_REFERENCE = re.compile(r"QN\d{4}-[0-9A-Z]{5}")
_COMMUNE = re.compile(r"\d{5}")


@dataclass(frozen=True)
class CaseQuery:
    q: str | None = None
    status: str | None = None
    commune_code: str | None = None
    since: date | None = None
    until: date | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None


@dataclass(frozen=True)
class CaseRow:
    case: Case
    service_point: ServicePoint | None


@dataclass(frozen=True)
class CasePage:
    rows: list[CaseRow]
    next_cursor: str | None
    #: "reference", "number" or None: what the search text was taken as.
    searched_by: str | None


def _date(name: str, raw: str, errors: dict[str, list[str]]) -> date | None:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        # Years far from any case (0001 is before UTC can hold local midnight) are refused.
        if day is not None and 1900 <= day.year <= 9998:
            return day
    errors[name] = [_("Give a date as YYYY-MM-DD.")]
    return None


def parse_query(args) -> CaseQuery:
    """A :class:`CaseQuery` from request arguments; ValidationError naming every bad one."""
    errors: dict[str, list[str]] = {}
    q = (args.get("q") or "").strip() or None
    if q is not None and len(q) > 64:
        errors["q"] = [_("Give a case reference or a phone number.")]
    status = args.get("status") or None
    if status is not None and status not in CASE_STATUSES:
        errors["status"] = [_("Status is one of: %(choices)s.", choices=", ".join(CASE_STATUSES))]
    commune = args.get("commune_code") or None
    if commune is not None and not _COMMUNE.fullmatch(commune):
        errors["commune_code"] = [_("A commune code has 5 digits.")]
    since = _date("since", args["since"], errors) if args.get("since") else None
    until = _date("until", args["until"], errors) if args.get("until") else None
    if since and until and since > until:
        errors["until"] = [_("The end date is before the start date.")]
    limit = DEFAULT_LIMIT
    if (raw := args.get("limit")) not in (None, ""):
        if raw.isdigit() and 1 <= int(raw) <= MAX_LIMIT:
            limit = int(raw)
        else:
            errors["limit"] = [_("Limit is a whole number from 1 to %(n)d.", n=MAX_LIMIT)]
    cursor = args.get("cursor") or None
    if cursor is not None and _decode_cursor(cursor) is None:
        errors["cursor"] = [_("This cursor is not one this list gave.")]
    if errors:
        raise ValidationError(errors)
    return CaseQuery(q, status, commune, since, until, limit, cursor)


def _encode_cursor(case: Case) -> str:
    raw = f"{case.created_at.astimezone(UTC).isoformat()}|{case.id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str) -> tuple[datetime, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _sep, case_id = raw.partition("|")
        moment = datetime.fromisoformat(at)
        if moment.tzinfo is None or not case_id.isdigit() or len(cursor) > 100:
            return None
        return moment.astimezone(UTC), int(case_id)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None


def _local_midnight(day: date) -> datetime:
    zone = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    return datetime.combine(day, time.min, zone).astimezone(UTC)


def _scoped(query: Select, user: User) -> Select:
    if user.role == "operator":
        return query
    ids = point_ids(user) or [-1]
    return query.where(
        exists().where(Referral.case_id == Case.id, Referral.service_point_id.in_(ids))
    )


def search_cases(query: CaseQuery, user: User) -> CasePage:
    """One page of the cases ``user`` may see (operators: all; social workers: those
    referred to their points). The caller commits (a search by number writes audit)."""
    if user.role not in ("operator", "social_worker"):
        raise PermissionError(user.role)
    stmt = _scoped(select(Case), user)
    searched_by = None
    if query.q:
        reference = query.q.upper()
        phone = None if _REFERENCE.fullmatch(reference) else search_phone(query.q)
        if phone is not None:
            searched_by = "number"
            digest = number_hash(phone)
            # The caller's contacts first, as a plain list: a subquery inside the OR would
            # be planned as a filter over every case (docs/BENCHMARKS.md, workspace).
            contact_ids = list(
                db.session.scalars(select(Contact.id).where(Contact.caller_hash == digest))
            )
            matches = Case.safe_hash == digest
            if contact_ids:
                matches = or_(Case.contact_id.in_(contact_ids), matches)
            stmt = stmt.where(matches)
        else:
            searched_by = "reference"
            stmt = stmt.where(Case.reference == reference)
    if query.status:
        stmt = stmt.where(Case.status == query.status)
    if query.commune_code:
        stmt = stmt.where(Case.commune_code == query.commune_code)
    if query.since:
        stmt = stmt.where(Case.created_at >= _local_midnight(query.since))
    if query.until:
        stmt = stmt.where(Case.created_at < _local_midnight(query.until + timedelta(days=1)))
    if query.cursor:
        at, case_id = _decode_cursor(query.cursor)  # type: ignore[misc]
        # A row-value comparison, so the index on (created_at, id) starts at the cursor
        # instead of filtering every newer case (docs/BENCHMARKS.md, workspace).
        stmt = stmt.where(
            tuple_(Case.created_at, Case.id)
            < tuple_(
                bindparam("cursor_at", at, type_=UTCDateTime()),
                bindparam("cursor_id", case_id, type_=Integer()),
            )
        )
    stmt = stmt.order_by(Case.created_at.desc(), Case.id.desc()).limit(query.limit + 1)
    cases = list(db.session.scalars(stmt))
    more = len(cases) > query.limit
    cases = cases[: query.limit]
    if searched_by == "number":
        record_event(user, "case.search", "case", None, {"by": "number", "found": len(cases)})
    return CasePage(
        rows=_with_points(cases, user),
        next_cursor=_encode_cursor(cases[-1]) if more and cases else None,
        searched_by=searched_by,
    )


def _with_points(cases: list[Case], user: User) -> list[CaseRow]:
    """Each case with the point it is with: its first referral (one of the user's own
    for a social worker), else the routing decision's first point."""
    if not cases:
        return []
    ids = [c.id for c in cases]
    referrals = select(Referral.case_id, Referral.service_point_id).where(
        Referral.case_id.in_(ids)
    )
    if user.role == "social_worker":
        referrals = referrals.where(Referral.service_point_id.in_(point_ids(user) or [-1]))
    first: dict[int, int] = {}
    for case_id, point_id in db.session.execute(referrals.order_by(Referral.id)):
        first.setdefault(case_id, point_id)
    routed = {
        c.id: chain[0]
        for c in cases
        if c.id not in first and (chain := (c.routing or {}).get("chain"))
    }
    points = {}
    if first:
        points.update(
            {
                p.id: p
                for p in db.session.scalars(
                    select(ServicePoint).where(ServicePoint.id.in_(set(first.values())))
                )
            }
        )
    by_code = {}
    if routed:
        by_code = {
            p.code: p
            for p in db.session.scalars(
                select(ServicePoint).where(ServicePoint.code.in_(set(routed.values())))
            )
        }
    return [
        CaseRow(
            case=c,
            service_point=points.get(first[c.id])
            if c.id in first
            else by_code.get(routed.get(c.id)),
        )
        for c in cases
    ]
