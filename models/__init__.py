"""SQLAlchemy 2.x models of the hotline, one module per concept.

``models`` imports nothing from ``hotline``: the application binds ``db`` in its factory,
and jobs, commands and tests use the same models.
"""

from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations behave the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

from models.accounts import RecoveryCode, TwoFactor, UserSession  # noqa: E402
from models.audit import AuditEvent  # noqa: E402
from models.cases import Alert, Case, CaseCode, FollowUp, Referral  # noqa: E402
from models.contacts import CallLeg, Contact, Message, OptOut, SenderLock  # noqa: E402
from models.delivery import OutboundSms  # noqa: E402
from models.directory import DirectoryVersion, ServicePoint  # noqa: E402
from models.geo import CommuneMerge, District, NewCommune, OldCommune  # noqa: E402
from models.journal import InboundJournal  # noqa: E402
from models.outbox import OutboxItem  # noqa: E402
from models.secrets import AppSecret  # noqa: E402
from models.stats import ReportPush, StatDirtyDay, StatRollup, SuppressionPattern  # noqa: E402
from models.telephony import DevOutboxMessage, WebhookReceipt  # noqa: E402
from models.users import ApiToken, User, user_service_point  # noqa: E402
from models.workspace import CaseNote, Task  # noqa: E402
from models.zalo import ZaloToken  # noqa: E402

__all__ = [
    "Alert",
    "ApiToken",
    "AppSecret",
    "AuditEvent",
    "Base",
    "CallLeg",
    "Case",
    "CaseCode",
    "CaseNote",
    "CommuneMerge",
    "Contact",
    "DevOutboxMessage",
    "DirectoryVersion",
    "District",
    "FollowUp",
    "InboundJournal",
    "Message",
    "NewCommune",
    "OldCommune",
    "OptOut",
    "OutboundSms",
    "OutboxItem",
    "RecoveryCode",
    "Referral",
    "ReportPush",
    "SenderLock",
    "ServicePoint",
    "StatDirtyDay",
    "StatRollup",
    "SuppressionPattern",
    "Task",
    "TwoFactor",
    "User",
    "UserSession",
    "WebhookReceipt",
    "ZaloToken",
    "db",
    "user_service_point",
]
