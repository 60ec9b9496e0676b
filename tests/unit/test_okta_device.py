"""Device authorization + web-SSO token exchange (okenv.okta.device) against the fake org's
authorization server (tests/fakes/oauth.py), a real HTTP server on loopback.

The client's waits are the org's clock: ``sleep`` advances it, so the fake sees exactly the
intervals the client kept (and answers ``slow_down`` when they are too short), and nothing
here sleeps for real. The user's browser is the test, approving or denying a user code.
"""

from __future__ import annotations

import base64
import json
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pytest
import segno

from okenv import report
from okenv.errors import (
    AuthenticationError,
    BrowserRequired,
    ConfigError,
    Interrupted,
    NoInputError,
    OktaError,
    ServiceError,
)
from okenv.limits import MAX_JSON
from okenv.okta import device
from okenv.okta import device_forms as forms
from okenv.okta.device_forms import KeptGrant
from okenv.okta.grants import FileGrantStore
from okenv.okta.http import OktaHttp
from okenv.okta.pages import parse_app_page
from okenv.store import PrivateStore
from tests.fakes.http import Request, Response, json_response
from tests.fakes.oauth import (
    DEFAULT_CLIENT_ID,
    DEVICE_CODE_GRANT,
    ORG_SCOPES,
    FakeAuthorizationServer,
    FakeClient,
)
from tests.fakes.okta import (
    DEFAULT_APP_INSTANCE,
    DEFAULT_PASSWORD,
    DEFAULT_USERNAME,
    FakeFactor,
    FakeOkta,
    FakeUser,
)
from tests.unit.test_okta_signin import ScriptedPrompter

APP_B = "0oab2b3c4d5e6f7g8h9j"
ROLES_B = (
    ("arn:aws:iam::333333333333:role/Billing", "arn:aws:iam::333333333333:saml-provider/Okta"),
)


def terminal(interactive: bool = True) -> ScriptedPrompter:
    """What okenv shows, recorded (interactive: a terminal to show codes on)."""
    return ScriptedPrompter(interactive=interactive)


def shown(screen: ScriptedPrompter) -> str:
    return "\n".join(screen.lines)


class User:
    """The person at the browser: acts on the pending code after ``after`` of okenv's waits."""

    def __init__(self, okta: FakeOkta, oauth: FakeAuthorizationServer) -> None:
        self.okta = okta
        self.oauth = oauth
        self.waits: list[float] = []
        self.plan: dict[int, Callable[[str], None]] = {}

    def on_wait(self, n: int, action: Callable[[str], None]) -> None:
        self.plan[n] = action

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.okta.advance(seconds)
        action = self.plan.pop(len(self.waits), None)
        if action is not None:
            action(self.oauth.pending()[0].user_code)


@pytest.fixture
def org() -> Iterator[tuple[FakeOkta, FakeAuthorizationServer]]:
    with FakeOkta(pipeline="idx") as okta:
        oauth = FakeAuthorizationServer(okta, apps={DEFAULT_APP_INSTANCE: None, APP_B: ROLES_B})
        yield okta, oauth
        assert not okta.errors, okta.errors


@pytest.fixture
def user(org: tuple[FakeOkta, FakeAuthorizationServer]) -> User:
    return User(*org)


def _sign_in(
    okta: FakeOkta,
    user: User,
    *,
    store: FileGrantStore | None,
    screen: ScriptedPrompter | None = None,
    app_url: str | None = None,
    username: str | None = None,
    open_url: Callable[[str], bool] | None = None,
) -> object:
    return device.sign_in(
        OktaHttp(okta.url, timeout=5),
        client_id=DEFAULT_CLIENT_ID,
        app_url=app_url or okta.app_url,
        username=username,
        prompter=screen or terminal(),
        store=store,
        open_url=open_url,
        sleep=user.sleep,
        clock=okta.now,
    )


def _app_b(okta: FakeOkta) -> str:
    return f"{okta.url}/home/amazon_aws/{APP_B}/272"


def _roles(page: object) -> str:
    form = parse_app_page(page)
    return base64.b64decode(form.saml_response).decode()


@pytest.fixture
def store(tmp_path: Path) -> FileGrantStore:
    root = tmp_path / "cache"
    return FileGrantStore(PrivateStore(root / "okta", inside=root))


# -- the first approval ------------------------------------------------------------------


def test_approval_after_pending_polls_gives_the_apps_saml_form(org, user, store) -> None:
    okta, oauth = org
    oauth.interval = 3
    screen = terminal()
    user.on_wait(2, oauth.approve)
    page = _sign_in(okta, user, store=store, screen=screen)
    assert "arn:aws:iam::123456789012:role/Admin" in _roles(page)
    tx = next(iter(oauth.transactions.values()))
    assert tx.polls == 2 and tx.slow_downs == 0
    assert user.waits == [3, 3]  # Okta's interval, from the first poll on
    assert oauth.exchanges == [(DEFAULT_CLIENT_ID, f"urn:okta:apps:{DEFAULT_APP_INSTANCE}")]


def test_the_terminal_shows_url_code_and_a_qr_code_of_the_complete_url(org, user, store) -> None:
    okta, oauth = org
    screen = terminal()
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store, screen=screen)
    tx = next(iter(oauth.transactions.values()))
    assert f"open   {okta.url}/activate\n" in shown(screen)
    assert f"code   {tx.user_code}\n" in shown(screen)
    assert "valid for 10 minutes" in shown(screen)
    complete = f"{okta.url}/activate?user_code={tx.user_code}"
    drawn = [line[2:] for line in shown(screen).splitlines() if line.startswith("  █")]
    assert drawn == device.qr_lines(complete)
    assert drawn != device.qr_lines(f"{okta.url}/activate")
    assert any(tx.user_code in s for s in screen.statuses)


def test_qr_lines_draw_the_light_modules_of_the_code() -> None:
    text = "https://acme.okta.com/activate?user_code=BCDFGHJK"
    matrix = [list(row) for row in segno.make(text, error="l", micro=False).matrix_iter(border=2)]
    lines = device.qr_lines(text)
    assert len(lines) == (len(matrix) + 1) // 2
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            glyph = lines[y // 2][x]
            lit = glyph == "█" or glyph == ("▀" if y % 2 == 0 else "▄")
            assert lit == (not dark), (x, y)


def test_slow_down_adds_five_seconds_to_every_later_poll(org, user, store) -> None:
    okta, oauth = org
    oauth.interval = 2
    oauth.slow_down_next = 1  # Okta under load: the first poll is told to slow down
    user.on_wait(3, oauth.approve)
    _sign_in(okta, user, store=store)
    tx = next(iter(oauth.transactions.values()))
    # A client that kept polling every 2 s would be told to slow down again (the fake
    # counts the intervals); this one added 5 s for this and every later poll.
    assert tx.slow_downs == 1, tx.poll_times
    assert user.waits == [2, 7, 7]
    assert tx.polls == 3


def test_a_rate_limited_poll_slows_down_too(org, user, store) -> None:
    okta, oauth = org
    oauth.interval = 2
    okta.rate_limit_reset_in = 3600  # too far off for OktaHttp to wait for it
    okta.fail(r"/oauth2/v1/token", 429, times=1)
    user.on_wait(2, oauth.approve)
    _sign_in(okta, user, store=store)
    assert user.waits == [2, 7]


def test_denial_is_an_authentication_error_with_oktas_words(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.deny)
    with pytest.raises(AuthenticationError, match=r"denied.*Okta: The resource owner") as info:
        _sign_in(okta, user, store=store)
    assert info.value.exit_code == 3
    assert store.grants() == []


def test_expiry_at_okta_is_an_authentication_error(org, user, store) -> None:
    okta, _oauth = org
    user.on_wait(1, lambda code: okta.advance(600))
    with pytest.raises(AuthenticationError, match=r"expired before it was approved.*Okta: The"):
        _sign_in(okta, user, store=store)


def test_the_client_stops_at_expires_in_without_an_answer(org, user, store) -> None:
    okta, oauth = org
    oauth.expires_in = 20
    oauth.interval = 5
    with pytest.raises(AuthenticationError, match="expired before it was approved"):
        _sign_in(okta, user, store=store)
    assert user.waits == [5, 5, 5]  # a fourth poll would land on the code's expiry
    assert next(iter(oauth.transactions.values())).polls == 3


def test_ctrl_c_while_waiting_is_interrupted(org, user, store) -> None:
    okta, _oauth = org

    def interrupt(code: str) -> None:
        raise KeyboardInterrupt

    user.on_wait(2, interrupt)
    with pytest.raises(Interrupted) as info:
        _sign_in(okta, user, store=store)
    assert info.value.exit_code == 130
    assert store.grants() == []


def test_no_terminal_and_nothing_kept_fails_before_asking_okta(org, user, store) -> None:
    okta, _oauth = org
    with pytest.raises(NoInputError, match="approval in a browser"):
        _sign_in(okta, user, store=store, screen=terminal(interactive=False))
    assert okta.count(path_prefix="/oauth2/") == 0


def test_open_url_gets_the_complete_url(org, user, store) -> None:
    okta, oauth = org
    opened: list[str] = []

    def browser(url: str) -> bool:
        opened.append(url)
        return True

    screen = terminal()
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store, screen=screen, open_url=browser)
    tx = next(iter(oauth.transactions.values()))
    assert opened == [f"{okta.url}/activate?user_code={tx.user_code}"]
    assert "opened it in this machine's browser" in shown(screen)


def test_no_browser_to_open_still_shows_the_code(org, user, store) -> None:
    okta, oauth = org
    screen = terminal()
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store, screen=screen, open_url=lambda url: False)
    assert "could not start a browser" in shown(screen)
    assert "code   " in shown(screen) and "opened it" not in shown(screen)


def test_approval_by_another_user_than_the_profiles_is_refused(org, user, store) -> None:
    okta, oauth = org
    okta.users.append(FakeUser("bob@example.com", "pw"))
    user.on_wait(1, lambda code: oauth.approve(code, "bob@example.com"))
    with pytest.raises(AuthenticationError, match=r"approved by bob@example\.com, not by alice"):
        _sign_in(okta, user, store=store, username=DEFAULT_USERNAME)
    assert store.grants() == []


# -- the kept approval -------------------------------------------------------------------


def test_a_second_app_is_exchanged_without_a_second_approval(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    screen = terminal()
    page = _sign_in(okta, user, store=store, screen=screen, app_url=_app_b(okta))
    assert "arn:aws:iam::333333333333:role/Billing" in _roles(page)
    assert len(oauth.transactions) == 1  # no second device authorization
    assert screen.lines == [] and screen.statuses == []
    assert [aud for _, aud in oauth.exchanges] == [
        f"urn:okta:apps:{DEFAULT_APP_INSTANCE}",
        f"urn:okta:apps:{APP_B}",
    ]


def test_the_kept_approval_is_private_and_per_org_user_and_client(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    [grant] = store.grants()
    assert grant.username == DEFAULT_USERNAME and grant.client_id == DEFAULT_CLIENT_ID
    files = list(store._files.directory.glob("device-*.json"))
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(files[0].parent.stat().st_mode) == 0o700
    assert store.load(okta.url, DEFAULT_CLIENT_ID, "ALICE@example.com") is not None
    assert store.load(okta.url, DEFAULT_CLIENT_ID, "bob@example.com") is None
    assert store.load(okta.url, "0oaother0client0id00", None) is None
    assert store.load("https://other.okta.com", DEFAULT_CLIENT_ID, None) is None
    assert grant.actor_token_type == forms.DEVICE_SECRET_TYPE
    assert grant.actor_token not in repr(grant) and grant.id_token not in repr(grant)


def test_an_expired_kept_approval_is_forgotten(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    [grant] = store.grants()
    assert store.load(okta.url, DEFAULT_CLIENT_ID, None, now=grant.expires_at + 1) is None
    assert store.grants() == []


def test_a_revoked_approval_is_forgotten_and_asked_for_again(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    [grant] = store.grants()
    oauth.grants[grant.actor_token].revoked = True  # e.g. the admin ended it
    user.waits.clear()
    user.on_wait(1, oauth.approve)
    screen = terminal()
    _sign_in(okta, user, store=store, screen=screen)
    assert len(oauth.transactions) == 2
    [fresh] = store.grants()
    assert fresh.actor_token != grant.actor_token
    assert "approve this sign-in" in shown(screen)


def test_an_app_the_user_is_not_assigned_to_is_refused(org, user, store) -> None:
    okta, oauth = org
    oauth.assign(DEFAULT_USERNAME, DEFAULT_APP_INSTANCE)
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    with pytest.raises(OktaError, match=f"AWS app {APP_B}.*not assigned") as info:
        _sign_in(okta, user, store=store, app_url=_app_b(okta))
    assert info.value.exit_code == 5
    assert len(store.grants()) == 1  # the approval itself is still good


def test_an_app_that_does_not_allow_this_client_is_refused(org, user, store) -> None:
    okta, oauth = org
    oauth.web_sso_clients[APP_B] = "0oasomeother0client0"
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    with pytest.raises(OktaError, match="allowed web SSO client") as info:
        _sign_in(okta, user, store=store, app_url=_app_b(okta))
    assert "assigned" in (info.value.hint or "")


def test_a_web_sso_token_opens_its_own_app_once(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    [grant] = store.grants()
    http = OktaHttp(okta.url, timeout=5)
    token = device.exchange(http, grant, APP_B)
    assert "Billing" in _roles(device.open_sso(http, token))
    with pytest.raises(OktaError):  # one use
        device.open_sso(http, token)
    with pytest.raises(OktaError):
        device.open_sso(http, "not-a-token")


def test_logout_revokes_and_forgets(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    [grant] = store.grants()
    assert device.logout(store, org=okta.url) == 1
    assert store.grants() == []
    assert oauth.grants[grant.actor_token].revoked
    revoke = okta.last(path="/oauth2/v1/revoke")
    assert parse_qs(revoke.text) == {
        "client_id": [DEFAULT_CLIENT_ID],
        "token": [grant.actor_token],
        "token_type_hint": ["device_secret"],
    }
    http = OktaHttp(okta.url, timeout=5)
    with pytest.raises(device.OAuthError, match="invalid_grant"):
        device.exchange(http, grant, DEFAULT_APP_INSTANCE)


def test_logout_forgets_even_when_okta_cannot_be_reached(tmp_path, store) -> None:
    store.save(KeptGrant("http://127.0.0.1:9", DEFAULT_CLIENT_ID, "a@b.c", "s", "a.b.c", 9e9))
    with report.captured() as warned:
        assert device.logout(store, timeout=1) == 1
    assert store.grants() == [] and "could not revoke" in warned[0]


# -- the requests okenv sends, and the answers it refuses -----------------------------------


def test_the_requests_are_exactly_what_okta_documents(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    authorize = okta.last(path="/oauth2/v1/device/authorize")
    assert parse_qs(authorize.text) == {
        "client_id": [DEFAULT_CLIENT_ID],
        "scope": ["openid okta.apps.sso offline_access device_sso"],
    }
    polls, exchange = [r for r in okta.requests if r.path == "/oauth2/v1/token"]
    assert parse_qs(polls.text)["grant_type"] == [DEVICE_CODE_GRANT]
    sent = parse_qs(exchange.text)
    [grant] = store.grants()
    assert sent["actor_token"] == [grant.actor_token]
    assert sent["subject_token"] == [grant.id_token]
    assert sent["requested_token_type"] == ["urn:okta:oauth:token-type:web_sso_token"]
    assert sent["audience"] == [f"urn:okta:apps:{DEFAULT_APP_INSTANCE}"]
    sso = okta.last(path="/login/token/sso")
    assert set(sso.query) == {"token"}


def test_the_trace_names_steps_and_never_a_token(org, user, store) -> None:
    okta, oauth = org
    user.on_wait(1, oauth.approve)
    with report.captured() as lines:  # --debug
        _sign_in(okta, user, store=store)
        _sign_in(okta, user, store=store, app_url=_app_b(okta))
    text = "\n".join(lines)
    [grant] = store.grants()
    secrets = [grant.actor_token, grant.id_token, *oauth.web_sso_tokens, *oauth.access_tokens]
    secrets += [tx.device_code for tx in oauth.transactions.values()]
    assert f"POST {okta.url}/oauth2/v1/device/authorize → 200" in text
    assert "authorization_pending" not in text  # approved at once
    assert "/login/token/sso → 200" in text
    for secret in secrets:
        assert secret not in text


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"verification_uri": "https://evil.example/activate"}, "not on"),
        ({"verification_uri": "javascript:alert(1)"}, "not on"),
        ({"verification_uri_complete": "https://evil.example/a?user_code=X"}, "not on"),
        ({"user_code": "AB\x1b]0;pwned\x07"}, "user_code"),
        ({"user_code": 12345678}, "user_code"),
        ({"expires_in": "600"}, "expires_in"),
        ({"expires_in": True}, "expires_in"),
        ({"expires_in": 10**9}, "expires_in"),
        ({"interval": 0}, "interval"),
        ({"device_code": "x" * 5000}, "device_code"),
        ({"device_code": None}, "device_code"),
    ],
)
def test_an_unusable_device_authorization_is_refused(org, user, store, change, message) -> None:
    okta, _oauth = org

    def authorize(request: Request) -> Response:
        body = {
            "device_code": "dc",
            "user_code": "BCDFGHJK",
            "verification_uri": f"{okta.url}/activate",
            "verification_uri_complete": f"{okta.url}/activate?user_code=BCDFGHJK",
            "expires_in": 600,
            "interval": 5,
        }
        body.update(change)
        return json_response({k: v for k, v in body.items() if v is not None})

    okta.route("POST", r"/oauth2/v1/device/authorize")(authorize)
    screen = terminal()
    with pytest.raises(OktaError, match=message):
        _sign_in(okta, user, store=store, screen=screen)
    assert screen.lines == []  # nothing of it was shown


def test_a_missing_interval_means_five_seconds(org) -> None:
    okta, _ = org
    auth = forms.parse_authorization(
        {
            "device_code": "dc",
            "user_code": "BCDFGHJK",
            "verification_uri": f"{okta.url}/activate",
            "expires_in": 600,
        },
        okta.url,
    )
    assert auth.interval == 5 and auth.verification_uri_complete is None
    assert "dc" not in repr(auth)


def _jwt(claims: dict[str, object]) -> str:
    def part(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    return ".".join([part(b'{"alg":"RS256"}'), part(json.dumps(claims).encode()), part(b"sig")])


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"iss": "https://evil.example", "aud": DEFAULT_CLIENT_ID}, "another org"),
        ({"aud": "0oasomeone0else00000"}, "not for this OIDC app"),
        ({"preferred_username": "a\x1b[2Jb"}, "no usable user"),
        ({"preferred_username": 7, "sub": None}, "no usable user"),
    ],
)
def test_an_unusable_id_token_is_refused(org, claims, message) -> None:
    okta, _ = org
    base: dict[str, object] = {"iss": okta.url, "aud": DEFAULT_CLIENT_ID, "preferred_username": "a"}
    base.update(claims)
    data = {"access_token": "at", "id_token": _jwt(base), "device_secret": "ds"}
    with pytest.raises(OktaError, match=message):
        forms.parse_grant(data, okta.url, DEFAULT_CLIENT_ID, 0)


def test_an_app_without_device_sso_uses_the_access_token_for_its_hour(org, user, store) -> None:
    okta, oauth = org
    oauth.clients[DEFAULT_CLIENT_ID].scopes = ORG_SCOPES - {"device_sso", "offline_access"}
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store)
    scopes = [parse_qs(r.text)["scope"][0] for r in okta.find(path="/oauth2/v1/device/authorize")]
    assert scopes == [forms.SCOPES, forms.BASIC_SCOPES]
    [grant] = store.grants()
    assert grant.actor_token_type == forms.ACCESS_TOKEN_TYPE
    assert grant.actor_token in oauth.access_tokens
    assert _sign_in(okta, user, store=store, app_url=_app_b(okta)) is not None
    assert len(oauth.transactions) == 1  # the second app within the hour: no approval
    okta.advance(3600)  # the access token's hour is over: Okta refuses it, okenv asks again
    user.waits.clear()
    user.on_wait(1, oauth.approve)
    _sign_in(okta, user, store=store, app_url=_app_b(okta))
    assert len(oauth.transactions) == 2


def test_an_oversized_answer_is_refused(org, user, store) -> None:
    okta, _ = org
    okta.route("POST", r"/oauth2/v1/device/authorize")(
        lambda request: json_response({"device_code": "x" * (MAX_JSON + 1)})
    )
    with pytest.raises(ServiceError, match="sent more than 4 MiB"):
        _sign_in(okta, user, store=store)


def test_a_client_that_is_not_set_up_for_it_names_the_admin_steps(org, user, store) -> None:
    okta, oauth = org
    oauth.clients = {DEFAULT_CLIENT_ID: FakeClient(grant_types=frozenset({"authorization_code"}))}
    with pytest.raises(OktaError, match="unauthorized_client") as info:
        _sign_in(okta, user, store=store)
    assert "Device Authorization" in (info.value.hint or "")


def test_an_unknown_client_is_refused(org, user, store) -> None:
    okta, oauth = org
    oauth.clients = {}
    with pytest.raises(OktaError, match="invalid_client"):
        _sign_in(okta, user, store=store)


def test_the_app_id_comes_from_the_embed_link() -> None:
    assert forms.app_id_of("https://a.okta.com/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272") == (
        "0oa1b2c3d4e5f6g7h8i9"
    )
    with pytest.raises(ConfigError, match="app id"):
        forms.app_id_of("https://a.okta.com/app/amazon_aws/exk1/sso/saml")


# -- the fake itself is as strict as Okta ------------------------------------------------------


def _post(okta: FakeOkta, path: str, body: str, ctype: str = "application/x-www-form-urlencoded"):
    import requests

    return requests.post(okta.url + path, data=body, headers={"Content-Type": ctype}, timeout=5)


def test_the_fake_refuses_unknown_missing_and_json_bodies(org) -> None:
    okta, _ = org
    ok = f"client_id={DEFAULT_CLIENT_ID}&scope=openid"
    assert _post(okta, "/oauth2/v1/device/authorize", ok).status_code == 200
    for body, ctype, error in [
        (ok + "&extra=1", None, "invalid_request"),
        (f"client_id={DEFAULT_CLIENT_ID}", None, "invalid_request"),
        (ok + "&scope=openid", None, "invalid_request"),
        (json.dumps({"client_id": DEFAULT_CLIENT_ID}), "application/json", "invalid_request"),
        (f"client_id={DEFAULT_CLIENT_ID}&scope=openid%20admin", None, "invalid_scope"),
        ("client_id=0oanobody&scope=openid", None, "invalid_client"),
    ]:
        answer = _post(
            okta, "/oauth2/v1/device/authorize", body, ctype or "application/x-www-form-urlencoded"
        )
        assert answer.status_code in (400, 401)
        assert answer.json()["error"] == error, body
        assert set(answer.json()) == {"error", "error_description"}


def test_the_fake_answers_every_polling_error(org) -> None:
    okta, oauth = org
    started = _post(
        okta, "/oauth2/v1/device/authorize", f"client_id={DEFAULT_CLIENT_ID}&scope=openid"
    )
    code = started.json()["device_code"]
    poll = f"grant_type={DEVICE_CODE_GRANT}&device_code={code}&client_id={DEFAULT_CLIENT_ID}"

    def error() -> str:
        return str(_post(okta, "/oauth2/v1/token", poll).json().get("error"))

    assert error() == "authorization_pending"
    assert error() == "slow_down"  # at once: faster than the interval
    okta.advance(11)
    assert error() == "authorization_pending"
    oauth.deny(started.json()["user_code"])
    okta.advance(11)
    assert error() == "access_denied"
    okta.advance(600)
    assert error() == "expired_token"
    assert _post(okta, "/oauth2/v1/token", "grant_type=password").json()["error"] == (
        "unsupported_grant_type"
    )


# -- engine = "auto" turns to the device flow ------------------------------------------------


def _fastpass_only_org(okta: FakeOkta) -> None:
    """A user whose only factor okenv cannot answer (Duo here; FastPass alike)."""
    okta.users[0].factors = [FakeFactor(id="dsf1", factor_type="web", provider="DUO")]


def _auto_sign_in(okta: FakeOkta, user: User, store: FileGrantStore, client: str | None):
    from okenv.config import Profile
    from okenv.okta.mfa import Waits
    from okenv.okta.signin import OktaOptions, sign_in

    screen = terminal()
    profile = Profile(name="p", app_url=okta.app_url, engine="auto", oidc_client_id=client)
    options = OktaOptions(waits=Waits(sleep=user.sleep, clock=okta.now), grants=store)
    form = sign_in(
        profile,
        username=DEFAULT_USERNAME,
        password=lambda: DEFAULT_PASSWORD,
        totp_secret=None,
        prompter=screen,
        options=options,
    )
    return form, screen


def test_auto_turns_to_the_device_flow_when_only_a_browser_can_sign_in(org, user, store) -> None:
    okta, oauth = org
    _fastpass_only_org(okta)
    user.on_wait(1, oauth.approve)
    form, screen = _auto_sign_in(okta, user, store, DEFAULT_CLIENT_ID)
    assert "Admin" in base64.b64decode(form.saml_response).decode()
    assert "signing in through a browser instead" in shown(screen)
    assert "none of your Okta MFA methods can be used" in shown(screen)
    assert okta.count(path_prefix="/idp/idx/") >= 1  # the Identity Engine was tried first
    assert len(oauth.transactions) == 1


def test_auto_without_a_client_id_says_what_it_cannot_do(org, user, store) -> None:
    okta, _oauth = org
    _fastpass_only_org(okta)
    with pytest.raises(BrowserRequired, match="none of your Okta MFA methods") as info:
        _auto_sign_in(okta, user, store, None)
    assert info.value.exit_code == 3 and 'engine = "device"' in (info.value.hint or "")
    assert okta.count(path_prefix="/oauth2/") == 0
