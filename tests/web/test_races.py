"""Racing handlers (issue 13, part 4): many threads fire at the same few cases at once, through the staff pages
(signed-in sessions, CSRF and all) and through the JSON API (personal tokens), against the app served by a
threaded werkzeug server on a free port, on PostgreSQL (the suite's server) and on SQLite.

Every race is started by a barrier so the requests really overlap. What must hold whatever the interleaving:

* exactly one request wins each race; the others get 409 (the engine's ``changed_meanwhile`` or
  ``invalid_transition``, the pages' "changed meanwhile" / "no longer possible"), never a 5xx;
* no lost update: the case's version moved on by exactly the number of winners, its state is the winner's,
  each winner has exactly one event in the case's trail and no loser has any;
* ``audit.verify`` passes afterwards.

Nothing here asserts timing: every wait has a deadline (barrier and HTTP timeouts) and never decides a result.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
import requests
from sqlmodel import select
from werkzeug.serving import make_server

from tests.helpers import COMPLAINT, seed_people
from tests.web.conftest import Browser, sign_in
from wbs_engine import apitokens, audit
from wbs_engine.db import unit_of_work
from wbs_engine.models import Case, CaseEvent
from wbs_engine.users import create_or_update_user, parse_grant
from webapp import create_app

#: threads firing at one case at once
THREADS = 16
#: seconds: every HTTP request and the start barrier (a deadline, never a measurement)
TIMEOUT = 60
#: extra accounts beyond tests.helpers.STAFF, so that several people of one role race each other
EXTRA = [(f"pengelola{i}", ["pengelola"]) for i in range(2, 5)] + [
    (f"petugas{i}", ["unit:LAYANAN"]) for i in range(2, 5)
]


@dataclass
class Answer:
    channel: str  # "web" or "api"
    who: str
    status: int
    body: str

    @property
    def won(self) -> bool:
        return self.status == (303 if self.channel == "web" else 200) or (self.channel == "api" and self.status == 201)


@dataclass
class Staff:
    """One signed-in person: their session cookie and CSRF token (for the pages), their API token."""

    username: str
    cookie: str
    csrf: str
    token: str


@pytest.fixture
def race_engine(make_wbs, db_url):
    eng = make_wbs(db_url)
    seed_people(eng)
    for username, grants in EXTRA:
        create_or_update_user(
            eng,
            username,
            [parse_grant(g) for g in grants],
            email=f"{username}@kantor.test",
            password="rahasia-demo-123",
        )
    return eng


@pytest.fixture
def served(race_engine) -> Iterator[tuple[object, str]]:
    """The app behind a threaded werkzeug server on a free port (each request its own thread)."""
    app = create_app(race_engine.settings, engine=race_engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=TIMEOUT)


def signed_in(app, engine, clock, username: str) -> Staff:
    """Sign in through the pages (password and second factor) with the test client, then hand its cookie, a
    CSRF token of that session and a personal API token to the racing threads."""
    browser = Browser(app)
    sign_in(browser, username, clock=clock)
    browser.get("/staf/")
    csrf = browser.hidden().get("csrf_token")
    assert csrf, f"{username} is not signed in: {browser.page[:300]}"
    cookie = browser.client.get_cookie("wbs_session")
    assert cookie is not None
    token = apitokens.create_token(engine, username, "race")
    return Staff(username, f"wbs_session={cookie.value}", csrf, token)


def web_post(base: str, staff: Staff, path: str, form: dict[str, str]) -> Answer:
    res = requests.post(
        base + path,
        data={"csrf_token": staff.csrf, **form},
        headers={"Cookie": staff.cookie},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    return Answer("web", staff.username, res.status_code, res.text)


def api_post(base: str, staff: Staff, path: str, body: dict) -> Answer:
    res = requests.post(
        base + "/api/v1" + path,
        json=body,
        headers={"Authorization": f"Bearer {staff.token}", "Accept-Language": "en"},
        timeout=TIMEOUT,
    )
    return Answer("api", staff.username, res.status_code, res.text)


def race(calls: list[Callable[[], Answer]]) -> list[Answer]:
    """Run every call in its own thread, all released at once by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=TIMEOUT)

    def run(call: Callable[[], Answer]) -> Answer:
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        futures = [pool.submit(run, c) for c in calls]
        return [f.result(timeout=TIMEOUT * 2) for f in futures]


def case_row(engine, number: str) -> Case:
    with unit_of_work(engine.db, write=False) as s:
        return s.exec(select(Case).where(Case.number == number)).one()


def trail(engine, number: str) -> list[CaseEvent]:
    with unit_of_work(engine.db, write=False) as s:
        return list(s.exec(select(CaseEvent).where(CaseEvent.chain == number).order_by(CaseEvent.seq)))


def assert_trail_verifies(engine) -> None:
    with unit_of_work(engine.db, write=False) as s:
        workflows = {(x.definition.key, x.definition.version): x for x in engine.registry.versions(s)}
        result = audit.verify(s, keyring=engine.keyring, workflows=workflows, deep=True)
    assert result.ok, [p.code for p in result.problems]


def assert_refused(answer: Answer) -> None:
    """A loser: 409 and the engine's words (the API's code; the page's text), never a 5xx or a trace."""
    assert answer.status == 409, (answer.channel, answer.who, answer.status, answer.body[:400])
    assert "Traceback" not in answer.body
    if answer.channel == "api":
        assert any(code in answer.body for code in ('"changed_meanwhile"', '"invalid_transition"')), answer.body


def new_cases(engine, n: int, *, verified: bool) -> list[str]:
    pengelola = engine.load_actor("pengelola")
    numbers = []
    for _i in range(n):
        made = engine.create_case("pengaduan", COMPLAINT, identity_mode="rahasia")
        if verified:
            engine.fire(made.number, "mulai_verifikasi", pengelola)
        numbers.append(made.number)
    return numbers


class People(dict):
    """Signed-in staff by username, each signed in the first time they are asked for."""

    def __init__(self, app, engine, clock):
        super().__init__()
        self.app, self.engine, self.clock = app, engine, clock

    def __missing__(self, username: str) -> Staff:
        self[username] = staff = signed_in(self.app, self.engine, self.clock, username)
        return staff


@pytest.fixture
def people(served, race_engine, clock) -> People:
    return People(served[0], race_engine, clock)


PENGELOLAS = ("pengelola", "pengelola2", "pengelola3", "pengelola4")


def test_one_wins_each_fire_race_through_pages_and_api(served, race_engine, people):
    """Three cases at once, sixteen requests on each, half through the pages and half through the API, all
    with the version they read: the same action by four pengelolas, on both channels."""
    _app, base = served
    numbers = new_cases(race_engine, 3, verified=False)
    calls = []
    for number in numbers:
        for i in range(THREADS):
            staff = people[PENGELOLAS[i % len(PENGELOLAS)]]
            if i % 2:
                calls.append(
                    lambda s=staff, n=number: api_post(
                        base, s, f"/cases/{n}/fire", {"trigger": "mulai_verifikasi", "expected_version": 1}
                    )
                )
            else:
                calls.append(
                    lambda s=staff, n=number: web_post(
                        base, s, f"/staf/perkara/{n}/aksi/mulai_verifikasi", {"expected_version": "1"}
                    )
                )
    answers = race(calls)
    for k, number in enumerate(numbers):
        mine = answers[k * THREADS : (k + 1) * THREADS]
        winners = [a for a in mine if a.won]
        assert len(winners) == 1, [(a.channel, a.status) for a in mine]
        for a in mine:
            if not a.won:
                assert_refused(a)
        row = case_row(race_engine, number)
        assert (row.state, row.version) == ("verifikasi", 2)
        fired = [e for e in trail(race_engine, number) if e.kind == "transition" and e.trigger == "mulai_verifikasi"]
        assert [e.actor for e in fired] == [winners[0].who]
    assert_trail_verifies(race_engine)


def test_one_wins_when_different_actions_race_without_a_version(served, race_engine, people):
    """Different actions out of one state, on a case in verification; the pages' forms without their hidden
    version (an old form) and the API with the version: still one winner, the others 'no longer possible'."""
    _app, base = served
    (number,) = new_cases(race_engine, 1, verified=True)
    v = case_row(race_engine, number).version
    forms = [
        ("arsipkan", {"alasan": "Bukan pengaduan pelayanan."}),
        ("minta_informasi", {"pesan": "Mohon lengkapi kronologi."}),
        ("disposisi", {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti."}),
    ]
    calls = []
    for i in range(THREADS):
        trigger, form = forms[i % len(forms)]
        staff = people[PENGELOLAS[i % len(PENGELOLAS)]]
        if i % 2:
            data = {k: v for k, v in form.items() if k != "alasan"}
            body = {"trigger": trigger, "data": data, "reason": form.get("alasan"), "expected_version": v}
            calls.append(lambda s=staff, b=body: api_post(base, s, f"/cases/{number}/fire", b))
        else:
            calls.append(lambda s=staff, t=trigger, f=form: web_post(base, s, f"/staf/perkara/{number}/aksi/{t}", f))
    answers = race(calls)
    winners = [a for a in answers if a.won]
    assert len(winners) == 1, [(a.channel, a.status, a.body[:200]) for a in answers if a.status != 409]
    for a in answers:
        if not a.won:
            assert_refused(a)
    row = case_row(race_engine, number)
    assert row.version == v + 1
    moved = [e for e in trail(race_engine, number) if e.kind == "transition" and e.from_state == "verifikasi"]
    assert len(moved) == 1 and moved[0].actor == winners[0].who and moved[0].to_state == row.state
    assert_trail_verifies(race_engine)


def test_one_claim_wins(served, race_engine, people):
    """Claims race: pengelolas claiming a case in verification with the version they read (a pengelola may
    take a case from anyone, so only the version decides), mixed with fires through the API on the same
    version; and unit officers claiming a case sent to their unit (the first one keeps it: the others may
    not take it from a colleague)."""
    _app, base = served
    (verifying,) = new_cases(race_engine, 1, verified=True)
    v = case_row(race_engine, verifying).version
    calls = []
    for i in range(THREADS):
        staff = people[PENGELOLAS[i % len(PENGELOLAS)]]
        if i % 4 == 3:
            body = {"trigger": "minta_informasi", "data": {"pesan": "Mohon lengkapi."}, "expected_version": v}
            calls.append(lambda s=staff, b=body: api_post(base, s, f"/cases/{verifying}/fire", b))
        else:
            form = {"op": "claim", "expected_version": str(v)}
            calls.append(lambda s=staff, f=form: web_post(base, s, f"/staf/perkara/{verifying}/petugas", f))
    answers = race(calls)
    winners = [a for a in answers if a.won]
    assert len(winners) == 1, [(a.channel, a.status) for a in answers]
    for a in answers:
        if not a.won:
            assert_refused(a)
    row = case_row(race_engine, verifying)
    assert row.version == v + 1
    events = [e for e in trail(race_engine, verifying) if e.seq > 0 and e.kind in ("assigned", "transition")]
    late = [e for e in events if (e.payload or {}).get("case_version") == v + 1]
    assert len(late) == 1 and late[0].actor == winners[0].who

    # a case sent to LAYANAN: four officers of the unit claim it at once, none with a version
    (sent,) = new_cases(race_engine, 1, verified=True)
    race_engine.fire(
        sent,
        "disposisi",
        race_engine.load_actor("pengelola"),
        {"unit_tujuan": "LAYANAN", "instruksi": "Mohon ditindaklanjuti."},
    )
    v = case_row(race_engine, sent).version
    officers = ("petugas", "petugas2", "petugas3", "petugas4")
    calls = [
        lambda s=people[officers[i % 4]]: web_post(base, s, f"/staf/perkara/{sent}/petugas", {"op": "claim"})
        for i in range(THREADS)
    ]
    answers = race(calls)
    winners = {a.who for a in answers if a.won}
    assert len(winners) == 1, [(a.who, a.status) for a in answers]
    (owner,) = winners
    for a in answers:  # the owner's own repeats are no-ops (303, nothing written); the others are refused
        assert a.status in (303, 403) and "Traceback" not in a.body, (a.who, a.status, a.body[:300])
        assert (a.status == 303) == (a.who == owner), (a.who, a.status)
    row = case_row(race_engine, sent)
    assert row.version == v + 1
    claimed = [e for e in trail(race_engine, sent) if e.kind == "assigned"]
    assert [(e.actor, e.payload["assigned_to"]) for e in claimed] == [(owner, owner)]
    assert_trail_verifies(race_engine)


def test_no_message_is_lost(served, race_engine, people):
    """Writes that do not take a version (messages to the reporter, internal notes) race through both
    channels: every one is kept, each moves the version on once, each has its event."""
    _app, base = served
    (number,) = new_cases(race_engine, 1, verified=True)
    v = case_row(race_engine, number).version
    calls = []
    for i in range(THREADS):
        staff = people[PENGELOLAS[i % len(PENGELOLAS)]]
        text = f"Pesan balapan nomor {i}."
        if i % 3 == 0:
            calls.append(lambda s=staff, t=text: api_post(base, s, f"/cases/{number}/messages", {"body": t}))
        elif i % 3 == 1:
            calls.append(lambda s=staff, t=text: web_post(base, s, f"/staf/perkara/{number}/pesan", {"pesan": t}))
        else:
            calls.append(lambda s=staff, t=text: web_post(base, s, f"/staf/perkara/{number}/catatan", {"catatan": t}))
    answers = race(calls)
    assert all(a.won for a in answers), [(a.channel, a.status, a.body[:200]) for a in answers if not a.won]
    row = case_row(race_engine, number)
    assert row.version == v + THREADS
    posted = [e for e in trail(race_engine, number) if e.kind == "message"]
    assert len(posted) == THREADS, sorted({e.kind for e in trail(race_engine, number)})
    versions = sorted(e.payload["case_version"] for e in posted)
    assert versions == list(range(v + 1, v + THREADS + 1))
    assert_trail_verifies(race_engine)
