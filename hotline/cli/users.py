"""``users create``, ``users token`` and ``users revoke-token``."""

import sys

import click
from flask.cli import AppGroup
from flask_babel import gettext as _

from hotline.accounts.users import TOKEN_DAYS, create_user, issue_token, revoke_tokens
from hotline.errors import ValidationError
from models import User, db
from routing.codes import ROLES

cli = AppGroup("users", help="People who use the service.")


@cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--service-point", "service_points", multiple=True, metavar="CODE")
@click.option("--phone", metavar="E164", help="Staff phone (rung for calls, receives alerts).")
@click.option("--on-duty", is_flag=True, help="Start on duty (needs --phone).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create(
    username: str,
    role: str,
    service_points: tuple[str, ...],
    phone: str | None,
    on_duty: bool,
    password_stdin: bool,
) -> None:
    """Create USERNAME with a role; the password comes from stdin or a prompt."""
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(_("Password"), hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            username,
            password,
            role,
            service_point_codes=service_points,
            phone=phone,
            on_duty=on_duty,
        )
        db.session.commit()
    except ValidationError as exc:
        db.session.rollback()
        for field, messages in exc.errors.items():
            for message in messages:
                click.echo(f"{field}: {message}", err=True)
        raise click.ClickException(_("The user was not created.")) from None
    click.echo(_("User %(username)s created (%(role)s).", username=user.username, role=role))


@cli.command("token")
@click.argument("username")
@click.option(
    "--expires-days",
    type=click.IntRange(min=1),
    default=TOKEN_DAYS,
    show_default=True,
    help="The token stops working after this many days.",
)
def token(username: str, expires_days: int) -> None:
    """Print a new API token for USERNAME (shown once; the token is the last word)."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None or not user.active:
        raise click.ClickException(_("No active user %(username)s.", username=username))
    value = issue_token(user, expires_days=expires_days)
    db.session.commit()
    click.echo(_("New API token for %(username)s:", username=username) + " " + value)


@cli.command("revoke-token")
@click.argument("username")
def revoke_token(username: str) -> None:
    """Revoke every API token of USERNAME (the next API call with one is refused)."""
    user = db.session.scalar(db.select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(_("No user %(username)s.", username=username))
    count = revoke_tokens(user, actor="cli")
    db.session.commit()
    click.echo(_("%(count)d API tokens of %(username)s revoked.", count=count, username=username))
