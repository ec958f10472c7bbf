"""``retention purge`` and ``keys rotate``."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from hotline.privacy.keys import count_encrypted, rotate_keys
from hotline.retention.purge import count_expired, purge_expired

retention_cli = AppGroup("retention", help="Shred personal free text after RETENTION_DAYS.")
keys_cli = AppGroup("keys", help="Field-encryption keys (FIELD_ENCRYPTION_KEYS).")


@retention_cli.command("purge")
@click.option("--days", type=click.IntRange(min=1), help="Override RETENTION_DAYS.")
def purge(days: int | None) -> None:
    """Shred notes, phones, message bodies and recordings older than the retention period."""
    total = count_expired(days)
    with click.progressbar(length=total, label=_("Shredding"), file=None) as bar:
        result = purge_expired(days, progress=bar.update)
    click.echo(
        _(
            "Shredded: %(cases)d cases, %(contacts)d contacts, %(messages)d messages.",
            cases=result.cases,
            contacts=result.contacts,
            messages=result.messages,
        )
    )


@keys_cli.command("rotate")
def rotate() -> None:
    """Re-encrypt every encrypted field with the newest key (the first one)."""
    total = count_encrypted()
    with click.progressbar(length=total, label=_("Re-encrypting"), file=None) as bar:
        result = rotate_keys(progress=bar.update)
    click.echo(
        _(
            "Re-encrypted %(rotated)d values; %(current)d were already under the newest key.",
            rotated=result.rotated,
            current=result.current,
        )
    )
