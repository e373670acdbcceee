"""Malformed workflow YAML (issue 13, part 5): Hypothesis mutates the shipped workflow files (keys deleted,
values of the wrong type, huge numbers, unknown states, YAML tags that would build Python objects, text cut
off) and feeds them to the linter, the registry's loader and ``wbs lint``: each answers with lint issues (or
accepts a mutation that is still a valid workflow), never a traceback, and no tag ever runs code.
Derandomised with modest example counts: the same inputs in CI every time."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.helpers import run_wbs
from wbs_engine.definition import DefinitionError, LintIssue
from wbs_engine.lint import lint_text

REPO = Path(__file__).resolve().parents[2]
SHIPPED = sorted((REPO / "workflows").glob("*.yaml"))
TEXTS = {p.name: p.read_text(encoding="utf-8") for p in SHIPPED}
TREES = {name: yaml.safe_load(text) for name, text in TEXTS.items()}
FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

#: a marker the dumped YAML carries where a tag is put afterwards (safe_dump cannot write tags itself)
TAG_MARK = "@@TAG@@"
#: tags that would build or call Python with an unsafe loader; here they must be refused as YAML
TAGS = [
    "!!python/object/apply:os.system ['touch {canary}']",
    "!!python/object/new:builtins.open ['{canary}', 'w']",
    "!!python/name:os.system",
    "!!python/object:builtins.object {{}}",
    "!!binary AAAA",
    "!!set {{a, b}}",
    "!!timestamp 2026-01-01",
    "!custom_tag value",
]
WRONG = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**40), max_value=10**40),
    st.sampled_from([10**30, -1, 0, 2**63, 1e308, float("inf")]),
    st.text(max_size=30),
    st.sampled_from(["tidak_ada", "", "\u202e\u200b", "x" * 5000, "'; DROP TABLE case_file; --", "<script>1</script>"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=3),
)


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every place in the tree (mapping keys and list items), depth first."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _parent(tree: Any, path: tuple) -> Any:
    for step in path[:-1]:
        tree = tree[step]
    return tree


@st.composite
def mutated(draw) -> tuple[str, str]:
    """(file name, the mutated text) of one shipped workflow with one to three mutations."""
    name = draw(st.sampled_from(sorted(TEXTS)))
    tree = copy.deepcopy(TREES[name])
    for _i in range(draw(st.integers(1, 3))):
        paths = _paths(tree)
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        parent, last = _parent(tree, path), path[-1]
        how = draw(st.sampled_from(["delete", "wrong", "tag", "unknown_state", "duplicate"]))
        if how == "delete":
            del parent[last]
        elif how == "wrong":
            parent[last] = draw(WRONG)
        elif how == "tag":
            parent[last] = TAG_MARK
        elif how == "unknown_state":
            parent[last] = "status_tidak_dikenal"
        elif isinstance(parent, list):
            parent.append(copy.deepcopy(parent[last]))
        else:
            parent[f"{last}_salinan"] = copy.deepcopy(parent[last])
    text = yaml.safe_dump(tree, allow_unicode=True, sort_keys=False, width=10_000)
    if TAG_MARK in text:
        tag = draw(st.sampled_from(TAGS))
        text = text.replace(f"'{TAG_MARK}'", tag).replace(TAG_MARK, tag)
    if draw(st.booleans()) and draw(st.booleans()):  # one in four: also cut off somewhere
        text = text[: draw(st.integers(0, len(text)))]
    return name, text


def _no_canary(tmp_path: Path) -> None:
    assert not (tmp_path / "canary").exists(), "a YAML tag ran code"


def _check_issues(issues: list[LintIssue]) -> None:
    for issue in issues:
        assert isinstance(issue, LintIssue)
        for lang in ("id", "en"):
            said = issue.render(lang)
            assert said.strip() and "Traceback" not in said


@FUZZ
@given(case=mutated())
def test_mutated_workflows_get_lint_issues_not_tracebacks(tmp_path, case):
    name, text = case
    text = text.replace("{canary}", str(tmp_path / "canary"))
    defn, issues = lint_text(text, name)
    _no_canary(tmp_path)
    assert (defn is None) == bool(issues)
    _check_issues(issues)


@settings(FUZZ, max_examples=10)
@given(case=mutated())
def test_mutated_workflows_through_wbs_lint_and_the_registry(tmp_path_factory, case):
    """The same mutations as files: ``wbs lint`` exits 1 with its issues (or 0 for a still valid workflow), one
    line each, no traceback; the registry's loader refuses the directory with a DefinitionError."""
    from wbs_engine.registry import Registry

    name, text = case
    folder = tmp_path_factory.mktemp("wf")
    text = text.replace("{canary}", str(folder / "canary"))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    res = run_wbs("lint", str(path))
    _no_canary(folder)
    assert res.exit_code in (0, 1), res.output
    assert "Traceback" not in res.output
    if res.exit_code == 1:
        assert res.output.strip() and all(line.startswith(str(path)) for line in res.stdout.splitlines())
        with pytest.raises(DefinitionError):
            Registry(folder).load_all()
    _no_canary(folder)


@pytest.mark.parametrize("tag", TAGS[:4])
def test_python_tags_never_run(tmp_path, tag):
    """A tag that would call Python, anywhere in the document: refused as YAML, nothing runs."""
    canary = tmp_path / "canary"
    text = TEXTS["pengaduan.yaml"].replace("initial: diterima", f"initial: {tag.format(canary=canary)}", 1)
    assert text != TEXTS["pengaduan.yaml"]
    defn, issues = lint_text(text, "pengaduan.yaml")
    assert defn is None and issues
    assert not canary.exists()
    _check_issues(issues)
