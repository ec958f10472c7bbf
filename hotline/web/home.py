"""The landing page: what this service is, in the active language; and the site icon."""

from flask import Blueprint, redirect, render_template, url_for

bp = Blueprint("home", __name__)


@bp.get("/")
def index():
    """Say what the service is and where to go next."""
    return render_template("index.html")


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for this path whatever the page says: point them at the icon."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)
