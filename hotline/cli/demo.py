"""``demo load``: sample directory and users for trying the service."""

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext as _

from hotline.dev.demo import load_demo

cli = AppGroup("demo", help="Sample data (fictitious) for trying the service.")


@cli.command("load")
def load() -> None:
    """Load the sample directory (every 2025 commune) and one user per role."""
    if current_app.config["HOTLINE_ENV"] == "production":
        raise click.ClickException(_("Sample data is never loaded in production."))
    points, logins = load_demo()
    click.echo(
        _("Sample data loaded: %(points)d service points (all marked DEMO).", points=points)
    )
    for login in logins:
        click.echo(f"  {login.role:<14} {login.username} / {login.password}")
