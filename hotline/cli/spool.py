"""``spool replay`` and ``spool status``: the telephony fallback spool."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from hotline.telephony.spool import pending_files, replay_spool


@click.group("spool", help="The telephony fallback spool.")
def cli() -> None:
    pass


@cli.command("replay")
@with_appcontext
def replay_command() -> None:
    """Replay spooled webhook requests into the normal flows."""
    counts = replay_spool()
    click.echo(
        f"replayed {counts['replayed']}, failed {counts['failed']}, "
        f"unreadable {counts['unreadable']}"
    )
    if counts["failed"] or counts["unreadable"]:
        raise SystemExit(1)


@cli.command("status")
@with_appcontext
def status_command() -> None:
    """Say how many requests wait in the spool."""
    click.echo(f"{len(pending_files())} waiting")
