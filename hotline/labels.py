"""Words for the codes of the contract, in the active language (``{{ code|label('risk') }}``).

Codes stay codes in the database and the API; only people see these labels.
"""

from __future__ import annotations

from datetime import datetime

from flask import Flask
from flask_babel import format_datetime, gettext
from flask_babel import lazy_gettext as _l

from routing.select import SERVICE_NAMES

LABELS: dict[str, dict[str, object]] = {
    "channel": {
        "voice": _l("Call"),
        "sms": _l("SMS"),
        "zalo": _l("Zalo"),  # a conversation's channel only (a case from Zalo is "other")
        "walk_in": _l("Walk-in"),
        "other": _l("Other"),
    },
    "sex": {"female": _l("Female"), "male": _l("Male"), "unknown": _l("Not known")},
    "age_band": {
        "0-11": _l("0–11 years"),
        "12-17": _l("12–17 years"),
        "18-25": _l("18–25 years"),
        "26-40": _l("26–40 years"),
        "41-60": _l("41–60 years"),
        "61+": _l("61 years or older"),
        "unknown": _l("Not known"),
    },
    "violence_type": {
        "rape": _l("Rape"),
        "sexual_assault": _l("Sexual assault"),
        "physical_assault": _l("Physical assault"),
        "forced_marriage": _l("Forced marriage"),
        "denial_of_resources": _l("Denial of resources, opportunities or services"),
        "psychological_abuse": _l("Psychological or emotional abuse"),
        "non_gbv": _l("Not gender-based violence"),
    },
    "context": {
        "domestic_violence": _l("Domestic violence"),
        "trafficking": _l("Trafficking"),
        "child_abuse": _l("Child abuse"),
        "sexual_harassment": _l("Sexual harassment"),
    },
    "risk": {
        "immediate": _l("Immediate danger"),
        "high": _l("High"),
        "medium": _l("Medium"),
        "low": _l("Low"),
    },
    "safe_channel": {"sms": _l("SMS"), "call": _l("Phone call"), "none": _l("Do not contact")},
    "referral_status": {
        "pending": _l("Waiting for acknowledgement"),
        "acknowledged": _l("Acknowledged"),
        "accepted": _l("Accepted"),
        "declined": _l("Declined"),
        "expired": _l("Not answered in time"),
        "closed": _l("Closed with outcome"),
    },
    "ack_channel": {
        "sms": _l("SMS reply"),
        "link": _l("alert page"),
        "inbox": _l("inbox"),
        "api": _l("API"),
    },
    "decline_reason": {
        "no_capacity": _l("No capacity now"),
        "out_of_area": _l("Outside our area"),
        "not_our_service": _l("Not a service we offer"),
        "unreachable": _l("Could not reach the survivor"),
        "other": _l("Another reason"),
    },
    "referral_outcome": {
        "service_received": _l("The survivor received support"),
        "not_reached": _l("Could not reach the survivor"),
        "refused_by_survivor": _l("The survivor did not want support"),
        "referred_elsewhere": _l("Referred elsewhere"),
    },
    "role": {
        "operator": _l("Hotline operator"),
        "social_worker": _l("Social worker"),
        "manager": _l("Manager"),
        "admin": _l("Administrator"),
    },
    "kind": {
        "trusted_address": _l("Trusted address"),
        "shelter": _l("Shelter"),
        "social_work_center": _l("Social work centre"),
        "police": _l("Police"),
        "health": _l("Health"),
        "legal_aid": _l("Legal aid"),
        "commune_committee": _l("Commune people's committee"),
    },
    "relationship": {
        "husband": _l("Husband"),
        "wife": _l("Wife"),
        "former_partner": _l("Former husband, wife or partner"),
        "partner": _l("Boyfriend, girlfriend or partner"),
        "parent": _l("Parent or step-parent"),
        "child": _l("Son or daughter"),
        "other_family": _l("Other family member"),
        "in_law": _l("In-law"),
        "acquaintance": _l("Neighbour or acquaintance"),
        "employer": _l("Employer or colleague"),
        "teacher": _l("Teacher or carer"),
        "stranger": _l("Stranger"),
        "unknown": _l("Not known"),
    },
    # A call's or SMS conversation's state (hotline/conversations/voice.py and sms.py, and
    # the provider's call statuses as status callbacks report them).
    "contact_status": {
        "open": _l("Open"),
        "routed": _l("Routed"),
        "closed": _l("Closed"),
        "queued": _l("Queued"),
        "ringing": _l("Ringing"),
        "in-progress": _l("In progress"),
        "in_progress": _l("In progress"),
        "answered": _l("Answered"),
        "completed": _l("Ended"),
        "busy": _l("Busy"),
        "failed": _l("Failed"),
        "no-answer": _l("No answer"),
        "canceled": _l("Cancelled"),
        "voicemail": _l("Left a voicemail"),
        "abandoned": _l("Hung up before being connected"),
        "fallback": _l("Heard only the fallback message"),
    },
    # A message the service sent (alert, reply, follow-up): the provider's delivery
    # statuses (hotline/conversations/status.py) and our own before and after them.
    "delivery_status": {
        "pending": _l("Not sent yet"),
        "accepted": _l("Accepted for sending"),
        "scheduled": _l("Scheduled"),
        "queued": _l("Queued"),
        "sending": _l("Sending"),
        "sent": _l("Sent"),
        "delivered": _l("Delivered"),
        "undelivered": _l("Not delivered"),
        "failed": _l("Failed"),
        "read": _l("Read"),
        "received": _l("Received"),
        "replied": _l("Reply sent"),
        "retrying": _l("Retrying"),
        "skipped": _l("Not sent"),
        "cancelled": _l("Cancelled"),
        "canceled": _l("Cancelled"),
        "acknowledged": _l("Acknowledged"),
        "escalated": _l("Escalated"),
    },
    # A follow-up's state (models.FollowUp.status, hotline/tasks/work.py).
    "follow_up_status": {
        "scheduled": _l("Scheduled"),
        "sent": _l("Sent"),
        "due_call": _l("A call is due"),
        "called": _l("Called"),
        "call_closed": _l("Call not completed"),
        "skipped": _l("Not sent"),
        "cancelled": _l("Cancelled"),
        "failed": _l("Failed"),
    },
    # Work waiting for an operator (hotline/tasks, DESIGN.md section 11).
    "task_kind": {
        "voicemail": _l("Voicemail"),
        "callback": _l("Callback request"),
        "follow_up_call": _l("Follow-up call due"),
        "referral_declined": _l("No service point accepted the case"),
        "sms_unrouted": _l("SMS without a place"),
    },
    "task_outcome": {
        "reached": _l("Reached"),
        "no_answer": _l("No answer"),
        "unsafe": _l("Not safe to talk"),
        "not_needed": _l("Not needed"),
    },
}


def label(code: object, dimension: str) -> str:
    """The label of ``code``; the code itself when it has none (never an empty cell, and
    an unknown code or group never fails a page); ``—`` for no code at all."""
    if code is None or code == "":
        return "—"
    if dimension == "service":
        name = SERVICE_NAMES.get(str(code))
        return gettext(name) if name else str(code)
    text = LABELS.get(dimension, {}).get(str(code))
    return str(text) if text is not None else str(code)


def when(value: datetime | None) -> str:
    """A timestamp in the hotline's timezone and the active language's short format."""
    return format_datetime(value, "short") if value else "—"


def reason(decision) -> str:
    """A routing decision's reason in the active language."""
    return decision.reason(gettext)


def init_labels(app: Flask) -> None:
    app.jinja_env.filters["label"] = label
    app.jinja_env.filters["reason"] = reason
    app.jinja_env.filters["when"] = when
