"""The Flask application for hotline 18001769."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import event

from config import engine_options, load_config
from hotline import ack, dashboard, health, home
from hotline.cli import register_commands
from hotline.errors import register_error_handlers
from hotline.extensions import migrate
from hotline.i18n import init_i18n
from hotline.logs import init_logging
from hotline.privacy.cli import register_privacy_commands
from hotline.queue import init_queue
from hotline.web import init_web
from models import db
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
    register_privacy_commands(app)
    return app


def init_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db)
    keyring.configure(app.config["FIELD_ENCRYPTION_KEYS"])
    init_i18n(app)
    init_queue(app)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            event.listen(db.engine, "connect", _sqlite_pragmas)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    # WAL lets the web process and the worker read while the other writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def register_blueprints(app: Flask) -> None:
    from hotline.telephony.setup import init_telephony

    app.register_blueprint(health.bp)
    app.register_blueprint(home.bp)
    app.register_blueprint(ack.bp)
    init_web(app)
    dashboard.register(app)
    # After init_web: adds the webhook paths to its CSRF exemptions.
    init_telephony(app)
