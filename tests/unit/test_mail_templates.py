"""E-mails are Jinja templates (``wbs_engine/templates/mail/<kind>.txt``) whose sentences come from the message
catalogue: every kind renders in Bahasa Indonesia and in English (the English catalogue leaves each msgstr
empty, so English is the msgid), word for word as the texts were before they moved to the catalogue (the
outbox seals what is written), and nothing a value holds is read as template syntax."""

from __future__ import annotations

import re

import jinja2
import pytest
from babel.messages.extract import extract_from_dir

from wbs_engine import i18n, notify

MAIL_DIR = notify.MAIL_TEMPLATES

VALUES = {
    "name": "Sri Pengelola",
    "number": "PGD-2026-000007",
    "type": "Pengaduan Masyarakat",
    "state": "Verifikasi",
    "due": "Batas: 2026-03-16",
    "link": "https://wbs.kantor.go.id/staf/perkara/PGD-2026-000007",
    "track": "https://wbs.kantor.go.id/lacak",
    "clock": "Batas verifikasi",
    "due_date": "2026-03-16",
    "seq": 12,
    "head": "wbs-audit-head/1 seq=12 at=2026-03-13T02:00:00Z hash=abc sig=def",
    "count": 2,
    "lines": "- PGD-2026-000007 (Pengaduan, Verifikasi): Batas verifikasi 2026-03-16\n- WBS-2026-000001 (WBS): x",
    "role": "Tim telaah",
    "until": "2026-03-19 09:00",
}

# The texts as they were written inline before the catalogue (notify.TEMPLATES), kept here as the reference
# the templates must reproduce exactly.
BEFORE = {
    "queue": {
        "id": (
            "[{number}] Perkara baru di antrean Anda: {type}",
            'Yth. {name},\n\nPerkara {number} ({type}) kini berstatus "{state}" dan menunggu tindakan '
            "Anda.\n{due}\nBuka: {link}\n\nPesan ini dikirim otomatis oleh wbs-engine.",
        ),
        "en": (
            "[{number}] New case in your queue: {type}",
            'Dear {name},\n\nCase {number} ({type}) is now "{state}" and waits for you.\n{due}\n'
            "Open: {link}\n\nThis message was sent automatically by wbs-engine.",
        ),
    },
    "reporter_status": {
        "id": (
            "Perkembangan laporan Anda {number}",
            'Laporan Anda {number} kini berstatus "{state}".\nIkuti perkembangannya dengan kode pelacakan '
            "Anda di {track}.\n\nPesan ini dikirim otomatis; jangan membalas e-mail ini.",
        ),
        "en": (
            "Update on your report {number}",
            'Your report {number} is now "{state}".\nFollow it with your tracking code at {track}.\n\n'
            "This message was sent automatically; do not reply to it.",
        ),
    },
    "reporter_reply": {
        "id": (
            "Pesan baru tentang laporan Anda {number}",
            "Petugas mengirim pesan tentang laporan Anda {number}.\nBaca dan jawab dengan kode pelacakan Anda di "
            "{track}.\n\nPesan ini dikirim otomatis; jangan membalas e-mail ini.",
        ),
        "en": (
            "New message about your report {number}",
            "The handlers sent a message about your report {number}.\nRead and answer it with your tracking code "
            "at {track}.\n\nThis message was sent automatically; do not reply to it.",
        ),
    },
    "reminder": {
        "id": (
            "[{number}] Pengingat: {clock} jatuh tempo {due_date}",
            'Yth. {name},\n\nBatas waktu "{clock}" perkara {number} ({type}) jatuh tempo {due_date}.\n'
            "Status: {state}\nBuka: {link}",
        ),
        "en": (
            "[{number}] Reminder: {clock} due {due_date}",
            'Dear {name},\n\nThe time limit "{clock}" of case {number} ({type}) is due {due_date}.\n'
            "State: {state}\nOpen: {link}",
        ),
    },
    "breach": {
        "id": (
            "[{number}] TERLAMBAT: {clock} lewat batas {due_date}",
            'Yth. {name},\n\nBatas waktu "{clock}" perkara {number} ({type}) terlewati pada {due_date}. '
            "Perkara ini dieskalasikan kepada Anda.\nStatus: {state}\nBuka: {link}",
        ),
        "en": (
            "[{number}] OVERDUE: {clock} missed {due_date}",
            'Dear {name},\n\nThe time limit "{clock}" of case {number} ({type}) was missed on {due_date}. '
            "The case is escalated to you.\nState: {state}\nOpen: {link}",
        ),
    },
    "reporter_message": {
        "id": (
            "[{number}] Pesan baru dari pelapor",
            "Yth. {name},\n\nPelapor perkara {number} ({type}) mengirim pesan baru. Baca di: {link}",
        ),
        "en": (
            "[{number}] New message from the reporter",
            "Dear {name},\n\nThe reporter of case {number} ({type}) sent a new message. Read it at: {link}",
        ),
    },
    "audit_head": {
        "id": (
            "Kepala jejak audit #{seq} untuk disimpan",
            "Yth. {name},\n\nBerikut kepala jejak audit bertanda tangan terbaru. Simpan baris di bawah ini di luar "
            "server (mis. tambahkan ke satu berkas). Kelak perintah `wbs verify-audit --against BERKAS` memastikan "
            "riwayat tidak ditulis ulang dan basis data tidak diganti salinan lama.\n\n{head}\n",
        ),
        "en": (
            "Audit head #{seq} to keep",
            "Dear {name},\n\nThis is the latest signed audit head. Keep the line below outside the server (e.g. "
            "append it to one file). Later, `wbs verify-audit --against FILE` makes sure that history was not "
            "rewritten and that the database was not replaced by an older copy.\n\n{head}\n",
        ),
    },
    "digest": {
        "id": (
            "Ringkasan harian: {count} perkara perlu tindakan",
            "Yth. {name},\n\nPerkara yang perlu tindakan Anda:\n{lines}\n\nBuka antrean: {link}",
        ),
        "en": (
            "Daily digest: {count} cases need action",
            "Dear {name},\n\nCases that need your action:\n{lines}\n\nOpen your queue: {link}",
        ),
    },
    # identity on request (wbs_engine/identity.py): no reason, no requester's name to the reporter
    "identity_request": {
        "id": (
            "[{number}] Permintaan identitas menunggu keputusan Anda",
            "Yth. {name},\n\nSeorang petugas perkara {number} ({type}) meminta melihat identitas pelapor. Permintaan "
            "itu menunggu keputusan Anda.\nBuka: {link}\n\nPesan ini dikirim otomatis oleh wbs-engine.",
        ),
        "en": (
            "[{number}] An identity request waits for your decision",
            "Dear {name},\n\nA handler of case {number} ({type}) asked to see the reporter's identity. The request "
            "waits for your decision.\nOpen: {link}\n\nThis message was sent automatically by wbs-engine.",
        ),
    },
    "identity_approved": {
        "id": (
            "[{number}] Permintaan identitas Anda disetujui",
            "Yth. {name},\n\nPermintaan Anda untuk melihat identitas pelapor perkara {number} ({type}) disetujui. "
            "Anda dapat melihatnya di halaman perkara sampai {until}.\nBuka: {link}\n\nPesan ini dikirim otomatis "
            "oleh wbs-engine.",
        ),
        "en": (
            "[{number}] Your identity request was approved",
            "Dear {name},\n\nYour request to see the reporter's identity on case {number} ({type}) was approved. You "
            "can see it on the case page until {until}.\nOpen: {link}\n\nThis message was sent automatically by "
            "wbs-engine.",
        ),
    },
    "identity_refused": {
        "id": (
            "[{number}] Permintaan identitas Anda ditolak",
            "Yth. {name},\n\nPermintaan Anda untuk melihat identitas pelapor perkara {number} ({type}) ditolak.\n"
            "Buka: {link}\n\nPesan ini dikirim otomatis oleh wbs-engine.",
        ),
        "en": (
            "[{number}] Your identity request was refused",
            "Dear {name},\n\nYour request to see the reporter's identity on case {number} ({type}) was refused.\n"
            "Open: {link}\n\nThis message was sent automatically by wbs-engine.",
        ),
    },
    "reporter_identity": {
        "id": (
            "Identitas Anda pada laporan {number}",
            'Untuk menangani laporan Anda {number}, identitas Anda ditampilkan kepada satu petugas dengan peran '
            '"{role}", sampai {until}.\nIkuti perkembangannya dengan kode pelacakan Anda di {track}.\n\nPesan ini '
            "dikirim otomatis; jangan membalas e-mail ini.",
        ),
        "en": (
            "Your identity on report {number}",
            'To handle your report {number}, your identity was made visible to one officer in the role "{role}", '
            "until {until}.\nFollow it with your tracking code at {track}.\n\nThis message was sent automatically; "
            "do not reply to it.",
        ),
    },
    "retention_due": {
        "id": (
            "Retensi: perkara yang sudah waktunya dimusnahkan: {count}",
            "Yth. {name},\n\nPerkara yang sudah ditutup, masa retensinya berakhir, dan sudah waktunya dimusnahkan: "
            "{count}.\n\nTidak ada yang dimusnahkan secara otomatis. `wbs retention --dry-run` menampilkan "
            "daftarnya; `wbs retention --apply --as ADMIN --basis TEKS` memusnahkan isinya dan mencatat berita acara "
            "pemusnahan dalam jejak audit.\n",
        ),
        "en": (
            "Retention: cases due for destruction: {count}",
            "Dear {name},\n\nClosed cases whose retention period has ended and that are due for destruction: "
            "{count}.\n\nNothing is destroyed automatically. `wbs retention --dry-run` lists them; `wbs retention "
            "--apply --as ADMIN --basis TEXT` destroys their content and writes the destruction record (berita acara "
            "pemusnahan) into the audit trail.\n",
        ),
    },
}


#: one phrase of each kind that only its own language has
PHRASES = {
    "queue": ("menunggu tindakan Anda", "waits for you"),
    "reporter_status": ("kode pelacakan Anda", "tracking code"),
    "reporter_reply": ("Petugas mengirim pesan", "The handlers sent a message"),
    "reminder": ("Pengingat", "Reminder"),
    "breach": ("dieskalasikan kepada Anda", "escalated to you"),
    "reporter_message": ("mengirim pesan baru", "sent a new message"),
    "audit_head": ("Simpan baris di bawah ini", "Keep the line below"),
    "digest": ("Ringkasan harian", "Daily digest"),
    "identity_request": ("menunggu keputusan Anda", "waits for your decision"),
    "identity_approved": ("disetujui", "was approved"),
    "identity_refused": ("ditolak", "was refused"),
    "reporter_identity": ("ditampilkan kepada satu petugas", "made visible to one officer"),
    "retention_due": ("dimusnahkan secara otomatis", "destroyed automatically"),
}


def test_every_kind_has_a_template():
    assert {p.stem for p in MAIL_DIR.glob("*.txt")} == set(BEFORE) == set(PHRASES)


@pytest.mark.parametrize("kind", sorted(BEFORE))
@pytest.mark.parametrize("lang", i18n.LOCALES)
def test_each_mail_renders_in_both_languages_as_before(kind, lang):
    subject, body = notify.render(kind, lang, **VALUES)
    old_subject, old_body = BEFORE[kind][lang]
    assert (subject, body) == (old_subject.format(**VALUES), old_body.format(**VALUES))
    own, other = PHRASES[kind] if lang == "id" else PHRASES[kind][::-1]
    assert own in subject + body and other not in subject + body


def test_english_comes_from_the_catalogue():
    """The English mail is the msgids through the English catalogue, not text of its own in the template."""
    en = i18n.translations("en")
    assert en.gettext("Dear %(name)s,") == "Dear %(name)s,"
    assert i18n.translations("id").gettext("Dear %(name)s,") == "Yth. %(name)s,"
    assert notify.render("digest", "en", **VALUES)[1].startswith("Dear Sri Pengelola,")


def test_an_unknown_language_is_indonesian():
    assert notify.render("queue", "fr", **VALUES) == notify.render("queue", "id", **VALUES)


@pytest.mark.parametrize("lang", i18n.LOCALES)
def test_values_are_never_template_syntax(lang):
    hostile = {**VALUES, "name": "{{ 7*7 }} {% raw %}%(number)s{{ x }}", "state": "%s %% {number}", "lines": "{# c #}"}
    subject, body = notify.render("digest", lang, **hostile)
    assert "{{ 7*7 }} {% raw %}%(number)s{{ x }}" in body and "{# c #}" in body and "49" not in body
    _subject, body = notify.render("queue", lang, **hostile)
    assert '"%s %% {number}"' in body


def test_a_missing_value_is_an_error_not_an_empty_text():
    values = dict(VALUES)
    del values["link"]
    with pytest.raises(jinja2.UndefinedError):
        notify.render("queue", "id", **values)


PERCENT = re.compile(r"%\((\w+)\)s")


def test_the_indonesian_mail_sentences_keep_their_placeholders():
    """``{% trans %}`` messages name their values as ``%(name)s``: each translation has the same ones."""
    method_map = [("**.txt", "jinja2")]
    found = [m for _f, _l, m, _c, _x in extract_from_dir(str(MAIL_DIR), method_map)]
    assert len(found) > 20
    id_catalogue = i18n.translations("id")
    for msgid in found:
        text = id_catalogue.gettext(msgid)
        assert text != msgid, f"not translated: {msgid!r}"
        assert set(PERCENT.findall(text)) == set(PERCENT.findall(msgid)), msgid
