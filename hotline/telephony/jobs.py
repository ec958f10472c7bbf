"""Background work of the SMS flow (run by the worker through the outbox)."""

from __future__ import annotations

import logging

from hotline.jobs import job
from hotline.sms import route_unanswered

log = logging.getLogger(__name__)


@job
def place_question_timeout(contact_id: int, asks: int) -> bool:
    """The sender never answered "where are you?": the provincial centre takes the case
    (no SMS is sent to the sender). Does nothing if they answered meanwhile."""
    from models import db

    routed = route_unanswered(contact_id, asks)
    db.session.commit()
    log.info("place question timeout for contact %s: routed=%s", contact_id, routed)
    return routed
