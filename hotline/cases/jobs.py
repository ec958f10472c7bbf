"""Background work of the cases package."""

from __future__ import annotations

from sqlalchemy import select

from hotline.jobs import registry
from hotline.privacy import number_hash
from models import Case, db

BATCH = 500


@registry.register("cases.hash_safe_numbers")
def hash_safe_numbers(limit: int = 5_000) -> int:
    """Give cases recorded before number search (issue 13) the keyed hash of their
    safe-contact number, a batch at a time; 0 once every case has one."""
    done = 0
    while done < limit:
        cases = list(
            db.session.scalars(
                select(Case)
                .where(Case.safe_hash.is_(None), Case.safe_phone.is_not(None))
                .order_by(Case.id)
                .limit(BATCH)
            )
        )
        if not cases:
            break
        for case in cases:
            case.safe_hash = number_hash(case.safe_phone)
        db.session.commit()
        done += len(cases)
    return done
