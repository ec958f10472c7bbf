"""``geo load``: the bundled Quảng Ninh administrative units."""

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from hotline.directory.places import load_places

cli = AppGroup("geo", help="Administrative units of Quảng Ninh.")


@cli.command("load")
def load() -> None:
    """Load the bundled districts, communes and 2025 merge mapping (idempotent)."""
    r = load_places()
    click.echo(
        _(
            "Places loaded: %(districts)d former districts, %(old)d former communes, "
            "%(new)d communes (2025), %(merges)d merge rows; %(changed)d changed.",
            districts=r.districts,
            old=r.old_communes,
            new=r.communes,
            merges=r.merges,
            changed=r.changed,
        )
    )
