"""The fallback spool: webhook requests kept on disk when the database (or anything else
the normal flow needs) is down, and replayed into the normal flow later.

Writing needs no database and no Redis: one file per request, encrypted with the field
keys (it holds a number and perhaps a message), written to a temporary name and renamed,
so a reader never sees half a file. :func:`replay_spool` feeds each file to the same
handlers the webhooks use (idempotent on the provider's ids) and deletes it only after
its transaction committed.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flask import current_app
from sqlalchemy.exc import IntegrityError

from hotline.telephony.flows import replay_handler
from models import db
from models.types import keyring, utcnow

log = logging.getLogger(__name__)
SUFFIX = ".spool"


def spool_dir() -> Path:
    return Path(current_app.instance_path) / "spool" / "telephony"


def keep_failed_json(provider: str, path: str, label: str) -> bool:
    """After a JSON webhook of ``provider`` failed (the database down): roll back and keep
    the request's body for replay at ``path``; whether it was kept. Logs codes only."""
    from flask import request

    try:
        db.session.rollback()
    except Exception:
        log.error("rollback failed after %s webhook error", label)
    try:
        payload = json.loads(request.get_data(cache=True).decode("utf-8", "replace"))
        if isinstance(payload, dict):
            spool_request(provider, path, payload)
            return True
    except Exception as spool_exc:
        log.error("spooling failed (%s)", type(spool_exc).__name__)
    return False


def spool_request(provider: str, path: str, form: dict[str, Any]) -> Path:
    """Keep one request (form fields or JSON body, path, time received) on disk."""
    directory = spool_dir()
    directory.mkdir(parents=True, exist_ok=True)
    record = {
        "provider": provider,
        "path": path,
        "form": form,
        "received_at": utcnow().isoformat(),
    }
    data = keyring.encrypt(json.dumps(record, ensure_ascii=False)).encode("ascii")
    name = f"{time.time_ns():020d}-{secrets.token_hex(6)}{SUFFIX}"
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".tmp-")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, directory / name)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    log.warning("telephony request spooled: %s %s", provider, path)
    return directory / name


def pending_files() -> list[Path]:
    directory = spool_dir()
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.name.endswith(SUFFIX))


def read_record(path: Path) -> dict[str, Any]:
    return json.loads(keyring.decrypt(path.read_text(encoding="ascii")))


def _handler(record: dict[str, Any]) -> Callable[[dict[str, Any]], object]:
    handler = replay_handler(record["provider"])
    return lambda form: handler(record["path"], form)


def _replay_once(record: dict[str, Any]) -> None:
    """Feed one record and commit. A unique-key clash means a concurrent replay (or the
    live webhook) stored the same request a moment ago: the flows are idempotent by
    provider id, so running it once more finds what that stored and changes nothing."""
    try:
        _handler(record)(record["form"])
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        _handler(record)(record["form"])
        db.session.commit()


def replay_spool(limit: int | None = None) -> dict[str, int]:
    """Feed spooled requests into the normal flows, oldest first (worker or command).

    A file whose replay fails stays for the next run; an unreadable one is moved aside to
    ``failed/``. Returns counts.
    """
    counts = {"replayed": 0, "failed": 0, "unreadable": 0}
    for path in pending_files()[:limit]:
        try:
            record = read_record(path)
        except FileNotFoundError:
            continue  # another replay (worker or command) took it meanwhile
        except Exception:  # an unreadable file must not block the others
            log.error("spool file unreadable: %s", path.name)
            failed = path.parent / "failed"
            failed.mkdir(exist_ok=True)
            with contextlib.suppress(FileNotFoundError):
                os.replace(path, failed / path.name)
            counts["unreadable"] += 1
            continue
        try:
            _replay_once(record)
        except Exception as exc:
            db.session.rollback()
            log.error("spool replay failed for %s (%s)", path.name, type(exc).__name__)
            counts["failed"] += 1
            continue
        path.unlink(missing_ok=True)
        counts["replayed"] += 1
    return counts
