"""``translate update`` / ``translate compile``: the Babel catalog workflow in one place."""

from pathlib import Path

import click
from babel.messages.frontend import CommandLineInterface

ROOT = Path(__file__).resolve().parent.parent.parent
LOCALES = ROOT / "locales"
POT = LOCALES / "messages.pot"
#: Marker functions whose string arguments are messages (``N_`` marks them in routing/).
KEYWORDS = ("_", "gettext", "ngettext:1,2", "lazy_gettext", "_l", "N_")


def pybabel(*args: str) -> None:
    CommandLineInterface().run(["pybabel", "-q", *args])


def extract(output: Path = POT) -> None:
    """Collect every marked message of the code and templates into a template catalog."""
    keywords = [a for k in KEYWORDS for a in ("-k", k)]
    pybabel(
        "extract",
        "-F",
        str(ROOT / "babel.cfg"),
        *keywords,
        "--no-location",
        "--sort-output",
        "--project",
        "hotline-18001769",
        "-o",
        str(output),
        str(ROOT),
    )


@click.group("translate", help="Babel catalogs in locales/ (vi default, en).")
def cli() -> None:
    pass


@cli.command("update")
def update() -> None:
    """Extract messages and merge them into locales/vi and locales/en."""
    extract()
    pybabel("update", "-i", str(POT), "-d", str(LOCALES), "--no-fuzzy-matching")
    click.echo("Catalogs updated: translate the new entries in locales/*/LC_MESSAGES/messages.po")


@cli.command("compile")
def compile_() -> None:
    """Compile the .po catalogs into the .mo files the service reads."""
    pybabel("compile", "-d", str(LOCALES), "--statistics")
