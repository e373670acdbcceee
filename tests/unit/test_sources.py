"""Every clock says on what basis its limit rests, and the README says the same as the files.

A clock's ``source`` marks what the office set itself with ``(kebijakan kantor)`` and what could not be
confirmed with ``(belum terverifikasi)`` (docs/workflow-format.md, clocks). The README's table "Limits not
yet verified" lists exactly the clocks that carry the second marker; its table of workflows says which
workflows have office-policy and unverified limits.
"""

import re
from pathlib import Path

import pytest

from wbs_engine.definition import OFFICE_POLICY_MARK, UNVERIFIED_MARK
from wbs_engine.lint import lint_text, load_workflow

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = {p.stem: load_workflow(p) for p in sorted((REPO / "workflows").glob("*.yaml"))}
README = (REPO / "README.md").read_text(encoding="utf-8")
CLOCKS = [(key, name, spec) for key, defn in WORKFLOWS.items() for name, spec in defn.clocks.items()]


def _section(heading: str) -> str:
    """The text under a README heading, up to the next heading of any level."""
    m = re.search(rf"^#+ {re.escape(heading)}\n(.*?)(?=^#)", README, re.S | re.M)
    assert m, f"README has no section '{heading}'"
    return m.group(1)


def _table(section: str) -> list[list[str]]:
    """The body rows of the first Markdown table in ``section``, cells stripped."""
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert len(rows) >= 2, "no table"
    return [[c.strip() for c in r.strip().strip("|").split("|")] for r in rows[2:]]


def _code(cell: str) -> str:
    m = re.fullmatch(r"`([^`]+)`", cell)
    assert m, f"expected a `name` in backticks, got {cell!r}"
    return m.group(1)


UNVERIFIED_ROWS = _table(_section("Limits not yet verified"))
WORKFLOW_ROWS = {_code(r[0]).removesuffix(".yaml"): r for r in _table(_section("The workflows"))}


def test_workflows_have_clocks_to_check():
    assert len(CLOCKS) >= 20 and {"pengaduan", "gratifikasi", "wbs", "benturan_kepentingan"} <= set(WORKFLOWS)


@pytest.mark.parametrize("key, name, spec", CLOCKS, ids=[f"{k}.{n}" for k, n, _ in CLOCKS])
def test_every_limit_says_its_basis(key, name, spec):
    # more than a bare marker: the text says which rule, or that the office set it, and the limit
    words = spec.source.replace(UNVERIFIED_MARK, "").replace(OFFICE_POLICY_MARK, "").strip(" —;,.")
    assert len(words) >= 20, f"{key}.{name}: the source says too little: {spec.source!r}"
    # the markers are recognised only in their exact form (the linter refuses other spellings)
    assert "belum terverifikasi" not in words.casefold() and "kebijakan kantor" not in words.casefold()


def test_every_unverified_limit_is_listed_in_the_readme():
    marked = {(key, name) for key, name, spec in CLOCKS if spec.unverified}
    listed = [(_code(r[0]), _code(r[1])) for r in UNVERIFIED_ROWS]
    assert len(listed) == len(set(listed)), "a clock is listed twice"
    assert marked - set(listed) == set(), "marked (belum terverifikasi), missing in README 'Limits not yet verified'"
    assert set(listed) - marked == set(), "listed in README 'Limits not yet verified' but not marked in its file"


@pytest.mark.parametrize("row", UNVERIFIED_ROWS, ids=lambda r: f"{r[0]}.{r[1]}".replace("`", ""))
def test_listed_limit_matches_the_file_and_says_why(row):
    key, name, limit, why = _code(row[0]), _code(row[1]), row[2], row[3]
    spec = WORKFLOWS[key].clocks[name]
    unit = "HK" if spec.limit.unit == "working" else "calendar days"
    assert limit == f"{spec.limit.days} {unit}", f"{key}.{name}: the file says {spec.limit.describe('en')}"
    assert len(why) >= 20


@pytest.mark.parametrize("key", sorted(WORKFLOWS))
def test_workflow_table_says_which_limits_are_office_policy_or_unverified(key):
    row = WORKFLOW_ROWS.get(key)
    assert row is not None, f"README's table of workflows has no row for {key}.yaml"
    clocks_text = row[-1]
    specs = WORKFLOWS[key].clocks.values()
    assert ("*office policy*" in clocks_text) == any(c.office_policy for c in specs), key
    assert ("*unverified*" in clocks_text) == any(c.unverified for c in specs), key


def test_readme_lists_every_workflow_file():
    assert set(WORKFLOW_ROWS) == set(WORKFLOWS)


def test_linter_refuses_a_marker_spelled_otherwise():
    text = (REPO / "workflows" / "wbs.yaml").read_text(encoding="utf-8")
    marked = "Batas yang ditetapkan kantor (kebijakan kantor)"  # in a source, not in a comment
    assert marked in text
    bad = text.replace(marked, "Batas yang ditetapkan kantor (Kebijakan Kantor)", 1)
    defn, issues = lint_text(bad, "x.yaml")
    assert defn is None
    assert any("exactly as the marker '(kebijakan kantor)'" in i.message for i in issues)
    bad = text.replace(marked, f"{marked}, belum terverifikasi", 1)
    _defn, issues = lint_text(bad, "x.yaml")
    assert any("exactly as the marker '(belum terverifikasi)'" in i.message for i in issues)
