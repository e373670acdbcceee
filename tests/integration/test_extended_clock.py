"""A WBS investigation extended after its deadline was missed: the miss stays on record, and the sweep
treats the extended deadline as a new one (its reminders and its breach, each once)."""

from __future__ import annotations

from pathlib import Path

from sqlmodel import select

from wbs_engine import audit
from wbs_engine.db import unit_of_work
from wbs_engine.demo import sample_value
from wbs_engine.lint import load_workflow
from wbs_engine.models import CaseEvent, Clock, ClockAction
from wbs_engine.scheduler import sweep
from wbs_engine.views import case_view

REPO = Path(__file__).resolve().parents[2]
WBS = load_workflow(REPO / "workflows" / "wbs.yaml")
REASON = "Perlu memeriksa dokumen pengadaan tambahan."


def args_for(trigger, source, who):
    t = WBS.transition(trigger, source)
    return {n: sample_value(WBS.field(n), 0, users=[who]) for n in (*t.requires, *t.optional)}


def investigated_case(wbs, clock):
    """A report of wrongdoing taken to investigation on Mon 2 Mar 2026 (30 HK: due Tue 21 Apr)."""
    data = {f.name: sample_value(f, 0) for f in WBS.intake if f.required}
    c = wbs.create_case("wbs", data, identity_mode="anonim")
    steps = [
        ("mulai_verifikasi", "diterima", "pengelola", "telaah"),
        ("lengkap", "verifikasi_kelengkapan", "telaah", "telaah"),
        ("mulai_investigasi", "telaah", "telaah", "investigator"),
    ]
    for trigger, source, actor, named in steps:
        clock.advance(minutes=30)
        wbs.fire(c.number, trigger, wbs.load_actor(actor), args_for(trigger, source, named))
    return c


def investigation(wbs, number):
    return next(c for c in case_view(wbs, number, None)["clocks"] if c["name"] == "investigasi")


def actions(wbs):
    with unit_of_work(wbs.db, write=False) as s:
        rows = s.exec(
            select(ClockAction.action, ClockAction.due_at)
            .join(Clock, Clock.id == ClockAction.clock_id)
            .where(Clock.name == "investigasi")
            .order_by(ClockAction.id)
        ).all()
        return [(a, due) for a, due in rows]


def sweep_days(wbs, clock, days):
    done = []
    for _ in range(days):
        clock.advance(days=1)
        done += [it.action for it in sweep(wbs).items if it.clock == "investigasi"]
    return done


def test_extension_after_a_breach_keeps_the_first_breach_and_breaches_again_once(wbs, clock):
    """The old ``extend`` cleared ``breached_at``: a missed investigation deadline vanished from the
    case the moment the team extended it. Now the first breach stays (and a second miss of the extended
    deadline does not replace it); the sweep still reminds and escalates for the new deadline, once."""
    c = investigated_case(wbs, clock)
    assert investigation(wbs, c.number)["due_date"] == "2026-04-21"
    assert sweep_days(wbs, clock, 55) == ["remind:5", "remind:1", "breach"]
    first = investigation(wbs, c.number)
    assert first["status"] == "breached" and first["breached_at"] is not None

    wbs.fire(c.number, "perpanjang_investigasi", wbs.load_actor("atasan"), reason=REASON)
    ext = investigation(wbs, c.number)
    assert (ext["status"], ext["extensions"], ext["breached_at"]) == ("running", 1, first["breached_at"])
    assert ext["due_date"] == "2026-06-10"  # 30 HK after Tue 21 Apr (1, 14, 15, 27, 28 May, 1 Jun off)
    assert ext["next_action"] == "remind:5"

    assert sweep_days(wbs, clock, 60) == ["remind:5", "remind:1", "breach"]
    again = investigation(wbs, c.number)
    assert again["status"] == "breached" and again["breached_at"] == first["breached_at"]
    assert sweep_days(wbs, clock, 10) == []
    acts = actions(wbs)
    assert [a for a, _ in acts] == ["remind:5", "remind:1", "breach"] * 2 and len(set(acts)) == 6
    with unit_of_work(wbs.db, write=False) as s:
        breaches = s.exec(
            select(CaseEvent.payload).where(CaseEvent.chain == c.number, CaseEvent.kind == "clock_breached")
        ).all()
        assert [p["due_date"] for p in breaches] == ["2026-04-21", "2026-06-10"]
        assert audit.verify(s).ok


def test_work_finished_within_the_extension_is_still_late(wbs, clock):
    """Finished before the extended deadline but after the original one was missed: the outcome is
    ``late`` (the old code, having cleared the breach, recorded it as on time)."""
    c = investigated_case(wbs, clock)
    sweep_days(wbs, clock, 55)
    breached_at = investigation(wbs, c.number)["breached_at"]
    assert breached_at is not None
    wbs.fire(c.number, "perpanjang_investigasi", wbs.load_actor("atasan"), reason=REASON)
    clock.advance(days=3)
    wbs.fire(c.number, "catat_hasil", wbs.load_actor("investigator"), args_for("catat_hasil", "investigasi", "x"))
    done = investigation(wbs, c.number)
    assert (done["status"], done["outcome"], done["breached_at"]) == ("stopped", "late", breached_at)
