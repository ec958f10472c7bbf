"""Health and readiness probes (DESIGN.md section 7)."""

from __future__ import annotations

from hotline import create_app
from models import db


def test_healthz_answers_while_the_process_is_up(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_readyz_is_ready_when_database_and_redis_answer(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json["checks"] == {"database": "ok", "redis": "ok"}


def test_readyz_names_redis_when_it_is_down(app, unused_port):
    broken = create_app({"REDIS_URL": f"redis://127.0.0.1:{unused_port}/0"})
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["down"] == ["redis"]


def test_readyz_names_the_database_when_it_is_down(app, tmp_path):
    broken = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/none.sqlite3"}
    )
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.json["down"] == ["database"]


def test_unknown_page_is_a_friendly_404_in_vietnamese(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    page = response.get_data(as_text=True)
    assert '<html lang="vi">' in page
    assert "113" in page


def test_readyz_names_the_encryption_keys_when_they_cannot_read_stored_secrets(app, ctx):
    from cryptography.fernet import Fernet

    from hotline.privacy import number_hash
    from models.types import keyring

    number_hash("+84900100001")  # stores the hash key, encrypted with the current key
    db.session.commit()
    other = Fernet.generate_key().decode()
    try:
        keyring.configure([other])  # as if FIELD_ENCRYPTION_KEYS lost the key in use
        response = app.test_client().get("/readyz")
    finally:
        keyring.configure(app.config["FIELD_ENCRYPTION_KEYS"])
    assert response.status_code == 503
    assert response.json["down"] == ["encryption_keys"]
    assert app.test_client().get("/readyz").status_code == 200
