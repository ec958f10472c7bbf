"""Command-line interface: ``flask --app app <group> <command>`` (DESIGN.md section 4)."""

from flask import Flask

from hotline.cli import demo, directory, geo, report, stats, translate, users, worker


def register_commands(app: Flask) -> None:
    for group in (geo.cli, directory.cli, users.cli, demo.cli, report.cli, stats.cli):
        app.cli.add_command(group)
    app.cli.add_command(worker.worker_command)
    app.cli.add_command(translate.cli)
