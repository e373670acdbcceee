"""The workflow format and its linter: good files pass, each bad fixture fails with its own message."""

from pathlib import Path

import pytest
from click.testing import CliRunner

from wbs_engine.cli import cli
from wbs_engine.lint import lint_file, lint_text
from wbs_engine.machine import CompiledWorkflow, mermaid

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "tests" / "fixtures" / "bad"
WORKFLOWS = sorted((REPO / "workflows").glob("*.yaml"))

EXPECTED = {
    "unknown_state.yaml": (86, "unknown state 'tindaklanjut'"),
    "unreachable_state.yaml": (67, "state 'ditunda' is unreachable"),
    "dead_end.yaml": (67, "state 'buntu' is not final but has no way out"),
    "final_with_way_out.yaml": (65, "final state 'selesai' has a way out"),
    "unknown_role.yaml": (86, "unknown role 'kepala_unit'"),
    "unknown_guard.yaml": (72, "unknown guard 'is_friday'"),
    "unknown_effect.yaml": (80, "unknown effect 'send_fax'"),
    "duplicate_trigger.yaml": (84, "duplicate trigger 'minta_informasi' from state 'verifikasi'"),
    "clock_never_stops.yaml": (146, "clock 'konfirmasi_pelapor' can never stop"),
    "missing_en_label.yaml": (66, "missing the English label 'en'"),
    "unknown_key.yaml": (15, "unknown key 'retension_years'"),
    "not_yaml.yaml": (3, "not valid YAML"),
}


def test_every_bad_fixture_is_covered():
    assert sorted(p.name for p in BAD.glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_shipped_workflows_pass(path):
    defn, issues = lint_file(path)
    assert issues == [], "\n".join(map(str, issues))
    assert defn is not None and defn.final_states


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_fixture_names_the_problem_and_line(name):
    line, text = EXPECTED[name]
    defn, issues = lint_file(BAD / name)
    assert defn is None
    hit = [i for i in issues if text in i.message]
    assert hit, f"expected {text!r} in {[str(i) for i in issues]}"
    assert hit[0].line == line
    assert str(hit[0]).startswith(f"{BAD / name}:{line}: ")


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_cli_lint_exits_1_on_bad_file(name):
    """`wbs lint` speaks Bahasa Indonesia by default: the issue's line, rendered in Indonesian."""
    res = CliRunner().invoke(cli, ["lint", str(BAD / name)])
    assert res.exit_code == 1
    hit = [i for i in lint_file(BAD / name)[1] if EXPECTED[name][1] in i.message]
    assert hit and hit[0].render("id") in res.output


@pytest.mark.parametrize(
    "name, id_text",
    [
        ("unknown_state.yaml", "status 'tindaklanjut' tidak dikenal"),
        ("dead_end.yaml", "status 'buntu' bukan status akhir tetapi tidak punya jalan keluar"),
        ("missing_en_label.yaml", "label bahasa Inggris 'en' belum ada"),
        ("unknown_key.yaml", "kunci 'retension_years' tidak dikenal"),
        ("not_yaml.yaml", "bukan YAML yang valid"),
    ],
)
def test_lint_lines_are_in_the_catalogue(name, id_text):
    """Each explanation is a catalogue message: Indonesian by default (``str``), English on request."""
    res = CliRunner().invoke(cli, ["lint", str(BAD / name)])
    assert id_text in res.output
    _, issues = lint_file(BAD / name)
    assert any(id_text in str(i) for i in issues)
    assert all(i.message == i.text("en") and i.render("en").endswith(i.message) for i in issues)


def test_cli_lint_exits_0_on_good_files():
    res = CliRunner().invoke(cli, ["lint", *map(str, WORKFLOWS)])
    assert res.exit_code == 0, res.output
    assert res.output.count(": OK (") == len(WORKFLOWS)


def test_missing_file_is_a_lint_error_not_a_traceback(tmp_path):
    defn, issues = lint_file(tmp_path / "nope.yaml")
    assert defn is None and "cannot read the file" in issues[0].message


def test_duration_needs_exactly_one_unit():
    text = (REPO / "workflows" / "pengaduan.yaml").read_text()
    bad = text.replace("limit: {working_days: 3}", "limit: {working_days: 3, calendar_days: 3}", 1)
    defn, issues = lint_text(bad, "x.yaml")
    assert defn is None
    assert any("exactly one of working_days or calendar_days" in i.message for i in issues)


def test_breach_fire_must_allow_system():
    text = (REPO / "workflows" / "pengaduan.yaml").read_text()
    bad = text.replace("dest: selesai, roles: [system],", "dest: selesai, roles: [pengelola],", 1)
    _defn, issues = lint_text(bad, "x.yaml")
    assert any("does not allow the role 'system'" in i.message for i in issues)


def test_compiles_to_transitions_machine_without_auto_transitions():
    defn, _ = lint_file(REPO / "workflows" / "pengaduan.yaml")
    compiled = CompiledWorkflow(defn)
    assert compiled.machine.auto_transitions is False
    assert "to_selesai" not in compiled.machine.events
    assert set(compiled.machine.events) == {t.trigger for t in defn.transitions}


def test_mermaid_lists_every_transition():
    defn, _ = lint_file(REPO / "workflows" / "pengaduan.yaml")
    text = mermaid(defn)
    assert text.splitlines()[3] == "stateDiagram-v2"
    for t in defn.transitions:
        for s in t.source:
            assert f"{s} --> {t.dest}: {t.trigger}" in text


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_committed_diagram_is_current(path):
    """docs/diagrams/KEY.md holds what `wbs diagram KEY` prints for the file as it is now."""
    defn, _ = lint_file(path)
    doc = (REPO / "docs" / "diagrams" / f"{defn.key}.md").read_text()
    assert mermaid(defn) in doc, f"regenerate docs/diagrams/{defn.key}.md with: wbs diagram {defn.key}"


def test_late_notice_needs_a_clock_counted_from_a_field():
    text = (REPO / "workflows" / "gratifikasi.yaml").read_text()
    defn, issues = lint_text(text, "x.yaml")
    assert defn is not None and defn.clocks["lapor_kpk"].late_notice is not None
    stops = "\n    stops: {on_enter: [diteruskan_kpk]}"  # the clock lapor_kpk
    start = "    starts: {on_enter: dilaporkan, from_field: tanggal_penerimaan}" + stops
    assert start in text
    bad = text.replace(start, "    starts: {on_enter: dilaporkan}" + stops, 1)
    defn, issues = lint_text(bad, "x.yaml")
    assert defn is None
    assert any("late_notice but no starts.from_field" in i.message for i in issues)


PENGADUAN = (REPO / "workflows" / "pengaduan.yaml").read_text()


@pytest.mark.parametrize(
    "old, new, message",
    [
        (
            "{name: lokasi, type: text,",
            "{name: lokasi, type: text, plain: true, confidential: true,",
            "field 'lokasi' is marked plain but also identity/contact/confidential",
        ),
        ("{name: waktu_kejadian, type: date,", "{name: waktu_kejadian, type: date, plain: true,", "a date is plain"),
        ("{name: waktu_kejadian, type: date,", "{name: waktu_kejadian, type: date, contact: true,", "email or phone"),
        (
            "reporter_label: {id: Sedang kami periksa, en: We are checking it}",
            "description: {id: Sedang kami periksa, en: We are checking it}",
            "required key 'reporter_label' is missing",
        ),
    ],
)
def test_privacy_markers_and_reporter_labels_are_linted(old, new, message):
    assert old in PENGADUAN
    defn, issues = lint_text(PENGADUAN.replace(old, new, 1), "pengaduan.yaml")
    assert defn is None
    hit = [i for i in issues if message in i.message]
    assert hit and hit[0].line is not None, [str(i) for i in issues]


def test_private_by_default():
    defn, _ = lint_file(REPO / "workflows" / "pengaduan.yaml")
    sealed = {f.name for f in (*defn.intake, *defn.fields) if f.sealed}
    # free text and identities are sealed without a word in the file; choices, dates and units are not
    assert {"nama", "email", "layanan", "uraian", "lokasi", "pesan", "instruksi", "jawaban"} <= sealed
    assert {"kategori", "waktu_kejadian", "unit_tujuan", "kepuasan"}.isdisjoint(sealed)
    assert defn.field("email_kontak").is_identity and defn.field("email_kontak").contact
    assert defn.default_identity == "anonim"  # the most private mode the workflow allows
    gift, _ = lint_file(REPO / "workflows" / "gratifikasi.yaml")
    assert gift.default_identity == "terbuka" and not gift.field("nomor_keputusan_kpk").sealed  # plain: true


def with_attachments(section: str) -> str:
    assert "\nvisibility:" in PENGADUAN
    return PENGADUAN.replace("\nvisibility:", f"\nattachments: {section}\nvisibility:", 1)


def test_attachments_section():
    defn, issues = lint_text(with_attachments("{max_count: 3, max_size_mb: 5, allowed_types: [pdf, jpeg]}"))
    assert issues == [] and defn.attachments.allowed_types == ["pdf", "jpeg"]
    assert (defn.attachments.max_count, defn.attachments.max_size_mb) == (3, 5)
    defn, _ = lint_file(REPO / "workflows" / "pengaduan.yaml")  # optional: the settings decide
    assert defn.attachments.max_count is None and defn.attachments.allowed_types is None


@pytest.mark.parametrize(
    "section, message",
    [
        ("{max_files: 3}", "unknown key 'max_files'"),
        ("{allowed_types: [pdf, exe]}", "Input should be 'pdf', 'jpeg'"),
        ("{allowed_types: []}", "at least 1 item"),
        ("{allowed_types: [pdf, pdf]}", "a file type is listed twice"),
        ("{max_size_mb: 0}", "greater than or equal to 1"),
        ("{max_size_mb: 500}", "less than or equal to 100"),
        ("{max_count: -1}", "greater than or equal to 0"),
    ],
)
def test_bad_attachments_sections_are_linted(section, message):
    defn, issues = lint_text(with_attachments(section), "pengaduan.yaml")
    assert defn is None
    hit = [i for i in issues if message in i.message]
    assert hit and hit[0].line is not None, [str(i) for i in issues]


def test_a_required_attachment_needs_attachments_allowed():
    text = with_attachments("{max_count: 0}").replace(
        "guards: [not_recused]}", "guards: [not_recused, has_attachment]}", 1
    )
    defn, issues = lint_text(text, "pengaduan.yaml")
    assert defn is None
    assert any("has_attachment" in i.message and "max_count is 0" in i.message for i in issues)


def test_every_kind_a_workflow_may_name_is_detected():
    from typing import get_args

    from wbs_engine.definition import AttachmentKind
    from wbs_engine.files import KINDS

    assert set(get_args(AttachmentKind)) == set(KINDS)


def test_schema_explanations_come_from_the_catalogue():
    """pydantic's explanations the catalogue knows are shown in Indonesian by default (English word for word
    as pydantic says it); a validator's refusal is a catalogue message too."""
    _, issues = lint_text(with_attachments("{max_size_mb: 0}"), "pengaduan.yaml")
    hit = [i for i in issues if i.message == "Input should be greater than or equal to 1"]
    assert hit and hit[0].text("id") == "Nilai harus lebih besar dari atau sama dengan 1"
    _, issues = lint_text(with_attachments("{allowed_types: [pdf, exe]}"), "pengaduan.yaml")
    hit = [i for i in issues if i.message.startswith("Input should be 'pdf', 'jpeg'")]
    assert hit and hit[0].message.endswith("'xlsx' or 'odt'") and hit[0].text("id").endswith("'xlsx' atau 'odt'")
    text = PENGADUAN.replace("limit: {working_days: 3}", "limit: {working_days: 3, calendar_days: 3}", 1)
    _, issues = lint_text(text, "pengaduan.yaml")
    assert any("isi tepat satu dari working_days atau calendar_days" in str(i) for i in issues)


def test_durations_are_described_in_the_readers_language():
    from wbs_engine.definition import Duration

    assert Duration(working_days=3).describe() == "3 HK"
    assert Duration(working_days=3).describe("en") == "3 working days"
    assert Duration(calendar_days=60).describe("id") == "60 hari kalender"
    assert Duration(calendar_days=60).describe("en") == "60 calendar days"


def with_survey(section: str) -> str:
    """pengaduan.yaml with its ``survey:`` section replaced by ``section`` (flow YAML)."""
    assert "\nsurvey:" in PENGADUAN
    return PENGADUAN[: PENGADUAN.index("\nsurvey:")] + f"\nsurvey: {section}\n"


ELEMENT = "{{key: {key}, label: {{id: Unsur {key}, en: Element {key}}}}}"


def test_the_public_workflows_ask_a_survey_and_the_staff_ones_do_not():
    asked = {p.stem: lint_file(p)[0].survey for p in WORKFLOWS}
    assert {k for k, v in asked.items() if v is not None} == {"pengaduan", "wbs", "benturan_kepentingan"}
    for key in ("pengaduan", "wbs", "benturan_kepentingan"):
        # the elements that fit complaint handling (docs/domain.md): procedure, time, staff, answer, handling
        assert {"prosedur", "waktu", "perilaku", "jawaban", "penanganan"} <= set(asked[key].keys)
        assert all(e.help is not None for e in asked[key].elements)
    assert lint_text(with_survey("null"))[0].survey is None  # optional


def test_survey_section():
    text = with_survey("{elements: [" + ", ".join(ELEMENT.format(key=k) for k in ("cepat", "ramah")) + "]}")
    defn, issues = lint_text(text, "pengaduan.yaml")
    assert issues == [] and defn.survey.keys == ["cepat", "ramah"]
    assert defn.survey.element("ramah").label.en == "Element ramah" and defn.survey.element("x") is None


@pytest.mark.parametrize(
    "section, message",
    [
        ("{elements: []}", "at least 1 item"),
        ("{}", "required key 'elements' is missing"),
        ("{elements: [{key: cepat, label: {id: Cepat}}]}", "missing the English label 'en'"),
        ("{elements: [{key: Cepat, label: {id: Cepat, en: Fast}}]}", "survey element keys use lowercase"),
        ("{elements: [{key: cepat, label: {id: Cepat, en: Fast}, skala: 5}]}", "unknown key 'skala'"),
        ("{questions: []}", "unknown key 'questions'"),
        ("{elements: [" + ELEMENT.format(key="cepat") + ", " + ELEMENT.format(key="cepat") + "]}", "listed twice"),
        ("{elements: [" + ELEMENT.format(key="komentar") + "]}", "reserved for the comment"),
        (
            "{elements: [" + ", ".join(ELEMENT.format(key=f"u{i}") for i in range(21)) + "]}",
            "the survey asks 21 elements; at most 20",
        ),
    ],
)
def test_bad_survey_sections_are_linted(section, message):
    defn, issues = lint_text(with_survey(section), "pengaduan.yaml")
    assert defn is None
    hit = [i for i in issues if message in i.message]
    assert hit and hit[0].line is not None, [str(i) for i in issues]
    assert hit[0].text("id") != hit[0].message or "unknown key" in message  # and in the reader's language
