"""Export bundles (wbs_engine/bundle.py): exported on SQLite and PostgreSQL, verified with nothing but the file
(in a subprocess with no WBS_* setting, an empty HOME and an empty working directory), and every single-byte
change, removed line or swapped key named with its code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.helpers import COMPLAINT, run_wbs
from wbs_engine import audit, bundle
from wbs_engine.db import unit_of_work
from wbs_engine.errors import NotAllowed, NotFound
from wbs_engine.models import CaseEvent

REPO = Path(__file__).resolve().parents[2]
EV = CaseEvent.__table__


def make_case(wbs, clock):
    c = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
    pel = wbs.load_actor("pengelola")
    clock.advance(minutes=5)
    wbs.fire(c.number, "mulai_verifikasi", pel)
    clock.advance(minutes=5)
    wbs.fire(c.number, "arsipkan", pel, reason="Bukan pengaduan pelayanan publik.")
    clock.advance(minutes=5)
    return c.number


def verify_audit(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in wbs.registry.versions(s)}
        return audit.verify(s, keyring=wbs.keyring, workflows=workflows)


def offline(*args, cwd):
    """``wbs verify-bundle ARGS`` in a fresh interpreter: no WBS_* setting, an empty HOME and working directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WBS_")}
    env.update(HOME=str(cwd), PYTHONPATH=str(REPO))
    code = (
        "import sys\n"
        "from wbs_engine.cli import main\n"
        "try:\n"
        "    main(sys.argv[1:])\n"
        "finally:\n"
        "    bad = [m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'sqlmodel', 'psycopg', 'alembic')\n"
        "           or m in ('wbs_engine.db', 'wbs_engine.audit', 'wbs_engine.config', 'wbs_engine.engine')]\n"
        "    print('LOADED:' + ','.join(bad), file=sys.stderr)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


def rewrite(src: Path, dst: Path, name: str, change) -> None:
    """Copy the bundle with member ``name`` replaced by ``change(its bytes)``."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info)
            zout.writestr(info.filename, change(data) if info.filename == name else data)


def flip(data: bytes, at: int) -> bytes:
    """One byte changed (to another printable byte, so JSON may stay readable)."""
    new = b"0" if data[at : at + 1] != b"0" else b"1"
    return data[:at] + new + data[at + 1 :]


def test_case_bundle_verifies_offline_and_is_recorded(wbs, clock, tmp_path):
    number = make_case(wbs, clock)
    out = tmp_path / "out" / "case.zip"
    info = bundle.export_case(wbs, number, wbs.load_actor("auditor"), out)
    assert out.is_file() and info.chains == 1 and info.events >= 3
    # the events are exactly the stored rows, hashed as audit.py hashes them
    with zipfile.ZipFile(out) as zf:
        lines = zf.read(bundle.EVENTS).splitlines()
        names = set(zf.namelist())
    assert names == {"manifest.json", "manifest.sig", "events.jsonl", "checkpoints.jsonl", "keys.json"}
    with unit_of_work(wbs.db, write=False) as s:
        stored = audit.chain_events(s, number)
    assert [json.loads(x)["hash"] for x in lines] == [e.hash for e in stored]
    assert all(audit.event_hash(e) == e.hash for e in stored)
    # no plaintext of the sealed values leaks
    raw = b"".join(lines)
    assert b"Siti" not in raw and b"Bukan pengaduan" not in raw and b"Petugas meminta" not in raw

    rep = bundle.verify_bundle(out)
    assert rep.ok, rep.to_dict("en")
    assert rep.key_source == "bundle" and rep.key_id == wbs.keyring.key_id
    assert rep.scope == {"kind": "case", "number": number}

    # the export is an event on the system chain, and the trail still verifies
    with unit_of_work(wbs.db, write=False) as s:
        last = audit.chain_events(s, audit.SYSTEM_CHAIN)[-1]
    assert last.kind == "bundle_exported" and last.actor == "auditor"
    assert last.payload == {"scope": info.scope, "count": info.events, "manifest_sha256": info.manifest_sha256}
    assert verify_audit(wbs).ok

    # offline: nothing but the file, no database layer loaded
    empty = tmp_path / "empty"
    empty.mkdir()
    res = offline("--lang", "en", "verify-bundle", str(out), cwd=empty)
    assert res.returncode == 0, res.stderr
    assert "Bundle verified" in res.stdout and wbs.keyring.key_id in res.stdout
    assert "LOADED:\n" in res.stderr or res.stderr.strip().endswith("LOADED:")
    res = offline("verify-bundle", str(out), "--key-b64", wbs.keyring.public_b64, "--json", cwd=empty)
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout)["key_source"] == "pinned"


def test_export_by_cli_and_refusals(wbs, clock, tmp_path):
    number = make_case(wbs, clock)
    for who in ("pengelola", "petugas", "pegawai"):
        with pytest.raises(NotAllowed):
            bundle.export_case(wbs, number, wbs.load_actor(who), tmp_path / "x.zip")
    with pytest.raises(NotFound):
        bundle.export_case(wbs, "PGD-2026-999999", wbs.load_actor("auditor"), tmp_path / "x.zip")
    assert not (tmp_path / "x.zip").exists()
    with unit_of_work(wbs.db, write=False) as s:
        kinds = [e.kind for e in audit.chain_events(s, audit.SYSTEM_CHAIN)]
    assert "bundle_exported" not in kinds


@pytest.fixture
def exported(wbs, clock, tmp_path):
    number = make_case(wbs, clock)
    make_case(wbs, clock)
    out = tmp_path / "case.zip"
    bundle.export_case(wbs, number, wbs.load_actor("auditor"), out)
    return wbs, out


def _event_line_offsets(data: bytes, key: bytes) -> int:
    return data.index(key) + len(key) + 2


@pytest.mark.parametrize(
    "name, where, codes",
    [
        ("events.jsonl", lambda d: _event_line_offsets(d, b'"payload":{"') - 0, {"event_edited", "file_altered"}),
        ("events.jsonl", lambda d: d.index(b'"hash":"') + 10, {"event_edited", "file_altered"}),
        ("events.jsonl", lambda d: d.index(b'"actor":"') + 10, {"event_edited", "file_altered"}),
        ("checkpoints.jsonl", lambda d: d.index(b'"signature":"') + 15, {"checkpoint_signature", "file_altered"}),
        ("checkpoints.jsonl", lambda d: d.index(b'"at":"') + 8, {"checkpoint_altered", "file_altered"}),
        ("manifest.json", lambda d: d.index(b'"exported_by":"') + 16, {"manifest_signature"}),
        # the events are not read against a manifest that is not genuine
        ("manifest.json", lambda d: d.index(b'"events.jsonl":"') + 18, {"manifest_signature"}),
        ("manifest.sig", lambda d: 5, {"manifest_signature"}),
        ("keys.json", lambda d: d.index(b'"signing":"') + 14, {"file_altered", "manifest_signature"}),
    ],
)
def test_any_changed_byte_fails_with_its_code(exported, tmp_path, name, where, codes):
    _wbs, out = exported
    bad = tmp_path / "bad.zip"
    rewrite(out, bad, name, lambda d: flip(d, where(d)))
    rep = bundle.verify_bundle(bad)
    assert not rep.ok
    assert codes <= set(rep.codes), rep.codes


def test_every_byte_of_every_member(exported, tmp_path):
    """Every member, bytes spread over its whole length: each change is found."""
    _wbs, out = exported
    with zipfile.ZipFile(out) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    for name, data in members.items():
        for at in sorted({0, len(data) - 2, *range(0, len(data), max(1, len(data) // 7))}):
            bad = tmp_path / f"bad-{name}-{at}.zip"
            rewrite(out, bad, name, lambda d, at=at: flip(d, at))
            if zipfile.ZipFile(bad).read(name) == data:
                continue
            assert not bundle.verify_bundle(bad).ok, (name, at)


def test_deleted_line_reordered_and_damaged_zip(exported, tmp_path):
    wbs, out = exported
    for label, change, code in [
        ("middle", lambda d: b"\n".join(x for i, x in enumerate(d.split(b"\n")) if i != 1), "event_missing"),
        ("last", lambda d: b"\n".join(d.rstrip(b"\n").split(b"\n")[:-1]) + b"\n", "scope_mismatch"),
        ("first", lambda d: b"\n".join(d.split(b"\n")[1:]), "event_missing"),
    ]:
        bad = tmp_path / f"{label}.zip"
        rewrite(out, bad, "events.jsonl", change)
        rep = bundle.verify_bundle(bad)
        assert code in rep.codes and "file_altered" in rep.codes, (label, rep.codes)
    # a member removed; a stranger added; a damaged zip; not a zip at all
    with zipfile.ZipFile(out) as zin, zipfile.ZipFile(tmp_path / "less.zip", "w") as zout:
        for info in zin.infolist():
            if info.filename != "keys.json":
                zout.writestr(info.filename, zin.read(info))
    assert bundle.verify_bundle(tmp_path / "less.zip").codes == ["member_missing"]
    with zipfile.ZipFile(tmp_path / "more.zip", "w") as zout, zipfile.ZipFile(out) as zin:
        for info in zin.infolist():
            zout.writestr(info.filename, zin.read(info))
        zout.writestr("extra.txt", b"x")
    assert bundle.verify_bundle(tmp_path / "more.zip").codes == ["member_unexpected"]
    raw = bytearray(out.read_bytes())
    raw[90] ^= 0x01  # inside the first member's compressed data (its CRC no longer matches)
    (tmp_path / "damaged.zip").write_bytes(bytes(raw))
    assert not bundle.verify_bundle(tmp_path / "damaged.zip").ok
    (tmp_path / "junk.zip").write_bytes(b"not a zip")
    assert bundle.verify_bundle(tmp_path / "junk.zip").codes == ["bundle_unreadable"]
    assert bundle.verify_bundle(tmp_path / "missing.zip").codes == ["bundle_unreadable"]


def test_another_key_is_refused(exported, tmp_path):
    """A whole bundle re-signed with another key verifies only against that key: the auditor's pinned key
    refuses it."""
    from wbs_engine.crypto import Keyring

    wbs, out = exported
    other = Keyring.generate()
    rep = bundle.verify_bundle(out, keys=[other.public_key])
    assert "key_mismatch" in rep.codes and "checkpoint_signature" in rep.codes
    assert bundle.verify_bundle(out, keys=[wbs.keyring.public_key]).ok


def test_period_bundle(wbs, clock, tmp_path):
    first = wbs.create_case("pengaduan", COMPLAINT, identity_mode="rahasia").number
    clock.advance(minutes=5)
    wbs.fire(first, "mulai_verifikasi", wbs.load_actor("pengelola"))
    clock.advance(days=3)
    second = make_case(wbs, clock)
    # a later event on the first case, after the period: the period's events must still be provably sealed
    clock.advance(days=3)
    wbs.post_message(first, wbs.load_actor("pengelola"), "Catatan internal.", internal=True)
    day = clock.now.date()
    out = tmp_path / "period.zip"
    info = bundle.export_period(wbs, date(2026, 3, 4), day, wbs.load_actor("auditor"), out)
    rep = bundle.verify_bundle(out)
    assert rep.ok, rep.to_dict("en")
    with zipfile.ZipFile(out) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    assert second in manifest["chains"] and "system" not in manifest["chains"]  # no system event in the period
    assert manifest["chains"][first]["first"] > 1  # starts mid-chain: said in a note
    assert any(first in n.render("en") and "mid-chain" in n.render("en") for n in rep.notes)
    assert info.scope == {"kind": "period", "from": "2026-03-04", "to": day.isoformat(), "type": None}
    # a type filter leaves the system chain out
    out2 = tmp_path / "typed.zip"
    bundle.export_period(wbs, date(2026, 3, 1), day, wbs.load_actor("auditor"), out2, case_type="pengaduan")
    with zipfile.ZipFile(out2) as zf:
        chains = json.loads(zf.read("manifest.json"))["chains"]
    assert set(chains) == {first, second}
    assert bundle.verify_bundle(out2).ok
    # without a type, from the start: the system chain too (accounts, the exports above)
    out3 = tmp_path / "all.zip"
    bundle.export_period(wbs, date(2026, 3, 1), day, wbs.load_actor("auditor"), out3)
    with zipfile.ZipFile(out3) as zf:
        chains = json.loads(zf.read("manifest.json"))["chains"]
    assert set(chains) == {first, second, "system"} and chains["system"]["first"] == 1
    assert bundle.verify_bundle(out3).ok
    # a restricted auditor (one case type) gets only the cases its grant covers, and never the system chain
    from wbs_engine.permissions import Grant

    narrow = wbs.load_actor("auditor")
    narrow = type(narrow)(narrow.username, user_id=narrow.user_id, grants=(Grant("auditor", None, "wbs"),))
    out4 = tmp_path / "narrow.zip"
    with pytest.raises(NotFound):
        bundle.export_period(wbs, date(2026, 3, 1), day, narrow, out4)
    assert not out4.exists()
    with pytest.raises(NotFound):
        bundle.export_case(wbs, first, narrow, tmp_path / "no.zip")
    assert verify_audit(wbs).ok


def test_cli(wbs, clock, tmp_path):
    number = make_case(wbs, clock)
    env = {"WBS_DATABASE_URL": wbs.settings.database_url, "WBS_INSTANCE_DIR": str(wbs.settings.instance_dir)}
    out = tmp_path / "c.zip"
    res = run_wbs("--lang", "en", "export-bundle", "--case", number, "--as", "auditor", "--out", str(out), env=env)
    assert res.exit_code == 0, res.stderr
    assert "Bundle written" in res.stdout
    res = run_wbs("--lang", "en", "export-bundle", "--case", number, "--as", "pegawai", "--out", str(out), env=env)
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    res = run_wbs("export-bundle", "--from", "2026-03-01", "--as", "auditor", "--out", str(out), env=env)
    assert res.exit_code == 2
    res = run_wbs(
        "export-bundle", "--from", "2026-13-01", "--to", "2026-03-01", "--as", "auditor", "--out", "x", env=env
    )
    assert res.exit_code == 2 and "2026-13-01" in res.stderr
    res = run_wbs("--lang", "en", "verify-bundle", str(out))
    assert res.exit_code == 0, res.stderr
    res = run_wbs("verify-bundle", str(out), "--key-b64", "nonsense")
    assert res.exit_code == 2 and len(res.stderr.strip().splitlines()) == 1
    keyfile = tmp_path / "key.txt"
    keyfile.write_text(f"wbs-audit-key/1 id={wbs.keyring.key_id} key={wbs.keyring.public_b64}\n")
    assert run_wbs("verify-bundle", str(out), "--key", str(keyfile)).exit_code == 0
    keyfile.write_text(wbs.keyring.public_pem())
    assert run_wbs("verify-bundle", str(out), "--key", str(keyfile)).exit_code == 0
    (tmp_path / "junk.zip").write_bytes(b"junk")
    res = run_wbs("--lang", "en", "verify-bundle", str(tmp_path / "junk.zip"), "--json")
    assert res.exit_code == 1 and json.loads(res.stdout)["problems"][0]["code"] == "bundle_unreadable"


def test_tampered_database_exports_a_bundle_that_fails(wbs, clock, tmp_path):
    """An event edited in the database after it was sealed: the bundle carries the edit and fails."""
    number = make_case(wbs, clock)
    bundle.export_case(wbs, number, wbs.load_actor("auditor"), tmp_path / "ok.zip")
    with unit_of_work(wbs.db) as s:
        s.connection().execute(sa.update(EV).where(EV.c.chain == number, EV.c.seq == 2).values(actor="someone.else"))
    bundle.export_case(wbs, number, wbs.load_actor("auditor"), tmp_path / "bad.zip")
    assert bundle.verify_bundle(tmp_path / "ok.zip").ok
    assert "event_edited" in bundle.verify_bundle(tmp_path / "bad.zip").codes


def test_a_small_bundle_that_inflates_to_many_lines_is_not_read_to_its_end(tmp_path, wbs):
    """The attacker's review: an 11 KB zip whose events.jsonl inflates to megabytes of newlines kept the check busy
    for minutes. The events are read only up to what the signed manifest declares (and not at all when the
    manifest is not genuine)."""
    import zipfile

    from wbs_engine.bundle import export_case, verify_bundle

    created = wbs.create_case("pengaduan", {**COMPLAINT}, identity_mode="rahasia")
    good = tmp_path / "good.zip"
    export_case(wbs, created.number, wbs.load_actor("auditor"), good)
    for keep_manifest in (True, False):
        bomb = tmp_path / f"bomb-{keep_manifest}.zip"
        with zipfile.ZipFile(good) as src, zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as dst:
            for info in src.infolist():
                data = src.read(info)
                if info.filename == "events.jsonl":
                    data = data + b"\n" * 20_000_000
                elif info.filename == "manifest.json" and not keep_manifest:
                    data = data.replace(b'"exported_by":"', b'"exported_by":"x')
                dst.writestr(info.filename, data)
        assert bomb.stat().st_size < 200_000
        report = verify_bundle(bomb)
        assert not report.ok
        if keep_manifest:  # read up to the declared count, then stopped: one problem, not 20 million
            assert "scope_mismatch" in report.codes and len(report.problems) < 10
        else:  # a forged manifest: the events are not read at all
            assert report.codes == ["manifest_signature"] or "manifest_signature" in report.codes
            assert any("not read" in n.render("en") for n in report.notes)
