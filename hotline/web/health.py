"""Liveness and readiness probes for load balancers and the process manager."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from redis.exceptions import RedisError
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from hotline.jobs.queue import redis_connection
from hotline.privacy import stored_secrets_readable
from models import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and serving requests."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database and Redis answer and the field keys read the stored secrets; otherwise
    503 naming what is down."""
    down: list[str] = []
    try:
        db.session.execute(text("SELECT 1"))
        if not stored_secrets_readable():
            down.append("encryption_keys")
    except SQLAlchemyError:
        db.session.rollback()
        down.append("database")
    try:
        redis_connection().ping()
    except (RedisError, RuntimeError, OSError):
        down.append("redis")
    if down:
        current_app.logger.warning("not ready: %s down", ", ".join(down))
        return jsonify(status="unavailable", down=down), 503
    return jsonify(status="ok", checks={"database": "ok", "redis": "ok"})
