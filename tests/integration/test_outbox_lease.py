"""Outbox delivery with a lease: no database transaction is open while the SMTP server is talked to, a
crash between sending and marking sends the message at most once more (after the lease ran out), and
several deliverers never send one row at the same time."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import select

from tests.helpers import COMPLAINT, seed_people
from wbs_engine import notify, scheduler
from wbs_engine.db import unit_of_work
from wbs_engine.models import Outbox
from wbs_engine.scheduler import deliver_outbox

REPO = Path(__file__).resolve().parents[2]


def new_case(wbs, **data):
    return wbs.create_case("pengaduan", {**COMPLAINT, **data}, identity_mode="rahasia")


def outbox_rows(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        return s.exec(select(Outbox).order_by(Outbox.id)).all()


class RecordingMailer:
    """Records what it was asked to send (thread-safe)."""

    def __init__(self):
        self.sent: list[tuple[str, str]] = []
        self._lock = threading.Lock()

    def send(self, recipient, subject, body, lang):
        with self._lock:
            self.sent.append((recipient, subject))


class BlockingMailer(RecordingMailer):
    """``send`` says it started, then waits until the test releases it (and fails if told to)."""

    def __init__(self, fail: bool = False):
        super().__init__()
        self.started, self.release, self.fail = threading.Event(), threading.Event(), fail

    def send(self, recipient, subject, body, lang):
        self.started.set()
        assert self.release.wait(120), "never released"
        if self.fail:
            raise ConnectionResetError("connection lost")
        super().send(recipient, subject, body, lang)


def in_thread(fn):
    out: dict = {}

    def run():
        try:
            out["result"] = fn()
        except BaseException as exc:
            out["error"] = exc

    t = threading.Thread(target=run)
    t.start()
    return t, out


def test_no_transaction_is_open_while_the_mail_is_sent(wbs, clock):
    """The old delivery sent each e-mail inside the transaction that claimed its row: on SQLite that
    transaction is ``BEGIN IMMEDIATE``, so the whole database was locked for as long as the SMTP server
    took (timeout 20 s), and a reporter filing a report waited or got 'database is locked'. On
    PostgreSQL the session sat 'idle in transaction' holding the row. Now the row is leased in a short
    transaction that commits before the SMTP call."""
    new_case(wbs)
    mailer = BlockingMailer()
    t, out = in_thread(lambda: deliver_outbox(wbs, mailer))
    try:
        assert mailer.started.wait(60)
        # while the SMTP call hangs, another writer commits without waiting for it (old code on SQLite:
        # this waited for the busy timeout, then failed with "database is locked")
        other = new_case(wbs, layanan="Layanan lain")
        if wbs.db.dialect.name == "postgresql":
            with wbs.db.connect() as conn:
                idle_in_tx = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()"
                    )
                ).scalar_one()
            assert idle_in_tx == 0
        # the lease is committed and visible to everyone
        row = outbox_rows(wbs)[0]
        assert row.status == "sending" and row.attempts == 1
        assert row.next_attempt_at == clock.now + scheduler.SEND_LEASE
    finally:
        mailer.release.set()
        t.join(120)
    assert "error" not in out, out.get("error")
    assert out["result"].sent == 1 and [rcpt for rcpt, _ in mailer.sent] == ["pengelola@kantor.test"]
    statuses = Counter(r.status for r in outbox_rows(wbs))
    assert statuses == {"sent": 1, "pending": 1} and other.number.startswith("PGD-")


def _deliver_then_die(url: str, key: str, instance: str, now_iso: str, smtp_url: str) -> None:
    """Child process: deliver with a real SMTP mailer and get SIGKILLed right after the server accepted
    the message, before the row is marked sent."""
    from wbs_engine import notify as nt
    from wbs_engine import scheduler as sch
    from wbs_engine.config import Settings
    from wbs_engine.engine import WbsEngine

    eng = WbsEngine(
        Settings(
            instance_dir=Path(instance), database_url=url, workflows_dir=REPO / "workflows", keyring_file=Path(key)
        )
    )
    real = nt.Mailer(smtp_url, "wbs@kantor.test")

    class DiesAfterSending:
        def send(self, *args):
            real.send(*args)
            os.kill(os.getpid(), signal.SIGKILL)

    at = datetime.fromisoformat(now_iso)
    sch.deliver_outbox(eng.with_clock(lambda: at), DiesAfterSending())


def test_crash_after_sending_sends_once_more_after_the_lease_and_not_before(wbs, clock, smtp_sink, tmp_path):
    """A deliverer that dies after the SMTP server took the message but before the row was marked sent.
    The old delivery had rolled the whole thing back, so the very next delivery pass sent it again at once
    (and a deliverer killed again and again would send it every 30 s). Now the row stays leased: nothing
    is sent before the lease runs out, then it is sent exactly once more and marked sent."""
    new_case(wbs)
    ctx = multiprocessing.get_context("spawn")
    p = ctx.Process(
        target=_deliver_then_die,
        args=(
            wbs.settings.db_url,
            str(wbs.settings.keyring_path),
            str(tmp_path / "child"),
            clock.now.isoformat(),
            smtp_sink.url,
        ),
    )
    p.start()
    p.join(120)
    assert p.exitcode == -signal.SIGKILL
    first = smtp_sink.wait_for(1)
    (row,) = outbox_rows(wbs)
    assert (row.status, row.attempts, row.sent_at) == ("sending", 1, None)

    mailer = notify.Mailer(smtp_sink.url, "wbs@kantor.test")
    assert deliver_outbox(wbs, mailer).sent == 0  # the lease still holds: not sent twice right away
    clock.advance(seconds=scheduler.SEND_LEASE.total_seconds() - 1)
    assert deliver_outbox(wbs, mailer).sent == 0
    clock.advance(seconds=1)  # the lease ran out: the row is taken again
    rep = deliver_outbox(wbs, mailer)
    assert (rep.sent, rep.retried, rep.failed) == (1, 0, 0)
    msgs = smtp_sink.wait_for(2)
    assert len(msgs) == 2 and msgs[1].subject == first[0].subject and msgs[1].rcpt_tos == ["pengelola@kantor.test"]
    (row,) = outbox_rows(wbs)
    assert (row.status, row.attempts, row.sent_at) == ("sent", 2, clock.now)
    clock.advance(days=1)
    assert deliver_outbox(wbs, mailer).sent == 0
    assert len(smtp_sink.messages) == 2


def test_a_late_deliverer_does_not_undo_the_one_that_took_its_expired_lease(wbs, clock):
    """Deliverer A hangs in the SMTP call beyond its lease; B takes the row again and sends it. When A's
    call finally fails, A must not put the row back to 'pending' (that would send it a third time): the
    attempt number is the lease's token and A's is stale."""
    new_case(wbs)
    a_mailer = BlockingMailer(fail=True)
    t, out = in_thread(lambda: deliver_outbox(wbs, a_mailer))
    try:
        assert a_mailer.started.wait(60)
        clock.advance(seconds=scheduler.SEND_LEASE.total_seconds())
        b_mailer = RecordingMailer()
        assert deliver_outbox(wbs, b_mailer).sent == 1 and len(b_mailer.sent) == 1
    finally:
        a_mailer.release.set()
        t.join(120)
    assert "error" not in out, out.get("error")
    assert (out["result"].sent, out["result"].retried, out["result"].failed) == (0, 0, 0)
    (row,) = outbox_rows(wbs)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    clock.advance(days=1)
    assert deliver_outbox(wbs, RecordingMailer()).sent == 0


def test_a_message_whose_every_attempt_died_is_failed_not_retried_for_ever(wbs, clock):
    """A message that kills its deliverer each time would otherwise be taken again after every lease."""
    new_case(wbs)
    with unit_of_work(wbs.db) as s:
        row = s.exec(select(Outbox)).one()
        row.status, row.attempts = "sending", len(notify.BACKOFF) + 1
        row.next_attempt_at = clock.now
        s.add(row)
    mailer = RecordingMailer()
    rep = deliver_outbox(wbs, mailer)
    assert (rep.sent, rep.failed, mailer.sent) == (0, 1, [])
    (row,) = outbox_rows(wbs)
    assert row.status == "failed" and "lease ran out" in row.last_error


@pytest.mark.postgres
def test_two_deliverers_on_postgres_never_send_a_row_twice(make_wbs, pg_url, clock):
    """Several scheduler instances deliver at once: a row leased by one (SKIP LOCKED while leasing, then
    'sending' until its lease runs out) is never sent by another."""
    eng = make_wbs(pg_url)
    seed_people(eng)
    for i in range(12):
        new_case(eng, layanan=f"Layanan {i}")
    # deterministic overlap: A is in the middle of its first send while B runs a whole pass
    a_mailer = BlockingMailer()
    t, out = in_thread(lambda: deliver_outbox(eng, a_mailer))
    try:
        assert a_mailer.started.wait(60)
        b_mailer = RecordingMailer()
        b = deliver_outbox(eng, b_mailer)
    finally:
        a_mailer.release.set()
        t.join(120)
    assert "error" not in out, out.get("error")
    assert b.sent == 11 and out["result"].sent == 1
    assert len({*a_mailer.sent, *b_mailer.sent}) == len(a_mailer.sent) + len(b_mailer.sent) == 12
    # free-running: four deliverers at once on a fresh batch
    for i in range(40):
        new_case(eng, layanan=f"Layanan baru {i}")
    mailer = RecordingMailer()
    start = threading.Barrier(4)

    def run():
        start.wait(60)
        return deliver_outbox(eng, mailer, limit=100)

    threads = [in_thread(run) for _ in range(4)]
    for th, _ in threads:
        th.join(120)
    assert all("error" not in o for _, o in threads), [o.get("error") for _, o in threads]
    assert sum(o["result"].sent for _, o in threads) == 40
    assert len(mailer.sent) == 40 and len(set(mailer.sent)) == 40
    rows = outbox_rows(eng)
    assert Counter(r.status for r in rows) == {"sent": 52} and {r.attempts for r in rows} == {1}
