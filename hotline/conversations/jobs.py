"""Background work of the SMS flow (run by the worker through the outbox)."""

from __future__ import annotations

import logging

from hotline.conversations.journal import route_unanswered
from hotline.conversations.sms import PLACE_TIMEOUT_JOB
from hotline.jobs import registry
from hotline.telephony.receipts import purge_expired_receipts
from hotline.telephony.spool import replay_spool

log = logging.getLogger(__name__)


@registry.register(PLACE_TIMEOUT_JOB)
def place_question_timeout(contact_id: int, asks: int) -> bool:
    """The sender never answered "where are you?": the provincial centre takes the case
    (no SMS is sent to the sender). Does nothing if they answered meanwhile."""
    from models import db

    routed = route_unanswered(contact_id, asks)
    db.session.commit()
    log.info("place question timeout for contact %s: routed=%s", contact_id, routed)
    return routed


# The telephony fallback spool and webhook receipts: plumbing of the providers, run on
# the conversations' schedule (telephony itself imports no feature or job code).
registry.add("telephony.replay_spool", replay_spool)
registry.add("telephony.purge_receipts", purge_expired_receipts)
