"""The intake form an operator fills during a call: safety first, then place, people, what
happened, risk, needs, consent and safe contact. The routing decision and its reason are
shown before the case is saved; the operator may choose an alternate with a reason.

The form is turned into the API's body and validated by the same ``parse_case_body``, so
the form and the API accept and refuse exactly the same things.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from hotline.audit import record_event
from hotline.cases.access import repeat_count
from hotline.cases.intake import create_case, parse_case_body, resolve_area
from hotline.cases.messages import mark_seen
from hotline.directory.decisions import decide
from hotline.errors import ValidationError
from hotline.labels import LABELS
from hotline.web.board import mask_number
from hotline.web.security import current_user, login_required
from models import Case, Contact, NewCommune, db
from routing.codes import (
    AGE_BANDS,
    CHANNELS,
    CONTEXTS,
    RISKS,
    SAFE_CHANNELS,
    SERVICES,
    SEXES,
    VIOLENCE_TYPES,
)

bp = Blueprint("intake", __name__, url_prefix="/intake")

#: Where each error of ``parse_case_body``/``create_case`` is shown on the form.
ERROR_FIELDS = {
    "channel": "channel",
    "risk": "risk",
    "area": "place",
    "contact_sid": "channel",
    "sex": "survivor_sex",
    "age_band": "survivor_age_band",
    "violence_types": "violence_types",
    "contexts": "contexts",
    "needs": "needs",
    "perpetrator.relationship": "perpetrator_relationship",
    "perpetrator.sex": "perpetrator_sex",
    "perpetrator.age_band": "perpetrator_age_band",
    "consent.referral": "consent",
    "consent.follow_up": "consent",
    "consent.reporting": "consent",
    "safe_contact.channel": "safe_channel",
    "safe_contact.phone": "safe_phone",
    "safe_contact.hours": "safe_hours",
    "notes": "notes",
    "override": "override_code",
    "override_reason": "override_reason",
    "body": "form",
}


def _text(name: str, limit: int = 200) -> str:
    return request.form.get(name, "").strip()[:limit]


def form_to_body(form) -> dict[str, Any]:
    """The API body for a submitted form (values unchecked here: the parser checks them)."""
    commune = form.get("commune_code", "").strip()
    text = form.get("area_text", "").strip()
    area = {"commune_code": commune} if commune else ({"text": text} if text else {})
    risk = form.get("risk") or None
    if risk is None and form.get("in_danger") == "yes":
        risk = "immediate"
    safe_channel = form.get("safe_channel") or "none"
    hours = None
    if form.get("safe_from") or form.get("safe_to"):
        hours = f"{form.get('safe_from', '')}-{form.get('safe_to', '')}"
    body: dict[str, Any] = {
        "channel": form.get("channel") or None,
        "area": area,
        "survivor": {
            "sex": form.get("survivor_sex") or "unknown",
            "age_band": form.get("survivor_age_band") or "unknown",
        },
        "violence_types": form.getlist("violence_types"),
        "contexts": form.getlist("contexts"),
        "perpetrator": {
            k: v
            for k, v in {
                "relationship": form.get("perpetrator_relationship") or None,
                "sex": form.get("perpetrator_sex") or None,
                "age_band": form.get("perpetrator_age_band") or None,
            }.items()
            if v
        },
        "risk": risk,
        "needs": form.getlist("needs"),
        "consent": {
            k: form.get(f"consent_{k}") == "yes" for k in ("referral", "follow_up", "reporting")
        },
        "safe_contact": {
            "channel": safe_channel,
            "phone": form.get("safe_phone", ""),
            "hours": hours,
        },
        "notes": form.get("notes") or None,
    }
    return body


def _field_errors(errors: dict[str, list[str]] | list[str]) -> dict[str, list[str]]:
    if isinstance(errors, list):
        return {"form": errors}
    shown: dict[str, list[str]] = {}
    for key, messages in errors.items():
        shown.setdefault(ERROR_FIELDS.get(key, "form"), []).extend(messages)
    return shown


def _contact_from_request() -> Contact | None:
    raw = request.values.get("contact", "")
    if not raw:
        return None
    if not raw.isdigit() or int(raw) >= 2**31:
        abort(404)
    contact = db.session.get(Contact, int(raw))
    if contact is None:
        abort(404)
    return contact


def _preview(form) -> tuple[Any, str | None]:
    """The routing decision for the form's place, risk, needs and age; or a place problem."""
    body = form_to_body(form)
    if not body["area"]:
        return None, None
    try:
        place = resolve_area(body["area"])
    except ValidationError as exc:
        return None, " ".join(exc.errors.get("area", []))
    needs = {n for n in body["needs"] if n in SERVICES}
    risk = body["risk"] if body["risk"] in RISKS else "medium"
    age = body["survivor"]["age_band"]
    decision = decide(
        place, needs=needs, risk=risk, age_band=age if age in AGE_BANDS else "unknown"
    )
    return decision, None


def _render(
    contact: Contact | None, *, errors=None, decision=None, place_problem=None, status=200
):
    communes = db.session.scalars(select(NewCommune).order_by(NewCommune.name)).all()
    existing_case = None
    if contact is not None:
        existing_case = db.session.scalar(select(Case).where(Case.contact_id == contact.id))
    return (
        render_template(
            "intake/form.html",
            form=request.form,
            contact=contact,
            masked=mask_number(contact.caller_number) if contact else None,
            repeat=repeat_count(contact) if contact else 0,
            existing_case=existing_case,
            communes=communes,
            errors=errors or {},
            decision=decision,
            place_problem=place_problem,
            codes={
                "channels": CHANNELS,
                "sexes": SEXES,
                "age_bands": AGE_BANDS,
                "violence_types": VIOLENCE_TYPES,
                "contexts": CONTEXTS,
                "risks": RISKS,
                "services": SERVICES,
                "safe_channels": SAFE_CHANNELS,
                "relationships": tuple(LABELS["relationship"]),
            },
        ),
        status,
    )


@bp.route("/new", methods=["GET", "POST"])
@login_required("operator")
def new():
    """The intake form, empty (walk-in) or opened from a call or SMS conversation."""
    contact = _contact_from_request()
    if request.method == "GET":
        if contact is not None and contact.messages:
            # The thread's text is on the page: a read of personal data, like a case view.
            record_event(
                current_user(),
                "contact.thread_view",
                "contact",
                contact.id,
                {"messages": len(contact.messages)},
            )
            db.session.commit()
        return _render(contact)
    decision, place_problem = _preview(request.form)
    if request.form.get("action") != "save":
        return _render(contact, decision=decision, place_problem=place_problem)
    body = form_to_body(request.form)
    try:
        data = parse_case_body(body)
        override = _text("override_code", 50)
        if (
            override
            and decision is not None
            and decision.primary
            and override != decision.primary.code
        ):
            data.override_code = override
            data.override_reason = _text("override_reason", 1000)
        case, decision = create_case(data, actor=current_user())
        if contact is not None:
            case.contact_id = contact.id
            db.session.flush()
            mark_seen(case)  # the operator read the thread while filling the intake
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        errors = _field_errors(exc.errors)
        return _render(
            contact, errors=errors, decision=decision, place_problem=place_problem, status=422
        )
    if case.referrals:
        flash(
            _(
                "Case %(reference)s saved and referred to %(point)s.",
                reference=case.reference,
                point=case.referrals[0].service_point.name,
            ),
            "ok",
        )
    else:
        flash(_("Case %(reference)s saved (not referred).", reference=case.reference), "ok")
    return redirect(url_for("cases.show", reference=case.reference))


@bp.post("/preview")
@login_required("operator")
def preview():
    """The routing decision as an HTML fragment, refreshed while the form is filled in."""
    decision, place_problem = _preview(request.form)
    return render_template(
        "intake/_routing.html",
        decision=decision,
        place_problem=place_problem,
        form=request.form,
        errors={},
    )
