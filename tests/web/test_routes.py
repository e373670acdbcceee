"""Deny by default: every route of the app is either on the short public allow-list or needs a signed-in user.
A route added without a decision is caught here (it would answer an anonymous visitor)."""

from __future__ import annotations

import re

import pytest

from webapp.auth import is_public

#: the whole public surface, endpoint by endpoint: adding to it is a decision, made here in review
PUBLIC = {
    "static",
    "healthz",
    "auth.sign_in",
    "auth.sign_in_post",
    "api.openapi_json",
    "statistik.page",
}
PUBLIC_BLUEPRINTS = {"public", "tracking"}


def _sample_url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        # a converter may take arguments: <int(max=2147483647):attachment_id>
        url = re.sub(rf"<(?:([a-z_]+)(?:\([^)]*\))?:)?{arg}>", lambda m: "1" if m.group(1) == "int" else "x", url)
    return url


def test_every_route_is_public_on_purpose_or_needs_sign_in(app):
    client = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/staf/masuk").get_data(as_text=True)).group(1)
    unexpected, open_routes = [], []
    for rule in app.url_map.iter_rules():
        ep = rule.endpoint
        public = is_public(app, ep)
        if public:
            if ep not in PUBLIC and ep.split(".", 1)[0] not in PUBLIC_BLUEPRINTS:
                unexpected.append(ep)
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            # a POST carries a valid CSRF token: what refuses it must be the sign-in check, not the form check
            data = {"csrf_token": token} if method == "POST" else None
            res = client.open(_sample_url(rule), method=method, data=data)
            api = ep.startswith("api.")
            if api:
                ok = res.status_code == 401
            else:
                ok = res.status_code == 303 and "/staf/masuk" in res.headers.get("Location", "")
            if not ok:
                open_routes.append((ep, method, res.status_code))
    assert unexpected == [], "routes marked public that are not on the allow-list"
    assert open_routes == [], "routes that answered an anonymous visitor"


@pytest.mark.parametrize("password", ["salah-sekali-123", ""])
def test_sign_in_failure_is_one_message(browser, password):
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": "pengelola", "password": password})
    assert res.status_code == 401
    wrong_user = browser.page
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": "tidak-ada", "password": password})
    assert res.status_code == 401
    msg = re.compile(r'id="err-masuk">([^<]+)<')
    assert msg.search(wrong_user).group(1) == msg.search(browser.page).group(1)


def test_sign_in_then_sign_out_kills_the_copied_cookie(browser):
    browser.get("/staf/masuk")
    res = browser.post("/staf/masuk", {"username": "pengelola", "password": "rahasia-demo-123"})
    assert res.status_code == 303
    assert browser.get("/staf/").status_code == 200
    copied = browser.client.get_cookie("wbs_session").value
    browser.post("/staf/keluar")
    other = browser.app.test_client()
    other.set_cookie("wbs_session", copied)
    res = other.get("/staf/")
    assert res.status_code == 303 and "/staf/masuk" in res.headers["Location"]


def test_next_never_leaves_the_site(browser):
    browser.get("/staf/masuk")
    res = browser.post(
        "/staf/masuk", {"username": "pengelola", "password": "rahasia-demo-123", "next": "//evil.example/x"}
    )
    assert res.headers["Location"].endswith("/staf/")
