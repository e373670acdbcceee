"""Every path of every workflow, from intake to each final state, walked with ``wbs case`` commands."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from wbs_engine.cli import cli
from wbs_engine.demo import all_paths, sample_value, user_for
from wbs_engine.lint import load_workflow

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = {p.stem: load_workflow(p) for p in sorted((REPO / "workflows").glob("*.yaml"))}
USERS = {
    "pengelola": "pengelola",
    "atasan": "atasan",
    "unit": "petugas",
    "upg": "upg",
    "tim_telaah": "telaah",
    "tim_investigasi": "investigator",
    "pegawai": "pegawai",
    "auditor": "auditor",
}
PATHS = [(key, i, path) for key, defn in WORKFLOWS.items() for i, path in enumerate(all_paths(defn))]


@pytest.fixture(scope="module")
def wbs_cli(tmp_path_factory):
    inst = tmp_path_factory.mktemp("instance")
    runner = CliRunner()
    env = {"WBS_INSTANCE_DIR": str(inst), "WBS_DATABASE_URL": ""}

    def run(*args):
        res = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        assert res.exit_code == 0, f"wbs {' '.join(args)}\n{res.output}"
        return res.output

    run("init-db")
    run("unit", "add", "PUSAT", "Sekretariat")
    run("unit", "add", "LAYANAN", "Seksi Layanan")
    for role, user in USERS.items():
        grant = "unit:LAYANAN" if role == "unit" else role
        run("create-user", user, "--role", grant, "--password", "rahasia-demo-123")
    return run


def test_every_final_state_is_reached_by_some_path():
    for key, defn in WORKFLOWS.items():
        reached = {path[-1].dest for k, _i, path in PATHS if k == key and path}
        assert reached == defn.final_states, key


@pytest.mark.parametrize("key, i, path", PATHS, ids=[f"{k}-{i}-{p[-1].dest}" for k, i, p in PATHS])
def test_walk_path(wbs_cli, key, i, path):
    defn = WORKFLOWS[key]
    now = datetime.now(UTC)  # the CLI records the real time (no --now); sample dates are in the past
    filer = None if "public" in defn.filed_by else next(USERS[r] for r in defn.filed_by if r in USERS)
    args = ["case", "new", key, "--json", "--identity", defn.identity[i % len(defn.identity)]]
    if filer:
        args += ["--as", filer]
    for f in defn.intake:
        if f.required or f.type != "boolean":
            args += ["-f", f"{f.name}={sample_value(f, i, units=['LAYANAN'], users=['pegawai'], today=now.date())}"]
    created = json.loads(wbs_cli(*args))
    number, code = created["number"], created["receipt_code"]
    for t in path:
        role = next(r for r in t.roles if r in USERS or r in ("pelapor", "system"))
        who = "system" if role == "system" else (filer or f"pelapor:{code}") if role == "pelapor" else USERS[role]
        args = ["case", "fire", number, t.trigger, "--as", who]
        for name in (*t.requires, *t.optional):
            spec = defn.field(name)
            users = [user_for(defn, t, USERS)]
            args += ["-f", f"{name}={sample_value(spec, i, units=['LAYANAN'], users=users, today=now.date())}"]
        if t.reason:
            args += ["--reason", "Alasan pengujian jalur alur kerja."]
        wbs_cli(*args)
    view = json.loads(wbs_cli("case", "show", number, "--json"))
    assert view["state"] == path[-1].dest and view["final"]
    assert [e["trigger"] for e in view["history"] if e["kind"] == "transition"] == [t.trigger for t in path]
    assert all(c["status"] == "stopped" for c in view["clocks"]), view["clocks"]
