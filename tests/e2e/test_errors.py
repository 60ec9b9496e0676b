"""Every failure a user can meet: its exit code (SPEC.md), one clear stderr message, stdout
empty, no traceback, nothing cached."""

from __future__ import annotations

import base64
import socket
import threading
from collections.abc import Iterator

import pytest

from tests.e2e.conftest import ADMIN, Sandbox, config_text
from tests.fakes.okta import FakeUser, default_user


def assert_fails(box: Sandbox, code: int, *needles: str, args: tuple[str, ...] = ()) -> str:
    result = box.run(*(args or ("env", "admin", "--shell", "bash")))
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stdout == ""
    assert result.stderr.startswith("okenv: ")
    assert len(result.stderr.splitlines()) <= 2, result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    assert not list(box.cache_dir.glob("*.json")) if box.cache_dir.exists() else True
    return result.stderr


def with_status(status: str) -> FakeUser:
    user = default_user()
    user.status_after_password = status
    return user


# -- configuration: exit 2 ----------------------------------------------------------------


def test_unknown_profile(sandbox: Sandbox) -> None:
    assert_fails(sandbox, 2, "unknown profile 'nope'", "admin, pick, readonly", args=("nope",))


def test_bad_toml(sandbox: Sandbox) -> None:
    sandbox.write_config("[profiles.admin]\napp_url = \n")
    assert_fails(sandbox, 2, "invalid TOML", "line 2")


def test_missing_app_url(sandbox: Sandbox) -> None:
    sandbox.write_config("[profiles.admin]\nrole = 'x'\n")
    assert_fails(sandbox, 2, "no app_url")


def test_plain_http_off_loopback(sandbox: Sandbox) -> None:
    sandbox.write_config(config_text("http://acme.okta.com/home/amazon_aws/0oa1/272"))
    assert_fails(sandbox, 2, "must use https")


def test_bad_flag(sandbox: Sandbox) -> None:
    result = sandbox.run("env", "admin", "--frobnicate")
    assert result.returncode == 2 and result.stdout == ""


def test_bad_duration_flag(sandbox: Sandbox) -> None:
    assert_fails(sandbox, 2, "duration", args=("env", "admin", "--duration", "3d"))


def test_bad_shell_flag(sandbox: Sandbox) -> None:
    assert_fails(sandbox, 2, "tcsh", args=("env", "admin", "--shell", "tcsh"))


# -- authentication: exit 3 ---------------------------------------------------------------


def test_bad_password(sandbox: Sandbox) -> None:
    sandbox.env["OKENV_PASSWORD"] = "wrong"
    assert_fails(sandbox, 3, "rejected the username or password")


def test_locked_out(sandbox: Sandbox) -> None:
    sandbox.okta.users = [with_status("LOCKED_OUT")]
    assert_fails(sandbox, 3, "locked out")


def test_password_expired(sandbox: Sandbox) -> None:
    sandbox.okta.users = [with_status("PASSWORD_EXPIRED")]
    assert_fails(sandbox, 3, "password has expired")


def test_mfa_enroll(sandbox: Sandbox) -> None:
    sandbox.okta.users = [with_status("MFA_ENROLL")]
    assert_fails(sandbox, 3, "enroll")


def test_wrong_totp_secret_fails_at_once(sandbox: Sandbox) -> None:
    sandbox.env["OKENV_TOTP_SECRET"] = "GEZDGNBVGY3TQOJQGEZDGNBVGY"
    assert_fails(sandbox, 3, "MFA code was not accepted")
    verifies = [r for r in sandbox.okta.requests if r.path.endswith("/verify")]
    assert len(verifies) == 1


def test_totp_secret_not_base32(sandbox: Sandbox) -> None:
    sandbox.env["OKENV_TOTP_SECRET"] = "not base32 at all!"
    assert_fails(sandbox, 3, "OKENV_TOTP_SECRET")


def test_no_terminal_for_the_password(sandbox: Sandbox) -> None:
    del sandbox.env["OKENV_PASSWORD"]
    assert_fails(sandbox, 3, "password")


def test_no_input_for_the_code(sandbox: Sandbox) -> None:
    del sandbox.env["OKENV_TOTP_SECRET"]
    assert_fails(sandbox, 3, args=("env", "admin", "--no-input"))


def test_only_unsupported_factors(sandbox: Sandbox) -> None:
    user = default_user()
    for factor in user.factors:
        factor.factor_type = "u2f"
        factor.provider = "FIDO"
    sandbox.okta.users = [user]
    assert_fails(sandbox, 3, "u2f")


# -- authorization: exit 4 ----------------------------------------------------------------


def test_role_not_granted(sandbox: Sandbox) -> None:
    sandbox.okta.roles = sandbox.okta.roles[1:]
    assert_fails(sandbox, 4, ADMIN)


def test_sts_access_denied(sandbox: Sandbox) -> None:
    sandbox.sts.errors[ADMIN] = (
        "AccessDenied",
        403,
        "Not authorized to perform sts:AssumeRoleWithSAML",
    )
    assert_fails(sandbox, 4, "Not authorized to perform sts:AssumeRoleWithSAML")


# -- services: exit 5 ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InvalidIdentityToken", "Invalid SAML assertion signature"),
        ("ExpiredTokenException", "Token has expired"),
        ("IDPRejectedClaim", "The claim was rejected"),
        ("RegionDisabledException", "STS is not activated in this region"),
    ],
)
def test_sts_errors(sandbox: Sandbox, code: str, message: str) -> None:
    sandbox.sts.errors[ADMIN] = (
        code,
        400 if "Invalid" in code or "Expired" in code else 403,
        message,
    )
    assert_fails(sandbox, 5, message)


def test_sts_unreachable(sandbox: Sandbox) -> None:
    sandbox.env["AWS_ENDPOINT_URL_STS"] = f"http://127.0.0.1:{closed_port()}"
    assert_fails(sandbox, 5)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_okta_connection_refused(sandbox: Sandbox) -> None:
    port = closed_port()
    sandbox.write_config(config_text(f"http://127.0.0.1:{port}/home/amazon_aws/0oa1/272"))
    assert_fails(sandbox, 5, "cannot reach Okta")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(sock.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(sock.getsockname()[1])
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    sock.close()


def test_okta_read_timeout(sandbox: Sandbox, silent_server: int) -> None:
    url = f"http://127.0.0.1:{silent_server}/home/amazon_aws/0oa1/272"
    sandbox.write_config(config_text(url).replace("[defaults]", "[defaults]\ntimeout = 1"))
    assert_fails(sandbox, 5, "did not answer within 1 s")


@pytest.mark.parametrize("status", [500, 502, 503])
def test_okta_5xx(sandbox: Sandbox, status: int) -> None:
    sandbox.okta.fail("/api/v1/authn", status)
    assert_fails(sandbox, 5, f"HTTP {status}")


def test_okta_html_instead_of_json(sandbox: Sandbox) -> None:
    sandbox.okta.fail("/api/v1/authn", 200, body="<html><body>proxy login</body></html>")
    assert_fails(sandbox, 5, "where JSON was expected")


def test_unexpected_status(sandbox: Sandbox) -> None:
    sandbox.okta.users = [with_status("FROBNICATED")]
    assert_fails(sandbox, 5, "FROBNICATED")


@pytest.mark.parametrize(
    ("mode", "needle"),
    [
        ("no-form", "without a SAML form"),
        ("error-page", "error page"),
        ("signin-page", "sign-in page"),
    ],
)
def test_app_link_without_form(sandbox: Sandbox, mode: str, needle: str) -> None:
    sandbox.okta.embed_mode = mode  # type: ignore[assignment]
    assert_fails(sandbox, 5, needle)


@pytest.mark.parametrize(
    "value",
    ["", "not base64!!", base64.b64encode(b"<notxml").decode()],
)
def test_broken_saml_response(sandbox: Sandbox, value: str) -> None:
    sandbox.okta.saml_response_override = value
    assert_fails(sandbox, 5)


def test_assertion_without_roles(sandbox: Sandbox) -> None:
    sandbox.okta.roles = []
    assert_fails(sandbox, 5, "Role")


def test_redirect_to_another_host(sandbox: Sandbox) -> None:
    from tests.fakes.http import redirect

    app_path = sandbox.okta.app_url.removeprefix(sandbox.okta.url)
    sandbox.okta.add_route("GET", app_path, lambda request: redirect("http://127.0.0.2:9/steal"))
    assert_fails(sandbox, 5, "another host")


def test_redirect_loop(sandbox: Sandbox) -> None:
    from tests.fakes.http import redirect

    app_path = sandbox.okta.app_url.removeprefix(sandbox.okta.url)
    sandbox.okta.add_route("GET", app_path, lambda request: redirect(sandbox.okta.app_url))
    assert_fails(sandbox, 5, "redirect loop")
