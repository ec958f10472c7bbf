"""The manager's home is the statistics dashboard: aggregates only, never personal data."""

from flask import Blueprint, redirect, url_for

from hotline.web.security import login_required

bp = Blueprint("manager", __name__, url_prefix="/manager")


@bp.get("/")
@login_required("manager")
def index():
    """Send managers to the dashboard (kept so old bookmarks keep working)."""
    return redirect(url_for("dashboard.index"))
