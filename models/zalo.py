"""The Zalo Official Account's API tokens, kept encrypted (DESIGN.md section 14)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class ZaloToken(db.Model):
    """The current access/refresh token pair (one row, ``id`` 1), seeded from
    ``ZALO_ACCESS_TOKEN``/``ZALO_REFRESH_TOKEN``.

    Zalo's refresh token works once: two refreshes at once would lose the pair. ``version``
    goes up with every refresh, so a sender that saw an expired token can tell whether
    someone else already refreshed it; ``refreshing_until`` is the lease of the one process
    refreshing (the compare-and-set on SQLite; PostgreSQL also holds the row lock).
    """

    __tablename__ = "zalo_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    access_token: Mapped[str] = mapped_column(EncryptedText)
    refresh_token: Mapped[str | None] = mapped_column(EncryptedText)
    #: When the access token stops working; None when unknown (a seeded token).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=0)
    refreshing_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
