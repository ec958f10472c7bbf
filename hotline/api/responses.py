"""The JSON API's answers, declared once: the OpenAPI document shows these models, and the
tests check real answers against them (``tests/api``)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field

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
    #: The provincial centre on the child-protection path (a survivor under 18).
    child_protection: ServicePoint | None = None
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
    #: The intake's own notes (the body's ``notes``); operators only.
    intake_notes: str | None = None
    legal_hold: bool | None = None
    purged: bool | None = None
    #: Operators only: notes added after the intake, and the SMS thread with the survivor.
    notes: list[Note] | None = None
    messages: list[ThreadMessage] | None = None


class Note(BaseModel):
    id: int
    author: str | None
    created_at: datetime
    text: str | None  # null once shredded by retention


class ThreadMessage(BaseModel):
    direction: Literal["in", "out"]
    at: datetime
    text: str | None  # null once shredded by retention
    status: str


class CaseListItem(BaseModel):
    reference: str
    created_at: datetime
    channel: Channel
    status: str
    risk: Risk
    commune_code: str | None
    service_point: PointName | None


class PointName(BaseModel):
    code: str
    name: str


class CaseList(BaseModel):
    items: list[CaseListItem]
    next_cursor: str | None


class CaseListQuery(BaseModel):
    q: str | None = Field(
        None,
        max_length=64,
        description="A case reference, or a phone number in any Vietnamese format "
        "(matched through the keyed number hash; audit-logged).",
    )
    status: Literal["open", "referred", "closed"] | None = None
    commune_code: str | None = Field(None, pattern=r"^\d{5}$")
    since: date | None = Field(None, description="First day (YYYY-MM-DD, hotline time).")
    until: date | None = Field(None, description="Last day (YYYY-MM-DD, hotline time).")
    limit: int = Field(50, ge=1, le=100)
    cursor: str | None = Field(
        None, max_length=100, description="next_cursor of the previous page, as given."
    )


class NoteBody(BaseModel):
    text: str = Field(min_length=1, max_length=10_000)


class MessageBody(BaseModel):
    text: str = Field(min_length=1, max_length=640)


class QueuedMessage(BaseModel):
    direction: Literal["out"]
    at: datetime
    text: str
    status: str
    to: Literal["conversation", "safe_contact"]


class ReplyRefusal(BaseModel):
    error: str
    reason: Literal["opted_out", "no_consent", "outside_safe_hours", "no_channel"]


class ManualReferralBody(BaseModel):
    service_point: str = Field(min_length=1, max_length=50)
    note: str | None = Field(None, max_length=2_000)


class TaskItem(BaseModel):
    id: int
    kind: Literal["voicemail", "callback", "follow_up_call", "referral_declined", "sms_unrouted"]
    created_at: datetime
    status: Literal["open", "done"]
    case_reference: str | None
    has_recording: bool
    outcome: Literal["reached", "no_answer", "unsafe", "not_needed"] | None = None
    done_at: datetime | None = None


class TaskList(BaseModel):
    items: list[TaskItem]


class TaskQuery(BaseModel):
    status: Literal["open", "done"] = "open"


class TaskDoneBody(BaseModel):
    outcome: Literal["reached", "no_answer", "unsafe", "not_needed"]
    note: str | None = Field(None, max_length=2_000)


class Audio(BaseModel):
    """The voicemail's audio (binary, with the provider's Content-Type)."""

    #: Documented as this media range with a binary body instead of a JSON schema.
    media_type: ClassVar[str] = "audio/*"


Case.model_rebuild()
CaseListItem.model_rebuild()


class Report(BaseModel):
    """The json reporting payload of DESIGN.md section 9: counts of cases with reporting
    consent; every count from 1 to 4 is null with suppressed true, with complementary
    suppression."""

    source: str
    period: str
    generated_at: str
    cells: list[Any]
    indicators: list[Any]


# --- Voice: availability and transfers (issue 15, DESIGN.md section 13) ---------------------


class AvailabilityBody(BaseModel):
    status: Literal["available", "busy", "away"]


class Availability(BaseModel):
    """An operator's availability: only on-duty, available operators are rung."""

    status: Literal["available", "busy", "away"]
    on_duty: bool
    changed_at: str | None


class TransferBody(BaseModel):
    service_point: str = Field(..., max_length=40)
    mode: Literal["warm", "cold"]


class Transfer(BaseModel):
    """A transfer under way: the point's duty phone is being rung into the call."""

    id: int
    call_sid: str
    service_point: str
    mode: Literal["warm", "cold"]
    status: str


# --- end voice ---------------------------------------------------------------------------------
