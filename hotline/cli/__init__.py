"""Command-line interface: ``flask --app app <group> <command>`` (DESIGN.md section 4).

Every command of the service is registered here."""

from flask import Flask

from hotline.cli import (
    demo,
    directory,
    geo,
    privacy,
    report,
    spool,
    stats,
    translate,
    users,
    worker,
)


def register_commands(app: Flask) -> None:
    for group in (
        geo.cli,
        directory.cli,
        users.cli,
        demo.cli,
        report.cli,
        stats.cli,
        spool.cli,
        privacy.retention_cli,
        privacy.keys_cli,
        translate.cli,
    ):
        app.cli.add_command(group)
    app.cli.add_command(worker.worker_command)
