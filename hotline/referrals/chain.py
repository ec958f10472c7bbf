"""Moving a case along its fallback chain (DESIGN.md section 12): a referral ends accepted
with an outcome, or the case goes somewhere else — never nowhere.

The chain is the routing decision's list of points (the provincial centre is its last
link). A point that declined the case, or let its alert expire, is never chosen again for
that case. When the chain is exhausted the provincial centre takes the case (if it has not
had it already) and an operator task ``referral_declined`` is opened.

Parallel referrals — the police in immediate danger, the provincial centre on the
child-protection path, a point an operator chose by hand — do not drive the chain.
"""

from __future__ import annotations

from sqlalchemy import select

from hotline.audit import record_event
from hotline.directory.lookup import provincial_centre
from hotline.jobs.outbox import add_work
from hotline.referrals.create import refer
from hotline.tasks import open_task
from models import Case, Referral, ServicePoint, db

#: Reasons of referrals made beside the chain (see the module docstring).
PARALLEL_REASONS = ("police", "child_protection", "manual", "warm transfer", "cold transfer")
NOTIFY_EXHAUSTED_JOB = "alerts.notify_exhausted"
LIVE = ("pending", "acknowledged", "accepted")


def is_parallel(referral: Referral) -> bool:
    if referral.reason in PARALLEL_REASONS:
        return True
    # Cases referred before reasons were coded: the police point outside the chain.
    routing = referral.case.routing or {}
    code = referral.service_point.code
    return code == routing.get("police") and code not in routing.get("chain", [])


def next_point(case: Case) -> ServicePoint | None:
    """The next active point of the chain that has not had the case, before the
    provincial centre; None when only the centre (or nothing) is left."""
    referred = {r.service_point.code for r in case.referrals}
    centre = provincial_centre()
    for code in (case.routing or {}).get("chain", []):
        if code in referred or (centre is not None and code == centre.code):
            continue
        point = db.session.scalar(
            select(ServicePoint).where(ServicePoint.code == code, ServicePoint.active)
        )
        if point is not None:
            return point
    return None


def _kind(why: str) -> str:
    """An expiry's next alert says the previous point did not answer in time; a decline's
    is a plain referral."""
    return "escalation" if why == "expired" else "referral"


def move_on(case: Case, after: Referral, why: str) -> Referral | None:
    """The case's chain referral ``after`` ended (declined or expired): refer the case to
    the next point, or — the chain exhausted — to the provincial centre with an operator
    task; when even the centre has had it, the on-duty operators are told by SMS. In the
    caller's transaction; the new referral (None when nobody is left)."""
    step = max(r.step for r in case.referrals) + 1
    target = next_point(case)
    if target is not None:
        new = refer(
            case,
            target,
            step=step,
            reason=f"{why}: {after.service_point.code}",
            alert_kind=_kind(why),
        )
        record_event(
            "system",
            "case.moved_on",
            "case",
            case.reference,
            {"from": after.service_point.code, "to": target.code, "why": why, "referral": new.id},
        )
        return new
    # The chain is exhausted: an operator follows the case up, and the provincial centre
    # takes it unless it has had it already.
    open_task("referral_declined", f"case:{case.id}", case_id=case.id)
    referred = {r.service_point.code for r in case.referrals}
    centre = provincial_centre(exclude=referred)
    if centre is not None:
        new = refer(
            case, centre, step=step, reason=f"{why}: chain exhausted", alert_kind=_kind(why)
        )
        record_event(
            "system",
            "case.moved_on",
            "case",
            case.reference,
            {"from": after.service_point.code, "to": centre.code, "why": why, "referral": new.id},
        )
        return new
    # Nobody is left at all: the on-duty operators are told by SMS too.
    record_event(
        "system",
        "case.escalation_exhausted",
        "case",
        case.reference,
        {"point": after.service_point.code, "why": why},
    )
    add_work(
        NOTIFY_EXHAUSTED_JOB,
        {"case_id": case.id},
        queue="alerts",
        dedupe_key=f"exhausted:{case.id}",
    )
    return None
