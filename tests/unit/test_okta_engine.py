"""okenv.okta.engine: the engine probe, and the probe raced with Classic's primary auth when
the password is at hand (issue 13: a first login to a Classic org at 6 round trips)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from okenv.okta.http import OktaRefusal
from okenv.okta.mfa import Waits
from okenv.okta.session import SessionStore
from okenv.okta.signin import OktaOptions, sign_in
from tests.fakes.http import Request, Response
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET, DEFAULT_USERNAME, FakeOkta
from tests.unit.test_okta_signin import FakeClock, ScriptedPrompter, profile_for

WELL_KNOWN = "/.well-known/okta-organization"
AUTHN = "/api/v1/authn"


def login(
    okta: FakeOkta, store: SessionStore, *, at_hand: bool, password: str = DEFAULT_PASSWORD
) -> None:
    clock = FakeClock()
    sign_in(
        profile_for(okta),
        username=DEFAULT_USERNAME,
        password=lambda: password,
        totp_secret=DEFAULT_TOTP_SECRET,
        prompter=ScriptedPrompter(),
        options=OktaOptions(
            waits=Waits(poll_interval=2.0, sleep=clock.sleep, clock=clock, wall=clock.wall),
            store=store,
        ),
        password_at_hand=at_hand,
    )


class ProbeHeldForAuthn:
    """The org answers the probe only once the primary auth has arrived (or after 10 s):
    a client that waits for the probe before it signs in shows up as ``waited``."""

    def __init__(self, okta: FakeOkta) -> None:
        self.authn_arrived = threading.Event()
        self.waited = False
        okta.add_route("GET", r"/\.well-known/okta-organization", self._probe)
        okta.add_route("POST", r"/api/v1/authn", self._authn)
        self._okta = okta

    def _probe(self, request: Request) -> Response:
        self.waited = not self.authn_arrived.wait(10)
        return self._okta._well_known(request)

    def _authn(self, request: Request) -> Response:
        self.authn_arrived.set()
        return self._okta._authn(request)


@pytest.fixture
def store(tmp_path: Path) -> SessionStore:
    return SessionStore(tmp_path / "okta")


def test_a_first_login_sends_the_probe_and_the_primary_auth_together(
    fake_okta: FakeOkta, store: SessionStore
) -> None:
    held = ProbeHeldForAuthn(fake_okta)
    login(fake_okta, store, at_hand=True)
    assert not held.waited  # the primary auth went out while the probe was unanswered
    assert fake_okta.count(path=WELL_KNOWN) == 1
    assert fake_okta.count(path=AUTHN) == 1  # the raced transaction is the one signed in
    assert store.engine(fake_okta.url) == "classic"


def test_a_password_still_to_be_typed_waits_for_the_probe(
    fake_okta: FakeOkta, store: SessionStore
) -> None:
    login(fake_okta, store, at_hand=False)
    paths = [r.path for r in fake_okta.requests]
    assert paths.index(WELL_KNOWN) < paths.index(AUTHN)


def test_a_known_engine_is_not_probed_again(fake_okta: FakeOkta, store: SessionStore) -> None:
    store.save_engine(fake_okta.url, "classic")
    login(fake_okta, store, at_hand=True)
    assert fake_okta.count(path=WELL_KNOWN) == 0
    assert fake_okta.count(path=AUTHN) == 1


def test_on_identity_engine_the_raced_primary_auth_is_dropped(
    fake_okta: FakeOkta, store: SessionStore
) -> None:
    fake_okta.pipeline = "idx"
    login(fake_okta, store, at_hand=True)
    assert fake_okta.count(path=AUTHN) == 1  # sent, its transaction left to expire
    assert fake_okta.count(path="/idp/idx/introspect") == 1  # signed in through IDX
    assert not any(r.path.startswith(f"{AUTHN}/factors/") for r in fake_okta.requests)
    assert store.engine(fake_okta.url) == "idx"


def test_a_classic_org_rejecting_the_password_ends_the_login(
    fake_okta: FakeOkta, store: SessionStore
) -> None:
    with pytest.raises(OktaRefusal):
        login(fake_okta, store, at_hand=True, password="wrong")
    assert fake_okta.count(path=AUTHN) == 1  # tried once: no second attempt anywhere
    assert fake_okta.count(path_prefix="/idp/idx/") == 0


def test_an_unreachable_probe_means_classic(fake_okta: FakeOkta, store: SessionStore) -> None:
    fake_okta.fail(r"/\.well-known/okta-organization", 404)
    login(fake_okta, store, at_hand=True)
    assert fake_okta.count(path=AUTHN) == 1
    assert store.engine(fake_okta.url) is None  # unknown is not remembered
