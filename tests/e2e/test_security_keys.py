"""Security keys end to end: the installed okenv, virtual CTAP2 keys on its (virtual) USB
bus, and the fake org verifying every assertion with python-fido2's Fido2Server.

The keys come in through ``tests/fakes/ctap_site/sitecustomize.py`` on PYTHONPATH, which
replaces ``CtapHidDevice.list_devices`` once okenv imports fido2; okenv itself has no test
branch. The key file (``OKENV_TEST_CTAP``) is the keys' state: sign counts, PIN retries.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import OKENV, Sandbox
from tests.e2e.test_interactive import spawn
from tests.fakes.ctap import Credential, KeyFile, VirtualKey
from tests.fakes.okta import DEFAULT_PASSWORD, FakeFactor
from tests.fakes.okta import DEFAULT_TOTP_SECRET as SEED
from tests.fakes.okta_webauthn import add_key, enable
from tests.fakes.webauthn import Verifier

SITE = str(Path(__file__).resolve().parents[1] / "fakes" / "ctap_site")


@dataclass
class Keys:
    box: Sandbox
    file: KeyFile
    verifier: Verifier

    def add(self, *, enrolled: bool = True, appid: str | None = None, **key: object) -> Credential:
        credential = Credential.new(appid or "127.0.0.1")
        self.file.keys.append(VirtualKey(credentials=[credential], **key))  # type: ignore[arg-type]
        self.file.save()
        if enrolled:
            add_key(self.box.okta.users[0], self.verifier, credential, appid=appid)
        return credential

    def run(self, *args: str) -> tuple[int, str, str]:
        result = self.box.run(*args)
        return result.returncode, result.stdout, result.stderr


@pytest.fixture
def keys(sandbox: Sandbox, tmp_path: Path) -> Keys:
    sandbox.okta.users[0].factors.clear()  # only security keys unless a test adds more
    sandbox.env.update({"OKENV_TEST_CTAP": str(tmp_path / "keys.json"), "PYTHONPATH": SITE})
    sandbox.env.pop("OKENV_TOTP_SECRET", None)
    return Keys(sandbox, KeyFile(tmp_path / "keys.json", []), enable(sandbox.okta))


def test_classic_one_key(keys: Keys) -> None:
    keys.add()
    code, out, err = keys.run("env", "admin", "--shell", "bash")
    assert code == 0, err
    assert "export AWS_SESSION_TOKEN=" in out
    assert "Touch your security key" in err
    assert keys.verifier.verified == 1 and not keys.verifier.refusals


def test_classic_two_enrolled_only_the_second_plugged_in(keys: Keys) -> None:
    keys.add(plugged=False)
    second = keys.add()
    code, _, err = keys.run("login", "admin")
    assert code == 0, err
    assert keys.verifier.enrolled[second.id].sign_count > 0
    assert "touch it once more" in err  # its factor came second: Okta's own challenge
    assert keys.verifier.verified == 1 and not keys.verifier.refusals


def test_classic_two_plugged_in(keys: Keys) -> None:
    keys.add(touch="never")
    touched = keys.add()
    code, _, err = keys.run("login", "admin")
    assert code == 0, err
    assert keys.verifier.enrolled[touched.id].sign_count > 0


def test_classic_u2f_registered_key_through_appid(keys: Keys) -> None:
    credential = keys.add(appid=f"{keys.box.okta.url}/u2f-facets")
    code, _, err = keys.run("login", "admin")
    assert code == 0, err
    assert keys.verifier.enrolled[credential.id].sign_count > 0


def test_classic_no_key_plugged_in(keys: Keys) -> None:
    keys.add(plugged=False)
    keys.box.okta.users[0].factors.append(FakeFactor("sms1234567890abcdefg", "sms", "OKTA"))
    code, out, err = keys.run("login", "admin", "--factor", "security-key")
    assert (code, out) == (3, "")
    lines = err.splitlines()
    assert len(lines) == 2 and lines[0] == "okenv: no security key found", err
    assert "pick another enrolled factor with --factor" in lines[1]


def test_classic_key_that_nobody_touches_is_cancelled(keys: Keys) -> None:
    keys.add(touch="timeout")
    code, out, err = keys.run("login", "admin")
    assert (code, out) == (3, "")
    assert "the security key was not touched" in err and "Traceback" not in err


def test_session_reuse_asks_no_key(keys: Keys) -> None:
    keys.add()
    assert keys.run("login", "admin")[0] == 0
    keys.file.keys[0].touch = "never"  # a touch now would hang until okenv's deadline
    keys.file.save()
    code, _, err = keys.run("env", "readonly", "--shell", "bash")
    assert code == 0, err
    assert keys.verifier.verified == 1 and "Touch" not in err


def test_pin_on_the_terminal_then_touch(keys: Keys, tmp_path: Path) -> None:
    keys.add(pin="246810")
    enable(keys.box.okta, "required", keys.verifier)
    child = spawn(keys.box, f"{OKENV} login admin --debug", tmp_path / "out")
    child.logfile_read = transcript = io.StringIO()
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect("Security key PIN: ")
    child.sendline("246810")
    child.expect("valid until")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "246810" not in transcript.getvalue()  # not echoed, not in the --debug trace
    assert "POST" in transcript.getvalue()  # the trace was on


def test_ctrl_c_while_waiting_for_a_touch(keys: Keys, tmp_path: Path) -> None:
    keys.add(touch="never")
    out = tmp_path / "out"
    child = spawn(keys.box, f"{OKENV} env admin --shell bash", out)
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect("Touch your security key")
    child.sendintr()
    child.expect("okenv: cancelled at the security key")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert out.read_text() == ""


# -- Identity Engine ----------------------------------------------------------------------


@pytest.fixture
def idx_keys(keys: Keys) -> Keys:
    keys.box.okta.pipeline = "idx"
    return keys


def test_idx_uv_discouraged_asks_no_pin(idx_keys: Keys) -> None:
    idx_keys.verifier.user_verification = "discouraged"
    credential = idx_keys.add(pin="135790")
    code, out, err = idx_keys.run("env", "admin", "--shell", "bash")
    assert code == 0, err
    assert "export AWS_SESSION_TOKEN=" in out
    assert idx_keys.verifier.enrolled[credential.id].sign_count > 0
    assert idx_keys.box.okta.last(path="/idp/idx/challenge/answer").json["credentials"].keys() == {
        "clientData",
        "authenticatorData",
        "signatureData",
    }


def test_idx_two_enrolled_second_plugged_in_one_touch(idx_keys: Keys) -> None:
    idx_keys.add(plugged=False)
    # a U2F (CTAP1-only) key, registered under the org's appid
    second = idx_keys.add(appid=f"{idx_keys.box.okta.url}/u2f-facets", u2f_only=True)
    code, _, err = idx_keys.run("login", "admin")
    assert code == 0, err
    assert "once more" not in err  # IDX: one challenge for every enrolled key
    assert idx_keys.verifier.enrolled[second.id].sign_count > 0


def test_idx_uv_required_pin_on_the_terminal(idx_keys: Keys, tmp_path: Path) -> None:
    idx_keys.verifier.user_verification = "required"
    idx_keys.add(pin="135790")
    child = spawn(idx_keys.box, f"{OKENV} login admin", tmp_path / "out")
    child.expect("Okta password for alice@example.com: ")
    child.sendline(DEFAULT_PASSWORD)
    child.expect("Security key PIN: ")
    child.sendline("000000")
    child.expect("wrong PIN")
    child.expect(r"Security key PIN \(\d tries left\): ")
    child.sendline("135790")
    child.expect("valid until")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert idx_keys.verifier.verified == 1


def test_idx_blocked_pin_and_nothing_else_to_choose(idx_keys: Keys) -> None:
    idx_keys.verifier.user_verification = "required"
    idx_keys.add(pin="135790", pin_retries=0)
    code, out, err = idx_keys.run("login", "admin")
    assert (code, out) == (3, "")
    assert err.startswith("okenv: the security key's PIN is blocked"), err


def test_idx_no_key_picks_another_authenticator(idx_keys: Keys) -> None:
    okta = idx_keys.box.okta
    okta.idx_first_challenge = "webauthn"  # Okta challenges the key first
    idx_keys.add(plugged=False)
    okta.users[0].factors.append(
        FakeFactor("uftq1w2e3r4t5y6u7i8o", "token:software:totp", "GOOGLE", secret=SEED)
    )
    idx_keys.box.env["OKENV_TOTP_SECRET"] = SEED
    code, _, err = idx_keys.run("login", "admin")
    assert code == 0, err
    assert "okenv: no security key found; choosing another authenticator" in err
    assert okta.last(path="/idp/idx/challenge").json["authenticator"]["methodType"] == "otp"


def test_classic_key_okta_refuses_then_the_next_enrolled_key(keys: Keys) -> None:
    first, second = Credential.new("127.0.0.1"), Credential.new("127.0.0.1")
    keys.file.keys.append(VirtualKey(credentials=[first, second]))  # one key, two credentials
    keys.file.save()
    user = keys.box.okta.users[0]
    # Okta holds another public key for the first credential: its assertion cannot verify.
    add_key(user, keys.verifier, Credential(first.id, first.rp_id, Credential.new("x").private_key))
    add_key(user, keys.verifier, second)
    code, _, err = keys.run("login", "admin")
    assert code == 0, err
    assert "okenv: Okta refused that security key; trying the next one" in err
    assert keys.verifier.refusals == ["Invalid signature."]
    assert keys.verifier.verified == 1
