"""What a reporter sees with the tracking code, at every state of every workflow.

Every simple path of every workflow is walked through the engine; at each stop the internal work a
handler can do without leaving the state (questions to the reporter, notes, findings) is done as well.
After every step the reporter's view is checked against what the workflow allows them to see, computed
independently here from the workflow file:

* the stage is the state's ``reporter_label``;
* the fields shown are exactly what the reporter wrote (intake, their own answers) plus the fields marked
  ``reporter: true`` that a handler filled in, and every such field that was filled in is shown;
* no staff username or full name, no internal field's value, no reason, no unit, no role and no
  handler-only trigger appears anywhere in it.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from wbs_engine.demo import all_paths, sample_value, user_for
from wbs_engine.errors import NotFound
from wbs_engine.lint import load_workflow
from wbs_engine.permissions import Actor
from wbs_engine.tracking import tracking_view
from wbs_engine.users import create_or_update_user, ensure_unit, parse_grant

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = {p.stem: load_workflow(p) for p in sorted((REPO / "workflows").glob("*.yaml"))}
PATHS = [(key, i, path) for key, defn in WORKFLOWS.items() for i, path in enumerate(all_paths(defn))]

#: staff with names that must never reach a reporter: a username prefix and a surname no label contains
STAFF = {
    "pengelola": ("staf.pengelola", ["pengelola"]),
    "atasan": ("staf.atasan", ["atasan"]),
    "unit": ("staf.unit", ["unit:LAYANAN"]),
    "upg": ("staf.upg", ["upg"]),
    "tim_telaah": ("staf.telaah", ["tim_telaah"]),
    "tim_investigasi": ("staf.investigasi", ["tim_investigasi"]),
    "pegawai": ("staf.pegawai", ["pegawai"]),
}
SURNAME = "Kertanegara"
REASON = "Alasan internal yang tidak untuk pelapor."


@pytest.fixture
def office(make_wbs, tmp_path, clock):
    eng = make_wbs(f"sqlite:///{tmp_path / 'track.sqlite3'}")
    for code in ("PUSAT", "LAYANAN"):
        ensure_unit(eng, code, f"Unit {code}")
    for role, (username, grants) in STAFF.items():
        create_or_update_user(
            eng, username, [parse_grant(g) for g in grants], full_name=f"{role.title()} {SURNAME}", password=None
        )
    clock.now = datetime(2026, 4, 6, 2, 0, tzinfo=UTC)  # Monday 09:00 WIB
    return eng


def _value(defn, name, i, today, t=None):
    users = [user_for(defn, t, {r: u for r, (u, _g) in STAFF.items()})] if t is not None else [STAFF["pegawai"][0]]
    return sample_value(defn.field(name), i, units=["LAYANAN"], users=users, today=today)


def _actor(eng, t, code, filer):
    for role in t.roles:
        if role == "system":
            return Actor.system(), role
        if role == "pelapor":
            if filer:
                return eng.load_actor(filer), role
            from wbs_engine.db import unit_of_work

            with unit_of_work(eng.db, write=False) as s:
                return eng.reporter(s, code)[0], role
        if role in STAFF:
            return eng.load_actor(STAFF[role][0]), role
    raise LookupError(t.roles)


def _reporter_may_see(defn):
    """Field names the reporter may see: intake, fields of their own transitions, ``reporter: true`` ones."""
    own = {n for t in defn.transitions if "pelapor" in t.roles for n in (*t.requires, *t.optional)}
    return {f.name for f in defn.intake} | own | {f.name for f in (*defn.intake, *defn.fields) if f.reporter}


class Walk:
    def __init__(self, eng, clock, defn, i):
        self.eng, self.clock, self.defn, self.i = eng, clock, defn, i
        self.filled = {}  # field name -> value, as the reporter should see it (None: must not see)
        self.internal_values = set()

    def file(self):
        defn, i = self.defn, self.i
        today = self.clock.now.date()
        filer = None if "public" in defn.filed_by else STAFF[next(r for r in defn.filed_by if r in STAFF)][0]
        identity = defn.identity[i % len(defn.identity)]
        data = {f.name: _value(defn, f.name, i, today) for f in defn.intake if f.required or f.type != "boolean"}
        created = self.eng.create_case(
            defn.key, data, identity_mode=identity, filed_by=self.eng.load_actor(filer) if filer else None
        )
        kept = {k: v for k, v in data.items() if not (identity == "anonim" and defn.field(k).identity)}
        self.wrote = kept
        self.number, self.code, self.filer = created.number, created.receipt_code, filer

    def fire(self, t):
        self.clock.advance(hours=3)
        actor, role = _actor(self.eng, t, self.code, self.filer)
        today = self.clock.now.date()
        data = {n: _value(self.defn, n, self.i, today, t) for n in (*t.requires, *t.optional)}
        self.eng.fire(self.number, t.trigger, actor, data, reason=REASON if t.reason else None)
        for n, v in data.items():
            spec = self.defn.field(n)
            if role == "pelapor" or spec.reporter:
                self.filled.setdefault(n, set()).add(str(v))
            elif spec.sealed and isinstance(v, str) and len(v) > 12 and v not in self.wrote.values():
                self.internal_values.add(v)

    def internal_loops(self, state):
        for t in self.defn.transitions_from(state):
            if t.internal and not t.extends and "kecualikan" not in t.trigger:
                self.fire(t)

    def check(self, lang="id"):
        defn = self.defn
        view = tracking_view(self.eng, self.code, lang)
        text = json.dumps(view, ensure_ascii=False)
        from wbs_engine.db import unit_of_work

        with unit_of_work(self.eng.db, write=False) as s:
            case = self.eng.get_case(s, self.number)
        assert view["state_label"] == defn.states[case.state].reporter_label.get(lang)
        assert "staf." not in text and SURNAME not in text, "a staff member's name reached the reporter"
        assert REASON not in text, "a reason reached the reporter"
        assert "LAYANAN" not in text or "LAYANAN" in json.dumps(self.wrote), "the handling unit reached the reporter"
        for value in self.internal_values:
            assert value not in text, f"an internal value reached the reporter: {value[:40]}"
        staff_only = {t.trigger for t in defn.transitions if "pelapor" not in t.roles}
        for action in view["actions"]:
            assert action["trigger"] not in staff_only
        for key in ("actor", "role", "unit", "hash", "payload", "sealed", "reason", "assigned_to", "recused"):
            assert f'"{key}"' not in text, f"internal key {key!r} in the reporter's view"
        shown = {f["name"] for st in view["steps"] for f in st["fields"]} | {f["name"] for f in view["you_wrote"]}
        assert shown <= _reporter_may_see(defn)
        assert {f["name"] for f in view["you_wrote"]} == set(self.wrote)
        in_steps = {f["name"] for st in view["steps"] for f in st["fields"]}
        for name in self.filled:
            assert name in in_steps, f"{name} was filled in for the reporter but is not shown"
        return view


@pytest.mark.parametrize("key, i, path", PATHS, ids=[f"{k}-{i}-{p[-1].dest}" for k, i, p in PATHS])
def test_reporter_sees_exactly_what_the_workflow_allows_at_every_step(office, clock, key, i, path):
    defn = WORKFLOWS[key]
    walk = Walk(office, clock, defn, i)
    walk.file()
    walk.check()
    state = defn.initial
    walk.internal_loops(state)
    walk.check()
    for t in path:
        walk.fire(t)
        state = t.dest
        view = walk.check()
        if not defn.states[state].final:
            walk.internal_loops(state)
            view = walk.check()
    assert view["final"] and view["closed"] is not None
    assert view["actions"] == []  # nothing left for the reporter to do on a closed case
    english = walk.check("en")
    assert english["state_label"] == defn.states[state].reporter_label.en


def test_wrong_code_or_number_gets_the_same_answer(office):
    c = office.create_case(
        "pengaduan",
        {"layanan": "Legalisir", "kategori": "ringan", "uraian": "Petugas meminta uang di luar tarif resmi loket."},
    )
    other = office.create_case(
        "pengaduan",
        {"layanan": "Legalisir", "kategori": "ringan", "uraian": "Petugas meminta uang di luar tarif resmi loket."},
    )
    assert tracking_view(office, c.receipt_code.lower().replace("-", " "))["number"] == c.number
    messages = []
    for code, number in (("AAAA-BBBB-CCCC-DDDD", None), (c.receipt_code, other.number)):
        with pytest.raises(NotFound) as exc:
            tracking_view(office, code, number=number)
        messages.append(exc.value.message("id"))
    assert messages[0] == messages[1]  # a number cannot be probed with a valid code for another case


def test_messages_both_ways_without_names_and_the_default_identity_is_the_most_private(office, clock):
    c = office.create_case(
        "wbs",
        {
            "kategori": "korupsi",
            "apa": "Pemotongan honor kegiatan oleh bendahara tanpa dasar yang jelas.",
            "siapa": "Bendahara kegiatan",
            "email_kontak": "kabar.saya@contoh.id",
            "nama": "Tidak boleh tersimpan",
        },
    )
    with __import__("wbs_engine.db", fromlist=["unit_of_work"]).unit_of_work(office.db, write=False) as s:
        case = office.get_case(s, c.number)
        reporter = office.reporter(s, c.receipt_code)[0]
    assert case.identity_mode == "anonim"  # no choice made: the most private mode the workflow allows
    office.post_message(c.number, reporter, "Saya punya foto kuitansi bila diperlukan.")
    clock.advance(hours=1)
    office.fire(c.number, "mulai_verifikasi", office.load_actor("staf.pengelola"), {"petugas": "staf.telaah"})
    office.post_message(c.number, office.load_actor("staf.telaah"), "Terima kasih, mohon unggah fotonya.")
    view = tracking_view(office, c.receipt_code)
    assert [(m["from"], m["body"]) for m in view["messages"]] == [
        ("you", "Saya punya foto kuitansi bila diperlukan."),
        ("office", "Terima kasih, mohon unggah fotonya."),
    ]
    text = json.dumps(view, ensure_ascii=False)
    assert "staf." not in text and SURNAME not in text
    # an anonymous reporter's name is not kept at all; the contact address is theirs to see
    assert "Tidak boleh tersimpan" not in text
    assert {f["name"]: f["value"] for f in view["you_wrote"]}["email_kontak"] == "kabar.saya@contoh.id"
    assert view["state_label"] == "Kelengkapan laporan sedang diperiksa"
    assert view["current_due_date"] is not None


def test_cli_case_show_as_reporter_prints_the_tracking_view(tmp_path):
    runner = CliRunner()
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": ""}
    from wbs_engine.cli import cli

    def run(*args, ok=True):
        res = runner.invoke(cli, list(args), env=env)
        if ok:
            assert res.exit_code == 0, res.output
        return res

    run("init-db")
    run("unit", "add", "PUSAT", "Pusat")
    run("create-user", "staf.sri", "--role", "pengelola", "--name", f"Sri {SURNAME}", "--password", "rahasia-sekali-1")
    created = json.loads(
        run(
            "case",
            "new",
            "pengaduan",
            "--json",
            "--identity",
            "rahasia",
            "-f",
            "nama=Siti Aminah",
            "-f",
            "layanan=Legalisir ijazah",
            "-f",
            "kategori=ringan",
            "-f",
            "uraian=Petugas meminta uang tambahan di luar tarif resmi saat legalisir.",
        ).output
    )
    number, code = created["number"], created["receipt_code"]
    run("case", "fire", number, "mulai_verifikasi", "--as", "staf.sri")
    run("case", "fire", number, "minta_informasi", "--as", "staf.sri", "-f", "pesan=Mohon sebutkan jam kejadiannya.")
    out = run("case", "show", number, "--as", f"pelapor:{code}").output
    assert "Kami menunggu keterangan dari Anda" in out
    assert "Mohon sebutkan jam kejadiannya." in out  # the question is meant for the reporter
    assert "Siti Aminah" in out and "Legalisir ijazah" in out  # what they wrote
    assert "staf.sri" not in out and SURNAME not in out and "minta_informasi" not in out
    assert "beri_informasi" in out  # what they can do now
    as_json = json.loads(run("case", "show", number, "--as", f"pelapor:{code}", "--json").output)
    assert as_json["state_label"] == "Kami menunggu keterangan dari Anda"
    wrong = run("case", "show", number, "--as", "pelapor:AAAA-BBBB-CCCC-DDDD", ok=False)
    assert wrong.exit_code != 0


def test_sample_dates_stay_in_the_past():
    today = datetime(2026, 4, 6, tzinfo=UTC).date()
    defn = WORKFLOWS["gratifikasi"]
    assert sample_value(defn.field("tanggal_penerimaan"), 0, today=today) <= str(today - timedelta(days=1))
