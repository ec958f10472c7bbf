"""Cases in the API: create and read (DESIGN.md section 7); list and search, correct,
annotate, refer by hand and message the survivor (section 11)."""

from __future__ import annotations

from flask import abort, g, jsonify, request
from flask_babel import get_locale
from flask_babel import gettext as _
from pydantic import create_model

from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import field, json_body, text_error, unprocessable, unstorable_text
from hotline.api.responses import (
    Case,
    CaseList,
    CaseListQuery,
    CreatedCase,
    Error,
    ManualReferralBody,
    MessageBody,
    Note,
    NoteBody,
    QueuedMessage,
    Referral,
    ReplyRefusal,
)
from hotline.api.schema import documented
from hotline.cases.access import (
    case_json,
    iso,
    message_json,
    note_json,
    point_json,
    record_view,
    referral_json,
    visible_case,
)
from hotline.cases.body import CaseBody
from hotline.cases.intake import create_case, parse_case_body
from hotline.cases.messages import ReplyRefused, mark_seen, send_reply
from hotline.cases.notes import add_note
from hotline.cases.search import parse_query, search_cases
from hotline.cases.update import FIXED, patch_case
from hotline.errors import ValidationError
from hotline.referrals.create import refer_by_hand
from models import Case as CaseModel
from models import db


def _lang() -> str:
    return str(get_locale() or "vi")


@bp.post("/cases")
@documented(
    "createCase",
    body=CaseBody,
    responses={201: (CreatedCase, "Created and routed.")},
    description="Operators only.",
)
@token_required("operator")
def create():
    """Record an intake, route it and (with referral consent) alert the service point."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        return text_error(bad)
    try:
        data = parse_case_body(body)
        case, decision = create_case(data, actor=g.api_user)
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        return unprocessable(exc.errors)
    primary = case.referrals[0].service_point if case.referrals else decision.primary
    return (
        jsonify(
            reference=case.reference,
            status=case.status,
            routing={
                "service_point": point_json(primary),
                "reason": decision.reason(_),
                "alternates": [point_json(p) for p in decision.alternates],
                "police": point_json(decision.police),
                "child_protection": point_json(decision.child_protection),
                "instructions": list(decision.instruction_codes),
            },
        ),
        201,
    )


@bp.get("/cases/<reference>")
@documented(
    "getCase",
    responses={
        200: (Case, "The case."),
        404: (Error, "No such case in the caller's scope."),
    },
)
@token_required()
def show_case(reference: str):
    """One case as the token's role may see it; 404 when out of scope."""
    case = _case_or_404(reference, g.api_user)
    record_view(g.api_user, case, "api")
    if g.api_user.role == "operator":
        mark_seen(case)  # the answer carries the SMS thread
    payload = case_json(case, g.api_user, _lang())
    db.session.commit()
    return jsonify(payload)


#: The PATCH body as documented: the case body's fields except channel and contact_sid,
#: each optional (validated by ``patch_case`` on the merged case, like a POST).
CasePatch = create_model(
    "CasePatch",
    __doc__="Any field of the case body except channel and contact_sid; objects "
    "(survivor, perpetrator, consent, safe_contact) are merged key by key.",
    **{
        name: (field.rebuild_annotation(), None)
        for name, field in CaseBody.model_fields.items()
        if name not in FIXED
    },
)


def _case_or_404(reference: str, user) -> CaseModel:
    if unstorable_text(reference):
        abort(404)
    case = visible_case(reference[:20], user)
    if case is None:
        abort(404)
    return case


@bp.get("/cases")
@documented(
    "listCases",
    query=CaseListQuery,
    responses={200: (CaseList, "One page of cases, newest first.")},
    description="Operators: every case; social workers: cases referred to their points. "
    "A search by phone number is audit-logged.",
)
@token_required("operator", "social_worker")
def list_cases():
    """Cases newest first, filtered and searched, paged by cursor."""
    page = search_cases(parse_query(request.args), g.api_user)
    payload = dict(
        items=[
            {
                "reference": row.case.reference,
                "created_at": iso(row.case.created_at),
                "channel": row.case.channel,
                "status": row.case.status,
                "risk": row.case.risk,
                "commune_code": row.case.commune_code,
                "service_point": (
                    {"code": row.service_point.code, "name": row.service_point.name}
                    if row.service_point
                    else None
                ),
            }
            for row in page.rows
        ],
        next_cursor=page.next_cursor,
    )
    db.session.commit()  # after the answer is built: a commit expires every loaded row
    return jsonify(payload)


@bp.patch("/cases/<reference>")
@documented(
    "updateCase",
    body=CasePatch,
    responses={
        200: (Case, "The case as corrected."),
        404: (Error, "No such case."),
    },
    description="Operators only. The audit log names the fields that changed, never their values.",
)
@token_required("operator")
def update_case(reference: str):
    """Complete or correct the intake."""
    case = _case_or_404(reference, g.api_user)
    patch_case(case, json_body(), g.api_user)
    payload = case_json(case, g.api_user, _lang())
    db.session.commit()
    return jsonify(payload)


@bp.post("/cases/<reference>/notes")
@documented(
    "addCaseNote",
    body=NoteBody,
    responses={201: (Note, "The note."), 404: (Error, "No such case.")},
    description="Operators only. Notes are encrypted and shredded by retention.",
)
@token_required("operator")
def add_case_note(reference: str):
    """Add a note to a case."""
    case = _case_or_404(reference, g.api_user)
    note = add_note(case, g.api_user, field(json_body(), "text"))
    payload = note_json(note)
    db.session.commit()
    return jsonify(payload), 201


@bp.post("/cases/<reference>/referrals")
@documented(
    "referCase",
    body=ManualReferralBody,
    responses={
        201: (Referral, "The referral; its alert is queued."),
        404: (Error, "No such case."),
    },
    description="Operators only. A point chosen by hand, alerted like a routed one.",
)
@token_required("operator")
def refer_case(reference: str):
    """Refer a case by hand to another service point."""
    case = _case_or_404(reference, g.api_user)
    body = json_body(object_only=True)
    referral = refer_by_hand(case, body.get("service_point"), body.get("note"), g.api_user)
    db.session.commit()
    return jsonify(referral_json(referral)), 201


@bp.post("/cases/<reference>/messages")
@documented(
    "messageSurvivor",
    body=MessageBody,
    responses={
        202: (QueuedMessage, "Queued for sending."),
        404: (Error, "No such case."),
        409: (ReplyRefusal, "Not allowed now; nothing was sent."),
    },
    description="Operators only. Allowed when the number has not opted out and either "
    "the survivor's own SMS conversation on this case had an inbound message within 24 "
    "hours, or they consented to follow-up by SMS and now is inside their safe hours.",
)
@token_required("operator")
def message_survivor(reference: str):
    """Send an SMS to the survivor, within the rules."""
    case = _case_or_404(reference, g.api_user)
    try:
        message = send_reply(case, g.api_user, field(json_body(), "text"))
    except ReplyRefused as refused:
        db.session.rollback()
        return jsonify(error=refused.message, reason=refused.reason), 409
    payload = {
        **message_json(message),
        "to": "conversation" if message.contact_id else "safe_contact",
    }
    db.session.commit()
    return jsonify(payload), 202
