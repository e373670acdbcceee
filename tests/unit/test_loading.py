"""Loading workflow files fast without changing what is loaded: libyaml's loader gives what the pure-Python one
gives (definitions, lines, messages), and the registry reads a file only when a type it may hold is asked
for, once per process. The timing itself is benchmarks/bench_startup.py's; no test here measures time."""

import shutil
from pathlib import Path

import pytest
import yaml

from wbs_engine import definition, registry
from wbs_engine.definition import DefinitionError, LintIssue, line_map, yaml_loader
from wbs_engine.errors import NotFound
from wbs_engine.lint import lint_file, lint_text
from wbs_engine.registry import Registry, guess_key

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "workflows").glob("*.yaml"))
BAD = sorted((REPO / "tests" / "fixtures" / "bad").glob("*.yaml"))
KEYS = {p.stem: p for p in WORKFLOWS}  # the shipped files are named after their keys

libyaml = pytest.mark.skipif(not yaml.__with_libyaml__, reason="PyYAML without libyaml")


@libyaml
def test_libyaml_is_the_default_where_present():
    assert yaml_loader() is yaml.CSafeLoader
    assert yaml_loader(pure=True) is yaml.SafeLoader


@libyaml
@pytest.mark.parametrize("path", WORKFLOWS + BAD, ids=lambda p: p.name)
def test_c_and_python_loaders_give_the_same_definition_and_lint_lines(path):
    c_defn, c_issues = lint_file(path, loader=yaml.CSafeLoader)
    py_defn, py_issues = lint_file(path, loader=yaml.SafeLoader)
    assert c_issues == py_issues
    assert c_defn == py_defn
    assert (c_defn is None) == (path in BAD)


@libyaml
@pytest.mark.parametrize("path", WORKFLOWS + [p for p in BAD if p.name != "not_yaml.yaml"], ids=lambda p: p.name)
def test_c_and_python_loaders_give_the_same_line_for_every_key_and_item(path):
    text = path.read_text(encoding="utf-8")
    c_lines = line_map(yaml.compose(text, Loader=yaml.CSafeLoader))
    assert c_lines == line_map(yaml.compose(text, Loader=yaml.SafeLoader))
    assert len(c_lines) > 100


@libyaml
@pytest.mark.parametrize(
    "text",
    [
        "key: x\nstates: [a, b\n",  # libyaml: "did not find expected ',' or ']'"
        "key: x\nlabel: a: b\n",  # libyaml: "... not allowed in this context"
        "key: x\n\tversion: 2\n",  # libyaml: "found a tab character that violates indentation"
        "key: x\nbell: \x07\n",  # libyaml: "control characters are not allowed"
        "key: x\nversion: *nowhere\n",
        "key: x\n---\nkey: y\n",
    ],
)
def test_a_file_libyaml_refuses_gets_the_message_the_linter_always_gave(text):
    _, c_issues = lint_text(text, "x.yaml", loader=yaml.CSafeLoader)
    _, py_issues = lint_text(text, "x.yaml", loader=yaml.SafeLoader)
    assert c_issues == py_issues
    assert len(c_issues) == 1 and c_issues[0].message.startswith("not valid YAML: ")


def test_a_good_file_needs_no_line_map(monkeypatch):
    def refuse(*_args, **_kwargs):
        raise AssertionError("the line map was worked out for a file without a problem")

    monkeypatch.setattr(definition, "line_map", refuse)
    defn, issues = lint_file(KEYS["pengaduan"])
    assert defn is not None and issues == []


# -- the registry ---------------------------------------------------------------------------------


@pytest.fixture
def parsed(monkeypatch):
    """The files the registry parses, in order (it parses with lint_text)."""
    seen: list[str] = []
    real = registry.lint_text

    def counting(text, filename="<workflow>", **kwargs):
        seen.append(Path(filename).name)
        return real(text, filename, **kwargs)

    monkeypatch.setattr(registry, "lint_text", counting)
    return seen


@pytest.fixture
def opened(monkeypatch):
    """Every file read through Path.read_text, by name."""
    seen: list[str] = []
    real = Path.read_text

    def reading(self, *args, **kwargs):
        seen.append(self.name)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", reading)
    return seen


def copy_workflows(tmp_path: Path, *names: str) -> Path:
    wf = tmp_path / "workflows"
    wf.mkdir()
    for name in names or KEYS:
        shutil.copy(KEYS[name], wf)
    return wf


def test_construction_reads_no_file(tmp_path, opened, parsed):
    Registry(copy_workflows(tmp_path))
    assert [n for n in opened if n.endswith(".yaml")] == [] and parsed == []


def test_a_type_is_read_from_its_own_file_only_once_per_process(tmp_path, parsed):
    reg = Registry(copy_workflows(tmp_path))
    loaded = reg.latest("pengaduan")
    assert loaded.definition.key == "pengaduan" and parsed == ["pengaduan.yaml"]
    assert reg.latest("pengaduan") is loaded and reg.knows("pengaduan")
    assert parsed == ["pengaduan.yaml"]
    assert reg.keys == sorted(KEYS)  # every file now, in the order of the files; pengaduan not again
    assert sorted(parsed) == sorted(f"{k}.yaml" for k in KEYS)
    reg.load_all()
    reg.latest("wbs")
    assert len(parsed) == len(KEYS)


def test_another_files_problem_does_not_stop_a_type_that_is_fine(tmp_path):
    wf = copy_workflows(tmp_path, "pengaduan", "gratifikasi")
    text = (wf / "gratifikasi.yaml").read_text(encoding="utf-8")
    (wf / "gratifikasi.yaml").write_text(text.replace("states:", "states: [", 1), encoding="utf-8")
    reg = Registry(wf)
    assert reg.latest("pengaduan").definition.key == "pengaduan"
    for ask in (reg.load_all, lambda: reg.keys, lambda: reg.latest("gratifikasi")):
        with pytest.raises(DefinitionError) as err:
            ask()
        assert [i.file for i in err.value.issues] == [str(wf / "gratifikasi.yaml")]
        assert err.value.issues[0].message.startswith("not valid YAML")


def test_a_type_in_two_files_is_refused_even_when_asked_for_alone(tmp_path):
    wf = copy_workflows(tmp_path, "pengaduan")
    shutil.copy(wf / "pengaduan.yaml", wf / "pengaduan_copy.yaml")
    with pytest.raises(DefinitionError) as err:
        Registry(wf).latest("pengaduan")
    assert err.value.issues == [
        LintIssue(str(wf / "pengaduan_copy.yaml"), None, "key", "workflow key 'pengaduan' is used by two files")
    ]


def test_a_file_whose_key_line_cannot_be_read_is_parsed_for_any_type(tmp_path, parsed):
    wf = copy_workflows(tmp_path, "pengaduan", "wbs")
    text = (wf / "pengaduan.yaml").read_text(encoding="utf-8")
    (wf / "laporan.yaml").write_text(text.replace("key: pengaduan\n", '"key": pengaduan\n', 1), encoding="utf-8")
    (wf / "pengaduan.yaml").unlink()
    reg = Registry(wf)
    assert reg.latest("pengaduan").definition.key == "pengaduan"
    assert parsed == ["laporan.yaml"]
    assert reg.latest("wbs").definition.key == "wbs"
    assert parsed == ["laporan.yaml", "wbs.yaml"]


def test_a_wrong_guess_falls_back_to_every_file(tmp_path, monkeypatch, parsed):
    wf = copy_workflows(tmp_path, "pengaduan", "wbs")
    monkeypatch.setattr(registry, "guess_key", lambda text: "wbs")  # both files "say" wbs
    reg = Registry(wf)
    assert reg.latest("wbs").definition.key == "wbs"
    assert reg.latest("pengaduan").definition.key == "pengaduan"
    assert sorted(parsed) == ["pengaduan.yaml", "wbs.yaml"]


def test_an_unknown_type_names_the_known_ones(tmp_path):
    reg = Registry(copy_workflows(tmp_path, "pengaduan", "wbs"))
    with pytest.raises(NotFound) as err:
        reg.latest("pengaduann")
    assert err.value.message("en") == "Unknown case type 'pengaduann' (known: pengaduan, wbs)."
    assert not reg.knows("gratifikasi")


@pytest.mark.parametrize(
    "text, key",
    [
        ("# a comment\nkey: pengaduan\nversion: 2\n", "pengaduan"),
        ("key: 'wbs'   # the channel\n", "wbs"),
        ('key: "gratifikasi"\n', "gratifikasi"),
        ("label: {id: x, en: y}\n  key: nested\n", None),
        ("key: a\nkey: b\n", None),
        ('"key": a\nkey: a\n', None),
        ("? key\n: a\nkey: a\n", None),
        ("<<: *base\nkey: a\n", None),
        ("{key: a,\nkey: b}\n", None),
        ("key: Not_A_Key\n", None),
        ("key: [a]\n", None),
        ("", None),
    ],
)
def test_guess_key(text, key):
    assert guess_key(text) == key


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_guess_key_reads_every_shipped_file(path):
    assert guess_key(path.read_text(encoding="utf-8")) == lint_file(path)[0].key
