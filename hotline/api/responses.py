"""The JSON API's answers, declared once: the OpenAPI document shows these models, and the
tests check real answers against them (``tests/api``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel

from routing.codes import CHANNELS, CONTEXTS, REFERRAL_STATUSES, RISKS, SERVICES, VIOLENCE_TYPES

Channel = Literal[CHANNELS]  # type: ignore[valid-type]
Risk = Literal[RISKS]  # type: ignore[valid-type]
Service = Literal[SERVICES]  # type: ignore[valid-type]


class Error(BaseModel):
    error: str
    status: int


class FieldErrors(BaseModel):
    """Messages per field (``body`` when the body is not a JSON object)."""

    errors: dict[str, list[str]]


class ServicePoint(BaseModel):
    code: str
    name: str
    phone: str | None


class Referral(BaseModel):
    id: int
    case_reference: str
    service_point: ServicePoint | None
    status: Literal[REFERRAL_STATUSES]  # type: ignore[valid-type]
    urgency: Risk
    created_at: datetime
    acknowledged_at: datetime | None


class AcknowledgedReferral(Referral):
    first: bool  # whether this call was the first acknowledgement


class ClosedReferral(Referral):
    services_received: list[str]


class ReferralList(BaseModel):
    items: list[Referral]


class Routing(BaseModel):
    service_point: ServicePoint | None
    reason: str
    alternates: list[ServicePoint]
    police: ServicePoint | None = None
    instructions: list[str] = []


class CreatedCase(BaseModel):
    reference: str
    status: str
    routing: Routing


class CaseArea(BaseModel):
    commune_code: str | None
    district_code: str | None
    label: str


class CaseSurvivor(BaseModel):
    sex: str
    age_band: str


class CaseSafeContact(BaseModel):
    channel: str
    hours: str | None
    follow_up_allowed: bool
    phone: str | None = None  # operators only


class CasePerpetrator(BaseModel):
    relationship: str | None
    sex: str | None
    age_band: str | None


class CaseConsent(BaseModel):
    referral: bool
    follow_up: bool
    reporting: bool


class Case(BaseModel):
    """Operators see every field; a social worker sees only reference, status, created_at,
    area, risk, needs, survivor, routing, safe_contact (without phone) and the referrals to
    their own service points."""

    reference: str
    status: str
    created_at: datetime
    area: CaseArea
    risk: Risk
    needs: list[Service]
    survivor: CaseSurvivor
    routing: Routing
    safe_contact: CaseSafeContact
    referrals: list[Referral]
    channel: Channel | None = None
    violence_types: list[Literal[VIOLENCE_TYPES]] | None = None  # type: ignore[valid-type]
    contexts: list[Literal[CONTEXTS]] | None = None  # type: ignore[valid-type]
    perpetrator: CasePerpetrator | None = None
    consent: CaseConsent | None = None
    notes: str | None = None
    legal_hold: bool | None = None
    purged: bool | None = None


class Report(BaseModel):
    """The json reporting payload of DESIGN.md section 9: counts of cases with reporting
    consent; every count from 1 to 4 is null with suppressed true, with complementary
    suppression."""

    source: str
    period: str
    generated_at: str
    cells: list[Any]
    indicators: list[Any]
