"""``users create`` and ``users token`` (DESIGN.md section 4)."""

from __future__ import annotations

import hashlib

from hotline.accounts.users import check_password, user_for_token
from hotline.directory.points import import_directory
from models import ApiToken, User, db
from tests.factories import directory_csv, directory_row


def create(runner, *args: str, password: str = "correct horse battery"):
    return runner.invoke(
        args=["users", "create", *args, "--password-stdin"], input=password + "\n"
    )


def test_operator_is_created_with_an_argon2_password(runner, ctx):
    result = create(runner, "lan", "--role", "operator", "--phone", "0900 100 001", "--on-duty")
    assert result.exit_code == 0, result.output
    user = db.session.scalars(db.select(User)).one()
    assert (user.role, user.phone, user.on_duty) == ("operator", "+84900100001", True)
    assert user.password_hash.startswith("$argon2id$")
    assert "correct horse battery" not in user.password_hash
    assert check_password(user, "correct horse battery")
    assert not check_password(user, "wrong password")


def test_social_worker_is_scoped_to_service_points(runner, ctx):
    import_directory(directory_csv([directory_row(1), directory_row(2)]))
    result = create(
        runner,
        "hoa",
        "--role",
        "social_worker",
        "--service-point",
        "QN-DCTC-001",
        "--service-point",
        "QN-DCTC-002",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(db.select(User)).one()
    assert [p.code for p in user.service_points] == ["QN-DCTC-001", "QN-DCTC-002"]


def test_password_can_be_typed_at_a_prompt(runner, ctx):
    result = runner.invoke(
        args=["users", "create", "minh", "--role", "manager"],
        input="a long enough secret\na long enough secret\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalars(db.select(User.role)).one() == "manager"


def test_every_problem_is_reported_and_nothing_is_created(runner, ctx):
    result = create(
        runner,
        "bad name!",
        "--role",
        "social_worker",
        "--service-point",
        "NOPE",
        "--phone",
        "12",
        "--on-duty",
        password="short",
    )
    assert result.exit_code != 0
    for field in ("username:", "password:", "phone:", "service_point:"):
        assert field in result.output
    assert db.session.query(User).count() == 0


def test_unknown_role_is_refused(runner, ctx):
    result = create(runner, "x", "--role", "superuser")
    assert result.exit_code != 0
    assert db.session.query(User).count() == 0


def test_username_must_be_unique(runner, ctx):
    assert create(runner, "lan", "--role", "admin").exit_code == 0
    result = create(runner, "lan", "--role", "operator")
    assert result.exit_code != 0
    assert "already taken" in result.output
    assert db.session.query(User).count() == 1


def test_token_is_the_last_word_printed_and_only_its_hash_is_stored(runner, ctx):
    create(runner, "lan", "--role", "operator")
    result = runner.invoke(args=["users", "token", "lan"])
    assert result.exit_code == 0, result.output
    token = result.output.split()[-1]
    stored = db.session.scalars(db.select(ApiToken)).one()
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert user_for_token(token).username == "lan"
    assert user_for_token(token + "x") is None


def test_each_token_request_gives_a_new_token(runner, ctx):
    create(runner, "lan", "--role", "operator")
    first = runner.invoke(args=["users", "token", "lan"]).output.split()[-1]
    second = runner.invoke(args=["users", "token", "lan"]).output.split()[-1]
    assert first != second
    assert user_for_token(first) is not None and user_for_token(second) is not None


def test_token_for_unknown_user_fails(runner):
    result = runner.invoke(args=["users", "token", "nobody"])
    assert result.exit_code != 0
    assert "nobody" in result.output
