"""The fault matrix beyond tests/e2e/test_errors.py: DNS, TLS, retries of idempotent GETs,
broken JSON, broken assertions, STS faults, local files (config, cache, HOME), the terminal
(EOF), and the credential_process recursion. Each failure: its SPEC.md exit code, one or two
``okenv: …`` lines on stderr, stdout empty, no traceback, nothing half-written.

tests/README.md maps every row of the matrix to its test."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pexpect
import pytest

from tests.e2e.conftest import ADMIN, OKENV, Sandbox, config_text
from tests.fakes.okta import DEFAULT_PASSWORD, FakeOkta, totp_now
from tests.fakes.tls import TlsFiles, make_tls

APP_LINK = r"/home/amazon_aws/[^/]+/\d+"
CA_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE", "SSL_CERT_DIR")


def check_failure(result: subprocess.CompletedProcess[str], code: int, *needles: str) -> list[str]:
    """The common contract of a failure; returns the stderr lines."""
    assert result.returncode == code, (result.returncode, result.stderr)
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert 1 <= len(lines) <= 2, result.stderr
    assert all(line.startswith("okenv: ") for line in lines), result.stderr
    assert "Traceback" not in result.stderr
    for needle in needles:
        assert needle in result.stderr, result.stderr
    return lines


def no_credentials_cached(box: Sandbox) -> bool:
    return not box.cache_dir.exists() or not list(box.cache_dir.glob("*.json"))


def no_temporaries(box: Sandbox) -> bool:
    return not box.cache_dir.exists() or not list(box.cache_dir.rglob("*.tmp"))


def run_env(
    box: Sandbox, env: Mapping[str, str | None] | None = None
) -> subprocess.CompletedProcess[str]:
    return box.run("env", "admin", "--shell", "bash", env=env)


def shell_code_ok(result: subprocess.CompletedProcess[str]) -> bool:
    return result.returncode == 0 and "export AWS_SECRET_ACCESS_KEY=" in result.stdout


# -- Okta: DNS and proxies ----------------------------------------------------------------------


def _can_unshare_network() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(["unshare", "-n", "true"], capture_output=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def test_dns_failure(sandbox: Sandbox) -> None:
    """A host that cannot resolve (RFC 6761 ``.invalid``), proxies bypassed for every host.
    Where the kernel allows it the run happens in an empty network namespace, so not even
    the DNS query can leave the machine."""
    sandbox.write_config(
        config_text("https://okta.invalid/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272")
    )
    env = dict(sandbox.env, NO_PROXY="*", no_proxy="*")
    prefix = ["unshare", "-n"] if _can_unshare_network() else []
    result = subprocess.run(
        [*prefix, OKENV, "env", "admin", "--shell", "bash"],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    check_failure(
        result, 5, "cannot find the Okta host okta.invalid (DNS lookup failed)", "app_url"
    )
    assert no_credentials_cached(sandbox)


def test_unreachable_proxy_is_named(sandbox: Sandbox) -> None:
    """With the hygiene fixture's dead proxy, an off-machine org is never contacted: okenv
    says that the proxy failed (and which variables to check)."""
    sandbox.write_config(
        config_text("https://okta.invalid/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272")
    )
    check_failure(run_env(sandbox), 5, "through the proxy", "HTTPS_PROXY")


# -- Okta: TLS --------------------------------------------------------------------------------


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    return make_tls(tmp_path / "tls")


@pytest.fixture
def https_okta(sandbox: Sandbox, tls: TlsFiles) -> Iterator[FakeOkta]:
    """The fake org over HTTPS with a certificate from a private CA; the sandbox points at it.
    The CA variables a machine may set globally are cleared: each test sets its own."""
    for name in CA_VARIABLES:
        sandbox.env.pop(name, None)
    okta = FakeOkta()
    okta.ssl_context = tls.server_context()
    with okta:
        sandbox.okta = okta
        sandbox.write_config(config_text(okta.app_url))
        yield okta
    assert not okta.errors, okta.errors


@pytest.mark.parametrize(
    "extra",
    [{}, {"REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}],
    ids=["default-trust", "empty-bundle-variables"],
)
def test_tls_certificate_not_trusted(
    sandbox: Sandbox, https_okta: FakeOkta, extra: dict[str, str]
) -> None:
    assert https_okta.url.startswith("https://127.0.0.1:")
    lines = check_failure(run_env(sandbox, extra), 5, "TLS certificate verification failed")
    assert "REQUESTS_CA_BUNDLE" in lines[-1]
    assert https_okta.requests == []  # the handshake failed: no request was ever read
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "SSL_CERT_FILE"])
def test_tls_with_the_ca_bundle(
    sandbox: Sandbox, https_okta: FakeOkta, tls: TlsFiles, variable: str
) -> None:
    result = run_env(sandbox, {variable: str(tls.ca_file)})
    assert shell_code_ok(result), result.stderr
    assert https_okta.count(method="POST", path="/api/v1/authn") == 1


# -- Okta: 5xx and retries ----------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_get_is_retried_once_after_5xx(sandbox: Sandbox, status: int) -> None:
    sandbox.okta.fail(APP_LINK, status, times=1, method="GET")
    result = run_env(sandbox, {})
    assert shell_code_ok(result), result.stderr
    assert sandbox.okta.count(method="GET", path_regex=APP_LINK) == 2
    assert sandbox.okta.count(method="POST", path="/api/v1/authn") == 1


def test_get_retry_is_traced_with_debug(sandbox: Sandbox) -> None:
    sandbox.okta.fail(r"/\.well-known/okta-organization", 503, times=1)
    result = sandbox.run("env", "admin", "--shell", "bash", "--debug")
    assert shell_code_ok(result), result.stderr
    assert "HTTP 503: retrying once" in result.stderr
    assert sandbox.okta.count(path="/.well-known/okta-organization") == 2


def test_get_that_keeps_failing_is_retried_only_once(sandbox: Sandbox) -> None:
    sandbox.okta.fail(APP_LINK, 503, method="GET")
    check_failure(run_env(sandbox), 5, "HTTP 503")
    assert sandbox.okta.count(method="GET", path_regex=APP_LINK) == 2
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize("path", ["/api/v1/authn", r"/api/v1/authn/factors/[^/]+/verify"])
def test_post_is_never_retried(sandbox: Sandbox, path: str) -> None:
    sandbox.okta.fail(path, 503, times=1)
    check_failure(run_env(sandbox), 5, "HTTP 503")
    assert sandbox.okta.count(method="POST", path_regex=path) == 1


# -- Okta: bodies okenv cannot use ------------------------------------------------------------


def test_truncated_json_from_authn(sandbox: Sandbox) -> None:
    sandbox.okta.fail(
        "/api/v1/authn",
        200,
        body='{"status": "SUCCESS", "sessionToken": "2011',
        content_type="application/json",
    )
    check_failure(run_env(sandbox), 5, "JSON okenv cannot read (malformed or truncated)")
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize(
    ("body", "code", "needle"),
    [
        ("[]", 5, "a JSON list where an object was expected"),
        ('"SUCCESS"', 5, "a JSON str where an object was expected"),
        ("{}", 5, "unexpected sign-in status 'None'"),
        ('{"status": 42}', 5, "unexpected sign-in status '42'"),
        ('{"status": "SUCCESS"}', 5, "SUCCESS without a sessionToken"),
        ('{"status": "SUCCESS", "sessionToken": {"a": 1}}', 5, "SUCCESS without a sessionToken"),
        ('{"status": "SUCCESS", "sessionToken": "x", "_links": []}', 5, "sign-in page"),
        ('{"status": "MFA_CHALLENGE", "_embedded": {"factor": 3}, "_links": 1}', 5, "unfinished"),
        # Factors okenv cannot read are factors it cannot use: the user's MFA setup (exit 3).
        ('{"status": "MFA_REQUIRED", "stateToken": "0", "_embedded": [1]}', 3, "MFA methods"),
        ('{"status": "MFA_REQUIRED", "stateToken": "0", "_embedded": {"factors": 5}}', 3, "MFA"),
        ('{"status": "MFA_REQUIRED", "stateToken": "0", "_embedded": {"factors": "x"}}', 3, "MFA"),
        ('{"status": "MFA_REQUIRED", "_embedded": {"factors": [{"id": 1}]}}', 3, "MFA methods"),
    ],
)
def test_json_of_the_wrong_shape_from_authn(
    sandbox: Sandbox, body: str, code: int, needle: str
) -> None:
    sandbox.okta.fail("/api/v1/authn", 200, body=body, content_type="application/json")
    check_failure(run_env(sandbox), code, needle)
    assert no_credentials_cached(sandbox)


def test_wrong_shape_from_factor_verify(sandbox: Sandbox) -> None:
    sandbox.okta.fail(
        r"/api/v1/authn/factors/[^/]+/verify",
        200,
        body='{"status": "SUCCESS", "_embedded": null}',
        content_type="application/json",
    )
    check_failure(run_env(sandbox), 5)
    assert no_credentials_cached(sandbox)


# -- the SAML assertion ----------------------------------------------------------------------


def test_assertion_already_expired(sandbox: Sandbox) -> None:
    sandbox.okta.not_on_or_after = datetime.now(UTC) - timedelta(minutes=10)
    check_failure(run_env(sandbox), 5, "already expired", "clock")
    assert sandbox.sts.calls == []


@pytest.mark.parametrize(
    "roles",
    [
        [("arn:aws:iam::12345:role/Admin", "arn:aws:iam::12345:saml-provider/Okta")],
        [("not-an-arn", "also-not-an-arn")],
        [("arn:aws:iam::123456789012:role/Admin", "arn:aws:iam::123456789012:role/Other")],
    ],
    ids=["short-account", "no-arns", "no-provider"],
)
def test_assertion_with_malformed_role_arns(sandbox: Sandbox, roles: list[tuple[str, str]]) -> None:
    sandbox.okta.roles = roles
    result = run_env(sandbox)
    check_failure(result, 5, "Role")
    assert sandbox.sts.calls == []


# -- STS --------------------------------------------------------------------------------------


def test_sts_500_with_an_html_body(sandbox: Sandbox) -> None:
    sandbox.sts.html_error_status = 500
    check_failure(run_env(sandbox), 5, "AWS STS answered unexpectedly (HTTP 500)")
    assert no_credentials_cached(sandbox)


def test_sts_that_never_answers_times_out(sandbox: Sandbox) -> None:
    """Every STS request has a timeout: the profile's ``timeout`` bounds each read."""
    sandbox.write_config(
        config_text(sandbox.okta.app_url).replace("[defaults]", "[defaults]\ntimeout = 1")
    )
    sandbox.sts.hold = threading.Event()  # held until the fake stops
    check_failure(run_env(sandbox), 5, "AWS STS at", "did not answer within 1 s")
    assert sandbox.sts.actions() == ["AssumeRoleWithSAML"] * len(sandbox.sts.calls)
    assert 1 <= len(sandbox.sts.calls) <= 2  # botocore's one retry, no more
    assert no_credentials_cached(sandbox)


# -- local files: config ----------------------------------------------------------------------


def test_unknown_config_keys_warn_and_work(sandbox: Sandbox) -> None:
    text = config_text(sandbox.okta.app_url).replace("[defaults]", "[defaults]\nfrobnicate = 1")
    sandbox.write_config(text.replace("[profiles.admin]", '[profiles.admin]\ncolour = "blue"'))
    for attempt in ("login", "cached"):
        result = run_env(sandbox)
        assert shell_code_ok(result), (attempt, result.stderr)
        warnings = result.stderr.splitlines()
        assert len([w for w in warnings if "unknown key 'frobnicate' in [defaults]" in w]) == 1
        assert len([w for w in warnings if "unknown key 'colour' in [profiles.admin]" in w]) == 1
        assert all(w.startswith("okenv: warning: ") for w in warnings), warnings


def test_config_path_that_cannot_be_read(sandbox: Sandbox) -> None:
    """Unreadable config (tests may run as root, which reads any file: a directory where
    the file should be gives the same EISDIR/EACCES path through okenv)."""
    sandbox.config.parent.mkdir(parents=True, exist_ok=True)
    sandbox.config.unlink()
    sandbox.config.mkdir()
    check_failure(run_env(sandbox), 2, "cannot read config file", str(sandbox.config))


def test_config_that_is_not_text(sandbox: Sandbox) -> None:
    sandbox.config.write_bytes(b"\xff\xfe[profiles.admin]\x00\x81")
    check_failure(run_env(sandbox), 2, "not UTF-8")


def test_config_of_the_wrong_types(sandbox: Sandbox) -> None:
    sandbox.write_config(
        config_text(sandbox.okta.app_url).replace("[defaults]", "[defaults]\ntimeout = 'soon'")
    )
    check_failure(run_env(sandbox), 2, "timeout")


# -- local files: the cache --------------------------------------------------------------------


def test_cache_dir_that_cannot_be_created_warns_once(sandbox: Sandbox, tmp_path: Path) -> None:
    """Root writes anywhere, so "not writable" is a cache dir below a regular file (ENOTDIR):
    okenv works without the cache, warns once per run, and never fails because of it."""
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    env = {"OKENV_CACHE_DIR": str(blocker / "okenv")}
    for _ in range(2):
        result = run_env(sandbox, env)
        assert shell_code_ok(result), result.stderr
        lines = result.stderr.splitlines()
        assert len(lines) == 1, lines
        assert lines[0].startswith("okenv: warning: cannot write the cache at ")
        assert "continuing without it" in lines[0]
    assert sandbox.sts.actions().count("AssumeRoleWithSAML") == 2  # nothing could be cached


def _login_then_cache_file(box: Sandbox) -> Path:
    assert box.run("login", "admin").returncode == 0
    [path] = box.cache_dir.glob("admin-*.json")
    return path


def test_cache_dir_writable_by_others_is_refused(sandbox: Sandbox) -> None:
    path = _login_then_cache_file(sandbox)
    before = path.read_bytes()
    sandbox.cache_dir.chmod(0o777)
    result = run_env(sandbox)
    assert shell_code_ok(result), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert "writable by other users" in lines[0] and "chmod 700" in lines[0]
    assert sandbox.sts.actions().count("AssumeRoleWithSAML") == 2  # the cache was not used
    assert path.read_bytes() == before  # ... nor written


@pytest.mark.parametrize("fault", ["group-readable", "world-readable", "foreign-owner"])
def test_cache_file_with_wrong_permissions_or_owner_is_refused(
    sandbox: Sandbox, fault: str
) -> None:
    path = _login_then_cache_file(sandbox)
    if fault == "foreign-owner":
        if os.geteuid() != 0:
            pytest.skip("only root can give a file away")
        os.chown(path, 54321, 54321)
    else:
        path.chmod(0o640 if fault == "group-readable" else 0o644)
    result = run_env(sandbox)
    assert shell_code_ok(result), result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert f"ignoring the cache file {path}" in lines[0]
    assert sandbox.sts.actions().count("AssumeRoleWithSAML") == 2  # logged in again
    info = path.stat()
    assert info.st_mode & 0o777 == 0o600 and info.st_uid == os.geteuid()  # replaced, private
    assert shell_code_ok(again := run_env(sandbox)) and again.stderr == ""


@pytest.mark.parametrize("damage", ["truncated", "empty", "binary"])
def test_corrupt_cache_file_is_a_miss(sandbox: Sandbox, damage: str) -> None:
    path = _login_then_cache_file(sandbox)
    data = path.read_bytes()
    path.write_bytes(
        {"truncated": data[: len(data) // 2], "empty": b"", "binary": os.urandom(300)}[damage]
    )
    result = run_env(sandbox)
    assert shell_code_ok(result) and result.stderr == "", result.stderr
    assert sandbox.sts.actions().count("AssumeRoleWithSAML") == 2
    assert json.loads(path.read_text())["version"] == 1  # overwritten whole


# -- local files: HOME -----------------------------------------------------------------------


def test_home_unset_with_xdg_dirs(sandbox: Sandbox) -> None:
    """No HOME and no OKENV_CONFIG / OKENV_CACHE_DIR: platformdirs' XDG paths still work."""
    env: dict[str, str | None] = {"HOME": None, "OKENV_CONFIG": None, "OKENV_CACHE_DIR": None}
    xdg_config = Path(sandbox.env["XDG_CONFIG_HOME"])
    assert sandbox.config == xdg_config / "okenv" / "config.toml"
    for _ in ("login", "cached"):
        result = run_env(sandbox, env)
        assert shell_code_ok(result), result.stderr
    assert sandbox.sts.actions().count("AssumeRoleWithSAML") == 1
    assert list((Path(sandbox.env["XDG_CACHE_HOME"]) / "okenv").glob("admin-*.json"))


def test_home_and_everything_else_unset(sandbox: Sandbox) -> None:
    """No HOME, no XDG_*, no OKENV_* paths: okenv falls back to the password database's
    home and fails cleanly for a profile that is nowhere (it must not crash)."""
    env: dict[str, str | None] = {
        name: None
        for name in ("HOME", "OKENV_CONFIG", "OKENV_CACHE_DIR", "XDG_CONFIG_HOME", "XDG_CACHE_HOME")
    }
    result = sandbox.run("env", "no-such-profile-3f9c1e", "--shell", "bash", env=env)
    lines = check_failure(result, 2)
    # This machine's own config, if it has one, does not hold the profile either.
    assert "unknown profile 'no-such-profile-3f9c1e'" in lines[0] or (
        "no config file yet" in lines[0] and "okenv configure" in lines[0]
    ), lines


# -- the terminal --------------------------------------------------------------------------


def _spawn(box: Sandbox, tmp_path: Path, out: Path, profile: str = "admin") -> pexpect.spawn:
    env = {k: v for k, v in box.env.items() if k not in ("OKENV_PASSWORD", "OKENV_TOTP_SECRET")}
    return pexpect.spawn(
        "bash",
        [
            "--norc",
            "--noprofile",
            "-c",
            f"stty -a > {tmp_path}/before; {OKENV} env {profile} --shell bash > {out};"
            f" echo EXIT=$?; stty -a > {tmp_path}/after",
        ],
        env=env,
        encoding="utf-8",
        timeout=30,
    )


@pytest.mark.parametrize("at", ["password", "code"])
def test_end_of_input_at_a_prompt(sandbox: Sandbox, tmp_path: Path, at: str) -> None:
    """Ctrl-D on the terminal: no answer is an authentication failure (exit 3), the echo
    comes back, nothing is written."""
    out = tmp_path / "out.sh"
    child = _spawn(sandbox, tmp_path, out)
    child.expect("Okta password for alice@example.com: ")
    if at == "code":
        child.sendline(DEFAULT_PASSWORD)
        child.expect("MFA code")
    child.sendeof()
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "3", child.before
    transcript = child.before or ""
    assert "okenv: " in transcript and "Traceback" not in transcript
    child.expect(pexpect.EOF)
    child.close()
    assert out.read_text() == ""
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()
    assert no_credentials_cached(sandbox)


@pytest.mark.parametrize("at", ["password", "code", "menu"])
def test_ctrl_c_at_each_prompt_restores_the_terminal(
    sandbox: Sandbox, tmp_path: Path, at: str
) -> None:
    """Ctrl-C at the password, the code and the role menu: exit 130, the terminal's
    settings (echo) exactly as before, nothing written. (The push wait: test_okta_flows'
    test_ctrl_c_during_push.)"""
    out = tmp_path / "out.sh"
    child = _spawn(sandbox, tmp_path, out, profile="pick")
    child.expect("Okta password for alice@example.com: ")
    if at in ("code", "menu"):
        child.sendline(DEFAULT_PASSWORD)
        child.expect(r"MFA code \(Google Authenticator\): ")
    if at == "menu":
        child.sendline(totp_now())
        child.expect(r"Choose \[1-2\]: ")
    child.sendintr()
    child.expect("okenv: interrupted")
    child.expect(r"EXIT=(\d+)")
    assert child.match.group(1) == "130"
    child.expect(pexpect.EOF)
    child.close()
    assert out.read_text() == ""
    assert (tmp_path / "before").read_text() == (tmp_path / "after").read_text()
    assert no_credentials_cached(sandbox) and no_temporaries(sandbox)


@pytest.mark.parametrize("command", ["env", "login", "credential-process", "exec"])
def test_no_terminal_when_a_prompt_is_needed(sandbox: Sandbox, command: str) -> None:
    """No controlling terminal and no OKENV_PASSWORD: exit 3 at once, never a hang
    (Sandbox.run starts a new session with stdin at /dev/null; its timeout would fail the test)."""
    args = {"exec": ("exec", "admin", "--", "true")}.get(command, (command, "admin"))
    result = sandbox.run(*args, env={"OKENV_PASSWORD": None}, timeout=30)
    check_failure(result, 3, "password")
    assert sandbox.okta.count(method="POST", path="/api/v1/authn") == 0


# -- credential_process recursion ----------------------------------------------------------


def _looping_aws_profile(box: Sandbox, marker: Path) -> None:
    """An AWS profile whose credential_process is okenv itself (through a wrapper that
    leaves a mark, so the test sees any call), named by AWS_PROFILE and AWS_DEFAULT_PROFILE."""
    (box.home / ".aws" / "config").write_text(
        "[profile looping]\n"
        f"credential_process = sh -c 'echo called >> {marker};"
        f" exec {OKENV} credential-process admin'\n"
        "region = us-east-1\n"
    )
    box.env["AWS_PROFILE"] = "looping"
    box.env["AWS_DEFAULT_PROFILE"] = "looping"


@pytest.mark.parametrize(
    "args",
    [
        ("env", "admin", "--shell", "bash"),
        ("credential-process", "admin"),
        ("login", "admin"),
        ("env", "chained", "--shell", "bash"),
    ],
    ids=["env", "credential-process", "login", "role-chaining"],
)
def test_aws_profile_naming_okenv_is_never_resolved(
    sandbox: Sandbox, tmp_path: Path, args: tuple[str, ...]
) -> None:
    marker = tmp_path / "credential-process-calls"
    sandbox.write_config(
        config_text(sandbox.okta.app_url) + '\n[profiles.chained]\nrole = "' + ADMIN + '"\n'
        'assume_role = "arn:aws:iam::123456789012:role/Deploy"\n'
    )
    _looping_aws_profile(sandbox, marker)
    result = sandbox.run(*args)
    assert result.returncode == 0, result.stderr
    assert not marker.exists()  # botocore never ran the profile's credential_process
    saml_calls = [
        headers
        for (action, _), headers in zip(sandbox.sts.calls, sandbox.sts.headers, strict=True)
        if action == "AssumeRoleWithSAML"
    ]
    assert saml_calls and all("authorization" not in h for h in saml_calls)  # unsigned
    if args[1] == "chained":
        [(_, _), (action, _)] = sandbox.sts.calls
        assert action == "AssumeRole"
        issued = {c.access_key_id for c in sandbox.sts.issued.values()}
        assert any(key in sandbox.sts.headers[1]["authorization"] for key in issued)


def test_nested_credential_process_is_stopped_by_the_depth_guard(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    """An SDK started from inside okenv credential-process (it inherits the marker) that
    resolves the looping profile runs okenv again: that okenv refuses at once with a clear
    error, which the SDK reports; no Okta request is made."""
    marker = tmp_path / "credential-process-calls"
    _looping_aws_profile(sandbox, marker)
    script = (
        "import boto3, botocore.exceptions\n"
        "try:\n"
        "    boto3.Session().get_credentials().get_frozen_credentials()\n"
        "except botocore.exceptions.CredentialRetrievalError as exc:\n"
        "    print(exc)\n"
    )
    env = dict(sandbox.env, OKENV_IN_CREDENTIAL_PROCESS="1")
    result = subprocess.run(
        [str(Path(OKENV).with_name("python")), "-c", script],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    assert "okenv credential-process was started by okenv credential-process (a loop)" in (
        result.stdout
    ), (result.stdout, result.stderr)
    assert marker.read_text() == "called\n"  # exactly one nested start, stopped at once
    assert sandbox.okta.requests == []
    assert sandbox.sts.calls == []


# -- a full disk -------------------------------------------------------------------------------

FULL_DISK = r"""
set -u
cache=$OKENV_CACHE_DIR
mkdir -p "$cache"
mount -t tmpfs -o size=512k,mode=0700 okenv-test "$cache" || exit 90
"$OKENV" env admin --shell bash > "$OUT/first.sh" 2> "$OUT/first.err" || exit 91
cp "$cache"/admin-*.json "$OUT/saved.json"
dd if=/dev/zero of="$cache/filler" bs=4096 2> /dev/null  # until ENOSPC
"$OKENV" env admin --shell bash --force > "$OUT/forced.sh" 2> "$OUT/forced.err"
echo $? > "$OUT/forced.rc"
cp "$cache"/admin-*.json "$OUT/after.json"
ls -A "$cache" > "$OUT/listing"
"$OKENV" env admin --shell bash > "$OUT/again.sh" 2> "$OUT/again.err"
echo $? > "$OUT/again.rc"
"""


def _can_mount_tmpfs(tmp_path: Path) -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = tmp_path / "probe"
    probe.mkdir()
    try:
        done = subprocess.run(
            ["unshare", "-m", "mount", "-t", "tmpfs", "-o", "size=64k", "probe", str(probe)],
            capture_output=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def test_full_disk_keeps_the_old_entry(sandbox: Sandbox, tmp_path: Path) -> None:
    """A real ENOSPC: the cache dir is a small tmpfs (in a private mount namespace), filled
    up after a first login. A forced login still hands out its credentials, warns about the
    cache, and leaves the old entry whole (no temporary file behind); the next call is
    served from that old entry."""
    if not _can_mount_tmpfs(tmp_path):
        pytest.skip("needs unshare -m and mount (root in a permissive container)")
    out = tmp_path / "out"
    out.mkdir()
    env = dict(sandbox.env, OKENV=OKENV, OUT=str(out))
    done = subprocess.run(
        ["unshare", "-m", "bash", "--norc", "--noprofile", "-c", FULL_DISK],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=120,
        start_new_session=True,
    )
    assert done.returncode == 0, (done.returncode, done.stderr, (out / "first.err").read_text())
    assert (out / "forced.rc").read_text().strip() == "0", (out / "forced.err").read_text()
    warnings = (out / "forced.err").read_text().splitlines()
    assert len(warnings) == 1, warnings  # once, for the Okta session and the credentials
    assert warnings[0].startswith("okenv: warning: cannot write the cache at ")
    assert "No space left on device; continuing without it" in warnings[0]
    assert "export AWS_SECRET_ACCESS_KEY=" in (out / "forced.sh").read_text()
    assert (out / "forced.sh").read_text() != (out / "first.sh").read_text()  # a new login
    assert (out / "after.json").read_bytes() == (out / "saved.json").read_bytes()
    assert not [n for n in (out / "listing").read_text().split() if n.endswith(".tmp")]
    assert (out / "again.rc").read_text().strip() == "0"
    assert (out / "again.sh").read_text() == (out / "first.sh").read_text()  # the old entry
    assert sandbox.sts.actions() == ["AssumeRoleWithSAML"] * 2
