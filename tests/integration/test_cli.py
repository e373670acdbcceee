"""The ``wbs`` command as a user runs it, on a real SQLite file, in-process (``tests.helpers.run_wbs``: the
console script's ``main`` under click's CliRunner, with the same arguments, environment, exit codes and
streams). The installed console script itself runs in a process of its own in test_cli_input.py."""

import json
import re
import sqlite3

import pytest

from tests.helpers import run_wbs


class Run:
    """What a finished ``wbs`` gives its caller: exit code, stdout, stderr."""

    def __init__(self, res):
        self.returncode, self.stdout, self.stderr = res.exit_code, res.stdout, res.stderr


@pytest.fixture
def run(tmp_path):
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": ""}

    def _run(*args, ok=True):
        p = Run(run_wbs(*args, env=env))
        if ok:
            assert p.returncode == 0, p.stderr + p.stdout
        return p

    _run("init-db")
    return _run


def test_case_lifecycle_history_and_tamper_detection(run, tmp_path):
    run("unit", "add", "PUSAT", "Sekretariat")
    run("unit", "add", "layanan", "Seksi Layanan")
    assert "LAYANAN" in run("unit", "list").stdout
    run("create-user", "sri", "--role", "pengelola", "--password", "rahasia-sekali-1")
    run("create-user", "budi", "--role", "unit:LAYANAN", "--password", "rahasia-sekali-2")
    p = run(
        "case",
        "new",
        "pengaduan",
        "--identity",
        "rahasia",
        "--json",
        "-f",
        "nama=Siti Aminah",
        "-f",
        "layanan=Legalisir ijazah",
        "-f",
        "kategori=ringan",
        "-f",
        "uraian=Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
    )
    created = json.loads(p.stdout)
    number, code = created["number"], created["receipt_code"]
    run("case", "fire", number, "mulai_verifikasi", "--as", "sri")
    run(
        "case",
        "fire",
        number,
        "minta_informasi",
        "--as",
        "sri",
        "-f",
        "pesan=Mohon sebutkan jam kejadian.",
    )
    run(
        "case",
        "fire",
        number,
        "beri_informasi",
        "--as",
        f"pelapor:{code}",
        "-f",
        "jawaban_pelapor=Sekitar jam 10 pagi.",
    )
    run(
        "case",
        "fire",
        number,
        "disposisi",
        "--as",
        "sri",
        "-f",
        "unit_tujuan=LAYANAN",
        "-f",
        "instruksi=Mohon klarifikasi petugas loket.",
    )
    run("case", "fire", number, "terima_disposisi", "--as", "budi")
    run(
        "case",
        "fire",
        number,
        "jawab",
        "--as",
        "budi",
        "-f",
        "jawaban=Petugas telah ditegur dan uang dikembalikan.",
    )
    run(
        "case",
        "fire",
        number,
        "konfirmasi",
        "--as",
        f"pelapor:{code}",
        "-f",
        "kepuasan=puas",
    )
    view = json.loads(run("case", "show", number, "--json").stdout)
    assert view["state"] == "selesai" and view["final"]
    triggers = [e["trigger"] for e in view["history"] if e["kind"] == "transition"]
    assert triggers == [
        "mulai_verifikasi",
        "minta_informasi",
        "beri_informasi",
        "disposisi",
        "terima_disposisi",
        "jawab",
        "konfirmasi",
    ]
    assert view["fields"]["uraian"] == view["fields"]["nama"] == {"sealed": True}
    clocks = {c["name"]: c for c in view["clocks"]}
    # paused while waiting for the reporter (13 Mar 11:00 → 16 Mar): 2 of 3 HK were left and came back
    assert clocks["verifikasi"]["status"] == "stopped"
    assert all(c["status"] == "stopped" for c in view["clocks"])
    as_sri = json.loads(run("case", "show", number, "--json", "--as", "sri").stdout)
    assert as_sri["fields"]["uraian"].startswith("Petugas meminta")
    assert as_sri["fields"]["nama"] == {"sealed": True}  # identity: atasan only
    p = run("verify-audit")
    assert "utuh" in p.stdout
    db = sqlite3.connect(tmp_path / "instance" / "wbs.sqlite3")
    db.execute("UPDATE case_event SET actor = 'bukan_sri' WHERE chain = ? AND seq = 3", (number,))
    db.commit()
    db.close()
    p = run("verify-audit", ok=False)
    assert p.returncode == 1
    assert f"({number} #3, transition)" in p.stderr and "diubah" in p.stderr


@pytest.mark.parametrize(
    "args, text",
    [
        (["case", "fire", "PGD-2026-000999", "mulai_verifikasi", "--as", "nobody"], "tidak dikenal"),
        (["case", "new", "pengaduan", "-f", "rusak"], "'rusak' harus berbentuk nama=nilai"),
        (["case", "new", "jenis_aneh"], "Jenis perkara 'jenis_aneh' tidak dikenal"),
        (["workdays", "add", "2026-02-30", "3"], "bukan tanggal"),
        (["workdays", "add", "2026-02-03", "-1"], "-1"),
        (["create-user", "x", "--role", "raja"], "peran 'raja' tidak dikenal"),
        (["case", "show"], "Missing argument"),
        (["diagram", "tidak_ada"], "tidak ada alur kerja 'tidak_ada'"),
        (["tidak-ada-perintah"], "No such command"),
        # no production command lets a user choose the time that is recorded
        (["case", "new", "pengaduan", "--now", "2026-01-01T09:00"], "No such option '--now'"),
        (["case", "fire", "PGD-2026-000001", "x", "--as", "system", "--now", "2026-01-01"], "No such option '--now'"),
    ],
)
def test_bad_arguments_one_line_exit_2(run, args, text):
    p = run(*args, ok=False)
    assert p.returncode == 2, p.stdout + p.stderr
    assert text in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1, p.stderr
    assert "Traceback" not in p.stderr


def test_every_command_has_help(run):
    for args in (
        ["--help"],
        ["case", "--help"],
        ["case", "new", "--help"],
        ["case", "fire", "--help"],
        ["case", "show", "--help"],
        ["workdays", "add", "--help"],
        ["holidays", "--help"],
        ["seed-demo", "--help"],
        ["verify-audit", "--help"],
        ["lint", "--help"],
        ["diagram", "--help"],
        ["create-user", "--help"],
        ["init-db", "--help"],
        ["run", "--help"],
    ):
        p = run(*args)
        assert "Usage:" in p.stdout


HELP_PHRASES = {
    # the command's help: a phrase in Bahasa Indonesia (the default) and the same in English (--lang en)
    (): ("Bahasa pesan (Bahasa Indonesia atau Inggris).", "Language of messages (Bahasa Indonesia or English)."),
    ("case",): ("Buat, pindahkan dan tampilkan perkara.", "Create, move and show cases."),
    ("case", "new"): ("Ajukan perkara baru berjenis CASE_TYPE", "File a new case of CASE_TYPE"),
}


def flat(text: str) -> str:
    """``text`` with every run of white space one space, and none after a hyphen (click wraps the help to the
    terminal's width, also after a hyphen: "verify-" / "audit")."""
    return re.sub(r"- ", "-", " ".join(text.split()))


@pytest.mark.parametrize("path", list(HELP_PHRASES))
def test_help_is_indonesian_by_default_and_english_with_lang_en(path):
    indonesian, english = HELP_PHRASES[path]
    for args, wanted, unwanted in (
        ([*path, "--help"], indonesian, english),
        (["--lang", "en", *path, "--help"], english, indonesian),
        ([*path, "--help", "--lang", "en"] if not path else ["--lang=en", *path, "--help"], english, indonesian),
    ):
        res = run_wbs(*args)
        assert res.exit_code == 0, res.stderr
        assert wanted in flat(res.stdout), (args, res.stdout)
        assert unwanted not in flat(res.stdout), (args, res.stdout)


def every_command(group, path=()):
    """(path, command) for every command and group under ``group``, itself included."""
    import click

    yield path, group
    if isinstance(group, click.Group):
        for name, command in sorted(group.commands.items()):
            yield from every_command(command, (*path, name))


def test_every_command_help_renders_in_both_languages():
    """Every help text (the command's, each option's, each sub-command's line) comes from the catalogue: the
    help shows its rendering in --lang, for every command."""
    from wbs_engine.i18n import render
    from webapp.cli import cli

    commands = list(every_command(cli))
    assert len(commands) > 30
    for path, command in commands:
        assert command.help, path
        for lang in ("id", "en"):
            res = run_wbs("--lang", lang, *path, "--help")
            assert res.exit_code == 0, (path, lang, res.stderr)
            shown = flat(res.stdout)
            assert flat(render(command.help, lang)) in shown, (path, lang, shown)
            for param in command.params:
                if getattr(param, "help", None):
                    assert flat(render(param.help, lang)) in shown, (path, lang, param.name, shown)
            for name, sub in getattr(command, "commands", {}).items():  # a group's list: name, start of its help
                assert f"{name} {' '.join(render(sub.help, lang).split()[:3])}" in shown, (path, lang, name, shown)
        assert render(command.help, "id") != command.help, f"{path}: no Indonesian help"


def test_workdays_match_official_2026_list(run):
    assert run("workdays", "add", "2026-03-13", "3").stdout.strip() == "2026-03-25"
    assert run("workdays", "between", "2026-03-13", "2026-03-25").stdout.strip() == "3"
    assert run("workdays", "add", "2026-12-23", "1").stdout.strip() == "2026-12-28"
    run("holidays", "add", "2026-03-25", "--name", "Hari jadi kantor")
    assert run("workdays", "add", "2026-03-13", "3").stdout.strip() == "2026-03-26"
    run("holidays", "remove", "2026-03-25")
    assert run("workdays", "add", "2026-03-13", "3").stdout.strip() == "2026-03-25"
    assert "Hari Suci Nyepi" in run("holidays", "list", "--year", "2026").stdout


def test_seed_demo_and_diagram(run):
    p = run("seed-demo")
    assert "pengelola" in p.stdout and "auditor" in p.stdout
    assert "stateDiagram-v2" in run("diagram", "pengaduan").stdout
    assert "utuh" in run("verify-audit").stdout


def test_unreachable_database_is_one_line(tmp_path):
    env = {"WBS_INSTANCE_DIR": str(tmp_path), "WBS_DATABASE_URL": "postgresql+psycopg://x@127.0.0.1:1/x"}
    assert run_wbs("gen-key", "--out", str(tmp_path / "keyring.json"), env=env).exit_code == 0
    p = run_wbs("case", "show", "PGD-2026-000001", env=env)
    assert p.exit_code == 2 and "basis data tidak dapat dipakai" in p.stderr
    assert len(p.stderr.strip().splitlines()) == 1


def test_lang_chooses_the_language_of_every_command(run):
    """``wbs --lang en`` prints English and ``--lang id`` (the default) Bahasa Indonesia, both from the one
    message catalogue: normal output, counts, and the one-line errors."""
    intake = ["-f", "layanan=Legalisir", "-f", "kategori=ringan"]
    intake += ["-f", "uraian=Petugas meminta uang tambahan di luar tarif resmi saat legalisir."]
    cases = [
        (["init-db"], "Basis data siap (revisi", "Database ready (revision"),
        (["unit", "add", "PUSAT", "Sekretariat"], "Unit PUSAT: Sekretariat", "Unit PUSAT: Sekretariat"),
        (["create-user", "sri", "--role", "pengelola", "--password", "rahasia-sekali-1"], "Pengguna sri", "User sri"),
        (["case", "new", "pengaduan", "--identity", "anonim", *intake], "Kode pelacakan:", "Receipt code:"),
        (["audit-checkpoint"], "rantai.", "Nothing changed since the last checkpoint."),
        (["verify-audit"], "2 perkara, 1 segel bertanda tangan", "2 cases, 1 signed checkpoint, 0 kept heads checked."),
        (["workdays", "is", "2026-03-16"], "2026-03-16: hari kerja", "2026-03-16: working day"),
        (["workdays", "is", "2026-03-19"], "2026-03-19: libur (Hari Suci Nyepi)", "2026-03-19: day off (Hari"),
        (["holidays", "list", "--year", "2026"], "2026-01-01  Kam  Tahun Baru Masehi", "2026-01-01  Thu  Tahun"),
        (["lint"], " status, ", " states, "),
        (["sweep"], "Tidak ada yang jatuh tempo.", "Nothing due."),
        (["digest"], "Tidak ada ringkasan untuk dikirim.", "No digest to send."),
        (["deliver"], "Galat: WBS_SMTP_URL belum diatur", "Error: WBS_SMTP_URL is not set"),
        (["case", "new", "pengaduan", "-f", "rusak"], "harus berbentuk nama=nilai", "must look like name=value"),
        (["case", "show", "PGD-2026-000001"], "  Riwayat:", "  History:"),
    ]
    for args, indonesian, english in cases:
        said = {}
        for lang in ("id", "en"):
            p = run("--lang", lang, *args, ok=False)
            said[lang] = p.stdout + p.stderr
        assert indonesian in said["id"] and english in said["en"], (args, said)
        if indonesian != english:
            assert indonesian not in said["en"] and english not in said["id"], (args, said)
    assert run("workdays", "is", "2026-03-16").stdout == run("--lang", "id", "workdays", "is", "2026-03-16").stdout
