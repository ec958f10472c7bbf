"""The OA's access and refresh tokens: kept encrypted in ``zalo_token``, refreshed once.

Zalo's access token lives about 25 hours; its refresh token works **once**. So a refresh
must never run twice at once (the second would present a spent refresh token and the pair
would be lost). Every sender remembers the ``version`` of the token it used; a sender told
the token expired (error ``-216``), or finding it close to expiry, refreshes only if the
version is still the one it saw — otherwise someone else refreshed it already and it uses
the new one. On PostgreSQL the refresher holds the row lock (``SELECT … FOR UPDATE``)
through the OAuth call; on SQLite it takes a lease by compare-and-set on ``version``, and
the others wait for the version to move.

Token operations use a connection of their own, so they commit independently of the job's
session (a refresh must be kept even when the send that needed it fails).
"""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

import requests
from flask import current_app
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from hotline.telephony import SendError
from models import ZaloToken, db
from models.types import utcnow

log = logging.getLogger(__name__)

_TOKEN = ZaloToken.__table__
ROW_ID = 1
#: Refresh this long before the access token expires.
REFRESH_MARGIN = timedelta(minutes=10)
#: How long one refresher keeps the others away (SQLite): above the OAuth attempts' total.
LEASE = timedelta(seconds=45)
#: How long a sender waits for another process's refresh before retrying later.
WAIT_FOR_REFRESH = 30.0
TIMEOUT = 10
#: Attempts at the OAuth call, and the pauses between them.
REFRESH_PAUSES = (0.5, 1.5)


def configured() -> bool:
    cfg = current_app.config
    return bool(cfg.get("ZALO_ACCESS_TOKEN") or cfg.get("ZALO_REFRESH_TOKEN"))


def _read(conn):
    return conn.execute(select(_TOKEN).where(_TOKEN.c.id == ROW_ID)).first()


def _seeded(conn):
    """The token row, inserted from ``ZALO_ACCESS_TOKEN``/``ZALO_REFRESH_TOKEN`` the first
    time (a concurrent first use by another process is harmless)."""
    row = _read(conn)
    if row is not None:
        return row
    cfg = current_app.config
    try:
        with conn.begin_nested():
            conn.execute(
                _TOKEN.insert().values(
                    id=ROW_ID,
                    access_token=cfg.get("ZALO_ACCESS_TOKEN") or "",
                    refresh_token=cfg.get("ZALO_REFRESH_TOKEN"),
                    expires_at=None,
                    version=0,
                    updated_at=utcnow(),
                )
            )
    except IntegrityError:
        pass
    return _read(conn)


def current() -> tuple[str, int]:
    """The access token to use now and its version; refreshed first when it is about to
    expire (or was never given)."""
    with db.engine.begin() as conn:
        row = _seeded(conn)
    if not row.access_token or (
        row.expires_at is not None and row.expires_at - utcnow() < REFRESH_MARGIN
    ):
        return refresh(row.version)
    return row.access_token, row.version


def refresh(seen_version: int) -> tuple[str, int]:
    """Replace the token pair whose version is ``seen_version`` (unless that happened
    already); the token to use and its version. Raises :class:`SendError` (temporary)."""
    if db.engine.dialect.name == "postgresql":
        return _refresh_locked(seen_version)
    return _refresh_leased(seen_version)


def _refresh_locked(seen_version: int) -> tuple[str, int]:
    with db.engine.begin() as conn:
        _seeded(conn)
        row = conn.execute(select(_TOKEN).where(_TOKEN.c.id == ROW_ID).with_for_update()).first()
        if row.version != seen_version:
            return row.access_token, row.version
        pair = _call_oauth(row.refresh_token)
        _store(conn, seen_version, pair)
    return pair[0], seen_version + 1


def _refresh_leased(seen_version: int) -> tuple[str, int]:
    deadline = time.monotonic() + WAIT_FOR_REFRESH
    while True:
        now = utcnow()
        with db.engine.begin() as conn:
            row = _seeded(conn)
            if row.version != seen_version:
                return row.access_token, row.version
            claimed = conn.execute(
                update(_TOKEN)
                .where(
                    _TOKEN.c.id == ROW_ID,
                    _TOKEN.c.version == seen_version,
                    or_(_TOKEN.c.refreshing_until.is_(None), _TOKEN.c.refreshing_until < now),
                )
                .values(refreshing_until=now + LEASE)
            ).rowcount
        if claimed == 1:
            break
        if time.monotonic() > deadline:
            raise SendError("zalo-refresh-busy", permanent=False)
        time.sleep(0.1)
    try:
        pair = _call_oauth(row.refresh_token)
    except BaseException:
        with db.engine.begin() as conn:
            conn.execute(
                update(_TOKEN)
                .where(_TOKEN.c.id == ROW_ID, _TOKEN.c.version == seen_version)
                .values(refreshing_until=None)
            )
        raise
    with db.engine.begin() as conn:
        _store(conn, seen_version, pair)
    return pair[0], seen_version + 1


def _store(conn, seen_version: int, pair: tuple[str, str, datetime]) -> None:
    access, refresh_token, expires_at = pair
    now = utcnow()
    conn.execute(
        update(_TOKEN)
        .where(_TOKEN.c.id == ROW_ID, _TOKEN.c.version == seen_version)
        .values(
            access_token=access,
            refresh_token=refresh_token,
            expires_at=expires_at,
            version=seen_version + 1,
            refreshing_until=None,
            refreshed_at=now,
            updated_at=now,
        )
    )
    log.info("zalo access token refreshed (version %s)", seen_version + 1)


def _call_oauth(refresh_token: str | None) -> tuple[str, str, datetime]:
    """Ask Zalo's OAuth server for a new pair, retrying network failures and 5xx; never
    logs a token."""
    cfg = current_app.config
    if not refresh_token or not cfg.get("ZALO_APP_ID") or not cfg.get("ZALO_APP_SECRET"):
        log.error("zalo token cannot be refreshed: refresh token, app id or app secret missing")
        raise SendError("zalo-no-refresh", permanent=False)
    url = f"{cfg['ZALO_OAUTH_BASE_URL']}/v4/oa/access_token"
    code = "zalo-refresh"
    for attempt in range(len(REFRESH_PAUSES) + 1):
        if attempt:
            time.sleep(REFRESH_PAUSES[attempt - 1])
        try:
            response = requests.post(
                url,
                headers={"secret_key": cfg["ZALO_APP_SECRET"]},
                data={
                    "app_id": cfg["ZALO_APP_ID"],
                    "refresh_token": refresh_token,
                    "grant_type": "refresh_token",
                },
                timeout=TIMEOUT,
            )
        except requests.RequestException as exc:
            code = "zalo-refresh-net"
            log.warning("zalo token refresh attempt failed (%s)", type(exc).__name__)
            continue
        if response.status_code >= 500:
            code = "zalo-refresh-5xx"
            log.warning("zalo token refresh attempt failed (HTTP %s)", response.status_code)
            continue
        try:
            data = response.json()
        except ValueError:
            data = None
        if isinstance(data, dict) and data.get("access_token") and data.get("refresh_token"):
            try:
                seconds = int(data.get("expires_in") or 3600)
            except (TypeError, ValueError):
                seconds = 3600
            return (
                str(data["access_token"]),
                str(data["refresh_token"]),
                utcnow() + timedelta(seconds=seconds),
            )
        error = data.get("error") if isinstance(data, dict) else None
        # Refused (a spent or revoked refresh token): retrying will not help; people must
        # authorise the app again (docs/zalo.md, "Tokens").
        log.error("zalo token refresh refused (error %s): re-seed the tokens", error)
        raise SendError("zalo-refresh-refused", permanent=False)
    raise SendError(code, permanent=False)
