"""The bridge between the database and the pure routing engine.

``current_directory()`` turns the active service points into ``routing.select`` values once
per directory version (one row the database moves on at every change of a service point,
migration 0019), so routing a case costs a primary-key read plus the in-memory decision.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from models import DirectoryVersion, ServicePoint, db
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


#: The directory's version, as SQL for statements that read it with what they read anyway
#: (NULL only if its row was deleted: then nothing is cached).
VERSION_SQL = "(SELECT version FROM directory_version WHERE id = 1)"
_VERSION = select(DirectoryVersion.version).where(DirectoryVersion.id == 1)


def current_directory(version: int | None = None) -> Directory:
    """The routing directory for the active service points (cached per version; the
    version is read now unless the caller read it already, see :data:`VERSION_SQL`)."""
    if version is None:
        version = db.session.scalar(_VERSION)
    key = (str(db.engine.url), current_app.config["HOTLINE_ENV"], version)
    directory = _cache.get(key) if version is not None else None
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
        if version is not None:
            _cache[key] = directory
    return directory


def decide(
    place: object,
    *,
    needs: frozenset[str] | set[str] = frozenset(),
    risk: str = "medium",
    age_band: str = "unknown",
    now: datetime | None = None,
    version: int | None = None,
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
