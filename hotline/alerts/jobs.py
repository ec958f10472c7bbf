"""Jobs that send alerts and notices to staff phones (service points, operators).

Each takes ids only, sends through :func:`hotline.jobs.delivery.send_once` (one SMS per
piece of work whatever happens to the job) and raises
:class:`~hotline.jobs.delivery.RetryLater` on temporary failures, so RQ retries it with
the policy its registry entry declares.
"""

from __future__ import annotations

import logging

from flask_babel import force_locale
from flask_babel import gettext as _
from rq import get_current_job

from hotline.accounts.duty import on_duty_operators
from hotline.alerts.escalation import alert_not_delivered
from hotline.alerts.text import alert_text, place_text
from hotline.audit import record_event
from hotline.directory.lookup import commune_committee
from hotline.jobs import registry
from hotline.jobs.delivery import RetryLater, send_once
from models import Alert, Case, Contact, OutboundSms, db

log = logging.getLogger(__name__)


def _last_attempt() -> bool:
    """Whether the running RQ job has no retries left (always True outside RQ)."""
    current = get_current_job()
    return current is None or not current.retries_left


@registry.register("alerts.send", queue="alerts", retry=registry.SMS)
def send_alert(alert_id: int) -> str:
    """Send one alert SMS to its service point's duty phone (once)."""
    alert = db.session.get(Alert, alert_id)
    if alert is None:
        log.warning("alert %s does not exist", alert_id)
        return "missing"
    referral = alert.referral

    def mirror(row: OutboundSms) -> None:
        if alert.status != "delivered":
            alert.status = row.status if row.status != "skipped" else "failed"
        alert.attempts = row.attempts
        alert.provider_sid = row.provider_sid
        alert.error_code = (row.error_code or "")[:10] or None
        alert.sent_at = row.sent_at

    try:
        with force_locale("vi"):
            delivery = send_once(
                f"alert:{alert.id}",
                to=alert.to_phone,
                render=lambda: alert_text(alert),
                purpose="alert",
                recipient=f"service_point:{alert.service_point_id}",
                case_id=referral.case_id,
                mirror=mirror,
            )
    except RetryLater:
        if _last_attempt():
            _flag_failed(alert, "retries")
        raise
    if delivery.status == "failed" and delivery.new:
        _flag_failed(alert, delivery.error_code or "failed")
    log.info("alert %s: %s", alert.id, delivery.status)
    return delivery.status


def _flag_failed(alert: Alert, code: str) -> None:
    """Flag a failed alert and move the chain on at once (see ``alert_not_delivered``)."""
    alert = db.session.get(Alert, alert.id)
    alert.status = "failed"
    alert_not_delivered(alert, code)
    db.session.commit()
    log.error("alert %s failed permanently (%s); escalating", alert.id, code)


def _notify_operators(key: str, purpose: str, message, case_id: int | None = None) -> int:
    """Send ``message()`` (rendered in each operator's language) to every on-duty
    operator once; return how many were reached. Retries later if any send failed."""
    operators = on_duty_operators()
    retry = False
    sent = 0
    for operator in operators:
        lang = operator.language if operator.language in ("vi", "en") else "vi"
        with force_locale(lang):
            try:
                delivery = send_once(
                    f"{key}:{operator.id}",
                    to=operator.phone,
                    render=message,
                    purpose=purpose,
                    recipient=f"user:{operator.id}",
                    case_id=case_id,
                )
            except RetryLater:
                retry = True
                continue
        sent += delivery.status == "sent"
    if retry:
        raise RetryLater(f"{key}: some operators not reached yet")
    return sent


@registry.register("alerts.notify_callback", queue="alerts", retry=registry.SMS)
def notify_callback_request(contact_id: int) -> int:
    """Tell every on-duty operator that a caller asked to be called back. The SMS says
    nothing about the caller: no number, no message."""
    if db.session.get(Contact, contact_id) is None:
        log.warning("contact %s does not exist", contact_id)
        return 0
    if not on_duty_operators():
        record_event("system", "callback.no_operator", "contact", contact_id)
        db.session.commit()
        return 0
    return _notify_operators(
        f"callback:{contact_id}",
        "callback",
        lambda: _("A caller asked to be called back. Open the hotline board to call them."),
    )


@registry.register("alerts.notify_exhausted", queue="alerts", retry=registry.SMS)
def notify_escalation_exhausted(case_id: int) -> int:
    """No point on the chain acknowledged: the on-duty operators take it by phone."""
    case = db.session.get(Case, case_id)
    if case is None:
        return 0
    return _notify_operators(
        f"exhausted:{case_id}",
        "escalation_exhausted",
        lambda: _(
            "Case %(reference)s: no service point acknowledged the alert. Please call "
            "the points directly.",
            reference=case.reference,
        ),
        case_id=case_id,
    )


@registry.register("alerts.notify_committee", queue="alerts", retry=registry.SMS)
def notify_commune_committee(case_id: int) -> str:
    """The notice Law 13/2022 asks for: a report of domestic violence was received for
    the commune, its reference, and that the hotline follows it up. Nothing else."""
    case = db.session.get(Case, case_id)
    committee = commune_committee(case.commune_code) if case else None
    if case is None or committee is None:
        return "skipped"
    with force_locale("vi"):
        delivery = send_once(
            f"committee:{case.id}",
            to=committee.alert_phone,
            render=lambda: _(
                "Hotline 18001769 received a report of domestic violence in %(place)s "
                "(case %(reference)s). The hotline is following it up and can be contacted "
                "for details.",
                place=place_text(case),
                reference=case.reference,
            ),
            purpose="committee",
            recipient=f"service_point:{committee.id}",
            case_id=case.id,
        )
    if delivery.new:
        record_event(
            "system",
            "case.commune_notified",
            "case",
            case.reference,
            {"point": committee.code, "status": delivery.status, "code": delivery.error_code},
        )
        db.session.commit()
    return delivery.status
