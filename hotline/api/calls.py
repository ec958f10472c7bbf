"""Voice in the API (DESIGN.md section 13): an operator's availability and the transfer of
the call they are on to a service point's duty phone."""

from __future__ import annotations

from flask import g, jsonify, request
from flask_babel import gettext as _

from hotline.accounts.duty import AVAILABILITY, set_availability
from hotline.api.auth import token_required
from hotline.api.blueprint import bp
from hotline.api.replies import error, text_error, unprocessable, unstorable_text
from hotline.api.responses import (
    Availability,
    AvailabilityBody,
    Error,
    Transfer,
    TransferBody,
)
from hotline.api.schema import documented
from hotline.cases.access import iso
from hotline.conversations.calls import NotTheOperatorsCall, offer_waiting, request_transfer
from hotline.errors import ValidationError
from models import ServicePoint, User, db


def availability_json(user: User) -> dict:
    return {
        "status": user.availability,
        "on_duty": bool(user.on_duty),
        "changed_at": iso(user.availability_changed_at),
    }


@bp.put("/me/availability")
@documented(
    "setAvailability",
    body=AvailabilityBody,
    responses={200: (Availability, "The operator's availability now.")},
    description="Operators only. Only on-duty, available operators are rung; busy is also "
    "set while the operator is on a hotline call, and back to available after.",
)
@token_required("operator")
def set_my_availability():
    """Set my availability: available, busy or away."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        return text_error(bad)
    if not isinstance(body, dict):
        return unprocessable({"body": [_("Send a JSON object.")]})
    status = body.get("status")
    if status not in AVAILABILITY:
        return unprocessable({"status": [_("Status is available, busy or away.")]})
    user: User = g.api_user
    set_availability(user, status)
    if status == "available":
        offer_waiting(user)
    db.session.commit()
    return jsonify(availability_json(user))


@bp.post("/calls/<call_sid>/transfer")
@documented(
    "transferCall",
    body=TransferBody,
    responses={
        202: (Transfer, "The point's duty phone is being rung into the call."),
        404: (Error, "No live call with this id was answered by this operator."),
    },
    description="Operators only, for the call they took (``call_sid`` is the caller's "
    "CallSid). A conference of caller, operator and the point's duty phone; in cold mode the "
    "operator leaves once the point answers. Recorded on the case as an accepted referral "
    "when the point answers, as an operator task when it does not. A point without a duty "
    "phone is a 422.",
)
@token_required("operator")
def transfer_call(call_sid: str):
    """Transfer my call to a service point (warm or cold)."""
    body = request.get_json(silent=True)
    if bad := unstorable_text(body):
        return text_error(bad)
    if not isinstance(body, dict):
        return unprocessable({"body": [_("Send a JSON object.")]})
    try:
        leg = request_transfer(g.api_user, call_sid, body.get("service_point"), body.get("mode"))
    except NotTheOperatorsCall:
        db.session.rollback()
        return error(404, _("No call of yours has this id."))
    except ValidationError as exc:
        db.session.rollback()
        return unprocessable(exc.errors)
    point = db.session.get(ServicePoint, leg.service_point_id)
    payload = {
        "id": leg.id,
        "call_sid": call_sid,
        "service_point": point.code if point else "",
        "mode": leg.mode,
        "status": leg.status,
    }
    db.session.commit()
    return jsonify(payload), 202
