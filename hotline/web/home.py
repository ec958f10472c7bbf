"""The landing page: what this service is, in the active language."""

from flask import Blueprint, render_template

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Say what the service is and where to go next."""
    return render_template("index.html")
