"""Secrets hygiene: what okenv writes never holds a secret it was not meant to hold.

``test_nothing_okenv_writes_leaks_a_secret`` runs every flow (env, exec, credential-process,
login into the AWS credentials file, roles, status, logout, failing logins), all with
``--debug``, and searches everything okenv wrote — stdout, stderr, every file under the
cache dir, the AWS files — for every secret of the run: the password (right and wrong), the
TOTP seeds, each passcode okenv sent, each sessionToken and stateToken, the Okta session
cookie, each SAMLResponse, and the AWS secret keys and session tokens where they do not
belong. The other tests pin the rules around it: private files, no locals in tracebacks,
a timeout on every request, TLS verification that cannot be turned off."""

from __future__ import annotations

import ast
import os
import re
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from okenv import cli
from tests.e2e.conftest import ADMIN, OKENV, READONLY, Sandbox, config_text
from tests.fakes.okta import DEFAULT_PASSWORD, DEFAULT_TOTP_SECRET

ROOT = Path(__file__).resolve().parents[2]
WRONG_PASSWORD = "Tr0ub4dor&3-wrong"
WRONG_TOTP_SECRET = "GEZDGNBVGY3TQOJQGEZDGNBVGY"


@dataclass
class Written:
    """Everything okenv wrote in a run, by where it went."""

    shell_stdout: list[str] = field(default_factory=list)  # env / exec / credential-process
    other_stdout: list[str] = field(default_factory=list)  # login, roles, status, logout
    stderr: list[str] = field(default_factory=list)


def run(box: Sandbox, written: Written, *args: str, code: int = 0, **env: str) -> None:
    result = box.run(*args, env=env or None)
    assert result.returncode == code, (args, result.returncode, result.stderr)
    carries_credentials = args[0] in ("env", "exec", "credential-process") and code == 0
    (written.shell_stdout if carries_credentials else written.other_stdout).append(result.stdout)
    written.stderr.append(result.stderr)
    if "--debug" in args:
        assert "okenv: debug:" in result.stderr, (args, result.stderr)


def contains(haystack: str, secret: str) -> bool:
    """``secret`` in ``haystack``; a passcode (digits) only as a whole number, so that an
    account id or a timestamp that happens to contain its digits does not count."""
    if secret.isdigit():
        return re.search(rf"(?<!\d){secret}(?!\d)", haystack) is not None
    return secret in haystack


def leaks(texts: dict[str, str], secrets: dict[str, str]) -> list[str]:
    return [
        f"{secret_name} in {where}"
        for where, text in texts.items()
        for secret_name, secret in secrets.items()
        if contains(text, secret)
    ]


def test_nothing_okenv_writes_leaks_a_secret(sandbox: Sandbox) -> None:
    box, okta, sts = sandbox, sandbox.okta, sandbox.sts
    box.write_config(
        config_text(okta.app_url, extra=f'role = "{READONLY}"')
        + '\n[profiles.everything]\naws_profile = "okenv-all"\n'
    )
    written = Written()
    debug = "--debug"

    run(box, written, "env", "admin", "--shell", "bash", debug)  # full login
    run(box, written, "env", "admin", "--shell", "bash", debug)  # cache hit
    run(box, written, "logout", debug)
    # CMD's output is CMD's: it shows what okenv put into its environment (the caller's own
    # OKENV_PASSWORD / OKENV_TOTP_SECRET pass through like every other variable).
    shown = "env | grep -E '^(AWS_|OKENV_(PROFILE|ROLE_ARN|EXPIRES_AT)=)'"
    run(box, written, "exec", "admin", "--force", debug, "--", "sh", "-c", shown)
    run(box, written, "logout", "admin", debug)
    run(box, written, "credential-process", "readonly", "--force", debug)
    run(box, written, "login", "pick", "--aws-profile", "okenv-pick", debug)  # session reuse
    run(box, written, "roles", "everything", debug)
    run(box, written, "roles", "everything", "--json", debug)
    run(box, written, "status")
    run(box, written, "status", "--json")
    run(box, written, "status", "readonly")
    # Failing logins: a wrong password, a wrong TOTP seed (a wrong code sent), STS refusing.
    run(box, written, "logout", debug)
    run(box, written, "env", "admin", "--force", debug, code=3, OKENV_PASSWORD=WRONG_PASSWORD)
    run(
        box,
        written,
        "login",
        "admin",
        "--force",
        debug,
        code=3,
        OKENV_TOTP_SECRET=WRONG_TOTP_SECRET,
    )
    sts.errors[ADMIN] = ("AccessDenied", 403, "Not authorized to perform sts:AssumeRoleWithSAML")
    run(box, written, "credential-process", "admin", "--force", debug, code=4)
    del sts.errors[ADMIN]
    run(box, written, "login", "admin", "--force", debug)  # leaves a saved Okta session
    run(box, written, "env", "admin", "--shell", "fish", debug)

    # -- every secret of the run, from the fakes' own records
    okta_secrets: dict[str, str] = {
        "password": DEFAULT_PASSWORD,
        "wrong password": WRONG_PASSWORD,
        "TOTP seed": DEFAULT_TOTP_SECRET,
        "wrong TOTP seed": WRONG_TOTP_SECRET,
    }
    for request in okta.requests:
        body = request.json if isinstance(request.json, dict) else {}
        if isinstance(body.get("passCode"), str):
            okta_secrets[f"passcode {body['passCode']}"] = body["passCode"]
        if isinstance(body.get("stateToken"), str):
            okta_secrets[f"stateToken {body['stateToken'][:6]}…"] = body["stateToken"]
        if "sessionToken" in request.query:
            token = request.query["sessionToken"]
            okta_secrets[f"sessionToken {token[:6]}…"] = token
    for token in okta.used_session_tokens | set(okta.session_tokens):
        okta_secrets[f"sessionToken {token[:6]}…"] = token
    for index, response in enumerate(okta.saml_responses):
        okta_secrets[f"SAMLResponse #{index}"] = response
        okta_secrets[f"part of SAMLResponse #{index}"] = response[200:260]
    cookies = {f"Okta session cookie {sid[:6]}…": sid for sid in okta.sessions}
    aws_secrets: dict[str, str] = {}
    for issued in sts.issued.values():
        aws_secrets[f"secret key of {issued.access_key_id}"] = issued.secret_access_key
        aws_secrets[f"session token of {issued.access_key_id}"] = issued.session_token
    assert any(name.startswith("passcode") for name in okta_secrets)
    assert any(name.startswith("stateToken") for name in okta_secrets)
    assert any(name.startswith("sessionToken") for name in okta_secrets)
    assert okta.saml_responses and cookies and aws_secrets
    everything = {**okta_secrets, **cookies, **aws_secrets}

    # -- stderr (with --debug) and the stdout of commands that print no credentials
    texts = {f"stderr #{i}": text for i, text in enumerate(written.stderr)}
    texts.update({f"stdout #{i} (no credentials)": t for i, t in enumerate(written.other_stdout)})
    assert leaks(texts, everything) == []
    # -- stdout of env / exec / credential-process: the credentials, nothing of Okta's
    shell = {f"credential stdout #{i}": text for i, text in enumerate(written.shell_stdout)}
    assert leaks(shell, {**okta_secrets, **cookies}) == []
    assert any(contains(text, key) for text in shell.values() for key in aws_secrets.values())

    # -- every file under the cache dir: credentials only in credential entries, the Okta
    #    cookie only in its private session file, nothing else anywhere
    files = sorted(p for p in box.cache_dir.rglob("*") if p.is_file())
    assert files
    session_files = [
        p
        for p in files
        if p.parent.name == "okta" and p.name.startswith("session-") and p.suffix == ".json"
    ]
    assert len(session_files) == 1
    for path in files:
        text = path.read_bytes().decode("utf-8", "replace")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        allowed_cookie = path in session_files
        allowed_aws = path.parent == box.cache_dir and path.suffix == ".json"
        secrets = dict(okta_secrets)
        if not allowed_cookie:
            secrets.update(cookies)
        if not allowed_aws:
            secrets.update(aws_secrets)
        assert leaks({str(path): text}, secrets) == []
    assert any(contains(session_files[0].read_text(), sid) for sid in cookies.values())
    for directory in [box.cache_dir, *(p for p in box.cache_dir.rglob("*") if p.is_dir())]:
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, directory

    # -- the AWS files: the credentials file holds keys (its purpose), nothing of Okta's
    credentials_file = Path(box.env["AWS_SHARED_CREDENTIALS_FILE"]).read_text()
    assert "[okenv-pick]" in credentials_file
    assert leaks({"credentials file": credentials_file}, {**okta_secrets, **cookies}) == []
    config_file = Path(box.env["AWS_CONFIG_FILE"]).read_text()
    assert leaks({"AWS config file": config_file}, everything) == []


def test_password_is_never_stored(sandbox: Sandbox) -> None:
    """Nothing in okenv's storage keeps the password: the cache's JSON documents hold no
    field that could carry it (whatever its value)."""
    assert sandbox.run("login", "admin").returncode == 0
    for path in sandbox.cache_dir.rglob("*.json"):
        text = path.read_text()
        assert DEFAULT_PASSWORD not in text
        assert "password" not in text.lower(), path


# -- tracebacks ------------------------------------------------------------------------------


CRASH = """
import sys
from okenv.main import guarded

def fails():
    password = "hunter2-local-variable"
    token = {"sessionToken": "20111local-variable"}
    raise RuntimeError("boom")

sys.exit(guarded(fails, debug="--debug" in sys.argv))
"""


@pytest.mark.parametrize("debug", [False, True])
def test_internal_errors_never_show_local_variables(debug: bool) -> None:
    """okenv's one error funnel (okenv.main.guarded, around both front ends) on a real
    unexpected exception: without --debug one line and a hint; with --debug the traceback
    frames, never the values of local variables, nor the exception's text without it."""
    result = subprocess.run(
        [sys.executable, "-c", CRASH, *(["--debug"] if debug else [])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert result.returncode == 1
    assert result.stdout == ""
    assert "okenv: internal error (RuntimeError)" in result.stderr
    assert "hunter2-local-variable" not in result.stderr
    assert "20111local-variable" not in result.stderr
    assert ("Traceback (most recent call last)" in result.stderr) is debug


def test_typer_never_renders_tracebacks_with_locals() -> None:
    """typer/rich's pretty tracebacks show local variables: they are off in the app."""
    assert cli.app.pretty_exceptions_enable is False


def test_debug_errors_are_messages_not_tracebacks(sandbox: Sandbox) -> None:
    sandbox.env["OKENV_PASSWORD"] = WRONG_PASSWORD
    result = sandbox.run("env", "admin", "--shell", "bash", "--debug")
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert WRONG_PASSWORD not in result.stderr


# -- the cache refuses unsafe places ---------------------------------------------------------


def test_cache_dir_writable_by_others_is_never_used(sandbox: Sandbox) -> None:
    """Created 0777 by someone else's umask or a careless chmod: not read, not written."""
    sandbox.cache_dir.mkdir(parents=True)
    sandbox.cache_dir.chmod(0o777)
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 0, result.stderr
    assert "writable by other users" in result.stderr
    assert [p for p in sandbox.cache_dir.rglob("*") if p.is_file()] == []


# -- every request has a timeout; TLS verification stays on ----------------------------------


HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request"}


def _http_calls(tree: ast.AST) -> list[ast.Call]:
    """Calls of requests' API (``requests.get(…)``, ``session.request(…)`` and the like)."""
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
            continue
        if node.func.attr not in HTTP_METHODS:
            continue
        receiver = ast.unparse(node.func.value)
        if receiver == "requests" or receiver.endswith("session"):
            found.append(node)
    return found


def test_every_http_call_in_okenv_has_a_timeout() -> None:
    calls = []
    for path in sorted((ROOT / "okenv").rglob("*.py")):
        for call in _http_calls(ast.parse(path.read_text(), str(path))):
            calls.append((path.relative_to(ROOT), call.lineno, call))
    assert len(calls) >= 2  # okta/http.py; limits.py (for aliases.py and console.py)
    missing = [
        f"{path}:{line}"
        for path, line, call in calls
        if not {"timeout", "stream"} <= {k.arg for k in call.keywords}
    ]
    assert missing == []  # a socket timeout, and a streamed body (okenv.limits caps it)
    # botocore: connect and read timeouts on every STS client (see also test_faults'
    # test_sts_that_never_answers_times_out and test_errors' test_okta_read_timeout).
    sts = (ROOT / "okenv" / "sts.py").read_text()
    assert "connect_timeout=" in sts and "read_timeout=" in sts


def test_tls_verification_cannot_be_turned_off() -> None:
    """No verify=False (or a variable in its place), no urllib3 warning suppression, no
    unverified SSL contexts, and no option or variable that would switch it off."""
    offenders = []
    for path in sorted((ROOT / "okenv").rglob("*.py")):
        text = path.read_text()
        tree = ast.parse(text, str(path))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "verify"
                and not (isinstance(node.value, ast.Constant) and node.value.value is True)
                # okenv.tls.verify(): a bundle path or True (checked below)
                and ast.unparse(node.value) != "verify()"
            ):
                offenders.append(f"{path}:{node.value.lineno}: verify={ast.unparse(node.value)}")
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if ast.unparse(target).endswith(".verify"):
                        value = ast.unparse(node.value)
                        if value in ("False", "None", "0", "''", '""'):
                            offenders.append(f"{path}:{node.lineno}: {ast.unparse(node)}")
        for marker in ("_create_unverified_context", "CERT_NONE", "disable_warnings", "insecure"):
            if marker in text:
                offenders.append(f"{path}: {marker}")
    assert offenders == []
    help_text = subprocess.run(
        [OKENV, "login", "--help"], capture_output=True, text=True, timeout=60
    ).stdout
    assert "verify" not in help_text.lower() and "insecure" not in help_text.lower()


def test_ca_bundle_variables_never_disable_verification() -> None:
    from okenv.tls import ca_bundle

    assert ca_bundle({}) is None
    assert ca_bundle({"SSL_CERT_FILE": "/ca.pem"}) == "/ca.pem"
    assert ca_bundle({"SSL_CERT_DIR": "/certs"}) == "/certs"
    assert ca_bundle({"SSL_CERT_FILE": "/ca.pem", "REQUESTS_CA_BUNDLE": "/r.pem"}) is None
    from okenv.tls import verify

    for value in ("", "0", "false", "False"):
        for name in ("REQUESTS_CA_BUNDLE", "SSL_CERT_FILE", "CURL_CA_BUNDLE"):
            os.environ[name] = value
            try:
                assert verify() not in (False, None, "", 0)
            finally:
                del os.environ[name]
    assert ca_bundle({"SSL_CERT_FILE": ""}) is None  # empty: requests' own default
