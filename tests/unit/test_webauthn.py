"""okenv.webauthn against virtual CTAP2 keys (tests/fakes/ctap.py) and a Fido2Server verifier.

Every assertion okenv returns is checked by the relying party's verifier
(tests/fakes/webauthn.py): the key really produced it, for this origin and challenge.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from fido2.hid import CtapHidDevice

from okenv.errors import Interrupted, NoInputError, OktaError, SecurityKeyError
from okenv.webauthn.ceremony import SELECT_MESSAGE, TOUCH_MESSAGE, get_assertion
from okenv.webauthn.request import Request
from tests.fakes.ctap import Credential, KeyFile, VirtualKey, seam
from tests.fakes.webauthn import Challenge, Refused, Verifier
from tests.unit.test_okta_signin import ScriptedPrompter

ORG = "https://acme.okta.example"
HOST = "acme.okta.example"


class Rig:
    """Keys on a (virtual) USB bus, the org's verifier, and one request at a time."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        self.path = tmp_path / "keys.json"
        self.keyfile = KeyFile(self.path, [])
        self.verifier = Verifier(ORG)
        monkeypatch.setattr(CtapHidDevice, "list_devices", seam(self.path))

    def key(self, *, appid: str | None = None, **options: object) -> Credential:
        credential = Credential.new(appid or HOST)
        self.keyfile.keys.append(VirtualKey(credentials=[credential], **options))
        self.keyfile.save()
        self.verifier.enroll(credential, appid=appid)
        return credential

    def request(
        self, uv: str = "preferred", appid: str | None = None, origin: str = ORG
    ) -> tuple[Request, Challenge]:
        challenge = self.verifier.challenge(user_verification=uv)
        request = Request.for_org(origin, challenge.value, list(self.verifier.enrolled), uv, appid)
        return request, challenge

    def login(
        self,
        prompter: ScriptedPrompter,
        uv: str = "preferred",
        appid: str | None = None,
        timeout: float = 10.0,
    ) -> Credential:
        request, challenge = self.request(uv, appid)
        answer = get_assertion(request, prompter, timeout=timeout)
        enrolled = self.verifier.verify(
            challenge,
            answer.client_data,
            answer.authenticator_data,
            answer.signature,
        )
        assert enrolled.id == answer.credential_id
        return next(
            c for k in self.keyfile.reload().keys for c in k.credentials if c.id == enrolled.id
        )


def key_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("okenv-key")]


class CtrlC(ScriptedPrompter):
    def ask(self, label: str, *, secret: bool = False) -> str:
        raise KeyboardInterrupt


@pytest.fixture
def rig(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Rig:
    return Rig(tmp_path, monkeypatch)


def test_one_key_touch_gives_a_verified_assertion(rig: Rig) -> None:
    credential = rig.key()
    prompter = ScriptedPrompter()
    used = rig.login(prompter)
    assert used.id == credential.id and used.sign_count >= 1
    assert prompter.statuses[0] == TOUCH_MESSAGE
    assert prompter.asked == []  # no PIN set, preferred: nothing asked


def test_two_enrolled_only_the_second_plugged_in(rig: Rig) -> None:
    rig.key(plugged=False)
    second = rig.key()
    assert rig.login(ScriptedPrompter()).id == second.id


def test_two_plugged_in_the_touched_one_wins_the_other_is_cancelled(rig: Rig) -> None:
    rig.key(touch="never")
    touched = rig.key()
    assert rig.login(ScriptedPrompter()).id == touched.id


def test_unregistered_key_beside_a_registered_one(rig: Rig) -> None:
    stranger = Credential.new(HOST)  # on a key, but never enrolled with the org
    rig.keyfile.keys.append(VirtualKey(credentials=[stranger]))
    mine = rig.key(touch="never")
    rig.keyfile.keys[1].touch = "auto"
    rig.keyfile.save()
    prompter = ScriptedPrompter()
    assert rig.login(prompter).id == mine.id


def test_sign_count_moves_on_and_a_replay_is_refused(rig: Rig) -> None:
    rig.key()
    request, challenge = rig.request()
    answer = get_assertion(request, ScriptedPrompter(), timeout=10)
    first = rig.verifier.verify(
        challenge, answer.client_data, answer.authenticator_data, answer.signature
    ).sign_count
    with pytest.raises(Refused, match="already used"):
        rig.verifier.verify(
            challenge, answer.client_data, answer.authenticator_data, answer.signature
        )
    assert rig.login(ScriptedPrompter()).sign_count > first
    # Even where a challenge were accepted twice, the old counter gives the replay away.
    rig.verifier.reopen(challenge)
    with pytest.raises(Refused, match="counter"):
        rig.verifier.verify(
            challenge, answer.client_data, answer.authenticator_data, answer.signature
        )


def test_wrong_origin_or_forged_signature_is_refused(rig: Rig) -> None:
    rig.key()
    good, challenge = rig.request()
    request = Request("https://evil.example", HOST, good.challenge, good.credential_ids)
    answer = get_assertion(request, ScriptedPrompter(), timeout=10)
    with pytest.raises(Refused, match="origin"):
        rig.verifier.verify(
            challenge, answer.client_data, answer.authenticator_data, answer.signature
        )
    request, challenge = rig.request()
    answer = get_assertion(request, ScriptedPrompter(), timeout=10)
    forged = bytearray(answer.signature)
    forged[-1] ^= 1
    with pytest.raises(Refused, match="signature"):
        rig.verifier.verify(challenge, answer.client_data, answer.authenticator_data, bytes(forged))


def test_uv_required_asks_the_pin_and_sets_uv(rig: Rig) -> None:
    rig.key(pin="4321")
    prompter = ScriptedPrompter(["4321"])
    rig.login(prompter, uv="required")
    assert prompter.asked == ["Security key PIN: "]


def test_wrong_pin_then_right_pin(rig: Rig) -> None:
    rig.key(pin="4321")
    prompter = ScriptedPrompter(["0000", "4321"])
    rig.login(prompter, uv="required")
    assert prompter.asked == ["Security key PIN: ", "Security key PIN (7 tries left): "]
    assert "wrong PIN" in prompter.lines
    assert rig.keyfile.reload().keys[0].pin_retries == 8  # a right PIN resets the count


def test_three_wrong_pins_stop(rig: Rig) -> None:
    rig.key(pin="4321")
    with pytest.raises(SecurityKeyError, match="too many wrong PINs in a row") as caught:
        rig.login(ScriptedPrompter(["1", "2", "3"]), uv="required")
    assert "unplug" in (caught.value.hint or "")
    assert rig.keyfile.reload().keys[0].pin_retries == 5


def test_blocked_pin_is_not_asked_for(rig: Rig) -> None:
    rig.key(pin="4321", pin_retries=0)
    prompter = ScriptedPrompter()
    with pytest.raises(SecurityKeyError, match="PIN is blocked"):
        rig.login(prompter, uv="required")
    assert prompter.asked == []


def test_uv_required_without_a_pin_set(rig: Rig) -> None:
    rig.key()
    with pytest.raises(SecurityKeyError, match="no PIN set"):
        rig.login(ScriptedPrompter(), uv="required")


def test_uv_discouraged_never_asks_the_pin(rig: Rig) -> None:
    rig.key(pin="4321")
    prompter = ScriptedPrompter()
    rig.login(prompter, uv="discouraged")
    assert prompter.asked == []


def test_pin_needed_without_a_terminal(rig: Rig) -> None:
    rig.key(pin="4321")
    with pytest.raises(NoInputError):
        rig.login(ScriptedPrompter(interactive=False), uv="required")
    assert not key_threads()  # the key was told: nothing left waiting for a PIN


def test_u2f_registered_key_answers_through_appid(rig: Rig) -> None:
    appid = f"{ORG}/u2f/appid"
    credential = rig.key(appid=appid)
    assert rig.login(ScriptedPrompter(), appid=appid).id == credential.id


def test_appid_of_another_site_is_refused(rig: Rig) -> None:
    with pytest.raises(OktaError, match="another site"):
        Request.for_org(ORG, b"c" * 16, [b"x"], "preferred", "https://evil.example")


def test_no_key_plugged_in(rig: Rig) -> None:
    rig.key(plugged=False)
    with pytest.raises(SecurityKeyError, match="no security key found") as caught:
        rig.login(ScriptedPrompter())
    assert "--factor" in (caught.value.hint or "")


def test_key_not_registered(rig: Rig) -> None:
    rig.keyfile.keys.append(VirtualKey(credentials=[Credential.new(HOST)]))
    rig.keyfile.save()
    rig.verifier.enroll(Credential.new(HOST))
    with pytest.raises(SecurityKeyError, match="not registered"):
        rig.login(ScriptedPrompter())


def test_nobody_touches_within_the_deadline(rig: Rig) -> None:
    rig.key(touch="never")
    with pytest.raises(SecurityKeyError, match=r"not touched within 0\.5 s"):
        rig.login(ScriptedPrompter(), timeout=0.5)


def test_the_key_gives_up_by_itself(rig: Rig) -> None:
    rig.key(touch="timeout")
    with pytest.raises(SecurityKeyError, match="not touched"):
        rig.login(ScriptedPrompter())


def test_ctrl_c_at_the_pin_prompt_cancels(rig: Rig) -> None:
    rig.key(pin="4321")
    with pytest.raises(Interrupted):
        rig.login(CtrlC(), uv="required")
    assert not key_threads()


def test_unknown_user_verification_counts_as_preferred() -> None:
    request = Request.for_org(ORG, b"c" * 16, [b"x"], "sometimes")
    assert request.user_verification == "preferred"
    assert (request.rp_id, request.origin) == (HOST, ORG)


def test_two_keys_with_pins_the_touched_one_is_asked_for_its_pin(rig: Rig) -> None:
    rig.key(pin="1111", touch="never")
    chosen = rig.key(pin="2222")
    prompter = ScriptedPrompter(["2222"])
    assert rig.login(prompter, uv="required").id == chosen.id
    assert prompter.statuses[0] == SELECT_MESSAGE
    assert prompter.asked == ["Security key PIN: "]


def test_uv_preferred_on_a_key_with_a_pin_asks_it(rig: Rig) -> None:
    rig.key(pin="4321")
    prompter = ScriptedPrompter(["4321"])
    rig.login(prompter, uv="preferred")
    assert prompter.asked == ["Security key PIN: "]


def test_u2f_only_key_answers_through_appid(rig: Rig) -> None:
    appid = f"{ORG}/u2f/appid"
    credential = rig.key(appid=appid, u2f_only=True)
    prompter = ScriptedPrompter()
    assert rig.login(prompter, appid=appid).id == credential.id
    assert prompter.statuses[0] == TOUCH_MESSAGE
