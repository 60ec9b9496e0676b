"""`make demo` stays honest: the commands typed on a pty and their real output."""

from __future__ import annotations

import subprocess
import sys

from tests.fakes.sandbox import DEMO_COMMANDS, PROMPT, ROOT


def test_the_demo_types_its_commands_and_shows_the_login() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tests.fakes.sandbox", "demo"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    for command in DEMO_COMMANDS:
        assert f"{PROMPT}{command}" in out  # as typed, after the prompt (segment or not)
    assert "Okta password for alice@example.com: \n" in out  # asked, not echoed
    assert "correct horse battery staple" not in out.split("sandbox: TOTP seed")[1]
    assert "okenv: demo: Admin in 123456789012, valid until " in out
    assert "(59m; cached)" in out or "(1h00m; cached)" in out
    assert f"(demo 59m) {PROMPT}" in out or f"(demo 1h00m) {PROMPT}" in out
    assert "arn:aws:sts::123456789012:assumed-role/Admin/alice@example.com" in out
    assert "arn:aws:iam::210987654321:role/ReadOnly in eu-west-1" in out
