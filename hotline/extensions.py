"""Unbound Flask extensions, bound to the app in ``create_app``."""

from pathlib import Path

from flask_babel import Babel
from flask_migrate import Migrate
from flask_wtf.csrf import CSRFProtect

MIGRATIONS_DIR = str(Path(__file__).resolve().parent.parent / "models" / "migrations")

babel = Babel()
# Bound, with its exemptions, in hotline.web.security.init_security.
csrf = CSRFProtect()
# render_as_batch: SQLite cannot ALTER most things; batch mode rebuilds tables instead.
migrate = Migrate(directory=MIGRATIONS_DIR, render_as_batch=True, compare_type=True)
