"""Test data shared by the engine, scheduler and workflow tests."""

from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant

COMPLAINT = {
    "nama": "Siti Aminah",
    "email": "siti@contoh.id",
    "layanan": "Layanan legalisir ijazah",
    "kategori": "normatif",
    "uraian": "Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
}

#: a gratifikasi report as the employee's own form takes it (every field a string, as typed)
GIFT_FORM = {
    "nama": "Wati Lestari",
    "nip": "198501012010012001",
    "jabatan": "Analis",
    "unit_kerja": "Seksi Layanan",
    "nama_pemberi": "PT Contoh",
    "hubungan_pemberi": "rekanan_penyedia",
    "jenis": "barang",
    "uraian": "Parsel makanan dan jam tangan",
    "nilai_taksiran": "2500000",
    "tanggal_penerimaan": "2026-02-25",
    "tempat_penerimaan": "Kantor",
    "peristiwa": "Hari raya",
    "kronologi": "Paket diantar kurir ke meja kerja tanpa pemberitahuan sebelumnya.",
}

#: one account per role, e-mail username@kantor.test, password rahasia-demo-123
STAFF = [
    ("pengelola", ["pengelola"]),
    ("atasan", ["atasan"]),
    ("petugas", ["unit:LAYANAN"]),
    ("petugas.umum", ["unit:UMUM"]),
    ("auditor", ["auditor"]),
    ("pegawai", ["pegawai"]),
    ("upg", ["upg"]),
    ("telaah", ["tim_telaah"]),
    ("investigator", ["tim_investigasi"]),
]


def seed_people(eng, staff=STAFF):
    """Units PUSAT, LAYANAN and UMUM, and the given accounts."""
    for code in ("PUSAT", "LAYANAN", "UMUM"):
        ensure_unit(eng, code, f"Unit {code}")
    for username, grants in staff:
        create_or_update_user(
            eng,
            username,
            [parse_grant(g) for g in grants],
            email=f"{username}@kantor.test",
            password="rahasia-demo-123",
        )


class _Wbs:
    """The ``wbs`` console script (``webapp.cli:main``: the engine's commands with their one-line error
    handling, plus ``wbs run``) in the shape click's ``CliRunner.invoke`` calls: much faster than a
    subprocess, same exit codes and streams."""

    name = "wbs"

    def main(self, args, prog_name=None, **_extra):
        import sys

        from webapp.cli import main

        saved, sys.argv = sys.argv, ["wbs", *args]  # main() reads its arguments where the shell puts them
        try:
            main()
        finally:
            sys.argv = saved


#: every setting unset (None: CliRunner removes the variable), so the developer's environment cannot leak in
CLEAN_ENV = {
    name: None
    for name in (
        "WBS_DATABASE_URL",
        "WBS_INSTANCE_DIR",
        "WBS_WORKFLOWS_DIR",
        "WBS_ENCRYPTION_KEY",
        "WBS_OFFICE_CLOSE",
        "WBS_INCLUDE_CUTI_BERSAMA",
        "WBS_TIMEZONE",
        "WBS_SMTP_URL",
        "WBS_MAIL_FROM",
        "WBS_BASE_URL",
        "WBS_OFFICE_NAME",
        "WBS_SCHEDULER",
        "WBS_SQLITE_SYNCHRONOUS",
        "WBS_ATTACHMENTS_DIR",
        "WBS_MAX_ATTACHMENT_MB",
        "WBS_MAX_ATTACHMENTS",
        "WBS_ALLOW_CLOCK_OVERRIDE",
        "WBS_KEYRING",
        "WBS_CHECKPOINT_MINUTES",
    )
}


def run_wbs(*args, env=None):
    """Run ``wbs ARGS`` in-process with ``env`` (on top of :data:`CLEAN_ENV`); returns click's ``Result``
    (``exit_code``, ``stdout``, ``stderr``). Exceptions that escape ``main`` propagate: a traceback is a
    failure of the test, never a result."""
    from click.testing import CliRunner

    return CliRunner().invoke(_Wbs(), list(args), env={**CLEAN_ENV, **(env or {})}, catch_exceptions=False)
