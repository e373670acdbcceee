"""Personal API tokens (wbs_engine.apitokens) on SQLite and PostgreSQL: shown once and stored only as a digest;
unknown, revoked, expired tokens and inactive users all get None; a token has its user's grants as they are
now; only the user (or an admin, for revoking) manages them; every change is on the system chain, never the
token."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from sqlmodel import select

from wbs_engine import apitokens, audit
from wbs_engine.apitokens import actor_for_token, create_token, list_tokens, revoke_token
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, NotFound, ValidationFailed
from wbs_engine.models import ApiToken, RoleGrant, User
from wbs_engine.users import create_or_update_user, parse_grant


def _everything(eng) -> str:
    """Every value of every table, as text: where a secret must not be."""
    out = []
    with eng.db.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                out.append(repr(tuple(row)))
    return "\n".join(out)


def _events(eng, kind):
    with unit_of_work(eng.db, write=False) as s:
        return [e for e in audit.chain_events(s, audit.SYSTEM_CHAIN) if e.kind == kind]


def test_a_token_is_shown_once_and_stored_as_a_digest(wbs):
    token = create_token(wbs, "pengelola", "skrip laporan mingguan")
    assert token.startswith("wbs_") and len(token) == 44
    everything = _everything(wbs)
    assert token not in everything and token[12:] not in everything and token[4:] not in everything
    with unit_of_work(wbs.db, write=False) as s:
        row = s.exec(select(ApiToken)).one()
    assert row.token_hash == apitokens.digest(token) and row.prefix == token[:12]
    assert row.expires_at - row.created_at == timedelta(days=90)
    (made,) = _events(wbs, "api_token_created")
    assert made.actor == "admin" and made.payload["user"] == "pengelola" and made.payload["token_id"] == row.id
    assert token not in repr(made.payload) and row.token_hash not in repr(made.payload)
    (info,) = list_tokens(wbs, "pengelola")
    assert (info.name, info.prefix, info.status) == ("skrip laporan mingguan", token[:12], "active")
    assert token not in repr(info.to_dict())


def test_the_token_acts_with_the_users_grants_as_they_are_now(wbs):
    token = create_token(wbs, "petugas", "t")
    actor = actor_for_token(wbs, token)
    assert actor.username == "petugas" and [str(g) for g in actor.grants] == ["unit:LAYANAN:*"]
    with unit_of_work(wbs.db) as s:
        user = s.exec(select(User).where(User.username == "petugas")).one()
        for g in s.exec(select(RoleGrant).where(RoleGrant.user_id == user.id)).all():
            s.delete(g)
    assert actor_for_token(wbs, token).grants == ()  # the revoked grant is gone for the token at once
    create_or_update_user(wbs, "petugas", [parse_grant("unit:UMUM")])
    assert [str(g) for g in actor_for_token(wbs, token).grants] == ["unit:UMUM:*"]
    with unit_of_work(wbs.db) as s:
        user = s.exec(select(User).where(User.username == "petugas")).one()
        user.active = False
        s.add(user)
    assert actor_for_token(wbs, token) is None  # a deactivated account's tokens stop


@pytest.mark.parametrize(
    "bad", ["", "wbs_", "Bearer x", "wbs_" + "A" * 40, "wbs_" + "A" * 39 + "\x00", None, 42, "x" * 10_000]
)
def test_malformed_and_unknown_tokens_are_none(wbs, bad):
    create_token(wbs, "pengelola", "t")
    assert actor_for_token(wbs, bad) is None


def test_revoked_and_expired_tokens_stop(wbs, clock):
    keep = create_token(wbs, "pengelola", "tetap", days=365)
    short = create_token(wbs, "pengelola", "pendek", days=1)
    gone = create_token(wbs, "pengelola", "dicabut")
    gone_id = next(t.id for t in list_tokens(wbs, "pengelola") if t.name == "dicabut")
    info = revoke_token(wbs, "pengelola", gone_id)
    assert info.status == "revoked" and actor_for_token(wbs, gone) is None
    revoke_token(wbs, "pengelola", gone_id)  # twice: nothing more happens
    assert len(_events(wbs, "api_token_revoked")) == 1
    assert actor_for_token(wbs, short) is not None
    clock.advance(days=1)
    assert actor_for_token(wbs, short) is None
    assert actor_for_token(wbs, keep).username == "pengelola"
    statuses = {t.name: t.status for t in list_tokens(wbs, "pengelola")}
    assert statuses == {"tetap": "active", "pendek": "expired", "dicabut": "revoked"}


def test_last_used_is_written_at_most_once_a_minute(wbs, clock):
    token = create_token(wbs, "pengelola", "t")
    assert list_tokens(wbs, "pengelola")[0].last_used_at is None
    actor_for_token(wbs, token)
    first = list_tokens(wbs, "pengelola")[0].last_used_at
    assert first == clock.now
    clock.advance(seconds=30)
    actor_for_token(wbs, token)
    assert list_tokens(wbs, "pengelola")[0].last_used_at == first
    clock.advance(seconds=31)
    actor_for_token(wbs, token)
    assert list_tokens(wbs, "pengelola")[0].last_used_at == clock.now


def test_only_the_user_or_an_admin_manages_tokens(wbs):
    create_or_update_user(wbs, "admin1", [parse_grant("admin")], password="rahasia-demo-123")
    owner, other, admin = (wbs.load_actor(u) for u in ("pengelola", "petugas", "admin1"))
    token = create_token(wbs, "pengelola", "t", by=owner)
    token_id = list_tokens(wbs, "pengelola")[0].id
    with pytest.raises(NotAllowed):
        create_token(wbs, "pengelola", "t", by=other)
    with pytest.raises(NotAllowed):
        create_token(wbs, "pengelola", "t", by=admin)  # a token acts as its user: nobody makes one for them
    with pytest.raises(NotAllowed) as refused:
        revoke_token(wbs, "pengelola", token_id, by=other)
    with pytest.raises(NotAllowed) as refused_missing:
        revoke_token(wbs, "pengelola", 999_999, by=other)
    assert refused.value.message("en") == refused_missing.value.message("en")  # existence not told
    with pytest.raises(NotFound):
        revoke_token(wbs, "petugas", token_id, by=other)  # not among petugas' own tokens
    assert actor_for_token(wbs, token) is not None
    revoke_token(wbs, "pengelola", token_id, by=admin)
    assert actor_for_token(wbs, token) is None
    (ev,) = _events(wbs, "api_token_revoked")
    assert ev.actor == "admin1" and ev.payload["user"] == "pengelola"


@pytest.mark.parametrize(
    ("name", "days", "field"),
    [
        ("", 90, "name"),
        ("   ", 90, "name"),
        ("x" * 101, 90, "name"),
        ("a\nb", 90, "name"),
        ("a\x00", 90, "name"),
        ("ok", 0, "days"),
        ("ok", 3651, "days"),
        ("ok", True, "days"),
    ],
)
def test_bad_names_and_lifetimes_are_refused_and_nothing_is_written(wbs, name, days, field):
    with pytest.raises(ValidationFailed) as err:
        create_token(wbs, "pengelola", name, days=days)
    assert field in err.value.errors and err.value.field_errors("id")[field]
    assert list_tokens(wbs, "pengelola") == [] and _events(wbs, "api_token_created") == []


def test_unknown_user_and_the_live_token_limit(wbs):
    with pytest.raises(NotFound):
        create_token(wbs, "tidak-ada", "t")
    for i in range(apitokens.MAX_ACTIVE):
        create_token(wbs, "pengelola", f"t{i}")
    with pytest.raises(apitokens.TooManyTokens) as err:
        create_token(wbs, "pengelola", "satu lagi")
    assert err.value.status == 409 and "20" in err.value.message("en")
    revoke_token(wbs, "pengelola", list_tokens(wbs, "pengelola")[0].id)
    assert create_token(wbs, "pengelola", "satu lagi")


def test_available_actions_can_refuse_who_may_not_read(wbs):
    """The JSON API asks ``refuse_unreadable``: an outsider gets the refusal every other operation gives (the
    pages keep the empty list), and a reader still gets their actions."""
    from tests.helpers import COMPLAINT

    made = wbs.create_case("pengaduan", COMPLAINT, identity_mode="anonim")
    outsider = wbs.load_actor("upg")  # holds a role, but none that reads a complaint
    assert wbs.available_actions(made.number, outsider) == []
    with pytest.raises(NotAllowed) as refused:
        wbs.available_actions(made.number, outsider, refuse_unreadable=True)
    assert refused.value.params == {"user": "upg", "number": made.number}
    pengelola = wbs.load_actor("pengelola")
    offered = wbs.available_actions(made.number, pengelola, refuse_unreadable=True)
    assert [a.trigger for a in offered] == ["mulai_verifikasi"]
    assert wbs.available_actions(made.number, wbs.load_actor("auditor"), refuse_unreadable=True) == []


def test_the_token_commands(wbs):
    from tests.helpers import run_wbs

    env = {"WBS_INSTANCE_DIR": str(wbs.settings.instance_dir), "WBS_DATABASE_URL": wbs.settings.database_url}
    made = run_wbs("token", "create", "pengelola", "--name", "skrip", "--days", "7", env=env)
    assert made.exit_code == 0, made.stderr
    token = made.stdout.strip().splitlines()[-1]
    assert actor_for_token(wbs, token).username == "pengelola"
    listed = run_wbs("--lang", "en", "token", "list", "pengelola", env=env)
    assert listed.exit_code == 0 and token[:12] in listed.stdout and token not in listed.stdout
    token_id = list_tokens(wbs, "pengelola")[0].id
    revoked = run_wbs("--lang", "en", "token", "revoke", "pengelola", str(token_id), env=env)
    assert revoked.exit_code == 0 and "revoked" in revoked.stdout
    assert actor_for_token(wbs, token) is None
    bad = run_wbs("token", "create", "pengelola", "--name", "", env=env)
    assert bad.exit_code == 2 and len(bad.stderr.strip().splitlines()) == 1
    assert run_wbs("token", "revoke", "tidak-ada", "1", env=env).exit_code == 2
