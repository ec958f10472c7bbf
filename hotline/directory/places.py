"""Loading the bundled administrative units into the database."""

from __future__ import annotations

from dataclasses import dataclass

from models import CommuneMerge, District, NewCommune, OldCommune, db
from routing.places import Gazetteer, load_gazetteer


@dataclass(frozen=True)
class GeoLoadResult:
    districts: int
    old_communes: int
    communes: int
    merges: int
    changed: int


def load_places(gazetteer: Gazetteer | None = None) -> GeoLoadResult:
    """Upsert every unit and merge row; running it again changes nothing.

    Rows are matched by primary key and updated in place, so service points that refer
    to a commune keep working; one transaction, so a failure leaves the old data intact.
    """
    g = gazetteer or load_gazetteer()
    changed = 0
    sets = (
        (District, g.districts, ("code",)),
        (OldCommune, g.old_communes, ("code",)),
        (NewCommune, g.communes, ("code",)),
        (CommuneMerge, g.merges, ("new_code", "old_code")),
    )
    try:
        for model, rows, keys in sets:
            existing = {
                tuple(getattr(o, k) for k in keys): o for o in db.session.scalars(db.select(model))
            }
            for row in rows:
                values = {f: getattr(row, f) for f in row.__dataclass_fields__}
                obj = existing.get(tuple(values[k] for k in keys))
                if obj is None:
                    db.session.add(model(**values))
                    changed += 1
                elif any(getattr(obj, f) != v for f, v in values.items()):
                    for f, v in values.items():
                        setattr(obj, f, v)
                    changed += 1
            db.session.flush()
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return GeoLoadResult(
        districts=len(g.districts),
        old_communes=len(g.old_communes),
        communes=len(g.communes),
        merges=len(g.merges),
        changed=changed,
    )
