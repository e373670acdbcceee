"""Test data shared by the engine, scheduler and workflow tests."""

from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant

COMPLAINT = {
    "nama": "Siti Aminah",
    "email": "siti@contoh.id",
    "layanan": "Layanan legalisir ijazah",
    "kategori": "normatif",
    "uraian": "Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
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
