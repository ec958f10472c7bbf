"""Settings from the environment (DESIGN.md section 4).

``load_config()`` picks the class for ``HOTLINE_ENV`` and returns a plain dict that the
application factory hands to Flask. Development and test fill safe defaults (SQLite and
keys kept in ``instance/``); production refuses to start when a *prod* variable is
missing, naming every one of them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = ROOT / "instance"

#: Variables production cannot run without (DESIGN.md section 4).
PRODUCTION_REQUIRED = (
    "DATABASE_URL",
    "REDIS_URL",
    "SECRET_KEY",
    "FIELD_ENCRYPTION_KEYS",
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
)

#: Placeholder credentials used outside production; outbound messages then go to the dev
#: outbox instead of Twilio.
DEV_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEV_TWILIO_AUTH_TOKEN = "dev-auth-token-not-secret"  # noqa: S105 - a documented dev value


class ConfigError(RuntimeError):
    """The environment does not describe a service that can start."""


def normalise_database_url(url: str) -> str:
    """Use the bundled psycopg 3 driver for plain ``postgresql://`` and ``postgres://`` URLs."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


#: libpq settings for PostgreSQL: a database host that does not answer a new connection, is
#: gone, or sits behind a cut network must fail a webhook within seconds, so it spools the
#: request and gives the emergency numbers inside Twilio's 15 s instead of holding a server
#: thread. (A server process that stalls on an open connection while its kernel still
#: acknowledges cannot be bounded from here; Twilio's fallback URL answers the caller then.)
POSTGRES_CONNECT_ARGS = {
    "connect_timeout": 3,  # seconds, per connection attempt
    "keepalives": 1,
    "keepalives_idle": 5,
    "keepalives_interval": 2,
    "keepalives_count": 3,
    "tcp_user_timeout": 8000,  # ms: data sent but not acknowledged
}


def engine_options(database_url: str) -> dict[str, Any]:
    """SQLAlchemy engine options for this database. (A pooled connection is pinged before
    use only when it has been idle for a while: ``models.pool``.)"""
    options: dict[str, Any] = {}
    if normalise_database_url(database_url).startswith("postgresql"):
        options["connect_args"] = dict(POSTGRES_CONNECT_ARGS)
    return options


def _instance_secret(instance: Path, name: str, make: Callable[[], str]) -> str:
    """Read a generated secret from ``instance/``, creating it (mode 0600) the first time."""
    path = instance / name
    if path.exists():
        return path.read_text(encoding="ascii").strip()
    instance.mkdir(parents=True, exist_ok=True)
    value = make()
    # O_EXCL: two processes starting at once must not write two different keys.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(value + "\n")
    return value


def _int(env: Mapping[str, str], name: str, default: int, errors: list[str]) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        errors.append(f"{name} must be a whole number (got {raw!r})")
        return default
    if value <= 0:
        errors.append(f"{name} must be positive (got {value})")
        return default
    return value


def _hops(env: Mapping[str, str], errors: list[str]) -> int:
    """``TRUSTED_PROXY_HOPS``: a whole number, 0 (no proxy, the default) or more."""
    raw = env.get("TRUSTED_PROXY_HOPS", "").strip() or "0"
    if not raw.isdigit() or int(raw) > 10:
        errors.append(f"TRUSTED_PROXY_HOPS must be a whole number from 0 to 10 (got {raw!r})")
        return 0
    return int(raw)


def _int_list(
    env: Mapping[str, str], name: str, default: str, errors: list[str], minimum: int = 1
) -> list[int]:
    """A comma-separated list of whole numbers, e.g. ``FOLLOW_UP_DAYS=3,14``."""
    raw = env.get(name, "").strip() or default
    try:
        values = [int(v) for v in raw.split(",") if v.strip()]
    except ValueError:
        values = []
    if not values or any(v < minimum for v in values):
        errors.append(
            f"{name} must be whole numbers of at least {minimum}, separated by commas "
            f"(got {raw!r})"
        )
        return [int(v) for v in default.split(",")]
    return values


#: Dialects of the outbound SMS gateway API (``hotline.telephony.smsgateway``).
SMS_GATEWAY_KINDS = ("generic", "android")


def _sms_gateway(env: Mapping[str, str], errors: list[str]) -> dict[str, Any]:
    """``SMS_GATEWAY_*``: where and how SMS the service starts are sent when not by Twilio."""

    def get(name: str) -> str:
        return env.get(name, "").strip()

    url = get("SMS_GATEWAY_URL").rstrip("/")
    kind = (get("SMS_GATEWAY_KIND") or "generic").lower()
    if kind not in SMS_GATEWAY_KINDS:
        errors.append(f"SMS_GATEWAY_KIND must be generic or android (got {kind!r})")
    if url and not url.startswith(("http://", "https://")):
        errors.append("SMS_GATEWAY_URL must start with http:// or https://")
    if (
        url
        and kind == "android"
        and not (get("SMS_GATEWAY_USERNAME") and get("SMS_GATEWAY_PASSWORD"))
    ):
        errors.append(
            "SMS_GATEWAY_KIND=android needs SMS_GATEWAY_USERNAME and SMS_GATEWAY_PASSWORD"
        )
    if url and kind == "generic" and not get("SMS_GATEWAY_TOKEN"):
        errors.append("SMS_GATEWAY_URL (generic) needs SMS_GATEWAY_TOKEN")
    return {
        "SMS_GATEWAY_URL": url or None,
        "SMS_GATEWAY_KIND": kind,
        "SMS_GATEWAY_TOKEN": get("SMS_GATEWAY_TOKEN") or None,
        "SMS_GATEWAY_USERNAME": get("SMS_GATEWAY_USERNAME") or None,
        "SMS_GATEWAY_PASSWORD": get("SMS_GATEWAY_PASSWORD") or None,
        # Shorter than the outbox lease (15 s), like TWILIO_TIMEOUT_SECONDS.
        "SMS_GATEWAY_TIMEOUT_SECONDS": _int(env, "SMS_GATEWAY_TIMEOUT_SECONDS", 10, errors),
    }


class BaseConfig:
    """Settings shared by every environment; subclasses say what differs."""

    name = "development"
    #: Variables that must be set; the others get safe defaults.
    required: tuple[str, ...] = ()
    #: Whether missing settings fall back to the embedded defaults in ``instance/``.
    embedded_defaults = True
    database_variables: tuple[str, ...] = ("DATABASE_URL",)
    redis_variables: tuple[str, ...] = ("REDIS_URL",)

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = env

    def get(self, *names: str) -> str:
        """The first non-empty value among ``names``, stripped, or ''."""
        for n in names:
            value = self.env.get(n, "").strip()
            if value:
                return value
        return ""

    def load(self) -> dict:
        """Return the Flask config dict, or raise :class:`ConfigError` naming every problem."""
        get = self.get
        errors: list[str] = []
        missing = [v for v in self.required if not get(v)]
        if missing:
            errors.append(
                f"missing required environment variables for {self.name}: " + ", ".join(missing)
            )
        instance = Path(get("HOTLINE_INSTANCE_PATH") or DEFAULT_INSTANCE_PATH)

        database_url = get(*self.database_variables)
        redis_url = get(*self.redis_variables)
        secret_key = get("SECRET_KEY")
        keys = [k.strip() for k in get("FIELD_ENCRYPTION_KEYS").split(",") if k.strip()]
        if self.embedded_defaults:
            database_url = database_url or f"sqlite:///{instance / 'hotline.sqlite3'}"
            secret_key = secret_key or _instance_secret(
                instance, "secret_key", lambda: secrets.token_urlsafe(48)
            )
            keys = keys or [
                _instance_secret(
                    instance, "field_encryption_key", lambda: Fernet.generate_key().decode()
                )
            ]
        for i, key in enumerate(keys, start=1):
            try:
                Fernet(key)
            except (ValueError, TypeError):
                errors.append(
                    f"FIELD_ENCRYPTION_KEYS entry {i} is not a Fernet key "
                    "(32 url-safe base64-encoded bytes)"
                )

        reporting_format = get("REPORTING_FORMAT") or "json"
        if reporting_format not in ("json", "dhis2"):
            errors.append(f"REPORTING_FORMAT must be json or dhis2 (got {reporting_format!r})")

        timezone = get("HOTLINE_TIMEZONE") or "Asia/Ho_Chi_Minh"
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            errors.append(f"HOTLINE_TIMEZONE is not a known timezone (got {timezone!r})")

        escalate_after = _int(self.env, "ALERT_ESCALATE_AFTER_SECONDS", 900, errors)
        max_wait = _int(self.env, "VOICE_MAX_WAIT_SECONDS", 120, errors)
        retention_days = _int(self.env, "RETENTION_DAYS", 365, errors)
        proxy_hops = _hops(self.env, errors)
        twilio_timeout = _int(self.env, "TWILIO_TIMEOUT_SECONDS", 10, errors)
        follow_up_days = _int_list(self.env, "FOLLOW_UP_DAYS", "3,14", errors)
        reminder_days = _int(self.env, "OUTCOME_REMINDER_DAYS", 3, errors)
        overdue_days = _int(self.env, "OUTCOME_OVERDUE_DAYS", 7, errors)
        sms_retry = _int_list(
            self.env,
            "SMS_RETRY_INTERVALS",
            "0,10,30,60,120,300,600,900,1800,3600",
            errors,
            minimum=0,
        )
        gateway = _sms_gateway(self.env, errors)
        commune_notification = (get("COMMUNE_NOTIFICATION") or "on").lower()
        if commune_notification not in ("on", "off"):
            errors.append(f"COMMUNE_NOTIFICATION must be on or off (got {commune_notification!r})")

        if errors:
            raise ConfigError("; ".join(errors))

        production = self.name == "production"
        return {
            "HOTLINE_ENV": self.name,
            "TESTING": self.name == "test",
            "DEBUG": False,
            "INSTANCE_PATH": str(instance),
            "SECRET_KEY": secret_key,
            "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
            "SQLALCHEMY_ENGINE_OPTIONS": engine_options(database_url),
            "REDIS_URL": redis_url or None,
            "FIELD_ENCRYPTION_KEYS": keys,
            "TWILIO_ACCOUNT_SID": get("TWILIO_ACCOUNT_SID") or DEV_TWILIO_ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": get("TWILIO_AUTH_TOKEN") or DEV_TWILIO_AUTH_TOKEN,
            # Without real credentials outbound messages go to the dev outbox.
            "TWILIO_LIVE": bool(get("TWILIO_ACCOUNT_SID") and get("TWILIO_AUTH_TOKEN")),
            "TWILIO_API_BASE_URL": get("TWILIO_API_BASE_URL") or None,
            "TWILIO_SMS_FROM": get("TWILIO_SMS_FROM") or None,
            "TWILIO_TIMEOUT_SECONDS": twilio_timeout,
            "PUBLIC_BASE_URL": get("PUBLIC_BASE_URL").rstrip("/") or None,
            # Proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none).
            "TRUSTED_PROXY_HOPS": proxy_hops,
            # Inbound SMS from a local carrier gateway; unset = that endpoint is off.
            "SMS_GATEWAY_SECRET": get("SMS_GATEWAY_SECRET") or None,
            # Zalo Official Account (docs/zalo.md); unset secret = /zalo/webhook is off.
            **zalo_settings(get),
            # Outbound SMS through a local gateway instead of Twilio (docs/sms-gateway.md).
            **gateway,
            "REPORTING_URL": get("REPORTING_URL") or None,
            "REPORTING_SECRET": get("REPORTING_SECRET") or None,
            "REPORTING_FORMAT": reporting_format,
            # Optional: Authorization header for the receiver (e.g. DHIS2 "ApiToken …"),
            # and a JSON file mapping our codes to DHIS2 codes (docs/statistics.md).
            "REPORTING_AUTHORIZATION": get("REPORTING_AUTHORIZATION") or None,
            "REPORTING_DHIS2_MAPPING": get("REPORTING_DHIS2_MAPPING") or None,
            "HOTLINE_TIMEZONE": timezone,
            "ALERT_ESCALATE_AFTER_SECONDS": escalate_after,
            # A caller on hold is offered voicemail or a callback after this long.
            "VOICE_MAX_WAIT_SECONDS": max_wait,
            "RETENTION_DAYS": retention_days,
            "FOLLOW_UP_DAYS": follow_up_days,
            "OUTCOME_REMINDER_DAYS": reminder_days,
            "OUTCOME_OVERDUE_DAYS": overdue_days,
            "SMS_RETRY_INTERVALS": sms_retry,
            "COMMUNE_NOTIFICATION": commune_notification == "on",
            "BABEL_DEFAULT_LOCALE": "vi",
            "BABEL_DEFAULT_TIMEZONE": timezone,
            "BABEL_TRANSLATION_DIRECTORIES": str(ROOT / "locales"),
            "SESSION_COOKIE_HTTPONLY": True,
            "SESSION_COOKIE_SAMESITE": "Lax",
            "SESSION_COOKIE_SECURE": production,
            "PREFERRED_URL_SCHEME": "https" if production else "http",
        }


def zalo_settings(get: Callable[[str], str]) -> dict[str, Any]:
    """The Zalo OA channel's settings (DESIGN.md section 14)."""
    return {
        "ZALO_APP_ID": get("ZALO_APP_ID") or None,
        "ZALO_OA_SECRET_KEY": get("ZALO_OA_SECRET_KEY") or None,
        "ZALO_APP_SECRET": get("ZALO_APP_SECRET") or None,
        "ZALO_API_BASE_URL": (get("ZALO_API_BASE_URL") or "https://openapi.zalo.me").rstrip("/"),
        "ZALO_OAUTH_BASE_URL": (get("ZALO_OAUTH_BASE_URL") or "https://oauth.zaloapp.com").rstrip(
            "/"
        ),
        "ZALO_ACCESS_TOKEN": get("ZALO_ACCESS_TOKEN") or None,
        "ZALO_REFRESH_TOKEN": get("ZALO_REFRESH_TOKEN") or None,
    }


class DevelopmentConfig(BaseConfig):
    """A laptop or demo box: SQLite, generated keys and an embedded Redis-compatible server."""

    name = "development"


class TestConfig(BaseConfig):
    """The test suite: ``TEST_DATABASE_URL``/``TEST_REDIS_URL`` first, so a developer's own
    ``DATABASE_URL`` is never wiped by a test run."""

    name = "test"
    database_variables = ("TEST_DATABASE_URL",)
    redis_variables = ("TEST_REDIS_URL",)


class ProductionConfig(BaseConfig):
    """The live hotline: every secret and service comes from the environment."""

    name = "production"
    required = PRODUCTION_REQUIRED
    embedded_defaults = False


CONFIGS: dict[str, type[BaseConfig]] = {
    c.name: c for c in (DevelopmentConfig, TestConfig, ProductionConfig)
}


def load_config(env: Mapping[str, str] | None = None) -> dict:
    """Build the Flask config for the environment named by ``HOTLINE_ENV``.

    Raises :class:`ConfigError` with one message listing every problem found.
    """
    env = os.environ if env is None else env
    name = env.get("HOTLINE_ENV", "").strip() or "development"
    if name not in CONFIGS:
        raise ConfigError(f"HOTLINE_ENV must be one of {', '.join(CONFIGS)} (got {name!r})")
    return CONFIGS[name](env).load()
