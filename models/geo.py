"""Administrative units of Quảng Ninh: pre-2025 districts and communes, 2025 communes and
the 2025 merge mapping between them (loaded by ``geo load`` from ``routing/data``).

The two versions live in separate tables because GSO codes are reused across them.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from models import db


class District(db.Model):
    """Pre-2025 district-level unit (thành phố, thị xã, huyện); still how people speak."""

    __tablename__ = "district"

    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(150))


class OldCommune(db.Model):
    """Pre-2025 commune-level unit, in force until 30 June 2025."""

    __tablename__ = "old_commune"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    district_code: Mapped[str] = mapped_column(ForeignKey("district.code"), index=True)
    full_name: Mapped[str] = mapped_column(String(150))


class NewCommune(db.Model):
    """Commune-level unit in force since 1 July 2025 (54 units, no district level)."""

    __tablename__ = "commune"

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(20))
    full_name: Mapped[str] = mapped_column(String(150))


class CommuneMerge(db.Model):
    """(Part of) an old commune that went into a new one (Resolution 1679/NQ-UBTVQH15)."""

    __tablename__ = "commune_merge"

    new_code: Mapped[str] = mapped_column(ForeignKey("commune.code"), primary_key=True)
    old_code: Mapped[str] = mapped_column(ForeignKey("old_commune.code"), primary_key=True)
    merge_type: Mapped[str] = mapped_column(String(10))  # full | partial
    resolution_clause: Mapped[str] = mapped_column(String(10))
