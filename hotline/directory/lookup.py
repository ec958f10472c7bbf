"""Particular points of the directory the rules name: the provincial centre (the end of
every fallback chain) and a commune's People's Committee."""

from __future__ import annotations

from sqlalchemy import select

from models import ServicePoint, db


def provincial_centre(exclude: set[str] | None = None) -> ServicePoint | None:
    """The province-wide social work centre (the end of every chain)."""
    return db.session.scalar(
        select(ServicePoint)
        .where(
            ServicePoint.kind == "social_work_center",
            ServicePoint.commune_code.is_(None),
            ServicePoint.district_code.is_(None),
            ServicePoint.active,
            ServicePoint.code.not_in(sorted(exclude or ())),
        )
        .order_by(ServicePoint.is_sample, ServicePoint.code)
    )


def commune_committee(commune_code: str | None) -> ServicePoint | None:
    """The commune People's Committee contact from the directory (kind commune_committee)."""
    if not commune_code:
        return None
    return db.session.scalar(
        select(ServicePoint)
        .where(
            ServicePoint.kind == "commune_committee",
            ServicePoint.commune_code == commune_code,
            ServicePoint.active,
        )
        .order_by(ServicePoint.code)
    )
