"""The Alembic migrations build exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from hotline.extensions import MIGRATIONS_DIR
from models import db


def test_models_and_migrations_agree(ctx):
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "render_as_batch": True}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"run `flask --app app db migrate`: {diff}"


def _schema() -> dict[str, set[str]]:
    """Every table of the database and its columns."""
    inspector = inspect(db.engine)
    return {
        table: {column["name"] for column in inspector.get_columns(table)}
        for table in inspector.get_table_names()
    }


def test_upgrade_is_a_no_op_when_current(app, runner):
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head
    with app.app_context():
        before = _schema()
    assert "alembic_version" in before and "hotline_case" in before
    result = runner.invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert _schema() == before
        versions = db.session.execute(text("SELECT version_num FROM alembic_version"))
        assert versions.scalars().all() == [head]
