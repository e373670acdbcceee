"""The roles a workflow may name, and their labels.

Roles are data the engine checks against grants (``RoleGrant``); the set is fixed here so that a typo in a
workflow file is caught by the linter instead of silently locking everybody out of a transition.
Two roles are never granted to a user: ``pelapor`` (whoever holds the case's receipt code) and
``system`` (the scheduler acting on a clock).
"""

from __future__ import annotations

ROLES: dict[str, dict[str, str]] = {
    "pelapor": {"id": "Pelapor (pemegang kode pelacakan)", "en": "Reporter (holder of the receipt code)"},
    "pegawai": {"id": "Pegawai", "en": "Employee"},
    "pengelola": {"id": "Pengelola", "en": "Case handler"},
    "atasan": {"id": "Atasan langsung", "en": "Direct superior"},
    "unit": {"id": "Petugas unit tindak lanjut", "en": "Follow-up unit officer"},
    "upg": {"id": "Unit Pengendalian Gratifikasi (UPG)", "en": "Gratuity control unit (UPG)"},
    "tim_telaah": {"id": "Tim telaah", "en": "Review team"},
    "tim_investigasi": {"id": "Tim investigasi", "en": "Investigation team"},
    "auditor": {"id": "Auditor", "en": "Auditor"},
    "admin": {"id": "Administrator", "en": "Administrator"},
    "system": {"id": "Sistem (penjadwal)", "en": "System (scheduler)"},
}

#: Roles that no user can hold through a grant.
PSEUDO_ROLES = frozenset({"pelapor", "system"})

#: Roles an administrator may grant.
GRANTABLE_ROLES = tuple(r for r in ROLES if r not in PSEUDO_ROLES)
