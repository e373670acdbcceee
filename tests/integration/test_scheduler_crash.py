"""Crash safety of the scheduler: ``wbs sweep`` and ``wbs deliver`` killed with SIGKILL in the middle of their
work (inside a transaction, or between sending a mail and recording it). Nothing is lost, nothing is done
twice, except the one mail the outbox's documented at-least-once allows ("a crash between sending and
recording resends that mail once"), and the trail verifies.

Each subprocess runs the real ``wbs`` command through a small wrapper that stops it at a chosen point (the
k-th clock action, before its commit; the k-th mail, after the SMTP server took it and before it is
recorded) and says so in a file; the test then kills it with SIGKILL and finishes the work in-process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import timedelta

from sqlmodel import select

from tests.conftest import REPO
from tests.helpers import seed_people
from tests.integration.served import COMPLAINT, engine_env
from wbs_engine import audit, notify, scheduler
from wbs_engine.db import unit_of_work
from wbs_engine.models import CaseEvent, ClockAction, Outbox

#: cases filed; each has three due actions at the sweep's time (two reminders and the breach)
CASES = 30
#: the action (sweep) or mail (delivery) at which the subprocess is stopped and killed
KILL_AT = 40

STOP_AT = """
import sys, time
from pathlib import Path
from wbs_engine import scheduler

flag, where, at, args = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4:]
seen = [0]

def stop_here():
    seen[0] += 1
    if seen[0] == at:
        flag.write_text(str(at))
        time.sleep(600)  # the test kills us here

if where == "sweep":  # inside the action's transaction, after its writes, before the commit
    scheduler._before_commit = lambda s, row, action: stop_here()
else:  # the SMTP server has the mail; the outbox does not know yet
    record = scheduler._record
    def _record(engine, lease, error, report):
        stop_here()
        record(engine, lease, error, report)
    scheduler._record = _record
sys.argv = ["wbs", *args]
from webapp.cli import main
main()
"""


def _run_until_stopped(env: dict, tmp_path, where: str, args: list[str]) -> None:
    """Run ``wbs ARGS`` until it stops at the KILL_AT-th step, then SIGKILL its process group."""
    flag = tmp_path / f"stopped-{where}"
    proc = subprocess.Popen(
        [sys.executable, "-c", STOP_AT, str(flag), where, str(KILL_AT), *args],
        env={**env, "WBS_ALLOW_CLOCK_OVERRIDE": "1"},
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not flag.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert flag.exists(), f"wbs {where} did not reach step {KILL_AT}: {proc.poll()} {proc.stderr.read1()!r}"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)
        proc.stdout.close()
        proc.stderr.close()


def _file_cases(eng, clock) -> list[str]:
    data = {k: v for k, v in COMPLAINT.items() if k != "identitas"}
    numbers = []
    for i in range(CASES):
        clock.advance(seconds=1)
        numbers.append(eng.create_case("pengaduan", {**data, "layanan": f"Layanan {i}"}, identity_mode="anonim").number)
    return numbers


def test_sweep_and_delivery_killed_midway_lose_nothing_and_repeat_only_one_mail(
    make_wbs, db_url, clock, tmp_path, smtp_sink
):
    eng = make_wbs(db_url, smtp_url=smtp_sink.url)
    seed_people(eng)
    _file_cases(eng, clock)
    env = engine_env(eng, tmp_path, WBS_SMTP_URL=smtp_sink.url)
    due = clock.now + timedelta(days=40)
    expected = CASES * 3

    # --- the sweep, killed inside its KILL_AT-th action's transaction
    _run_until_stopped(env, tmp_path, "sweep", ["sweep", "--now", due.isoformat(), "--limit", "500"])
    with unit_of_work(eng.db, write=False) as s:
        assert len(s.exec(select(ClockAction.id)).all()) == KILL_AT - 1  # the one in flight left nothing
    clock.now = due
    rest = scheduler.sweep(eng, limit=500)  # the next sweep does the rest, nothing twice
    assert rest.errors == [] and rest.done == expected - (KILL_AT - 1)
    with unit_of_work(eng.db, write=False) as s:
        acts = s.exec(select(ClockAction.clock_id, ClockAction.action)).all()
        assert len(acts) == expected and len(set(acts)) == expected
        evs = s.exec(
            select(CaseEvent.chain, CaseEvent.kind, CaseEvent.payload).where(
                CaseEvent.kind.in_(["clock_reminder", "clock_breached"])
            )
        ).all()
        keyed = Counter((chain, kind, p["clock"], p.get("action", "breach")) for chain, kind, p in evs)
        assert len(evs) == expected and max(keyed.values()) == 1
        rows = s.exec(select(Outbox)).all()
        assert len({r.dedupe_key for r in rows}) == len(rows)  # one mail per action, none queued twice
        assert len(rows) > KILL_AT
        queued = Counter(
            (r.recipient, r.subject)
            if not r.recipient.startswith(notify.VAULT_PREFIX)
            else (eng.keyring.open_office(r.recipient.removeprefix(notify.VAULT_PREFIX)), r.subject)
            for r in rows
        )
        assert audit.verify(s, keyring=eng.keyring).ok

    # --- the delivery, killed after the SMTP server took its KILL_AT-th mail and before it was recorded
    smtp_sink.clear()
    _run_until_stopped(env, tmp_path, "deliver", ["deliver", "--now", due.isoformat(), "--limit", "1000"])
    assert len(smtp_sink.wait_for(KILL_AT, timeout=30)) == KILL_AT
    with unit_of_work(eng.db, write=False) as s:
        status = Counter(s.exec(select(Outbox.status)).all())
    assert status == {"sent": KILL_AT - 1, "sending": 1, "pending": len(rows) - KILL_AT}
    # before the lease runs out, nobody takes the mail in flight again
    clock.now = due + timedelta(minutes=1)
    early = scheduler.deliver_outbox(eng, notify.Mailer(smtp_sink.url, "wbs@kantor.test"), limit=1000)
    assert early.sent == len(rows) - KILL_AT
    clock.now = due + scheduler.SEND_LEASE + timedelta(minutes=2)
    late = scheduler.deliver_outbox(eng, notify.Mailer(smtp_sink.url, "wbs@kantor.test"), limit=1000)
    assert late.sent == 1 and late.errors == []
    got = smtp_sink.wait_for(len(rows) + 1, timeout=30)
    assert len(got) == len(rows) + 1  # every mail, and the one in flight at the kill once more
    arrived = Counter((m.rcpt_tos[0], m.subject) for m in got)
    assert sum((arrived - queued).values()) == 1 and not queued - arrived  # the repeat is one queued mail
    with unit_of_work(eng.db, write=False) as s:
        assert Counter(s.exec(select(Outbox.status)).all()) == {"sent": len(rows)}
        assert audit.verify(s, keyring=eng.keyring).ok
