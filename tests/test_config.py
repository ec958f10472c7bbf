"""Configuration from the environment (DESIGN.md section 4)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from cryptography.fernet import Fernet

from config import PRODUCTION_REQUIRED, ConfigError, load_config, normalise_database_url
from tests.conftest import ROOT


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "HOTLINE_ENV": "production",
        "DATABASE_URL": "postgresql://hotline@db.internal/hotline",
        "REDIS_URL": "redis://redis.internal:6379/0",
        "SECRET_KEY": "x" * 40,
        "FIELD_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "t" * 32,
    }
    env.update(overrides)
    return env


def test_production_with_every_variable_starts():
    config = load_config(production_env())
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://hotline@db.internal/hotline"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["TWILIO_LIVE"] is True


def test_production_names_every_missing_variable_in_one_message():
    env = {k: v for k, v in production_env().items() if k not in ("REDIS_URL", "SECRET_KEY")}
    with pytest.raises(ConfigError) as exc:
        load_config(env)
    assert "REDIS_URL" in str(exc.value)
    assert "SECRET_KEY" in str(exc.value)
    assert "DATABASE_URL" not in str(exc.value)


def test_production_never_falls_back_to_generated_keys(tmp_path):
    env = {"HOTLINE_ENV": "production", "HOTLINE_INSTANCE_PATH": str(tmp_path)}
    with pytest.raises(ConfigError) as exc:
        load_config(env)
    for name in PRODUCTION_REQUIRED:
        assert name in str(exc.value)
    assert not any(tmp_path.iterdir()), "production must not write keys to instance/"


def test_importing_app_in_production_without_variables_exits_with_one_clear_message(tmp_path):
    env = {
        "HOTLINE_ENV": "production",
        "PATH": "/usr/bin:/bin",
        "HOTLINE_INSTANCE_PATH": str(tmp_path),
    }
    result = subprocess.run(
        [sys.executable, "-c", "import app"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    for name in PRODUCTION_REQUIRED:
        assert name in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_development_generates_keys_once_and_keeps_them(tmp_path):
    env = {"HOTLINE_INSTANCE_PATH": str(tmp_path)}
    first = load_config(env)
    second = load_config(env)
    assert first["SECRET_KEY"] == second["SECRET_KEY"]
    assert first["FIELD_ENCRYPTION_KEYS"] == second["FIELD_ENCRYPTION_KEYS"]
    Fernet(first["FIELD_ENCRYPTION_KEYS"][0])
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "keys must be private"
    assert first["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'hotline.sqlite3'}"
    assert first["REDIS_URL"] is None, "the run command starts the embedded server"
    assert first["HOTLINE_TIMEZONE"] == "Asia/Ho_Chi_Minh"
    assert first["ALERT_ESCALATE_AFTER_SECONDS"] == 900
    assert first["RETENTION_DAYS"] == 365


def test_test_environment_ignores_the_developers_own_database(tmp_path):
    env = {
        "HOTLINE_ENV": "test",
        "HOTLINE_INSTANCE_PATH": str(tmp_path),
        "DATABASE_URL": "postgresql://me@localhost/my_real_data",
    }
    assert "my_real_data" not in load_config(env)["SQLALCHEMY_DATABASE_URI"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        ({"HOTLINE_ENV": "staging"}, "HOTLINE_ENV"),
        ({"FIELD_ENCRYPTION_KEYS": "not-a-key"}, "FIELD_ENCRYPTION_KEYS"),
        ({"REPORTING_FORMAT": "xml"}, "REPORTING_FORMAT"),
        ({"HOTLINE_TIMEZONE": "Mars/Olympus"}, "HOTLINE_TIMEZONE"),
        ({"ALERT_ESCALATE_AFTER_SECONDS": "soon"}, "ALERT_ESCALATE_AFTER_SECONDS"),
        ({"RETENTION_DAYS": "-3"}, "RETENTION_DAYS"),
        ({"SMS_GATEWAY_KIND": "modem"}, "SMS_GATEWAY_KIND"),
        ({"SMS_GATEWAY_URL": "192.168.1.5:8080", "SMS_GATEWAY_TOKEN": "t"}, "SMS_GATEWAY_URL"),
        ({"SMS_GATEWAY_URL": "https://gw.example"}, "SMS_GATEWAY_TOKEN"),
        (
            {"SMS_GATEWAY_URL": "http://192.168.1.5:8080", "SMS_GATEWAY_KIND": "android"},
            "SMS_GATEWAY_PASSWORD",
        ),
        ({"SMS_GATEWAY_TIMEOUT_SECONDS": "0"}, "SMS_GATEWAY_TIMEOUT_SECONDS"),
    ],
)
def test_bad_values_are_refused_by_name(overrides, named):
    with pytest.raises(ConfigError) as exc:
        load_config(production_env(**overrides))
    assert named in str(exc.value)


def test_an_android_gateway_is_configured_from_the_environment():
    config = load_config(
        production_env(
            SMS_GATEWAY_URL="http://192.168.1.5:8080/",
            SMS_GATEWAY_KIND="Android",
            SMS_GATEWAY_USERNAME="sms",
            SMS_GATEWAY_PASSWORD="p" * 12,
        )
    )
    assert config["SMS_GATEWAY_URL"] == "http://192.168.1.5:8080"
    assert config["SMS_GATEWAY_KIND"] == "android"
    assert config["SMS_GATEWAY_TIMEOUT_SECONDS"] == 10
    assert load_config(production_env())["SMS_GATEWAY_URL"] is None  # Twilio, as before


def test_rotated_keys_are_kept_newest_first():
    new, old = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    config = load_config(production_env(FIELD_ENCRYPTION_KEYS=f"{new}, {old}"))
    assert config["FIELD_ENCRYPTION_KEYS"] == [new, old]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h/db", "postgresql+psycopg://u@h/db"),
        ("postgres://u:p@h:5432/db", "postgresql+psycopg://u:p@h:5432/db"),
        ("postgresql+psycopg://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_plain_postgresql_urls_use_the_bundled_driver(url, expected):
    assert normalise_database_url(url) == expected
