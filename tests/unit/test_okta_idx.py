"""Identity Engine (IDX): pure form handling, and whole sign-ins against the fake org's IDX
endpoints (shapes of Okta's own responses; our fixtures, not copies)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup

from okenv.errors import (
    AuthenticationError,
    Interrupted,
    NoInputError,
    OktaError,
    SecurityKeyError,
)
from okenv.okta.idx import authenticator_methods, error_messages, fill_form, remediations
from okenv.okta.pages import js_unescape, state_token
from okenv.okta.session import SessionStore
from tests.fakes.okta import DEFAULT_TOTP_SECRET, FakeFactor, FakeOkta, FakeUser, totp_now
from tests.unit.test_okta_signin import (
    FakeClock,
    ScriptedPrompter,
    google,
    push,
    run,
    sent,
    user_with,
)

HANDLE = {"name": "stateHandle", "required": True, "value": "02abc", "visible": False}


@pytest.fixture
def idx_okta(fake_okta: FakeOkta) -> FakeOkta:
    fake_okta.pipeline = "idx"
    fake_okta.idx_poll_refresh_ms = 4000
    return fake_okta


def idx_calls(okta: FakeOkta) -> list[str]:
    return [r.path for r in okta.requests if r.path.startswith("/idp/idx/")]


# -- pure -------------------------------------------------------------------------------------


def test_fill_form_nests_and_carries_hidden_values() -> None:
    form = {
        "name": "identify",
        "value": [
            {"name": "identifier", "label": "Username", "required": True},
            {
                "name": "credentials",
                "type": "object",
                "required": True,
                "form": {"value": [{"name": "passcode", "secret": True}]},
            },
            {"name": "rememberMe", "type": "boolean"},
            HANDLE,
        ],
    }
    body = fill_form(form, {"identifier": "a", "credentials": {"passcode": "pw"}})
    assert body == {"identifier": "a", "credentials": {"passcode": "pw"}, "stateHandle": "02abc"}
    with pytest.raises(OktaError, match="'identify' step needs 'identifier'"):
        fill_form(form, {})


def test_error_messages_top_level_and_on_fields() -> None:
    doc: dict[str, Any] = {
        "messages": {"type": "array", "value": [{"message": "Top", "class": "ERROR"}]},
        "remediation": {
            "type": "array",
            "value": [
                {
                    "name": "challenge-authenticator",
                    "value": [
                        {
                            "name": "credentials",
                            "form": {
                                "value": [
                                    {
                                        "name": "passcode",
                                        "messages": {
                                            "value": [
                                                {"message": "Invalid code.", "class": "ERROR"},
                                                {"message": "Hint", "class": "INFO"},
                                            ]
                                        },
                                    }
                                ]
                            },
                        }
                    ],
                }
            ],
        },
    }
    assert error_messages(doc) == ["Top", "Invalid code."]
    assert list(remediations(doc)) == ["challenge-authenticator"]


def test_authenticator_options_expand_method_types() -> None:
    data = {
        "authenticatorEnrollments": {
            "value": [
                {"key": "okta_verify", "type": "app", "profile": {"deviceName": "Pixel"}},
                {"key": "phone_number", "type": "phone", "profile": {"phoneNumber": "+1 55"}},
            ]
        }
    }

    def option(index: int, method: dict[str, Any]) -> dict[str, Any]:
        return {
            "label": "x",
            "value": {"form": {"value": [{"name": "id", "value": f"aut{index}"}, method]}},
            "relatesTo": f"$.authenticatorEnrollments.value[{index}]",
        }

    form = {
        "name": "select-authenticator-authenticate",
        "value": [
            {
                "name": "authenticator",
                "options": [
                    option(
                        0,
                        {
                            "name": "methodType",
                            "options": [{"value": v} for v in ("signed_nonce", "push", "totp")],
                        },
                    ),
                    option(1, {"name": "methodType", "options": [{"value": "sms"}]}),
                ],
            },
            HANDLE,
        ],
    }
    choices = authenticator_methods(form, data)
    assert [(m.kind, m.supported, m.label) for m, _ in choices] == [
        ("signed_nonce", False, "Okta Verify (signed_nonce)"),
        ("push", True, "Okta Verify (push) — Pixel"),
        ("totp", True, "Okta Verify (code) — Pixel"),
        ("sms", True, "SMS to +1 55"),
    ]
    assert choices[1][1] == {"id": "aut0", "methodType": "push"}


def test_state_token_from_either_page_shape() -> None:
    classic = "<script>var stateToken = '00ab\\x2Dcd';</script>"
    oie = '<script>var oktaData = {"signIn":{"stateToken":"02\\x2Dxy\\u002Dz"}};</script>'
    assert state_token(BeautifulSoup(classic, "html.parser")) == "00ab-cd"
    assert state_token(BeautifulSoup(oie, "html.parser")) == "02-xy-z"
    assert state_token(BeautifulSoup("<p>no</p>", "html.parser")) is None
    assert js_unescape(r"a\/b\x41\n") == "a/bA\n"


# -- whole sign-ins ---------------------------------------------------------------------------


def test_idx_with_totp_from_the_seed(idx_okta: FakeOkta, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "okta")
    form = run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    assert form.saml_response == idx_okta.saml_responses[-1]
    assert idx_calls(idx_okta) == [
        "/idp/idx/introspect",
        "/idp/idx/identify",
        "/idp/idx/challenge/answer",
    ]
    assert idx_okta.count(path_prefix="/api/v1/authn") == 0
    identify = idx_okta.last(path="/idp/idx/identify")
    assert identify.header("Content-Type", "").startswith("application/ion+json")
    assert identify.json["credentials"] == {"passcode": "correct horse battery staple"}
    [saved] = store.sessions()
    assert saved.cookie == "idx"
    run(idx_okta, ScriptedPrompter(interactive=False), store=store)  # reused: no prompts
    assert idx_okta.count(path="/idp/idx/challenge/answer") == 1


def test_idx_password_as_its_own_step_and_typed_code(idx_okta: FakeOkta) -> None:
    idx_okta.idx_identify_with_password = False
    wrong = "000000" if totp_now() != "000000" else "111111"
    prompter = ScriptedPrompter([wrong, totp_now()])
    run(idx_okta, prompter)
    assert idx_calls(idx_okta) == [
        "/idp/idx/introspect",
        "/idp/idx/identify",
        "/idp/idx/challenge/answer",  # password
        "/idp/idx/challenge/answer",  # wrong code
        "/idp/idx/challenge/answer",
    ]
    assert any("Okta: Invalid code. Try again." in line for line in prompter.lines)


def test_idx_push_with_number_challenge(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(google(), push(["WAITING", "WAITING", "SUCCESS"], answer=37))]
    prompter = ScriptedPrompter()
    clock = FakeClock()
    run(idx_okta, prompter, clock=clock)
    challenge = idx_okta.last(path="/idp/idx/challenge")
    assert challenge.json["authenticator"]["methodType"] == "push"
    assert idx_okta.count(path="/idp/idx/authenticators/poll") == 3
    assert clock.sleeps == [4.0, 4.0, 4.0]  # the form's refresh
    assert prompter.statuses == ["Approve the push on Alice's iPhone…"]
    assert sum("tap  37" in line for line in prompter.lines) == 1


def test_idx_push_rejected_message_verbatim(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(push(["WAITING", "REJECTED"]))]
    with pytest.raises(
        AuthenticationError, match=r"^Okta: You have chosen to reject this login\.$"
    ):
        run(idx_okta, factor="push")


def test_idx_push_ctrl_c_cancels(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(push(["WAITING"]))]
    clock = FakeClock()

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.sleep = interrupt  # type: ignore[method-assign]
    with pytest.raises(Interrupted):
        run(idx_okta, clock=clock)
    assert idx_okta.count(path="/idp/idx/cancel") == 1


@pytest.mark.parametrize("kind", ["sms", "email", "call"])
def test_idx_sent_codes(idx_okta: FakeOkta, kind: str) -> None:
    idx_okta.users = [user_with(sent(kind), google())]
    prompter = ScriptedPrompter(["", "424242"])
    run(idx_okta, prompter, factor=kind)
    method = {"sms": "sms", "email": "email", "call": "voice"}[kind]
    assert idx_okta.last(path="/idp/idx/challenge").json["authenticator"]["methodType"] == method
    assert idx_okta.count(path="/idp/idx/challenge/resend") == 1
    assert "empty to send a new one" in prompter.asked[0]


def test_idx_menu_skips_fastpass_and_a_security_key_without_a_key(
    idx_okta: FakeOkta, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fido2.hid import CtapHidDevice

    from tests.fakes.ctap import Credential, KeyFile, seam
    from tests.fakes.okta_webauthn import add_key, enable

    KeyFile(tmp_path / "keys.json", [])  # no key plugged in
    monkeypatch.setattr(CtapHidDevice, "list_devices", seam(tmp_path / "keys.json"))
    idx_okta.users = [user_with(push(["SUCCESS"]), google(), sent("email"))]
    key = add_key(idx_okta.users[0], enable(idx_okta), Credential.new("127.0.0.1"))
    prompter = ScriptedPrompter(["424242"], choices=[3])
    run(idx_okta, prompter, factor="auto")
    # auto without a seed takes push: no menu
    assert prompter.menus == []
    assert idx_okta.last(path="/idp/idx/challenge").json["authenticator"]["methodType"] == "push"
    # auto tries the security key first; with no key plugged in, Okta's other
    # authenticators are offered (the key no more)
    idx_okta.users = [user_with(sent("sms"), sent("email"), key)]
    prompter = ScriptedPrompter(["424242"], choices=[1])
    run(idx_okta, prompter)
    assert "no security key found; choosing another authenticator" in " ".join(prompter.lines)
    [menu] = prompter.menus
    assert menu == ["SMS to +1 XXX-XXX-4321", "Email to a***@example.com"]


def test_idx_wrong_password_verbatim(idx_okta: FakeOkta) -> None:
    idx_okta.users = [FakeUser("alice@example.com", "other", [google()])]
    with pytest.raises(AuthenticationError, match=r"^Okta: Authentication failed$"):
        run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_idx_unknown_remediation_is_named(idx_okta: FakeOkta) -> None:
    idx_okta.idx_extra_remediation = "consent"
    with pytest.raises(OktaError, match="does not know: consent"):
        run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_idx_enroll(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(google(), status="MFA_ENROLL")]
    with pytest.raises(AuthenticationError, match="enroll"):
        run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_idx_expired_state(idx_okta: FakeOkta) -> None:
    idx_okta.state_token_lifetime = -1  # the page's token is already expired
    with pytest.raises(AuthenticationError, match="The session has expired"):
        run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_idx_rate_limit_retried(idx_okta: FakeOkta) -> None:
    idx_okta.rate_limit_reset_in = 1
    idx_okta.fail("/idp/idx/identify", 429, times=1)
    clock = FakeClock()
    run(idx_okta, clock=clock, totp_secret=DEFAULT_TOTP_SECRET)
    assert idx_okta.count(path="/idp/idx/identify") == 2
    assert len(clock.sleeps) == 1


def test_forced_idx_on_a_classic_org(fake_okta: FakeOkta) -> None:
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, engine="idx")
    assert fake_okta.count(path="/idp/idx/introspect") == 1


# -- the Identity Engine as a real org answers (issue 10) -------------------------------------


def ov_totp() -> FakeFactor:
    return FakeFactor(
        "uftokta000000000001", "token:software:totp", "OKTA", secret=DEFAULT_TOTP_SECRET
    )


def question() -> FakeFactor:
    return FakeFactor("ufsquestion00000001", "question", "OKTA", passcode="broccoli")


def posts(okta: FakeOkta, name: str) -> list[dict[str, Any]]:
    return [body for form, body in okta.idx_posts if form == name]


def test_fill_form_refuses_what_the_form_does_not_declare() -> None:
    form = {
        "name": "authenticator-verification-data",
        "value": [
            {
                "name": "authenticator",
                "form": {
                    "value": [
                        {"name": "id", "required": True, "value": "aut1", "mutable": False},
                        {"name": "methodType", "required": True, "options": [{"value": "voice"}]},
                    ]
                },
            },
            HANDLE,
        ],
    }
    assert fill_form(form, {"authenticator": {"methodType": "voice"}}) == {
        "authenticator": {"id": "aut1", "methodType": "voice"},
        "stateHandle": "02abc",
    }
    with pytest.raises(OktaError, match="offers no 'sms'"):
        fill_form(form, {"authenticator": {"methodType": "sms"}})
    with pytest.raises(OktaError, match="no field 'phoneNumber'"):
        fill_form(form, {"authenticator": {"methodType": "voice", "phoneNumber": "1"}})
    with pytest.raises(OktaError, match="does not let okenv change 'id'"):
        fill_form(form, {"authenticator": {"id": "aut2", "methodType": "voice"}})
    with pytest.raises(OktaError, match="no field 'rememberMe'"):
        fill_form(form, {"rememberMe": True})


def test_messages_of_every_class_and_key_only_fallback() -> None:
    from okenv.okta.idx_forms import messages

    doc = {
        "messages": {
            "value": [
                {"message": "Heads up\x1b]0;pwned\x07", "class": "INFO", "i18n": {"key": "a"}},
                {"class": "WARNING", "i18n": {"key": "idx.unknown.user"}},
            ]
        }
    }
    found = messages(doc)
    assert [(m.cls, m.key) for m in found] == [("INFO", "a"), ("WARNING", "idx.unknown.user")]
    assert "\x1b" not in found[0].text and "\x07" not in found[0].text
    assert "idx.unknown.user" in found[1].text


def test_idx_okta_verify_code_goes_in_credentials_totp(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(ov_totp(), google())]
    run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET, factor="okta-totp")
    [answer] = posts(idx_okta, "challenge-authenticator")
    assert set(answer["credentials"]) == {"totp"}
    assert idx_okta.last(path="/idp/idx/challenge").json["authenticator"]["methodType"] == "totp"


@pytest.mark.parametrize(
    ("kind", "factor", "method"),
    [("email", "auto", "email"), ("call", "auto", "voice"), ("sms", "call", "sms")],
)
def test_idx_verification_data_from_the_forms_options(
    idx_okta: FakeOkta, kind: str, factor: str, method: str
) -> None:
    idx_okta.idx_verification_data = True
    idx_okta.users = [user_with(sent(kind))]
    run(idx_okta, ScriptedPrompter(["424242"]), factor=factor)
    [data] = posts(idx_okta, "authenticator-verification-data")
    assert data["authenticator"]["methodType"] == method  # the only option, whatever factor says


def test_idx_verification_data_honours_factor_among_options(idx_okta: FakeOkta) -> None:
    idx_okta.idx_verification_data = True
    idx_okta.users = [user_with(sent("sms"), sent("call"))]
    run(idx_okta, ScriptedPrompter(["424242"], choices=[0]), factor="call")
    [data] = posts(idx_okta, "authenticator-verification-data")
    assert data["authenticator"]["methodType"] == "voice"


def test_idx_push_with_auto_challenge_off(idx_okta: FakeOkta) -> None:
    idx_okta.idx_push_auto_challenge = False
    idx_okta.users = [user_with(push(["WAITING", "SUCCESS"]))]
    run(idx_okta, factor="push")
    [data] = posts(idx_okta, "authenticator-verification-data")
    assert data["authenticator"]["methodType"] == "push"
    assert data["authenticator"]["autoChallenge"] is False  # the form's default, carried
    assert idx_okta.count(path="/idp/idx/authenticators/poll") == 2


@pytest.mark.parametrize("knob", ["idx_optional_enroll", "idx_passkey_promotion"])
def test_idx_optional_steps_are_skipped(idx_okta: FakeOkta, knob: str) -> None:
    setattr(idx_okta, knob, True)
    prompter = ScriptedPrompter()
    run(idx_okta, prompter, totp_secret=DEFAULT_TOTP_SECRET)
    assert len(posts(idx_okta, "skip")) == 1
    assert any("skipped Okta's optional" in line for line in prompter.lines)


@pytest.mark.parametrize(("setting", "posted"), [(None, False), (True, True), (False, False)])
def test_idx_keep_me_signed_in(idx_okta: FakeOkta, setting: bool | None, posted: bool) -> None:
    idx_okta.idx_keep_me_signed_in = True
    run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET, okta_keep_signed_in=setting)
    assert idx_okta.idx_kmsi == [posted]


def test_idx_fastpass_probe_is_cancelled(idx_okta: FakeOkta) -> None:
    idx_okta.idx_device_probe = True
    run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)
    assert [name for name, _ in idx_okta.idx_posts][:2] == ["cancel-polling", "identify"]
    assert idx_okta.count(path="/idp/idx/authenticators/poll/cancel") == 1


@pytest.mark.parametrize("first", ["webauthn", "duo"])
def test_idx_unanswerable_challenge_picks_another(idx_okta: FakeOkta, first: str) -> None:
    other = {
        "webauthn": FakeFactor("fwf00000000000000001", "webauthn", "FIDO"),
        "duo": FakeFactor("dsf00000000000000001", "web", "DUO"),
    }[first]
    idx_okta.idx_first_challenge = first
    idx_okta.users = [user_with(other, google())]
    prompter = ScriptedPrompter()
    run(idx_okta, prompter, totp_secret=DEFAULT_TOTP_SECRET)
    [select] = posts(idx_okta, "select-authenticator-authenticate")
    assert select["authenticator"]["methodType"] == "otp"
    assert len(posts(idx_okta, "challenge-authenticator")) == 1
    assert any("choosing another" in line for line in prompter.lines)


def test_idx_unanswerable_challenge_without_another_names_the_enrolled(
    idx_okta: FakeOkta,
) -> None:
    idx_okta.idx_first_challenge = "duo"
    idx_okta.users = [user_with(FakeFactor("dsf00000000000000001", "web", "DUO"))]
    with pytest.raises(AuthenticationError) as caught:
        run(idx_okta)
    assert "enrolled: Duo" in caught.value.message


def test_idx_security_key_challenge_without_a_registered_key(idx_okta: FakeOkta) -> None:
    idx_okta.idx_first_challenge = "webauthn"  # Okta lists no credentialId for it
    idx_okta.users = [user_with(FakeFactor("fwf00000000000000001", "webauthn", "FIDO"))]
    with pytest.raises(SecurityKeyError, match="Okta lists no security key"):
        run(idx_okta)


def test_idx_security_question_typed_and_from_the_environment(idx_okta: FakeOkta) -> None:
    idx_okta.users = [user_with(question())]
    prompter = ScriptedPrompter(["wrong", "broccoli"])
    run(idx_okta, prompter)
    assert "What is the food you least liked as a child?" in prompter.asked[0]
    answers = posts(idx_okta, "challenge-authenticator")
    assert [a["credentials"] for a in answers] == [
        {"questionKey": "disliked_food", "answer": "wrong"},
        {"questionKey": "disliked_food", "answer": "broccoli"},
    ]
    idx_okta.idx_posts.clear()
    run(idx_okta, ScriptedPrompter(interactive=False), security_answer="broccoli")
    assert len(posts(idx_okta, "challenge-authenticator")) == 1


def test_idx_question_without_an_answer_picks_another(idx_okta: FakeOkta) -> None:
    idx_okta.idx_first_challenge = "security_question"
    idx_okta.users = [user_with(question(), google())]
    run(idx_okta, ScriptedPrompter(interactive=False), totp_secret=DEFAULT_TOTP_SECRET)
    [select] = posts(idx_okta, "select-authenticator-authenticate")
    assert select["authenticator"]["methodType"] == "otp"


def test_idx_unknown_user_is_okta_s_warning(idx_okta: FakeOkta) -> None:
    idx_okta.idx_identify_with_password = False
    with pytest.raises(
        AuthenticationError, match=r"^Okta: There is no account with the Username nobody@x\.$"
    ):
        run(idx_okta, username="nobody@x")


def test_idx_access_denied_beside_success(idx_okta: FakeOkta) -> None:
    from okenv.errors import AuthorizationError

    idx_okta.idx_access_denied = True
    with pytest.raises(AuthorizationError, match="do not have permission"):
        run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)
    assert idx_okta.count(path="/login/token/redirect") == 0


def test_idx_replayed_typed_code_is_asked_again(idx_okta: FakeOkta) -> None:
    idx_okta.reject_replayed_codes = True
    run(idx_okta, totp_secret=DEFAULT_TOTP_SECRET)
    used = posts(idx_okta, "challenge-authenticator")[0]["credentials"]["passcode"]
    prompter = ScriptedPrompter([used, NoInputError("the user stops here")])
    with pytest.raises(NoInputError):
        run(idx_okta, prompter)
    assert len(prompter.asked) == 2
    assert any("can only be used once" in line and "left" in line for line in prompter.lines)


def test_idx_hostile_refresh_is_clamped_within_the_push_deadline(idx_okta: FakeOkta) -> None:
    idx_okta.idx_poll_refresh_ms = 3_600_000_000
    idx_okta.users = [user_with(push(["WAITING"]))]
    clock = FakeClock()
    with pytest.raises(AuthenticationError, match="not answered within 25 s"):
        run(idx_okta, clock=clock, push_timeout=25)
    assert clock.sleeps == [10.0, 10.0, 5.0]
    idx_okta.idx_poll_refresh_ms = 0  # nor hammered: the setting, not zero
    clock = FakeClock()
    with pytest.raises(AuthenticationError):
        run(idx_okta, clock=clock, push_timeout=4)
    assert clock.sleeps == [2.0, 2.0]
