"""Tests of the test fakes themselves: the generic HTTP server and the fake Okta org."""

from __future__ import annotations

import base64
import codecs
import re
import socket
from collections.abc import Iterator
from http.client import HTTPConnection
from typing import Any

import pytest
import requests
from bs4 import BeautifulSoup

from tests.fakes.fixtures import fake_okta
from tests.fakes.http import FakeHTTPServer, Request, Response, json_response, text_response
from tests.fakes.okta import (
    DEFAULT_PASSWORD,
    DEFAULT_ROLES,
    DEFAULT_TOTP_SECRET,
    DEFAULT_USERNAME,
    FakeFactor,
    FakeOkta,
    FakeUser,
    okta_attr_escape,
    totp_now,
)

__all__ = ["fake_okta"]  # re-exported fixture

JSON_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(name, "http://127.0.0.1:9")
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.setenv(name, "127.0.0.1,localhost")


@pytest.fixture
def http() -> Iterator[requests.Session]:
    with requests.Session() as s:
        yield s


@pytest.fixture
def server() -> Iterator[FakeHTTPServer]:
    with FakeHTTPServer() as srv:
        yield srv
    assert not srv.errors or all(isinstance(e, ZeroDivisionError) for e in srv.errors)


def totp() -> str:
    return totp_now(DEFAULT_TOTP_SECRET)


def primary_auth(
    okta: FakeOkta,
    http: requests.Session,
    username: str = DEFAULT_USERNAME,
    password: str = DEFAULT_PASSWORD,
) -> requests.Response:
    return http.post(
        okta.url + "/api/v1/authn",
        json={"username": username, "password": password},
        headers=JSON_HEADERS,
    )


def login(okta: FakeOkta, http: requests.Session) -> str:
    """Password + TOTP; returns the sessionToken."""
    tx = primary_auth(okta, http).json()
    assert tx["status"] == "MFA_REQUIRED"
    verify = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"]
    done = http.post(verify, json={"stateToken": tx["stateToken"], "passCode": totp()})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "SUCCESS"
    return str(done.json()["sessionToken"])


def saml_form(html: str) -> dict[str, str]:
    soup = BeautifulSoup(html, "html.parser")
    form = soup.find("form", id="appForm")
    assert form is not None
    fields = {str(i["name"]): str(i["value"]) for i in form.find_all("input") if i.get("name")}
    return {"action": str(form["action"]), "method": str(form["method"]), **fields}


# ------------------------------------------------------------------------ FakeHTTPServer


def test_server_routes_log_and_keep_alive(server: FakeHTTPServer, http: requests.Session) -> None:
    @server.route("POST", r"/things/(?P<thing>\w+)")
    def post_thing(req: Request) -> Response:
        body = {"thing": req.params["thing"], "got": req.json, "q": req.query}
        return json_response(body, 201).set_cookie("c", "v", secure=False)

    server.add_route("GET", r"/plain", lambda req: text_response("hello"))

    assert server.url.startswith("http://127.0.0.1:")
    r = http.post(server.url + "/things/abc?x=1", json={"a": [1]}, cookies={"k": "z"})
    assert r.status_code == 201
    assert r.json() == {"thing": "abc", "got": {"a": [1]}, "q": {"x": "1"}}
    assert r.headers["Content-Length"] == str(len(r.content))
    assert r.cookies["c"] == "v"
    assert r.raw.version == 11
    r2 = http.get(server.url + "/plain")
    assert r2.text == "hello"
    assert http.get(server.url + "/things/abc").status_code == 405
    assert http.get(server.url + "/nothing").status_code == 404

    log = server.requests
    assert [(e.method, e.path, e.status) for e in log] == [
        ("POST", "/things/abc", 201),
        ("GET", "/plain", 200),
        ("GET", "/things/abc", 405),
        ("GET", "/nothing", 404),
    ]
    assert log[0].json == {"a": [1]} and log[0].cookies == {"k": "z"}
    assert log[0].header("content-type") == "application/json"
    assert len({e.client for e in log}) == 1, "keep-alive: one connection for all"
    assert server.count(path_prefix="/things") == 2
    assert server.count(method="POST") == 1
    server.reset_log()
    assert server.requests == []


def test_server_route_table_and_override() -> None:
    srv = FakeHTTPServer(routes=[("*", r"/x", lambda req: text_response("one"))])
    with srv:
        assert requests.delete(srv.url + "/x").text == "one"
        srv.add_route("GET", r"/x", lambda req: text_response("two"))
        assert requests.get(srv.url + "/x").text == "two"
    assert not srv.running
    with pytest.raises(RuntimeError):
        _ = srv.url


def test_server_fail_times_drop_and_handler_errors(
    server: FakeHTTPServer, http: requests.Session
) -> None:
    server.add_route("GET", r"/ok", lambda req: text_response("fine"))
    server.add_route("GET", r"/boom", lambda req: text_response(str(1 / 0)))
    failure = server.fail(r"/ok", 502, "<html>bad gateway</html>", {"Retry-After": "1"}, times=2)
    for _ in range(2):
        r = http.get(server.url + "/ok")
        assert r.status_code == 502
        assert r.headers["Retry-After"] == "1"
        assert r.headers["Content-Type"].startswith("text/html")
    assert http.get(server.url + "/ok").text == "fine"
    assert failure.hits == 2 and not failure.active

    server.fail(r"/ok", drop=True, times=1)
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url + "/ok")
    assert requests.get(server.url + "/ok").text == "fine"

    r = http.get(server.url + "/boom")
    assert r.status_code == 500 and "ZeroDivisionError" in r.text
    assert len(server.errors) == 1


def test_server_reads_chunked_bodies(server: FakeHTTPServer) -> None:
    server.add_route("POST", r"/echo", lambda req: Response(200, req.body))
    conn = HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("POST", "/echo", body=iter([b"abc", b"defg"]), encode_chunked=True)
        resp = conn.getresponse()
        assert resp.read() == b"abcdefg"
    finally:
        conn.close()


def test_stop_closes_idle_keep_alive_connections() -> None:
    srv = FakeHTTPServer(routes=[("GET", r"/", lambda req: text_response("x"))]).start()
    sock = socket.create_connection(("127.0.0.1", srv.port), timeout=5)
    try:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        data = b""
        while not data.endswith(b"\r\n\r\nx"):  # the whole answer (body is one byte)
            chunk = sock.recv(4096)
            assert chunk, "server closed before answering"
            data += chunk
        assert data.startswith(b"HTTP/1.1 200 OK")
        assert b"Content-Length: 1\r\n" in data
        srv.stop()
        assert sock.recv(4096) == b""  # server closed the kept-alive connection
    finally:
        sock.close()


# ---------------------------------------------------------------------------- FakeOkta


def test_well_known(fake_okta: FakeOkta, http: requests.Session) -> None:
    body = http.get(fake_okta.url + "/.well-known/okta-organization").json()
    assert body["pipeline"] == "v1"
    assert body["_links"]["organization"]["href"] == fake_okta.url
    fake_okta.pipeline = "idx"
    assert http.get(fake_okta.url + "/.well-known/okta-organization").json()["pipeline"] == "idx"


@pytest.mark.parametrize(
    ("username", "password"),
    [(DEFAULT_USERNAME, "wrong"), ("bob@example.com", DEFAULT_PASSWORD)],
)
def test_authn_bad_credentials(
    fake_okta: FakeOkta, http: requests.Session, username: str, password: str
) -> None:
    r = primary_auth(fake_okta, http, username, password)
    assert r.status_code == 401
    body = r.json()
    assert body["errorCode"] == "E0000004"
    assert body["errorSummary"] == "Authentication failed"
    assert body["errorLink"] == "E0000004"
    assert body["errorId"].startswith("oae")
    assert body["errorCauses"] == []


def test_authn_bad_json(fake_okta: FakeOkta, http: requests.Session) -> None:
    r = http.post(fake_okta.url + "/api/v1/authn", data="{nope", headers=JSON_HEADERS)
    assert r.status_code == 400
    assert r.json()["errorCode"] == "E0000003"


def test_mfa_required_shape(fake_okta: FakeOkta, http: requests.Session) -> None:
    tx = primary_auth(fake_okta, http).json()
    assert tx["status"] == "MFA_REQUIRED"
    assert tx["stateToken"].startswith("00") and "-" in tx["stateToken"]
    assert tx["expiresAt"].endswith("Z")
    assert tx["_embedded"]["user"]["profile"]["login"] == DEFAULT_USERNAME
    assert tx["_links"]["cancel"]["href"] == fake_okta.url + "/api/v1/authn/cancel"
    (factor,) = tx["_embedded"]["factors"]
    assert factor["factorType"] == "token:software:totp"
    assert factor["provider"] == factor["vendorName"] == "GOOGLE"
    assert factor["profile"] == {"credentialId": DEFAULT_USERNAME}
    verify = factor["_links"]["verify"]
    assert verify["href"] == f"{fake_okta.url}/api/v1/authn/factors/{factor['id']}/verify"
    assert verify["hints"] == {"allow": ["POST"]}


def test_verify_totp(fake_okta: FakeOkta, http: requests.Session) -> None:
    tx = primary_auth(fake_okta, http).json()
    href = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"] + "?rememberDevice=false"

    bad = http.post(href, json={"stateToken": "00nope", "passCode": totp()})
    assert bad.status_code == 401 and bad.json()["errorCode"] == "E0000011"

    wrong_code = "000000" if totp() != "000000" else "111111"
    wrong = http.post(href, json={"stateToken": tx["stateToken"], "passCode": wrong_code})
    assert wrong.status_code == 403
    assert wrong.json()["errorCode"] == "E0000068"
    assert wrong.json()["errorSummary"] == "Invalid Passcode/Answer"
    assert wrong.json()["errorCauses"] == [
        {"errorSummary": "Your passcode doesn't match our records. Please try again."}
    ]

    ok = http.post(href, json={"stateToken": tx["stateToken"], "passCode": totp()})
    assert ok.status_code == 200
    body = ok.json()
    assert body["status"] == "SUCCESS" and body["sessionToken"]
    assert body["_embedded"]["user"]["profile"]["login"] == DEFAULT_USERNAME
    assert fake_okta.last(path_regex=r".*/verify").query == {"rememberDevice": "false"}

    again = http.post(href, json={"stateToken": tx["stateToken"], "passCode": totp()})
    assert again.status_code == 401, "the transaction is over"


def test_reject_replayed_codes(fake_okta: FakeOkta, http: requests.Session) -> None:
    fake_okta.reject_replayed_codes = True
    code = totp()
    for expected in (200, 403):
        tx = primary_auth(fake_okta, http).json()
        href = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"]
        r = http.post(href, json={"stateToken": tx["stateToken"], "passCode": code})
        if r.status_code == 200 and expected == 403 and totp() != code:
            pytest.skip("TOTP step changed mid-test")  # pragma: no cover
        assert r.status_code == expected
    assert r.json()["errorCode"] == "E0000082"


def test_user_without_factors_gets_session_token(http: requests.Session) -> None:
    with FakeOkta(users=[FakeUser("bob@example.com", "pw", factors=[])]) as okta:
        body = primary_auth(okta, http, "bob@example.com", "pw").json()
    assert body["status"] == "SUCCESS"
    assert body["sessionToken"] and body["expiresAt"]
    assert body["_embedded"]["user"]["profile"]["login"] == "bob@example.com"


@pytest.mark.parametrize(
    ("status", "links"),
    [
        ("MFA_ENROLL", {"cancel"}),
        ("PASSWORD_EXPIRED", {"next", "cancel"}),
        ("PASSWORD_WARN", {"next", "skip", "cancel"}),
        ("LOCKED_OUT", {"next"}),
    ],
)
def test_status_after_password(
    fake_okta: FakeOkta, http: requests.Session, status: str, links: set[str]
) -> None:
    fake_okta.users[0].status_after_password = status
    r = primary_auth(fake_okta, http)
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == status
    assert set(body["_links"]) == links
    assert ("stateToken" in body) == (status != "LOCKED_OUT")
    if status == "PASSWORD_WARN":
        skipped = http.post(body["_links"]["skip"]["href"], json={"stateToken": body["stateToken"]})
        assert skipped.json()["status"] == "MFA_REQUIRED"


def test_embed_link_form_cookie_and_session(fake_okta: FakeOkta, http: requests.Session) -> None:
    token = login(fake_okta, http)
    r = http.get(fake_okta.app_url, params={"sessionToken": token})
    assert r.status_code == 200
    # Okta's escaping: every non-alphanumeric character as lowercase hex entity
    assert 'action="https&#x3a;&#x2f;&#x2f;signin&#x2e;aws&#x2e;amazon&#x2e;com&#x2f;saml"' in (
        r.text
    )
    assert 'name="RelayState" type="hidden" value=""' in r.text
    saml = fake_okta.saml_responses[-1]
    assert f'value="{okta_attr_escape(saml)}"' in r.text
    form = saml_form(r.text)
    assert form["action"] == "https://signin.aws.amazon.com/saml"
    assert form["method"] == "POST"
    assert form["SAMLResponse"] == saml
    xml = base64.b64decode(saml).decode()
    for role_arn, provider_arn in DEFAULT_ROLES:
        assert role_arn in xml and provider_arn in xml
    assert DEFAULT_USERNAME in xml

    set_cookie = r.headers["Set-Cookie"]
    assert re.fullmatch(r"sid=\w+; Path=/; HttpOnly; Secure", set_cookie)
    sid = set_cookie.split(";")[0].removeprefix("sid=")

    # the token is one-time; the sid cookie (sent explicitly: it is Secure) works instead
    reused = requests.get(fake_okta.app_url, params={"sessionToken": token})
    assert 'id="okta-sign-in"' in reused.text and "appForm" not in reused.text
    by_cookie = requests.get(fake_okta.app_url, cookies={"sid": sid})
    assert saml_form(by_cookie.text)["SAMLResponse"] == fake_okta.saml_responses[-1]

    me = requests.get(fake_okta.url + "/api/v1/sessions/me", cookies={"sid": sid})
    assert me.status_code == 200
    assert me.json()["id"] == sid and me.json()["status"] == "ACTIVE"
    assert requests.delete(fake_okta.url + "/api/v1/sessions/me", cookies={"sid": sid}).ok
    gone = requests.get(fake_okta.url + "/api/v1/sessions/me", cookies={"sid": sid})
    assert gone.status_code == 404 and gone.json()["errorCode"] == "E0000007"


def test_insecure_cookie_knob_lets_requests_keep_the_session(
    fake_okta: FakeOkta, http: requests.Session
) -> None:
    fake_okta.secure_cookies = False
    http.get(fake_okta.app_url, params={"sessionToken": login(fake_okta, http)})
    assert http.get(fake_okta.url + "/api/v1/sessions/me").status_code == 200


def test_saml_config_knobs(http: requests.Session) -> None:
    roles = [("arn:aws:iam::111122223333:role/Dev", "arn:aws:iam::111122223333:saml-provider/X")]
    dest = "https://signin.amazonaws-us-gov.com/saml"
    with FakeOkta(
        roles=roles, session_name="alice", session_duration=7200, destination=dest
    ) as okta:
        page = http.get(okta.app_url, params={"sessionToken": okta.issue_session_token()})
    form = saml_form(page.text)
    assert form["action"] == dest
    xml = base64.b64decode(form["SAMLResponse"]).decode()
    assert "111122223333:role/Dev" in xml and "123456789012" not in xml
    assert "7200" in xml and ">alice<" in xml


def test_no_session_gets_signin_page(fake_okta: FakeOkta, http: requests.Session) -> None:
    r = http.get(fake_okta.app_url)
    assert r.status_code == 200
    assert 'id="okta-sign-in"' in r.text and "<form" not in r.text
    escaped = re.search(r"var stateToken = '([^']*)';", r.text)
    assert escaped is not None and "\\x2D" in escaped.group(1)
    token = codecs.decode(escaped.group(1), "unicode_escape")
    assert token == fake_okta.signin_state_tokens[-1]
    other_app = http.get(fake_okta.url + "/home/amazon_aws/0oaXXXXXXXXXXXXXXXXX/272")
    assert other_app.status_code == 404


@pytest.mark.parametrize(
    ("mode", "marker"),
    [
        ("no-form", "app-container"),
        ("error-page", 'class="error-content"'),
        ("signin-page", 'id="okta-sign-in"'),
    ],
)
def test_embed_modes(fake_okta: FakeOkta, http: requests.Session, mode: str, marker: str) -> None:
    fake_okta.embed_mode = mode  # type: ignore[assignment]
    r = http.get(fake_okta.app_url, params={"sessionToken": fake_okta.issue_session_token()})
    assert r.status_code == 200
    assert marker in r.text and "SAMLResponse" not in r.text


@pytest.mark.parametrize("override", ["", "not base64!", base64.b64encode(b"<notxml").decode()])
def test_saml_response_override(fake_okta: FakeOkta, override: str) -> None:
    fake_okta.saml_response_override = override
    r = requests.get(fake_okta.app_url, params={"sessionToken": fake_okta.issue_session_token()})
    assert saml_form(r.text)["SAMLResponse"] == override


def test_fail_knob_default_bodies(fake_okta: FakeOkta, http: requests.Session) -> None:
    fake_okta.fail(r"/api/v1/authn", 429, times=1)
    r = primary_auth(fake_okta, http)
    assert r.status_code == 429
    assert r.json()["errorCode"] == "E0000047"
    assert int(r.headers["X-Rate-Limit-Reset"]) > 0
    assert primary_auth(fake_okta, http).status_code == 200

    fake_okta.fail(r"/api/v1/authn", 503)
    r = primary_auth(fake_okta, http)
    assert r.status_code == 503 and r.headers["Content-Type"].startswith("text/html")
    fake_okta.fail(r"/api/v1/authn", 500)
    assert primary_auth(fake_okta, http).json()["errorCode"] == "E0000009"
    fake_okta.clear_failures()
    assert primary_auth(fake_okta, http).status_code == 200
    assert fake_okta.count(path="/api/v1/authn") == 5


def test_fail_knob_html_and_truncated_json(fake_okta: FakeOkta, http: requests.Session) -> None:
    fake_okta.fail(r"/api/v1/authn", 200, "<html><body>Maintenance</body></html>", times=1)
    r = primary_auth(fake_okta, http)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    fake_okta.fail(r"/api/v1/authn", 200, '{"status": "MFA_RE', content_type="application/json")
    r = primary_auth(fake_okta, http)
    assert r.headers["Content-Type"] == "application/json"
    with pytest.raises(requests.JSONDecodeError):
        r.json()
    fake_okta.fail(r"/api/v1/authn/factors/.*/verify", 502, {"x": 1}, {"X-Test": "1"})
    r = http.post(fake_okta.url + "/api/v1/authn/factors/abc/verify", json={})
    assert (r.status_code, r.json(), r.headers["X-Test"]) == (502, {"x": 1}, "1")


def test_state_token_expires_with_clock(fake_okta: FakeOkta, http: requests.Session) -> None:
    tx = primary_auth(fake_okta, http).json()
    fake_okta.advance(fake_okta.state_token_lifetime + 1)
    href = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"]
    r = http.post(href, json={"stateToken": tx["stateToken"], "passCode": totp()})
    assert r.status_code == 401 and r.json()["errorCode"] == "E0000011"


def test_session_token_via_sessions_api_and_cookie_redirect(
    fake_okta: FakeOkta, http: requests.Session
) -> None:
    r = http.post(
        fake_okta.url + "/api/v1/sessions", json={"sessionToken": fake_okta.issue_session_token()}
    )
    assert r.status_code == 200 and r.json()["status"] == "ACTIVE"
    assert r.headers["Set-Cookie"].startswith(f"sid={r.json()['id']};")
    r = http.get(
        fake_okta.url + "/login/sessionCookieRedirect",
        params={"token": fake_okta.issue_session_token(), "redirectUrl": fake_okta.app_url},
        allow_redirects=False,
    )
    assert r.status_code == 302 and r.headers["Location"] == fake_okta.app_url
    assert r.headers["Set-Cookie"].startswith("sid=")


def test_push_factor_script(http: requests.Session) -> None:
    push = FakeFactor(
        "opf1",
        "push",
        "OKTA",
        push_results=["WAITING", "WAITING", "SUCCESS"],
        push_correct_answer=92,
    )
    with FakeOkta(users=[FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, [push])]) as okta:
        tx = primary_auth(okta, http).json()
        href = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"]
        first = http.post(href, json={"stateToken": tx["stateToken"]}).json()
        assert (first["status"], first["factorResult"]) == ("MFA_CHALLENGE", "WAITING")
        assert first["_embedded"]["factor"]["_embedded"]["challenge"]["correctAnswer"] == 92
        poll = first["_links"]["next"]
        assert poll["name"] == "poll"
        assert (
            http.post(poll["href"], json={"stateToken": tx["stateToken"]}).json()["factorResult"]
            == "WAITING"
        )
        done = http.post(poll["href"], json={"stateToken": tx["stateToken"]}).json()
        assert done["status"] == "SUCCESS" and done["sessionToken"]


def test_sms_factor_sends_then_verifies(http: requests.Session) -> None:
    sms = FakeFactor("mbl1", "sms", "OKTA", passcode="123456")
    with FakeOkta(users=[FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, [sms])]) as okta:
        tx = primary_auth(okta, http).json()
        assert tx["_embedded"]["factors"][0]["profile"]["phoneNumber"].endswith("4321")
        href = tx["_embedded"]["factors"][0]["_links"]["verify"]["href"]
        sent = http.post(href, json={"stateToken": tx["stateToken"]}).json()
        assert sent["status"] == "MFA_CHALLENGE"
        nxt = sent["_links"]["next"]["href"]
        wrong = http.post(nxt, json={"stateToken": tx["stateToken"], "passCode": "654321"})
        assert wrong.status_code == 403
        ok = http.post(nxt, json={"stateToken": tx["stateToken"], "passCode": "123456"})
        assert ok.json()["status"] == "SUCCESS"


# ---------------------------------------------------------------------------- FakeOkta IDX


def idx_start(okta: FakeOkta, http: requests.Session) -> dict[str, Any]:
    """Introspect the stateToken of a fresh sign-in page; the first IDX answer."""
    okta.pipeline = "idx"
    page = http.get(okta.app_url).text
    match = re.search(r'"stateToken":"([^"]+)"', page)
    assert match is not None
    token = codecs.decode(match[1], "unicode_escape")
    r = http.post(okta.url + "/idp/idx/introspect", json={"stateToken": token})
    assert r.headers["Content-Type"].startswith("application/ion+json")
    return dict(r.json())


def form(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(f for f in doc["remediation"]["value"] if f["name"] == name)


def test_idx_identify_shape(fake_okta: FakeOkta, http: requests.Session) -> None:
    doc = idx_start(fake_okta, http)
    identify = form(doc, "identify")
    assert identify["rel"] == ["create-form"] and identify["method"] == "POST"
    names = [f["name"] for f in identify["value"]]
    assert names == ["identifier", "credentials", "rememberMe", "stateHandle"]
    handle = identify["value"][-1]
    assert handle == {
        "name": "stateHandle",
        "required": True,
        "value": doc["stateHandle"],
        "visible": False,
        "mutable": False,
    }
    assert doc["cancel"]["name"] == "cancel"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda b: b.update(rememberMe="yes"), "must be a boolean"),
        (lambda b: b.update(extra=1), "'extra' is not declared"),
        (lambda b: b["credentials"].update(totp="1"), "'totp' is not declared"),
        (lambda b: b.pop("identifier"), "'identifier' is required"),
        (lambda b: b.update(stateHandle=b["stateHandle"]), ""),
    ],
)
def test_idx_posts_are_checked_against_their_form(
    fake_okta: FakeOkta, http: requests.Session, change: Any, problem: str
) -> None:
    doc = idx_start(fake_okta, http)
    body: dict[str, Any] = {
        "identifier": DEFAULT_USERNAME,
        "credentials": {"passcode": DEFAULT_PASSWORD},
        "stateHandle": doc["stateHandle"],
    }
    change(body)
    r = http.post(form(doc, "identify")["href"], json=body)
    if not problem:
        assert r.status_code == 200 and fake_okta.idx_rejections == []
        return
    fake_okta.idx_rejections_expected = True
    assert r.status_code == 400
    [message] = r.json()["messages"]["value"]
    assert message["class"] == "ERROR" and message["i18n"]["key"] == "E0000001"
    assert problem in message["message"]
    assert problem in fake_okta.idx_rejections[0]


def test_idx_options_and_immutable_values_are_checked(
    fake_okta: FakeOkta, http: requests.Session
) -> None:
    fake_okta.users = [
        FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, [FakeFactor("sms1", "sms", "OKTA")])
    ]
    fake_okta.users[0].factors.append(FakeFactor("call1", "call", "OKTA"))
    doc = idx_start(fake_okta, http)
    identify = {
        "identifier": DEFAULT_USERNAME,
        "credentials": {"passcode": DEFAULT_PASSWORD},
        "stateHandle": doc["stateHandle"],
    }
    doc = http.post(form(doc, "identify")["href"], json=identify).json()
    select = form(doc, "select-authenticator-authenticate")
    option = select["value"][0]["options"][0]
    assert option["relatesTo"] == "$.authenticatorEnrollments.value[0]"
    phone_id = option["value"]["form"]["value"][0]["value"]
    fake_okta.idx_rejections_expected = True
    for authenticator in (
        {"id": phone_id, "methodType": "push"},
        {"id": "aut0", "methodType": "sms"},
    ):
        r = http.post(
            select["href"], json={"authenticator": authenticator, "stateHandle": doc["stateHandle"]}
        )
        assert r.status_code == 400
        assert "matches none of the options" in r.json()["messages"]["value"][0]["message"]
    r = http.post(
        select["href"],
        json={
            "authenticator": {"id": phone_id, "methodType": "voice"},
            "stateHandle": doc["stateHandle"],
        },
    )
    assert r.status_code == 200
    current = r.json()["currentAuthenticatorEnrollment"]["value"]
    assert current["key"] == "phone_number" and current["resend"]["name"] == "resend"
