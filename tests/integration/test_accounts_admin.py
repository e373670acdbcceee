"""The sign-in and admin engine operations on SQLite and PostgreSQL: second factor replay, recovery codes,
grants revoked and replayed by verify-audit, the last admin, the console's reset-2fa."""

from __future__ import annotations

import pyotp
import pytest
from sqlmodel import select

from tests.helpers import run_wbs, seed_people
from wbs_engine import accounts, admin, audit
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, ValidationFailed
from wbs_engine.models import CaseEvent, User
from wbs_engine.users import create_or_update_user, parse_grant


@pytest.fixture
def office(make_wbs, db_url):
    eng = make_wbs(db_url)
    seed_people(eng)
    create_or_update_user(eng, "admin", [parse_grant("admin")], password="rahasia-demo-123")
    return eng


def user(eng, name):
    with unit_of_work(eng.db, write=False) as s:
        return s.exec(select(User).where(User.username == name)).one()


def test_a_time_step_is_accepted_once_and_recovery_codes_once(office, clock):
    secret = accounts.new_totp_secret()
    with pytest.raises(ValidationFailed):
        accounts.enrol_totp(
            office, "pengelola", secret, "000000" if pyotp.TOTP(secret).at(clock.now) != "000000" else "1"
        )
    codes = accounts.enrol_totp(office, "pengelola", secret, pyotp.TOTP(secret).at(clock.now))
    assert len(set(codes)) == 10
    assert accounts.verify_second_factor(office, "pengelola", pyotp.TOTP(secret).at(clock.now)) is None  # used
    clock.advance(seconds=30)
    code = pyotp.TOTP(secret).at(clock.now)
    assert accounts.verify_second_factor(office, "pengelola", code) == "totp"
    assert accounts.verify_second_factor(office, "pengelola", code) is None
    # the previous step is inside the window but before the last one used: refused
    assert accounts.verify_second_factor(office, "pengelola", pyotp.TOTP(secret).at(clock.now.timestamp() - 30)) is None
    assert accounts.verify_second_factor(office, "pengelola", codes[3]) == "recovery"
    assert accounts.verify_second_factor(office, "pengelola", codes[3]) is None
    assert len(user(office, "pengelola").recovery_codes) == 9
    assert codes[4] not in str(user(office, "pengelola").recovery_codes)  # digests only


def test_needs_second_factor_follows_roles(office):
    assert accounts.needs_second_factor(office, user(office, "admin"))
    assert accounts.needs_second_factor(office, user(office, "auditor"))
    assert not accounts.needs_second_factor(office, user(office, "pengelola"))


def test_revoked_grants_replay_and_last_admin(office):
    me = office.load_actor("admin")
    with pytest.raises(NotAllowed):
        admin.add_grant(office, office.load_actor("pengelola"), "pengelola", "admin", None, None)
    assert admin.add_grant(office, me, "pengelola", "unit", "UMUM", None)
    assert not admin.add_grant(office, me, "pengelola", "unit", "UMUM", None)
    row = admin.get_user(office, me, "pengelola")
    for g in row.grants:
        assert admin.revoke_grant(office, me, "pengelola", g.id)
    mine = admin.get_user(office, me, "admin").grants[0]
    with pytest.raises(admin.AdminRefused):
        admin.revoke_grant(office, me, "admin", mine.id)
    with pytest.raises(admin.AdminRefused):
        admin.set_active(office, me, "admin", False)
    assert admin.add_grant(office, me, "atasan", "admin", None, None)
    assert admin.revoke_grant(office, me, "admin", mine.id)  # another admin exists now
    with unit_of_work(office.db, write=False) as s:
        assert audit.verify(s, keyring=office.keyring).problems == []


def test_grant_deleted_without_event_is_named(office):
    from wbs_engine.models import RoleGrant

    with unit_of_work(office.db) as s:
        s.delete(s.exec(select(RoleGrant).join(User).where(User.username == "pengelola")).first())
    with unit_of_work(office.db, write=False) as s:
        assert [p.code for p in audit.verify(s, keyring=office.keyring).problems] == ["grant_missing"]


def test_cli_reset_2fa(office, clock, db_url, tmp_path):
    secret = accounts.new_totp_secret()
    accounts.enrol_totp(office, "admin", secret, pyotp.TOTP(secret).at(clock.now))
    env = {"WBS_DATABASE_URL": db_url, "WBS_INSTANCE_DIR": str(office.settings.instance_dir)}
    res = run_wbs("user", "reset-2fa", "admin", env=env)
    assert res.exit_code == 0, res.stderr
    assert user(office, "admin").totp_secret_enc is None
    with unit_of_work(office.db, write=False) as s:
        ev = s.exec(select(CaseEvent).where(CaseEvent.kind == "second_factor_reset")).one()
    assert ev.payload["user"] == "admin"
    res = run_wbs("user", "reset-2fa", "nobody", env=env)
    assert res.exit_code != 0 and "Traceback" not in res.stderr
