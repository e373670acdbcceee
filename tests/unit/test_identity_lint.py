"""The workflow keys of identity on request and declared interests: parsed with clear errors, linted."""

from __future__ import annotations

from pathlib import Path

from wbs_engine.lint import lint_text

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
GOOD_IOR = "identity_on_request: {approvers: [atasan], hours: 72}"


def issues(name: str, old: str, new: str) -> list[str]:
    text = (WORKFLOWS / name).read_text()
    assert old in text
    _defn, found = lint_text(text.replace(old, new), name)
    return [i.render("en") for i in found]


def test_the_shipped_blocks_lint_clean():
    assert issues("wbs.yaml", GOOD_IOR, GOOD_IOR) == []
    assert issues("benturan_kepentingan.yaml", "field: pihak_terkait", "field: pihak_terkait") == []


def test_identity_on_request_rules():
    bad = issues("wbs.yaml", GOOD_IOR, "identity_on_request: {approvers: [upg, pelapor], hours: 0}")
    assert any("approver 'upg' is not a role of this workflow" in i for i in bad)
    assert any("'pelapor' cannot approve" in i for i in bad)
    assert any("hours must be between 1 and 720" in i for i in bad)
    assert any("between 1 and 720 (30 days), not 721" in i for i in issues("wbs.yaml", "hours: 72", "hours: 721"))
    # a type without rahasia reports has no identity to ask for
    text = issues("wbs.yaml", "identity: [anonim, rahasia, terbuka]", "identity: [anonim, terbuka]")
    assert any("takes no rahasia reports" in i for i in text)
    # the schema: unknown keys and a missing approvers list are refused with the file's line
    assert any("hourz" in i for i in issues("wbs.yaml", "hours: 72", "hourz: 72"))
    assert issues("wbs.yaml", GOOD_IOR, "identity_on_request: {hours: 72}")


def test_interests_rules():
    found = issues("benturan_kepentingan.yaml", "field: pihak_terkait", "field: jenis")
    assert any("'jenis' must be free text" in i for i in found)
    found = issues("benturan_kepentingan.yaml", "when: {jalur: deklarasi_mandiri}", "when: {jalur: mandiri, uraian: x}")
    assert any("'mandiri' is not an option of 'jalur'" in i for i in found)
    assert any("'uraian' must be a plain select field" in i for i in found)
    found = issues("benturan_kepentingan.yaml", "active_states: [diajukan,", "active_states: [diajukn,")
    assert any("unknown state 'diajukn'" in i for i in found)
