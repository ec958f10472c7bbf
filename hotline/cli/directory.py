"""``directory import`` / ``directory export`` in the CSV format of DESIGN.md section 6."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from hotline.directory.points import DirectoryImportError, export_directory, import_directory

cli = AppGroup("directory", help="The service directory (trusted addresses, shelters, …).")


@cli.command("import")
@click.argument("file", type=click.File("rb"))
@click.option(
    "--deactivate-missing",
    is_flag=True,
    help="Also deactivate service points whose code is not in the file.",
)
def import_(file, deactivate_missing: bool) -> None:
    """Import FILE.csv: every row or none; every bad row is reported with its line."""
    try:
        result = import_directory(file.read(), deactivate_missing=deactivate_missing)
    except DirectoryImportError as exc:
        for error in exc.errors:
            click.echo(str(error), err=True)
        raise click.ClickException(
            _(
                "Nothing was imported: %(count)d problem(s) in %(file)s.",
                count=len(exc.errors),
                file=file.name,
            )
        ) from None
    click.echo(
        _(
            "Directory imported: %(created)d new, %(updated)d updated, %(unchanged)d "
            "unchanged, %(deactivated)d deactivated.",
            created=result.created,
            updated=result.updated,
            unchanged=result.unchanged,
            deactivated=result.deactivated,
        )
    )


@cli.command("export")
@click.argument("file", type=click.Path(dir_okay=False, writable=True), required=False)
@click.option("--include-inactive", is_flag=True, help="Also export deactivated points.")
def export(file: str | None, include_inactive: bool) -> None:
    """Write the directory as CSV to FILE, or to standard output."""
    if file is None:
        export_directory(sys.stdout, include_inactive=include_inactive)
        return
    with open(file, "w", encoding="utf-8", newline="") as out:
        count = export_directory(out, include_inactive=include_inactive)
    click.echo(
        _("%(count)d service points written to %(file)s.", count=count, file=file), err=True
    )
