"""OKENV_AUTO_REFRESH=1 in real interactive bash, zsh and fish, under strace.

The shell runs in a pty under ``strace -f``, which logs every process it starts. Markers
(``/bin/true okenv-mark-N``, themselves processes) cut the session into phases, and each
phase's process starts are counted: while time remains, commands start nothing but the next
marker; inside the 5-minute margin ``okenv use`` runs exactly once and brings the cached
credentials in; a renewal that fails is shown once and not retried before each command.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pexpect
import pytest

from okenv.integration import init_script
from tests.shell.test_init import fill_cache, okenv_binary

pytestmark = [pytest.mark.shell, pytest.mark.slow]

SHELLS = ("bash", "zsh", "fish")
PROMPT = "okenv-test-prompt> "
TRUE = shutil.which("true") or "/bin/true"


def start(shell: str, tmp_path: Path, log: Path, auto: bool = True) -> pexpect.spawn:
    strace = shutil.which("strace")
    binary = shutil.which(shell)
    if strace is None or binary is None:
        pytest.skip(f"needs strace and {shell}")
    script = tmp_path / f"init.{shell}"
    script.write_text(init_script(shell, [okenv_binary()]))
    env = dict(os.environ, TERM="dumb")
    if auto:
        env["OKENV_AUTO_REFRESH"] = "1"
    env["PATH"] = f"{Path(okenv_binary()).parent}{os.pathsep}{env['PATH']}"
    if shell == "bash":
        rc = tmp_path / "bashrc"
        rc.write_text(f"source {script}\nPS1='{PROMPT}'\n")
        argv = ["--rcfile", str(rc), "--noprofile", "-i"]
    elif shell == "zsh":
        (tmp_path / ".zshrc").write_text(f"source {script}\nPROMPT='{PROMPT}'\nunsetopt zle\n")
        env["ZDOTDIR"] = str(tmp_path)
        argv = ["-i"]
    else:
        init = f"source {script}; function fish_prompt; printf '{PROMPT}'; end"
        argv = ["--no-config", "-i", "-C", init]
    trace = ["-f", "-qq", "-e", "trace=execve,clone,clone3,fork,vfork", "-o", str(log)]
    child = pexpect.spawn(strace, [*trace, binary, *argv], env=env, timeout=60, encoding="utf-8")
    child.expect_exact(PROMPT)
    return child


def run(child: pexpect.spawn, line: str) -> str:
    """Run ``line`` and wait for its output's end: a word the typed line itself does not
    show (``done""-N`` prints as ``done-N``), as fish redraws its prompt while one types."""
    run.count = getattr(run, "count", 0) + 1  # type: ignore[attr-defined]
    child.sendline(f'{line}; echo okenv-done""-{run.count}')  # type: ignore[attr-defined]
    child.expect_exact(f"okenv-done-{run.count}")  # type: ignore[attr-defined]
    return str(child.before)


def set_env(shell: str, name: str, value: str) -> str:
    return f"set -gx {name} {value}" if shell == "fish" else f"export {name}={value}"


def phases(log: Path) -> list[list[str]]:
    """The log's process starts (new processes and execs, not threads), cut at the markers."""
    cut: list[list[str]] = [[]]
    for line in log.read_text().splitlines():
        if "execve(" in line and "okenv-mark-" in line:
            cut.append([])
            continue
        starts = re.search(r"\b(clone3?|v?fork)\(", line) and "CLONE_THREAD" not in line
        if starts or "execve(" in line:
            cut[-1].append(line)
    return cut


def okenv_execs(lines: list[str]) -> int:
    return sum(1 for line in lines if "execve(" in line and okenv_binary() in line)


@pytest.mark.parametrize("shell", SHELLS)
def test_nothing_runs_until_the_margin_then_okenv_use_once(shell: str, tmp_path: Path) -> None:
    cached = fill_cache(("prod-admin",))["prod-admin"]
    log = tmp_path / "strace.log"
    child = start(shell, tmp_path, log)
    now = int(time.time())
    try:
        for name, value in (
            ("OKENV_PROFILE", "prod-admin"),
            ("AWS_ACCESS_KEY_ID", "ASIAOLDKEY"),
            ("OKENV_EXPIRES_AT", str(now + 3600)),
        ):
            run(child, set_env(shell, name, value))
        run(child, f"command {TRUE} okenv-mark-1")
        # Phase 1: an hour left; builtins only, so any process would be the integration's.
        for line in (": one", "echo two", "x=3" if shell != "fish" else "set x 3"):
            run(child, line)
        run(child, f"command {TRUE} okenv-mark-2")
        # Phase 2: inside the margin; the next command renews first (from the cache).
        run(child, set_env(shell, "OKENV_EXPIRES_AT", str(now + 100)))
        out = run(child, 'echo "key=$AWS_ACCESS_KEY_ID"')
        assert f"key={cached.access_key_id}" in out
        run(child, f"command {TRUE} okenv-mark-3")
        # Phase 3: renewed for an hour: quiet again.
        for line in (": four", "echo five"):
            run(child, line)
        run(child, f"command {TRUE} okenv-mark-4")
        # Phase 4: a renewal that fails (no such profile) is shown once, not retried.
        run(child, set_env(shell, "OKENV_PROFILE", "no-such-profile"))
        # (bash's DEBUG trap runs before each simple command, the echo after this export too)
        failed = run(child, set_env(shell, "OKENV_EXPIRES_AT", str(now + 100)))
        failed += run(child, ": six") + run(child, ": seven") + run(child, ": eight")
        run(child, f"command {TRUE} okenv-mark-5")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    cut = phases(log)
    assert len(cut) == 6, log.read_text()
    marker = [line for line in cut[1] if "execve(" not in line]
    assert len(marker) == 1 and cut[1] == marker, cut[1]  # only the fork of the next marker
    assert okenv_execs(cut[2]) == 1, cut[2]
    assert len(cut[3]) == 1, cut[3]
    assert okenv_execs(cut[4]) == 1, cut[4]
    assert failed.count("unknown profile") == 1, failed


@pytest.mark.parametrize("shell", SHELLS)
def test_off_unless_asked(shell: str, tmp_path: Path) -> None:
    fill_cache(("prod-admin",))
    log = tmp_path / "strace.log"
    child = start(shell, tmp_path, log, auto=False)
    try:
        for name, value in (
            ("OKENV_PROFILE", "prod-admin"),
            ("AWS_ACCESS_KEY_ID", "ASIAOLDKEY"),
            ("OKENV_EXPIRES_AT", str(int(time.time()) + 100)),
        ):
            run(child, set_env(shell, name, value))
        run(child, f"command {TRUE} okenv-mark-1")
        out = run(child, 'echo "key=$AWS_ACCESS_KEY_ID"')
        run(child, f"command {TRUE} okenv-mark-2")
        child.sendline("exit")
        child.expect(pexpect.EOF)
    finally:
        child.close()
    assert "key=ASIAOLDKEY" in out
    cut = phases(log)
    assert len(cut[1]) == 1, cut[1]
