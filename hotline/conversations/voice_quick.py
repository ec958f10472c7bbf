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

from hotline.conversations import voice
from hotline.conversations.callers import caller_identity
from hotline.directory.decisions import VERSION_SQL
from hotline.stats.rollup import MARK_DAY, day_mark
from hotline.telephony import VoiceAction
from models import Contact, quick
from models.quick import Statement
from models.types import EncryptedText, utcnow

log = logging.getLogger(__name__)

#: Steps that may run on the call's state alone (``None``: the incoming call).
QUICK_STEPS = frozenset(
    {None, "menu", "menu-silence", "place", "place-silence", "commune", "commune-silence"}
    | {"after-place"}
)
#: What a menu step may change on the call.
STATE = ("language", "ivr_step", "commune_code", "district_code", "place_asks", "pending_places")
_table = Contact.__table__

_SNAPSHOT = Statement(
    f"""
    SELECT
      (SELECT response FROM webhook_receipt
        WHERE provider = :provider AND "key" = :key) AS receipt,
      {VERSION_SQL} AS dir_version,
      c.id AS id, c.language AS language, c.ivr_step AS ivr_step,
      c.commune_code AS commune_code, c.district_code AS district_code,
      c.place_asks AS place_asks, c.pending_places AS pending_places,
      c.step_count AS step_count, c.answer_key AS answer_key,
      -- the answer only when this request is its retry (no decrypting it otherwise)
      CASE WHEN c.answer_key = :key THEN c.answer END AS answer
    FROM (SELECT 1 AS one) AS one
    LEFT JOIN contact AS c
      ON c.provider = :provider AND c.provider_sid = :sid AND c.channel = 'voice'
    """,  # noqa: S608 - a constant of our own
    columns={
        "receipt": EncryptedText(),
        "pending_places": _table.c.pending_places.type,
        "answer": _table.c.answer.type,
    },
)
_WRITTEN = (*STATE, "step_count", "answer_key", "answer", "updated_at")
_NEW_CALL = ("channel", "provider", "provider_sid", "caller_number", "caller_hash")
#: A new call's row, unless the call has one already (a retried or concurrent first
#: request, or one answered the full way): then nothing is written.
_INSERT = quick.insert(
    _table, (*_WRITTEN, *_NEW_CALL, "hotline_number", "status", "started_at"), unless_conflict=True
)
#: PostgreSQL: the call and its day's mark in one statement (the block commits each
#: statement on its own; a call that had its row is marked again, harmlessly).
_INSERT_MARKED = Statement(
    f"WITH mark AS ({MARK_DAY.sql}) {_INSERT.sql}", params={**MARK_DAY.params, **_INSERT.params}
)
_INSERT_MARKED.defaults = _INSERT.defaults
_UPDATE = quick.update(_table, _WRITTEN, "id = :_id AND step_count = :_seen")


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
    directory_version: int | None = None

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
    sid, key = sid[:64], key[:255]
    # One statement reads, one writes (each its own transaction); an incoming call is
    # first written as new, without reading, and read only if it had its row.
    with quick.connection(transaction=False) as conn:
        if step is None:
            answer = _new_call(conn, provider, sid, form, key, render)
            if answer is not None:
                return answer
        snap = conn.one(_SNAPSHOT, {"provider": provider, "sid": sid, "key": key})
        if snap.receipt is not None:
            return snap.receipt
        if snap.answer_key == key and snap.answer is not None:
            return snap.answer
        if snap.id is None:
            # A later step of a call never seen, or (a new call's row was there, and is
            # no longer) one the full way is handling: the full way answers.
            return None
        state = CallState(
            id=snap.id,
            language=snap.language or "vi",
            ivr_step=snap.ivr_step,
            commune_code=snap.commune_code,
            district_code=snap.district_code,
            place_asks=snap.place_asks or 0,
            pending_places=snap.pending_places,
            step_count=snap.step_count or 0,
            directory_version=snap.dir_version,
        )
        seen = state.step_count
        try:
            with force_locale(state.language):
                if step is None:
                    actions = voice.greeting(state)  # type: ignore[arg-type]
                else:
                    actions = voice.STEPS[step](state, {**form, "_leg": ""})
        except voice.NeedsSession:
            return None
        state.step_count = seen + 1
        answer = render(state.step_count, actions)
        values = {**state.values(), "answer_key": key, "answer": answer, "updated_at": utcnow()}
        done = conn.run(_UPDATE, {**values, "_id": state.id, "_seen": seen})
        # Guarded by the step counter: when another request for this call moved it on,
        # nothing changed (and nothing was committed); the full way decides.
        conn.commit()
        return answer if done.rowcount == 1 else None


def _new_call(
    conn: quick.Connection,
    provider: str,
    sid: str,
    form: Mapping[str, str],
    key: str,
    render: Render,
) -> str | None:
    """Answer an incoming call as a new one: the greeting, and the call's row written
    with it and its day marked for the statistics (a new call counts in its day's
    statistics; later menu steps change what it counts as only once it ends, and its end
    marks the day again). None when the call had its row already (nothing written)."""
    state = CallState()
    try:
        with force_locale(state.language):
            actions = voice.greeting(state)  # type: ignore[arg-type]
    except voice.NeedsSession:
        return None
    state.step_count = 1
    answer = render(state.step_count, actions)
    now = utcnow()
    number, caller_hash = caller_identity(form.get("From") or "")
    row = {
        **state.values(),
        "answer_key": key,
        "answer": answer,
        "updated_at": now,
        "channel": "voice",
        "provider": provider,
        "provider_sid": sid,
        "caller_number": number,
        "caller_hash": caller_hash,
        "hotline_number": (form.get("To") or "")[:32] or None,
        "status": "in_progress",
        "started_at": now,
    }
    if conn.postgres:
        written = conn.run(_INSERT_MARKED, {**row, **day_mark(now)}).rowcount
    else:
        mark = day_mark(now)
        conn.begin()
        written = conn.run(_INSERT, row).rowcount
        if written:
            conn.run(MARK_DAY, mark)
    conn.commit()
    return answer if written == 1 else None
