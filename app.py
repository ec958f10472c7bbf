"""WSGI entry point: ``gunicorn app:app`` and ``flask --app app …``."""

import sys

from config import ConfigError
from hotline import create_app

try:
    app = create_app()
except ConfigError as exc:
    # One clear message and a non-zero exit, not a traceback (DESIGN.md section 4).
    print(f"hotline: cannot start: {exc}", file=sys.stderr)
    raise SystemExit(1) from None
