"""``wbs`` reads only what a command needs: a command that needs no workflow reads no workflow file (so a
broken one does not stop it), a command that needs a type stops on that type's broken file with the
linter's lines, ``wbs lint`` checks every file; and the light commands do not import what they do not use.

How long a command takes is benchmarks/bench_startup.py's business: nothing here measures time."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import run_wbs
from wbs_engine import registry
from wbs_engine.lint import lint_file

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def office(tmp_path):
    """An instance set up with ``init-db``; its workflows directory holds a broken pengaduan.yaml and a good
    wbs.yaml. ``run(*args)`` runs ``wbs`` in-process with those settings."""
    wf = tmp_path / "workflows"
    wf.mkdir()
    text = (REPO / "workflows" / "pengaduan.yaml").read_text(encoding="utf-8")
    (wf / "pengaduan.yaml").write_text(text.replace("\nstates:", "\nstates: [", 1), encoding="utf-8")
    (wf / "wbs.yaml").write_text((REPO / "workflows" / "wbs.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_WORKFLOWS_DIR": str(wf)}

    def run(*args):
        return run_wbs(*args, env=env)

    assert run("init-db").exit_code == 0
    run.workflows, run.env = wf, env
    return run


@pytest.fixture
def yaml_reads(monkeypatch):
    """The workflow files read from now on (every read goes through ``wbs_engine.lint.read_text``, which the
    registry uses too)."""
    from wbs_engine import lint

    seen: list[str] = []
    real = lint.read_text

    def reading(path, *args, **kwargs):
        if Path(path).suffix == ".yaml":
            seen.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(lint, "read_text", reading)
    monkeypatch.setattr(registry, "read_text", reading)
    return seen


@pytest.mark.parametrize(
    "args, out",
    [
        (("workdays", "add", "2026-03-13", "3"), "2026-03-25"),
        (("workdays", "between", "2026-03-13", "2026-03-25"), "3"),
        (("holidays", "list", "--year", "2026"), "Nyepi"),
        (("holidays", "add", "2026-04-06", "--name", "Hari jadi kantor"), "2026-04-06"),
        (("unit", "add", "PUSAT", "Sekretariat"), "PUSAT"),
        (("create-user", "sri", "--role", "pengelola", "--password", "rahasia-sekali-1"), "sri"),
        (("audit-key",), "wbs-audit-key/1"),
        (("audit-checkpoint",), "."),
        (("--help",), "workdays"),
    ],
)
def test_a_command_that_needs_no_workflow_reads_none(office, yaml_reads, args, out):
    res = office(*args)
    assert res.exit_code == 0, res.stderr
    assert out in res.stdout
    assert yaml_reads == []


def test_a_command_that_needs_a_broken_type_stops_with_the_linters_lines(office, yaml_reads, monkeypatch):
    parsed: list[str] = []
    real = registry.lint_text
    monkeypatch.setattr(registry, "lint_text", lambda text, name, **kw: parsed.append(name) or real(text, name, **kw))
    res = office("case", "new", "pengaduan", "-f", "nama=Siti", "-f", "uraian=Pungutan liar di loket.")
    assert res.exit_code == 2
    # every file is read once (its `key:` line says which type it holds); only pengaduan.yaml is parsed
    assert sorted(yaml_reads) == ["pengaduan.yaml", "wbs.yaml"]
    assert parsed == [str(office.workflows / "pengaduan.yaml")]
    _, issues = lint_file(office.workflows / "pengaduan.yaml")
    assert issues and issues[0].message.startswith("not valid YAML")
    assert res.stderr.splitlines() == [str(i) for i in issues]


def test_lint_still_checks_every_file(office):
    res = office("lint")
    assert res.exit_code == 1
    assert f"{office.workflows / 'pengaduan.yaml'}:" in res.stdout
    assert f"{office.workflows / 'wbs.yaml'}: OK (wbs@" in res.stdout


# -- what a real process imports --------------------------------------------------------------------

#: run the console script's main() in a fresh process and print the modules it imported
PROBE = """
import json, sys
sys.argv = ["wbs", *sys.argv[1:]]
from webapp.cli import main
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""
HEAVY = ["sqlalchemy", "sqlmodel", "cryptography", "argon2", "alembic", "flask", "yaml", "pydantic", "transitions"]


def imported(env: dict, *args: str) -> set[str]:
    p = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        env={**os.environ, **env},
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert p.returncode == 0, p.stderr
    return {m.split(".")[0] for m in json.loads(p.stderr.splitlines()[-1])}


#: libraries the commands below never use: the web stack, the scheduler, password hashing, migrations, the
#: PostgreSQL driver, uploads' type sniffing, the slow path of canonical JSON, QR codes, TOTP, charts,
#: spreadsheets, mail (Babel is left out: a checkout without compiled catalogues compiles them with it)
NEVER = {
    "flask", "flask_login", "flask_wtf", "flask_babel", "flask_smorest", "flask_limiter", "werkzeug", "jinja2",
    "apscheduler", "argon2", "alembic", "psycopg", "filetype", "rfc8785", "segno", "pyotp", "pygal", "openpyxl",
    "smtplib",
}  # fmt: skip


@pytest.mark.parametrize(
    "args, wanted",
    [
        (("--help",), set()),
        (("lint", str(REPO / "workflows" / "wbs.yaml")), {"yaml", "pydantic"}),
        (("workdays", "add", "2026-03-13", "3"), {"sqlalchemy", "sqlmodel", "cryptography", "pydantic"}),
    ],
)
def test_light_commands_import_only_what_they_use(office, args, wanted):
    env = {**office.env, "WBS_DATABASE_URL": ""}
    got = imported(env, *args)
    assert got & set(HEAVY) == wanted
    assert not got & NEVER


def test_case_show_imports_none_of_the_libraries_it_does_not_use(make_wbs, tmp_path):
    from tests.helpers import COMPLAINT

    url = f"sqlite:///{tmp_path / 'wbs.sqlite3'}"
    number = make_wbs(url).create_case("pengaduan", COMPLAINT, identity_mode="rahasia").number
    env = {"WBS_INSTANCE_DIR": str(tmp_path / "instance"), "WBS_DATABASE_URL": url}
    env["WBS_WORKFLOWS_DIR"] = str(REPO / "workflows")
    got = imported(env, "case", "show", number)
    assert {"sqlalchemy", "sqlmodel", "cryptography", "yaml", "pydantic", "transitions"} <= got
    assert not got & NEVER, got & NEVER
