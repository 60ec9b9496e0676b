"""The Okta sign-in in process against the fake org (a real HTTP server on loopback): every
Classic factor and status, app-level step-up, rate limits, session reuse, engine choice.

Waits are injected: polls sleep on a fake clock, so nothing here sleeps for real."""

from __future__ import annotations

import re
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from okenv.config import Profile
from okenv.errors import AuthenticationError, Interrupted, NoInputError, OktaError
from okenv.okta.mfa import Waits, totp_code
from okenv.okta.pages import SamlForm
from okenv.okta.session import SessionStore
from okenv.okta.signin import OktaOptions, sign_in
from okenv.prompt import StatusLine
from tests.fakes.okta import (
    DEFAULT_PASSWORD,
    DEFAULT_TOTP_SECRET,
    DEFAULT_USERNAME,
    FakeFactor,
    FakeOkta,
    FakeUser,
    totp_now,
)

VERIFY = r"/api/v1/authn/factors/[^/]+/verify"


class ScriptedPrompter:
    """A prompter that answers from a script and records what it was shown."""

    def __init__(
        self,
        answers: Sequence[str | Exception] = (),
        choices: Sequence[int] = (),
        interactive: bool = True,
    ) -> None:
        self.answers = list(answers)
        self.choices = list(choices)
        self.interactive = interactive
        self.asked: list[str] = []
        self.menus: list[list[str]] = []
        self.lines: list[str] = []
        self.statuses: list[str] = []

    def ask(self, label: str, *, secret: bool = False) -> str:
        self.asked.append(label)
        if not self.interactive:
            raise NoInputError(f"{label} needed")
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer

    def choose(self, title: str, options: Sequence[str]) -> int:
        self.menus.append(list(options))
        return self.choices.pop(0)

    def info(self, message: str) -> None:
        # The prefix is the prompter's to add (okenv.report.prefixed): no caller types it.
        assert not message.startswith("okenv:"), message
        self.lines.append(message)

    def plain(self, message: str) -> None:
        self.lines.append(message)

    @contextmanager
    def status(self, message: str) -> Iterator[StatusLine]:
        self.statuses.append(message)
        prompter = self

        class Line:
            def update(self, message: str) -> None:
                prompter.statuses.append(message)

            def note(self, message: str) -> None:
                prompter.info(message)

        yield Line()


class FakeClock:
    """Monotonic time that moves only when the code under test sleeps."""

    def __init__(self, on_sleep: list[float] | None = None) -> None:
        self.now = 0.0
        self.sleeps: list[float] = [] if on_sleep is None else on_sleep

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now

    def wall(self) -> float:
        """Wall time for TOTP steps: real time plus what the code under test slept."""
        return time.time() + self.now


def profile_for(okta: FakeOkta, **changes: object) -> Profile:
    values: dict[str, object] = {
        "name": "p",
        "app_url": okta.app_url,
        "username": DEFAULT_USERNAME,
        "timeout": 5.0,
    }
    values.update(changes)
    return Profile(**values)  # type: ignore[arg-type]


def run(
    okta: FakeOkta,
    prompter: ScriptedPrompter | None = None,
    *,
    totp_secret: str | None = None,
    store: SessionStore | None = None,
    clock: FakeClock | None = None,
    push_timeout: float = 300,
    username: str = DEFAULT_USERNAME,
    security_answer: str | None = None,
    **profile: object,
) -> SamlForm:
    clock = clock or FakeClock()
    return sign_in(
        profile_for(okta, **profile),
        username=username,
        password=lambda: DEFAULT_PASSWORD,
        totp_secret=totp_secret,
        security_answer=security_answer,
        prompter=prompter or ScriptedPrompter(),
        options=OktaOptions(
            waits=Waits(
                poll_interval=2.0,
                push_timeout=push_timeout,
                sleep=clock.sleep,
                clock=clock,
                wall=clock.wall,
            ),
            store=store,
        ),
    )


def user_with(*factors: FakeFactor, status: str | None = None) -> FakeUser:
    return FakeUser(DEFAULT_USERNAME, DEFAULT_PASSWORD, list(factors), status)


def google(secret: str = DEFAULT_TOTP_SECRET) -> FakeFactor:
    return FakeFactor("uftgoogle00000000001", "token:software:totp", "GOOGLE", secret=secret)


def push(results: list[str] | None = None, answer: int | None = None) -> FakeFactor:
    return FakeFactor(
        "opfpush0000000000001",
        "push",
        "OKTA",
        push_results=results or ["WAITING", "WAITING", "SUCCESS"],
        push_correct_answer=answer,
    )


def sent(kind: str) -> FakeFactor:
    return FakeFactor(f"{kind[:3]}factor00000000001", kind, "OKTA", passcode="424242")


def verifies(okta: FakeOkta) -> int:
    return okta.count(path_regex=VERIFY)


# -- passcode factors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("factor_type", "provider", "preference"),
    [
        ("token:software:totp", "GOOGLE", "google-totp"),
        ("token:software:totp", "OKTA", "okta-totp"),
        ("token:software:totp", "GOOGLE", "totp"),
        ("token:hotp", "CUSTOM", "totp"),
        ("token:hardware", "YUBICO", "hardware"),
        ("token", "RSA", "hardware"),
        ("token", "SYMANTEC", "hardware"),
    ],
)
def test_passcode_factors(
    fake_okta: FakeOkta, factor_type: str, provider: str, preference: str
) -> None:
    factor = FakeFactor("ufx00000000000000001", factor_type, provider, passcode="123456")
    fake_okta.users = [user_with(factor, sent("sms"))]
    prompter = ScriptedPrompter(["123456"])
    form = run(fake_okta, prompter, factor=preference)
    assert form.saml_response == fake_okta.saml_responses[-1]
    assert len(prompter.asked) == 1 and prompter.asked[0].startswith("MFA code (")
    body = fake_okta.last(path_regex=VERIFY).json
    assert body["passCode"] == "123456"


def test_totp_from_the_seed_and_provider_choice(fake_okta: FakeOkta) -> None:
    okta_totp = FakeFactor("uftokta0000000000001", "token:software:totp", "OKTA", secret="X" * 16)
    fake_okta.users = [user_with(okta_totp, google(), push())]
    prompter = ScriptedPrompter()
    run(fake_okta, prompter, totp_secret=DEFAULT_TOTP_SECRET, factor="google-totp")
    assert fake_okta.last(path_regex=VERIFY).path.endswith("/uftgoogle00000000001/verify")
    assert prompter.asked == []


def test_wrong_code_is_asked_again(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(google())]
    wrong = "000000" if totp_now() != "000000" else "111111"
    prompter = ScriptedPrompter([wrong, totp_now()])
    run(fake_okta, prompter)
    assert any("not accepted; try again (2 left)" in line for line in prompter.lines)
    assert verifies(fake_okta) == 2


def test_wrong_seed_fails_once(fake_okta: FakeOkta) -> None:
    with pytest.raises(AuthenticationError, match="not accepted") as caught:
        run(fake_okta, totp_secret="GEZDGNBVGY3TQOJQGEZDGNBVGY")
    assert "OKENV_TOTP_SECRET" in (caught.value.hint or "")
    assert verifies(fake_okta) == 1


# -- choosing ---------------------------------------------------------------------------------


def test_auto_prefers_totp_with_a_seed_then_push(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(sent("sms"), push(["SUCCESS"]), google())]
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    assert "uftgoogle" in fake_okta.last(path_regex=VERIFY).path
    run(fake_okta)
    assert "opfpush" in fake_okta.last(path_regex=VERIFY).path


def test_menu_shows_devices_and_names_unsupported(fake_okta: FakeOkta) -> None:
    key = FakeFactor("fuf00000000000000001", "u2f", "FIDO")
    fake_okta.users = [user_with(key, sent("sms"), google(), sent("email"))]
    prompter = ScriptedPrompter([totp_now()], choices=[1])
    run(fake_okta, prompter)
    [menu] = prompter.menus
    assert menu == [
        "SMS — +1 XXX-XXX-4321",
        "Google Authenticator",
        "Email — a...@example.com",
    ]
    assert any("not offered" in line and "u2f" in line for line in prompter.lines)


@pytest.mark.parametrize("kind", ["u2f", "web"])
def test_only_unsupported_factors(fake_okta: FakeOkta, kind: str) -> None:
    provider = {"u2f": "FIDO", "web": "DUO"}[kind]
    fake_okta.users = [user_with(FakeFactor("fwf00000000000000001", kind, provider))]
    with pytest.raises(AuthenticationError, match=f"can be used by okenv.*{kind}"):
        run(fake_okta)


def test_preference_that_matches_nothing(fake_okta: FakeOkta) -> None:
    with pytest.raises(AuthenticationError, match="factor = 'push'") as caught:
        run(fake_okta, factor="push")
    assert "Google Authenticator" in (caught.value.hint or "")


# -- push -------------------------------------------------------------------------------------


def test_push_polls_until_approved(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(push(["WAITING", "WAITING", "SUCCESS"]))]
    prompter = ScriptedPrompter()
    clock = FakeClock()
    run(fake_okta, prompter, clock=clock, factor="push")
    assert prompter.statuses == ["Approve the push on Alice's iPhone…"]
    assert verifies(fake_okta) == 3  # send, poll, poll
    assert clock.sleeps == [2.0, 2.0]


def test_push_number_challenge_is_shown_once(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(push(["WAITING", "WAITING", "SUCCESS"], answer=92))]
    prompter = ScriptedPrompter()
    run(fake_okta, prompter)
    shown = [line for line in prompter.lines if "92" in line]
    assert len(shown) == 1 and "tap  92" in shown[0] and "Alice's iPhone" in shown[0]


@pytest.mark.parametrize(("result", "needle"), [("REJECTED", "rejected"), ("TIMEOUT", "timed out")])
def test_push_rejected_or_timed_out(fake_okta: FakeOkta, result: str, needle: str) -> None:
    fake_okta.users = [user_with(push(["WAITING", result]))]
    with pytest.raises(AuthenticationError, match=needle) as caught:
        run(fake_okta)
    assert caught.value.exit_code == 3


def test_push_wait_is_bounded(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(push(["WAITING"]))]
    clock = FakeClock()
    with pytest.raises(AuthenticationError, match="not answered within 10 s"):
        run(fake_okta, clock=clock, push_timeout=10)
    assert clock.sleeps == [2.0] * 5
    assert fake_okta.count(path="/api/v1/authn/cancel") == 1


def test_ctrl_c_during_push_cancels(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(push(["WAITING"]))]
    clock = FakeClock()

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    clock.sleep = interrupt  # type: ignore[method-assign]
    with pytest.raises(Interrupted):
        run(fake_okta, clock=clock)
    assert fake_okta.count(path="/api/v1/authn/cancel") == 1
    assert not fake_okta.transactions  # the transaction is over at Okta


# -- SMS, call, email -------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["sms", "call", "email"])
def test_sent_codes_with_one_resend(fake_okta: FakeOkta, kind: str) -> None:
    fake_okta.users = [user_with(sent(kind))]
    prompter = ScriptedPrompter(["", "424242"])
    run(fake_okta, prompter, factor=kind)
    assert "empty to send a new one" in prompter.asked[0]
    assert "empty to send" not in prompter.asked[1]
    assert fake_okta.count(path_regex=VERIFY + "/resend") == 1
    assert any("sent a new code" in line for line in prompter.lines)
    [tx_state] = [r for r in fake_okta.find(path_regex=VERIFY) if r.json.get("passCode")]
    assert tx_state.json["passCode"] == "424242"


def test_sent_code_wrong_then_right(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(sent("sms"))]
    prompter = ScriptedPrompter(["111111", "424242"])
    run(fake_okta, prompter)
    assert any("try again" in line for line in prompter.lines)


# -- statuses ---------------------------------------------------------------------------------


def test_password_warn_is_skipped(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(google(), status="PASSWORD_WARN")]
    prompter = ScriptedPrompter()
    run(fake_okta, prompter, totp_secret=DEFAULT_TOTP_SECRET)
    assert any("expires soon" in line for line in prompter.lines)
    assert fake_okta.count(path="/api/v1/authn/skip") == 1


@pytest.mark.parametrize(
    ("status", "needle"),
    [
        ("PASSWORD_EXPIRED", "password has expired"),
        ("MFA_ENROLL", "enroll"),
        ("LOCKED_OUT", "locked out"),
    ],
)
def test_statuses_that_stop(fake_okta: FakeOkta, status: str, needle: str) -> None:
    fake_okta.users = [user_with(google(), status=status)]
    with pytest.raises(AuthenticationError, match=needle):
        run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_unknown_status(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(google(), status="FROBNICATED")]
    with pytest.raises(OktaError, match="FROBNICATED"):
        run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)


def test_app_level_mfa_on_the_embed_link(fake_okta: FakeOkta) -> None:
    """Password-only org policy, MFA required by the app: the app's stateToken page."""
    fake_okta.org_mfa = False
    fake_okta.app_mfa = True
    form = run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    assert form.saml_response == fake_okta.saml_responses[-1]
    assert verifies(fake_okta) == 1
    assert fake_okta.count(path="/login/step-up/redirect") == 1
    state_calls = [r for r in fake_okta.find(path="/api/v1/authn") if "username" not in r.json]
    assert len(state_calls) == 1


def test_step_up_unauthenticated_when_the_saved_session_is_gone(
    fake_okta: FakeOkta, tmp_path: Path
) -> None:
    store = SessionStore(tmp_path / "okta")
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    fake_okta.sessions.clear()  # Okta ended the session (admin, idle timeout)
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    assert verifies(fake_okta) == 2
    step_up = [r for r in fake_okta.find(path="/api/v1/authn") if "stateToken" in r.json]
    assert [sorted(r.json) for r in step_up] == [
        ["stateToken"],
        ["password", "stateToken", "username"],
    ]
    assert fake_okta.count(path="/login/step-up/redirect") == 1


# -- rate limits ------------------------------------------------------------------------------


def test_rate_limit_waits_for_the_reset_and_retries_once(fake_okta: FakeOkta) -> None:
    fake_okta.rate_limit_reset_in = 3
    fake_okta.fail("/api/v1/authn", 429, times=1)
    prompter = ScriptedPrompter()
    clock = FakeClock()
    run(fake_okta, prompter, clock=clock, totp_secret=DEFAULT_TOTP_SECRET)
    assert fake_okta.count(path="/api/v1/authn") == 2
    [wait] = clock.sleeps
    assert 2 <= wait <= 3.5
    assert any("rate limit" in line and "retrying in" in line for line in prompter.lines)


def test_rate_limit_twice_is_an_error(fake_okta: FakeOkta) -> None:
    fake_okta.rate_limit_reset_in = 1
    fake_okta.fail("/api/v1/authn", 429, times=2)
    with pytest.raises(OktaError, match="rate limit"):
        run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    assert fake_okta.count(path="/api/v1/authn") == 2


def test_rate_limit_too_far_away_is_not_waited_for(fake_okta: FakeOkta) -> None:
    fake_okta.rate_limit_reset_in = 3600
    fake_okta.fail("/api/v1/authn", 429, times=1)
    clock = FakeClock()
    with pytest.raises(OktaError, match="rate limit"):
        run(fake_okta, clock=clock, totp_secret=DEFAULT_TOTP_SECRET)
    assert clock.sleeps == []


# -- sessions ---------------------------------------------------------------------------------


def test_session_is_kept_privately_and_reused(fake_okta: FakeOkta, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "okta")
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    [saved] = store.sessions()
    assert saved.cookie == "sid" and saved.value in fake_okta.sessions
    directory = tmp_path / "okta"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for path in directory.glob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert DEFAULT_PASSWORD not in path.read_text()
    prompter = ScriptedPrompter(interactive=False)
    for _ in range(2):
        run(fake_okta, prompter, store=store)  # no password, no MFA: the session does it
    assert verifies(fake_okta) == 1
    assert fake_okta.count(path="/api/v1/authn") == 1


def test_expired_session_is_not_tried(fake_okta: FakeOkta, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "okta")
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    [saved] = store.sessions()
    assert store.load(saved.org, saved.username, now=saved.expires_at + 1) is None
    assert store.sessions() == []


def test_sessions_are_per_user(fake_okta: FakeOkta, tmp_path: Path) -> None:
    bob = FakeUser("bob@example.com", DEFAULT_PASSWORD, [google()])
    fake_okta.users = [*fake_okta.users, bob]
    store = SessionStore(tmp_path / "okta")
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store, username="bob@example.com")
    assert verifies(fake_okta) == 2
    assert len(store.sessions()) == 2


# -- engines ----------------------------------------------------------------------------------


def test_engine_detection_is_cached_per_org(fake_okta: FakeOkta, tmp_path: Path) -> None:
    store = SessionStore(tmp_path / "okta")
    for _ in range(2):
        run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, store=store)
        for saved in store.sessions():  # nothing to reuse: every run signs in
            store.forget(saved.org, saved.username)
    assert verifies(fake_okta) == 2
    assert fake_okta.count(path="/.well-known/okta-organization") == 1
    assert store.engine(fake_okta.url) == "classic"


def test_forced_engine_skips_detection(fake_okta: FakeOkta) -> None:
    fake_okta.pipeline = "idx"
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, engine="classic")
    assert fake_okta.count(path="/.well-known/okta-organization") == 0
    assert fake_okta.count(path_prefix="/idp/idx/") == 0


def test_totp_code_matches_the_fake() -> None:
    assert totp_code(DEFAULT_TOTP_SECRET) == totp_now()


# -- the spinner --------------------------------------------------------------------------------


def test_terminal_status_spinner_restores_the_line() -> None:
    import os

    from okenv.prompt import TerminalPrompter, status

    read_end, write_end = os.pipe()
    prompter = TerminalPrompter(read_end, write_end)
    with pytest.raises(KeyboardInterrupt), status(prompter, "Approve the push on X…") as line:
        line.note("tap 42")
        prompter.info("a message")
        raise KeyboardInterrupt
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        output = pipe.read().decode()
    assert output.startswith("\x1b[?25l")  # cursor hidden while spinning
    assert "Approve the push on X…" in output
    assert "\r\x1b[2Kokenv: tap 42\n" in output and "\r\x1b[2Kokenv: a message\n" in output
    assert output.endswith("\r\x1b[2K\x1b[?25h")  # line cleared, cursor back


def test_plain_status_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from okenv.prompt import NoInputPrompter, status

    with status(NoInputPrompter(), "Approve the push on X…") as line:
        line.note("tap 42")
    assert capsys.readouterr().err == "okenv: Approve the push on X…\nokenv: tap 42\n"


# -- security question, code reuse (issue 10) --------------------------------------------------


def question() -> FakeFactor:
    return FakeFactor("ufsquestion00000001", "question", "OKTA", passcode="broccoli")


def test_security_question_typed_then_from_the_environment(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(question())]
    prompter = ScriptedPrompter(["spinach", "broccoli"])
    run(fake_okta, prompter, factor="question")
    assert prompter.asked[0] == ("Security question: What is the food you least liked as a child? ")
    assert any("answer was not accepted; try again (2 left)" in line for line in prompter.lines)
    bodies = [r.json for r in fake_okta.requests if re.search(VERIFY, r.path)]
    assert [set(b) for b in bodies] == [{"stateToken", "answer"}] * 2
    run(fake_okta, ScriptedPrompter(interactive=False), security_answer="broccoli")
    assert verifies(fake_okta) == 3


def test_security_question_without_an_answer_is_not_offered(fake_okta: FakeOkta) -> None:
    fake_okta.users = [user_with(question(), google())]
    run(fake_okta, ScriptedPrompter(interactive=False), totp_secret=DEFAULT_TOTP_SECRET)
    assert fake_okta.last(path_regex=VERIFY).path.endswith("uftgoogle00000000001/verify")


def sent_codes(okta: FakeOkta) -> list[str]:
    """The codes okenv sent, on either engine."""
    classic = [r.json["passCode"] for r in okta.requests if re.search(VERIFY, r.path)]
    idx = [
        b["credentials"]["passcode"] for f, b in okta.idx_posts if f == "challenge-authenticator"
    ]
    return classic + idx


@pytest.mark.parametrize("pipeline", ["v1", "idx"])
def test_replayed_seed_code_waits_for_the_next_step(fake_okta: FakeOkta, pipeline: str) -> None:
    fake_okta.pipeline = pipeline
    fake_okta.reject_replayed_codes = True
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    clock = FakeClock()
    prompter = ScriptedPrompter(interactive=False)
    run(fake_okta, prompter, totp_secret=DEFAULT_TOTP_SECRET, clock=clock)
    [waited] = clock.sleeps
    assert 0 < waited <= 31
    [status] = prompter.statuses
    assert re.fullmatch(r"waiting \d+ s for the next code…", status)
    codes = sent_codes(fake_okta)
    assert len(codes) == 3 and codes[0] == codes[1] != codes[2]


def test_replayed_seed_code_waits_once_only(fake_okta: FakeOkta) -> None:
    fake_okta.reject_replayed_codes = True
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    clock = FakeClock()
    clock.wall = time.time  # type: ignore[method-assign]  # the sleep does not move the codes
    with pytest.raises(AuthenticationError, match="already used"):
        run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET, clock=clock)
    assert len(clock.sleeps) == 1


def test_replayed_typed_code_is_asked_again(fake_okta: FakeOkta) -> None:
    fake_okta.reject_replayed_codes = True
    run(fake_okta, totp_secret=DEFAULT_TOTP_SECRET)
    used = fake_okta.last(path_regex=VERIFY).json["passCode"]
    prompter = ScriptedPrompter([used, NoInputError("the user stops here")])
    with pytest.raises(NoInputError):
        run(fake_okta, prompter)
    assert any("already used; try again (2 left)" in line for line in prompter.lines)


def test_menu_tells_identical_entries_apart(fake_okta: FakeOkta) -> None:
    keys = [
        FakeFactor(f"ykf{n}0000000000000001", "token:hardware", "YUBICO", passcode="cccccc")
        for n in (1, 2)
    ]
    fake_okta.users = [user_with(*keys)]
    prompter = ScriptedPrompter(["cccccc"], choices=[1])
    run(fake_okta, prompter)
    assert prompter.menus == [["YubiKey", "YubiKey #2"]]
    assert fake_okta.last(path_regex=VERIFY).path.endswith("ykf20000000000000001/verify")
