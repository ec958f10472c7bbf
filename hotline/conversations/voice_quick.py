"""The caller's menu steps answered with one read and one write (DESIGN.md section 10).

The greeting, the main menu and the place questions need nothing but the call's own
state. For them the webhook reads that state in one statement (together with the answer
already given to this very request, should it be a retry), runs the step of
:mod:`hotline.conversations.voice` on a plain copy of it (:class:`CallState`), and writes
the call's row once — an INSERT for a new call (its day marked for the statistics), an
UPDATE guarded by the step counter otherwise — with the answer, then commits.

A step that needs more than the call's state (ringing operators, the hold queue, a
voicemail and its callback) raises :class:`~hotline.conversations.voice.NeedsSession`
before it touches anything, and the adapter runs it the full way (the ORM, a receipt).
So does a step whose row changed under it (a concurrent request for the same call).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from sqlalchemy import JSON, Integer, String, insert, text, update
from sqlalchemy.exc import IntegrityError

from hotline.conversations import voice
from hotline.conversations.callers import caller_identity
from hotline.stats.rollup import mark_instants_dirty
from hotline.telephony import VoiceAction
from models import Contact, db
from models.types import EncryptedText, UTCDateTime, utcnow

log = logging.getLogger(__name__)

#: Steps that may run on the call's state alone (``None``: the incoming call).
QUICK_STEPS = frozenset(
    {None, "menu", "menu-silence", "place", "place-silence", "commune", "commune-silence"}
    | {"after-place"}
)
#: What a menu step may change on the call.
STATE = ("language", "ivr_step", "commune_code", "district_code", "place_asks", "pending_places")

_SNAPSHOT = text(
    """
    SELECT
      (SELECT response FROM webhook_receipt
        WHERE provider = :provider AND "key" = :key) AS receipt,
      (SELECT count(id) FROM service_point WHERE active) AS dir_count,
      (SELECT max(updated_at) FROM service_point WHERE active) AS dir_changed,
      c.id AS id, c.language AS language, c.ivr_step AS ivr_step,
      c.commune_code AS commune_code, c.district_code AS district_code,
      c.place_asks AS place_asks, c.pending_places AS pending_places,
      c.step_count AS step_count, c.answer_key AS answer_key,
      -- the answer only when this request is its retry (no decrypting it otherwise)
      CASE WHEN c.answer_key = :key THEN c.answer END AS answer
    FROM (SELECT 1 AS one) AS one
    LEFT JOIN contact AS c
      ON c.provider = :provider AND c.provider_sid = :sid AND c.channel = 'voice'
    """
).columns(
    receipt=EncryptedText(),
    dir_count=Integer(),
    dir_changed=UTCDateTime(),
    id=Integer(),
    language=String(),
    ivr_step=String(),
    commune_code=String(),
    district_code=String(),
    place_asks=Integer(),
    pending_places=JSON(),
    step_count=Integer(),
    answer_key=String(),
    answer=EncryptedText(),
)
_table = Contact.__table__
_INSERT = insert(_table)
_UPDATE = (
    update(_table)
    .where(_table.c.id == db.bindparam("_id"), _table.c.step_count == db.bindparam("_seen"))
    .values({name: db.bindparam(name) for name in (*STATE, "step_count", "answer_key")})
    .values(answer=db.bindparam("answer"), updated_at=db.bindparam("updated_at"))
)


@dataclass
class CallState:
    """What a menu step reads and changes of a call (the steps take it for a Contact)."""

    id: int | None = None
    language: str = "vi"
    ivr_step: str | None = None
    commune_code: str | None = None
    district_code: str | None = None
    place_asks: int = 0
    pending_places: list | None = field(default=None)
    step_count: int = 0
    #: The directory's version as read with the state (routing needs no query of its own).
    directory_version: tuple | None = None

    def values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in (*STATE, "step_count")}


Render = Callable[[int, list[VoiceAction]], str]


def quick_step(
    provider: str,
    sid: str,
    step: str | None,
    form: Mapping[str, str],
    key: str,
    render: Render,
) -> str | None:
    """Answer a menu step of a call (``step`` None: the incoming call) with one read and
    one write, committed; None when it must run the full way (nothing was written)."""
    if step not in QUICK_STEPS:
        return None
    snap = db.session.execute(
        _SNAPSHOT, {"provider": provider, "sid": sid[:64], "key": key[:255]}
    ).one()
    if snap.receipt is not None:
        db.session.rollback()
        return snap.receipt
    if snap.answer_key == key[:255] and snap.answer is not None:
        db.session.rollback()
        return snap.answer
    if snap.id is None and step is not None:
        db.session.rollback()
        return None  # a later step of a call never seen: the full way makes it
    state = CallState(
        id=snap.id,
        language=snap.language or "vi",
        ivr_step=snap.ivr_step,
        commune_code=snap.commune_code,
        district_code=snap.district_code,
        place_asks=snap.place_asks or 0,
        pending_places=snap.pending_places,
        step_count=snap.step_count or 0,
        directory_version=(snap.dir_count, snap.dir_changed),
    )
    seen = state.step_count
    try:
        with force_locale(state.language):
            if step is None:
                actions = voice.greeting(state)  # type: ignore[arg-type]
            else:
                actions = voice.STEPS[step](state, {**form, "_leg": ""})
    except voice.NeedsSession:
        db.session.rollback()
        return None
    state.step_count = seen + 1
    answer = render(state.step_count, actions)
    now = utcnow()
    if state.id is None:
        return _insert_call(provider, sid, form, state, key, answer, now)
    done = db.session.execute(
        _UPDATE,
        {
            **state.values(),
            "_id": state.id,
            "_seen": seen,
            "answer_key": key[:255],
            "answer": answer,
            "updated_at": now,
        },
    )
    if done.rowcount != 1:
        db.session.rollback()
        return None  # another request for this call moved it on: the full way decides
    db.session.commit()
    return answer


def _insert_call(
    provider: str,
    sid: str,
    form: Mapping[str, str],
    state: CallState,
    key: str,
    answer: str,
    now,
) -> str | None:
    number, caller_hash = caller_identity(form.get("From") or "")
    try:
        db.session.execute(
            _INSERT,
            {
                **state.values(),
                "channel": "voice",
                "provider": provider,
                "provider_sid": sid[:64],
                "caller_number": number,
                "caller_hash": caller_hash,
                "hotline_number": (form.get("To") or "")[:32] or None,
                "status": "in_progress",
                "started_at": now,
                "updated_at": now,
                "answer_key": key[:255],
                "answer": answer,
            },
        )
        # A new call counts in its day's statistics (later menu steps change what it
        # counts as only once it ends, and its end marks the day again).
        mark_instants_dirty([now])
        db.session.commit()
    except IntegrityError:
        # The same call's first request is being (or was just) answered by another worker:
        # its answer, once committed, is this one's too.
        db.session.rollback()
        snap = db.session.execute(
            _SNAPSHOT, {"provider": provider, "sid": sid[:64], "key": key[:255]}
        ).one()
        db.session.rollback()
        return snap.answer if snap.answer_key == key[:255] else None
    return answer
