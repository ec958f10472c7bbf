"""The bridge between the database and the pure routing engine.

``current_directory()`` turns the active service points into ``routing.select`` values once
per directory version (a cheap query tells whether anything changed), so routing a case
costs one small query plus the in-memory decision.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select

from models import ServicePoint, db
from models.types import utcnow
from routing.hours import parse_hours
from routing.select import Decision, Directory, choose_service_point
from routing.select import ServicePoint as RoutingPoint

_cache: dict[tuple, Directory] = {}


def _usable_points():
    query = select(ServicePoint).where(ServicePoint.active.is_(True))
    if current_app.config["HOTLINE_ENV"] == "production":
        # Sample rows must never receive a real case.
        query = query.where(ServicePoint.is_sample.is_(False))
    return query


def version_columns() -> tuple:
    """The directory's version as two scalar subqueries (count of active points, their
    latest change), so a caller can read it in a statement it runs anyway."""
    active = ServicePoint.active.is_(True)
    return (
        select(func.count(ServicePoint.id)).where(active).scalar_subquery(),
        select(func.max(ServicePoint.updated_at)).where(active).scalar_subquery(),
    )


def current_directory(version: tuple | None = None) -> Directory:
    """The routing directory for the active service points (cached per version; the
    version is read now unless the caller read it already, see :func:`version_columns`)."""
    if version is None:
        version = tuple(db.session.execute(select(*version_columns())).one())
    version = (version[0], _aware(version[1]))
    key = (str(db.engine.url), current_app.config["HOTLINE_ENV"], *version)
    directory = _cache.get(key)
    if directory is None:
        points = [
            RoutingPoint(
                code=p.code,
                name=p.name,
                kind=p.kind,
                commune_code=p.commune_code,
                district_code=p.district_code,
                phone=p.phone or "",
                services=frozenset(p.service_list),
                hours=parse_hours(p.hours),
                capacity=p.capacity,
                occupancy=p.occupancy,
                sms_name=p.sms_name or None,
            )
            for p in db.session.scalars(_usable_points())
        ]
        directory = Directory(points)
        _cache.clear()
        _cache[key] = directory
    return directory


def _aware(value):
    """A version timestamp as an aware UTC datetime (SQLite gives it naive, or as text
    from a scalar subquery), so both ways of reading the version give the same key."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if isinstance(value, datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value


def decide(
    place: object,
    *,
    needs: frozenset[str] | set[str] = frozenset(),
    risk: str = "medium",
    age_band: str = "unknown",
    now: datetime | None = None,
    version: tuple | None = None,
) -> Decision:
    """Route a place (PlaceMatch, Resolution, codes mapping or None) with the live directory
    (``version``: the directory version the caller already read)."""
    return choose_service_point(
        place,
        frozenset(needs),
        risk,
        age_band,
        now or utcnow(),
        current_directory(version),
        tz=ZoneInfo(current_app.config["HOTLINE_TIMEZONE"]),
    )
