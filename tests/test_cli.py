"""The ``flask kpplan`` commands, as an operator types them."""

from __future__ import annotations

from sqlalchemy import func, select

from kpplan.core.extensions import db
from kpplan.directory.models import Role, State, User


def _user(app, email: str) -> User | None:
    with app.app_context():
        return db.session.scalars(select(User).where(User.email == email)).one_or_none()


def test_create_user_with_password_from_stdin(app, runner, sign_in):
    result = runner.invoke(
        args=[
            "kpplan",
            "create-user",
            "Ana@Example.org",
            "--role",
            "focal_point",
            "--state",
            "kenya",
            "--name",
            "Ana Mwangi",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created ana@example.org: National focal point for Kenya." in result.output
    user = _user(app, "ana@example.org")
    assert user.name == "Ana Mwangi" and user.role is Role.FOCAL_POINT
    assert sign_in("ana@example.org", "a long enough password").status_code == 302


def test_create_user_asks_for_the_password_twice(app, runner):
    result = runner.invoke(
        args=["kpplan", "create-user", "root@example.org", "--role", "admin"],
        input="first password here\nfirst password here\n",
    )
    assert result.exit_code == 0, result.output
    assert "Password" in result.output and "Repeat" in result.output
    assert _user(app, "root@example.org").role is Role.ADMIN


def test_create_user_explains_what_is_wrong(app, runner):
    result = runner.invoke(
        args=[
            "kpplan",
            "create-user",
            "x@example.org",
            "--role",
            "focal_point",
            "--state",
            "Atlantis",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 2
    assert "No state called 'Atlantis'" in result.output

    result = runner.invoke(
        args=[
            "kpplan",
            "create-user",
            "x@example.org",
            "--role",
            "focal_point",
            "--password-stdin",
        ],
        input="a long enough password\n",
    )
    assert result.exit_code == 1
    assert "belongs to a state" in result.output

    result = runner.invoke(
        args=["kpplan", "create-user", "x@example.org", "--role", "observer", "--password-stdin"],
        input="short\n",
    )
    assert result.exit_code == 1
    assert "at least 10 characters" in result.output
    assert _user(app, "x@example.org") is None


def test_seed_is_idempotent_and_demo_adds_one_account_per_role(app, runner):
    first = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert first.exit_code == 0, first.output
    assert "Demo accounts: 20 added" in first.output  # 7 roles, 13 more focal points
    assert "password for all of them" in first.output
    again = runner.invoke(args=["kpplan", "seed", "--demo"])
    assert "0 states and 0 organisations added" in again.output
    assert "Demo accounts: 0 added" in again.output
    with app.app_context():
        roles = set(db.session.scalars(select(User.role)))
        assert roles == set(Role)
        members = db.session.scalar(select(func.count(State.id)).where(State.is_member))
        assert members == 40


def test_help_speaks_to_the_operator(runner):
    result = runner.invoke(args=["kpplan", "--help"])
    assert "create-user" in result.output and "seed" in result.output
    result = runner.invoke(args=["kpplan", "create-user", "--help"])
    assert "--password-stdin" in result.output and "focal_point" in result.output
