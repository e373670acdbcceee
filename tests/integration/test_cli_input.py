"""The ``wbs`` command facing bad input and bad settings: one line on stderr, exit code 2, never a traceback;
and text from the public printed so that it cannot act on the officer's terminal.

The commands run in-process (``tests.helpers.run_wbs``: click's CliRunner around ``wbs_engine.cli.main``);
one test runs a real process to feed the command bytes that are not UTF-8.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import CLEAN_ENV, run_wbs


def one_line_error(res, *needles: str) -> str:
    """Assert the result is a user error: exit 2, one line on stderr holding every needle, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.stdout, res.stderr)
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1, res.stderr
    assert "Traceback" not in res.stderr
    for n in needles:
        assert n in lines[0], (n, lines[0])
    return lines[0]


@pytest.fixture
def office(tmp_path):
    """A set-up office (SQLite in tmp_path) and a runner for ``wbs`` against it."""
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance")}

    def wbs(*args, ok=True, **more_env):
        res = run_wbs(*args, env={**env, **more_env})
        if ok:
            assert res.exit_code == 0, res.stdout + res.stderr
        return res

    wbs("init-db")
    wbs("unit", "add", "LAYANAN", "Seksi Layanan")
    return wbs


# -- arguments that are not UTF-8 ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, expected",
    [
        # what Python makes of the byte 0xff in argv, and how the message shows it
        (["case", "show", "\udcff"], "argumen ke-3 bukan teks UTF-8 yang valid: '\\xff'"),
        (["unit", "add", "X", "\udcc3"], "argumen ke-4 bukan teks UTF-8 yang valid: '\\xc3'"),  # cut short
        (
            ["--lang", "en", "create-user", "bud\udce9", "--role", "pengelola"],
            "argument 4 is not valid UTF-8 text: 'bud\\xe9'",
        ),
    ],
)
def test_argument_that_is_not_utf8_is_named_in_one_line(office, args, expected):
    one_line_error(office(*args, ok=False), expected)


def test_not_utf8_argument_in_a_real_process(tmp_path):
    """The bytes as a shell passes them ($'\\xff'), through the installed entry point: the ``wbs`` console
    script pip made from pyproject's [project.scripts], in a process of its own (the one test that starts
    the real thing; every other test runs ``wbs`` in-process)."""
    wbs = Path(sys.executable).with_name("wbs")
    assert wbs.exists(), f"{wbs}: pip install -e '.[test]' installs the console script"
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env["WBS_INSTANCE_DIR"] = str(tmp_path / "instance")
    p = subprocess.run([str(wbs), "case", "show", b"\xff"], capture_output=True, env=env, timeout=120)
    err = p.stderr.decode("utf-8")
    assert p.returncode == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "argumen ke-3 bukan teks UTF-8 yang valid: '\\xff'" in err


# -- settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url, needle",
    [
        ("foo://bar", "'foo'"),
        ("mysql://u@h/db", "'mysql'"),
        ("postgresql+psycopg2://u@h/db", "'postgresql+psycopg2'"),  # a driver that is not installed
        ("bukan sebuah url", "tidak dapat dibaca"),
        ("postgresql://u:rahasia@h:port/db", "tidak dapat dibaca"),  # a port that is not a number
        ("sqlite://", "jalur berkas"),
    ],
)
def test_unsupported_database_url_is_one_line_naming_the_setting(tmp_path, url, needle):
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path), "WBS_DATABASE_URL": url})
    line = one_line_error(res, "WBS_DATABASE_URL", needle)
    assert "sqlite:///" in line and "postgresql+psycopg://" in line  # what is accepted
    assert "rahasia" not in line  # a malformed URL is not repeated: it may hold a password


@pytest.mark.parametrize(
    "instance, why",
    [
        ("/proc/nope/instance", "No such file or directory"),
        ("{tmp}/a-file/instance", "Not a directory"),
    ],
)
def test_init_db_where_the_instance_dir_cannot_be_made(tmp_path, instance, why):
    (tmp_path / "a-file").write_text("not a directory")
    path = instance.format(tmp=tmp_path)
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": path})
    one_line_error(res, path, "WBS_INSTANCE_DIR", why)
    # every other command builds the engine the same way
    one_line_error(run_wbs("case", "show", "PGD-2026-000001", env={"WBS_INSTANCE_DIR": path}), "WBS_INSTANCE_DIR")


def test_sqlite_file_under_a_regular_file_names_the_database_setting(tmp_path):
    (tmp_path / "a-file").write_text("x")
    url = f"sqlite:///{tmp_path}/a-file/db/wbs.sqlite3"
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path / "ok"), "WBS_DATABASE_URL": url})
    one_line_error(res, f"{tmp_path}/a-file/db", "WBS_DATABASE_URL")


def test_keyring_that_cannot_be_read_is_one_line(tmp_path):
    (tmp_path / "keyring.json").mkdir()  # e.g. a bad volume mount
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path)})
    one_line_error(res, "Is a directory", str(tmp_path / "keyring.json"))


@pytest.mark.parametrize(
    "name, value, needle",
    [
        ("WBS_TIMEZONE", "Asia/Jakata", "WIB, WITA, WIT, Asia/Jakarta, Asia/Makassar, Asia/Jayapura"),
        ("WBS_TIMEZONE", "UTC", "WBS_TIMEZONE"),
        ("WBS_OFFICE_CLOSE", "25:00", "WBS_OFFICE_CLOSE"),
        ("WBS_OFFICE_CLOSE", "jam empat", "WBS_OFFICE_CLOSE"),
        ("WBS_INCLUDE_CUTI_BERSAMA", "mungkin", "WBS_INCLUDE_CUTI_BERSAMA"),
        ("WBS_SCHEDULER", "cron", "WBS_SCHEDULER"),
        ("WBS_SQLITE_SYNCHRONOUS", "OFF", "WBS_SQLITE_SYNCHRONOUS"),
        ("WBS_SMTP_URL", "localhost:25", "WBS_SMTP_URL"),
        ("WBS_SMTP_URL", "smtp://host:port", "WBS_SMTP_URL"),
        ("WBS_BASE_URL", "wbs.kantor.go.id", "WBS_BASE_URL"),
        ("WBS_MAIL_FROM", "bukan-alamat", "WBS_MAIL_FROM"),
        ("WBS_ENCRYPTION_KEY", "bukan-kunci", "WBS_KEYRING"),
    ],
)
def test_every_bad_setting_is_one_line(tmp_path, name, value, needle):
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path), name: value})
    one_line_error(res, needle)


def test_setting_that_is_not_utf8_is_one_line(tmp_path):
    res = run_wbs("init-db", env={"WBS_INSTANCE_DIR": str(tmp_path), "WBS_DATABASE_URL": "sqlite:///\udcff.db"})
    one_line_error(res, "WBS_DATABASE_URL", "UTF-8")


def test_setting_errors_follow_lang(tmp_path):
    res = run_wbs("--lang", "en", "init-db", env={"WBS_INSTANCE_DIR": str(tmp_path), "WBS_TIMEZONE": "CET"})
    one_line_error(res, "Setting error: WBS_TIMEZONE must be one of")


# -- dates far out ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args, needle",
    [
        (["workdays", "add", "9999-12-30", "5"], "9999-12-30"),
        (["workdays", "add", "0001-01-01", "3"], "0001-01-01"),
        (["workdays", "between", "0001-01-01", "9999-12-31"], "0001-01-01"),
        (["workdays", "add", "2100-12-30", "5"], "2101-01-0"),  # the arithmetic runs off the end
        (["workdays", "is", "9999-12-31"], "9999-12-31"),
        (["holidays", "list", "--year", "9999"], "9999"),
        (["holidays", "add", "9999-12-31", "--name", "Kiamat"], "9999-12-31"),
    ],
)
def test_dates_outside_the_calendar_are_one_line(office, args, needle):
    line = one_line_error(office(*args, ok=False), needle, "1950-01-01", "2100-12-31")
    assert line.startswith("Galat: ")


def test_workdays_without_a_database_are_checked_too(tmp_path):
    res = run_wbs("workdays", "add", "9999-12-30", "5", env={"WBS_INSTANCE_DIR": str(tmp_path / "none")})
    one_line_error(res, "9999-12-30")


@pytest.mark.parametrize("day, needle", [("9999-12-01", "setelah hari ini"), ("0001-01-01", "50 tahun")])
def test_date_field_far_out_is_a_validation_message(office, day, needle):
    base = ["case", "new", "pengaduan", "--identity", "anonim", "-f", "layanan=Legalisir", "-f", "kategori=ringan"]
    base += ["-f", "uraian=Petugas meminta uang tambahan di luar tarif resmi saat legalisir."]
    res = office(*base, "-f", f"waktu_kejadian={day}", ok=False)
    one_line_error(res, "Data tidak valid", "waktu_kejadian: tidak boleh", needle)


# -- control characters from the public -------------------------------------------------------------------

HOSTILE = "Uang\x1b[2J\x1b[31m diminta\rDIHAPUS \u202eesrever\x07 di loket"


def test_case_show_renders_control_characters_visibly(office):
    created = json.loads(
        office(
            "case",
            "new",
            "pengaduan",
            "--identity",
            "anonim",
            "--json",
            "-f",
            f"layanan={HOSTILE}",
            "-f",
            "kategori=ringan",
            "-f",
            "lokasi=Loket 3\nLantai 2",
            "-f",
            "uraian=Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
        ).stdout
    )
    office("create-user", "sri", "--role", "pengelola", "--password", "rahasia-sekali-1")
    # free text is sealed: the handler who may read it is the one whose terminal must be protected
    out = office("case", "show", created["number"], "--as", "sri").stdout
    for raw in ("\x1b", "\r", "\u202e", "\x07"):
        assert raw not in out
    layanan = next(line for line in out.splitlines() if line.startswith("  layanan: "))
    assert layanan == "  layanan: Uang␛[2J␛[31m diminta␍DIHAPUS <U+202E>esrever␇ di loket"
    # an ordinary newline stays a line break, indented under its label
    assert "  lokasi: Loket 3\n    Lantai 2\n" in out
    # JSON keeps the exact text; nothing in it acts on a terminal either
    shown = office("case", "show", created["number"], "--json", "--as", "sri").stdout
    assert "\u202e" not in shown and "\\u202e" in shown
    assert json.loads(shown)["fields"]["layanan"] == HOSTILE


def test_errors_that_repeat_input_render_it_visibly(office):
    res = office("case", "show", "PGD-2026-000001", "--as", "x\x1b]0;owned\x07", ok=False)
    one_line_error(res, "x␛]0;owned␇")
    assert "\x1b" not in res.stderr
    res = office("case", "show", "PGD-\u202e1000", ok=False)
    one_line_error(res, "PGD-<U+202E>1000")
    res = office("case", "show", "PGD-1\n2", ok=False)
    one_line_error(res, "PGD-1␊2")


def test_unit_names_are_rendered_visibly(office):
    office("unit", "add", "UMUM", "Bagian\x1b[8m Umum")
    out = office("unit", "list").stdout
    assert "Bagian␛[8m Umum" in out and "\x1b" not in out


# -- users ------------------------------------------------------------------------------------------------


def test_adding_a_grant_keeps_the_users_language(office, tmp_path):
    import sqlite3

    office("create-user", "sri", "--role", "pengelola", "--lang", "en", "--password", "rahasia-sekali-1")
    office("create-user", "sri", "--role", "auditor")
    db = sqlite3.connect(tmp_path / "instance" / "wbs.sqlite3")
    try:
        assert db.execute("SELECT lang FROM user_account WHERE username = 'sri'").fetchone() == ("en",)
    finally:
        db.close()


@pytest.mark.parametrize("name", ["system", "pelapor", "SYSTEM", "seed-demo"])
def test_actor_names_of_the_audit_trail_cannot_be_usernames(office, name):
    res = office("create-user", name, "--role", "pengelola", "--password", "rahasia-sekali-1", ok=False)
    one_line_error(res, "username", "jejak audit")


def test_now_without_offset_is_office_time(office, tmp_path):
    """seed-demo --now 2026-03-20T09:00 in a WIT office is 09:00 WIT (00:00 UTC), not 09:00 UTC."""
    office("seed-demo", "--now", "2026-03-20T09:00", WBS_TIMEZONE="WIT", WBS_ALLOW_CLOCK_OVERRIDE="1")
    import sqlite3

    db = sqlite3.connect(tmp_path / "instance" / "wbs.sqlite3")
    try:
        (newest,) = db.execute("SELECT max(created_at) FROM case_file").fetchone()
    finally:
        db.close()
    # the freshest demo case is filed 1 to 6 hours before the seed time: before 00:00 UTC, not before 09:00 UTC
    newest = datetime.fromisoformat(newest).replace(tzinfo=UTC)
    assert datetime(2026, 3, 19, 18, 0, tzinfo=UTC) <= newest < datetime(2026, 3, 20, 0, 0, tzinfo=UTC)


def test_help_names_the_timezone_setting():
    out = run_wbs("--help").stdout
    assert "WBS_TIMEZONE" in out and "WITA" in out
    assert "waktu kantor" in run_wbs("sweep", "--help").stdout
    assert "office time" in run_wbs("--lang", "en", "sweep", "--help").stdout
