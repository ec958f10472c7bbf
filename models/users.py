"""People who use the service and the API tokens they hold."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Column, ForeignKey, Integer, String, Table
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models import db
from models.directory import ServicePoint
from models.types import UTCDateTime, utcnow

user_service_point = Table(
    "user_service_point",
    db.metadata,
    Column("user_id", ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
    Column("service_point_id", ForeignKey("service_point.id"), primary_key=True),
)


class User(db.Model):
    """A hotline operator, social worker, manager or administrator.

    A social worker sees only referrals to the service points in ``service_points``;
    ``phone`` is the staff phone rung for calls (operators) or used for duty alerts.
    """

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), index=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    on_duty: Mapped[bool] = mapped_column(Boolean, default=False)
    #: available | busy | away (operators); only on-duty, available operators are rung.
    availability: Mapped[str] = mapped_column(
        String(10), default="available", server_default="available"
    )
    availability_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The caller's call id while the operator is on a hotline call (busy set automatically).
    on_call_sid: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="vi")
    is_sample: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Set by an administrator: this user must enrol two-factor sign-in (admins and
    #: managers must anyway).
    totp_required: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    service_points: Mapped[list[ServicePoint]] = relationship(
        secondary=user_service_point, order_by=ServicePoint.code
    )
    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")


class ApiToken(db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: After this the token no longer works (``users token --expires-days``).
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="tokens")
