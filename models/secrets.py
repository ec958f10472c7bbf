"""Service secrets kept in the database, encrypted with the field keys."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from models import db
from models.types import EncryptedText, UTCDateTime, utcnow


class AppSecret(db.Model):
    """A named secret generated once (e.g. the key of the caller-number hash).

    Kept here rather than derived from ``SECRET_KEY`` or a Fernet key so that rotating
    those never changes a hash: a changed hash would forget who opted out.
    """

    __tablename__ = "app_secret"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
