"""The Flask application for hotline 18001769."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event

from config import engine_options, load_config
from hotline.cli import register_commands
from hotline.errors import register_error_handlers
from hotline.extensions import migrate
from hotline.i18n import init_i18n
from hotline.jobs.queue import init_queue
from hotline.logs import init_logging
from models import db
from models.pool import ping_idle_connections
from models.types import keyring


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the application: config from the environment, then extensions, views, CLI.

    ``test_config`` overrides settings after the environment is read (tests only).
    """
    config = load_config()
    app = Flask(__name__, instance_path=config["INSTANCE_PATH"])
    app.config.update(config)
    if test_config:
        app.config.update(test_config)
        if "SQLALCHEMY_DATABASE_URI" in test_config and (
            "SQLALCHEMY_ENGINE_OPTIONS" not in test_config
        ):
            # Options for the database actually used (PostgreSQL's timeouts are not
            # SQLite's arguments).
            app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(
                app.config["SQLALCHEMY_DATABASE_URI"]
            )

    init_logging(app)
    init_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_jobs()
    register_flows()
    return app


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    keyring.configure(app.config["FIELD_ENCRYPTION_KEYS"])
    init_i18n(app)
    init_queue(app)
    with app.app_context():
        if not (app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {}).get("pool_pre_ping"):
            ping_idle_connections(db.engine)
        if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web process and the worker read while the other writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    """Every blueprint of the service, in one place, and the wiring they need."""
    from hotline import api, dashboard, web
    from hotline.alerts import page as alert_page
    from hotline.api import stats as stats_api
    from hotline.dev import phone as dev_phone
    from hotline.dev import zalo_phone  # noqa: F401 - adds /dev/phone/zalo to dev_phone.bp
    from hotline.stats.rollup import init_rollup
    from hotline.telephony import setup as telephony
    from hotline.web import (
        account,
        admin,
        auth,
        board,
        cases,
        health,
        home,
        inbox,
        intake,
        manager,
    )
    from hotline.web import calls as voice_calls

    # No CSRF token on the bearer-token API and the provider-signed webhooks: they never
    # act on the session cookie.
    web.init_web(
        app,
        csrf_exempt=(api.bp, stats_api.bp, *telephony.blueprints()),
        sessionless=telephony.WEBHOOK_PREFIXES,
    )
    telephony.init_telephony()
    init_rollup()
    for bp in (
        health.bp,
        home.bp,
        auth.bp,
        account.bp,  # /account: each person's own password, language, 2FA, sessions
        board.bp,
        intake.bp,
        cases.bp,
        inbox.bp,
        manager.bp,
        admin.bp,
        alert_page.bp,  # /a/<token>: the link in an alert SMS
        dashboard.bp,
        api.bp,
        stats_api.bp,
        *telephony.blueprints(),
        voice_calls.bp,  # the board's voice controls (operator/_voice.html)
        dev_phone.bp,  # 404 in production
    ):
        app.register_blueprint(bp)


def register_jobs() -> None:
    """Import every module that registers background jobs (:mod:`hotline.jobs.registry`),
    so the web process, the relay and the worker know every job name."""
    import hotline.alerts.committee
    import hotline.alerts.escalation
    import hotline.alerts.jobs
    import hotline.cases.jobs
    import hotline.cases.messages
    import hotline.conversations.calls
    import hotline.conversations.jobs
    import hotline.followups.jobs
    import hotline.followups.schedule
    import hotline.jobs.relay
    import hotline.jobs.system
    import hotline.referrals.reminders
    import hotline.reporting.push
    import hotline.reporting.schedule
    import hotline.retention.purge
    import hotline.stats.rollup  # noqa: F401


def register_flows() -> None:
    """Hand the conversation flows to the telephony providers (no import back)."""
    from hotline.conversations import sms, status, voice, voice_quick
    from hotline.telephony import flows

    flows.register(
        flows.Flows(
            handle_sms=sms.handle_sms,
            safe_reply=sms.safe_reply,
            message_status=status.message_status,
            voice=voice,
            quick_voice=voice_quick.quick_step,
        )
    )
