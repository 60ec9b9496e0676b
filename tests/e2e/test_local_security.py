"""Security, round two — the local findings, reproduced as found and shown to hold: server
text on the terminal, a config path that is not a regular file, directories okenv creates,
core dumps during a login (tests/README.md, "Security")."""

from __future__ import annotations

from tests.e2e.conftest import Sandbox

HOSTILE = "\x1b]0;pwned\x07\x1b[2J\x1b[1A\rokenv: logged in as root\n\u202egnp.exe"


def test_okta_error_summary_reaches_the_terminal_without_control_characters(
    sandbox: Sandbox,
) -> None:
    sandbox.okta.fail(
        "/api/v1/authn",
        400,
        body={"errorCode": "E0000001", "errorSummary": HOSTILE, "errorCauses": []},
    )
    result = sandbox.run("env", "admin", "--shell", "bash")
    assert result.returncode == 5, result.stderr
    assert result.stdout == ""
    assert "\\x1b]0;pwned\\x07" in result.stderr  # shown, but as text
    for char in ("\x1b", "\x07", "\r", "\u202e"):
        assert char not in result.stderr, repr(result.stderr)
    assert len(result.stderr.splitlines()) <= 2, result.stderr  # no fake extra line
