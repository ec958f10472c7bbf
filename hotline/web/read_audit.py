"""Audit entries for reads that happen in views owned elsewhere: statistics downloads.

A statistics export, the printable report and ``GET /api/v1/stats`` carry no personal
data, but what left the system, when and for whom is part of the record the law asks for
(DESIGN.md section 2.3), like a case view. The entry is written after the view answered
successfully, with codes only (format, period, district).
"""

from __future__ import annotations

from flask import Flask, g, request

from hotline.audit import record_event
from models import db

#: endpoint → audit action
AUDITED_READS = {
    "dashboard.export": "stats.export",
    "dashboard.report_xlsx": "stats.report",
    "dashboard.printable": "stats.print",
    "stats_api.stats": "stats.api",
}


def _audit_read(response):
    action = AUDITED_READS.get(request.endpoint or "")
    if action is None or response.status_code != 200:
        return response
    actor = g.get("user") or g.get("api_user")
    if actor is None:
        return response
    details = {
        "format": (request.view_args or {}).get("kind") or action.rsplit(".", 1)[-1],
        "period": (request.args.get("period") or "")[:40] or None,
        "district": (request.args.get("district") or request.args.get("district_code") or "")[:10]
        or None,
    }
    record_event(actor, action, "stats", None, {k: v for k, v in details.items() if v})
    db.session.commit()
    return response


def init_read_audit(app: Flask) -> None:
    app.after_request(_audit_read)
