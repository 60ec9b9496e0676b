"""The generated completion scripts, driven through each shell's own completion machinery."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from okenv.integration import COMPLETION_FILES
from tests.shell.test_init import fill_cache, need, okenv_binary, powershell_errors

pytestmark = pytest.mark.shell

ROOT = Path(__file__).resolve().parents[2]
COMPLETIONS = ROOT / "completions"
SUBCOMMANDS = {"env", "exec", "login", "roles", "status", "unset", "logout", "init", "use"}
HIDDEN = {"completions", "__complete-profiles"}
SHELL_NAMES = {"bash", "zsh", "fish", "powershell"}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Config with two profiles, okenv on PATH, and a command `okenvtestcmd` for handover."""
    fill_cache()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    tool = bin_dir / "okenvtestcmd"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    path = os.pathsep.join([str(Path(okenv_binary()).parent), str(bin_dir), os.environ["PATH"]])
    return dict(os.environ, PATH=path)


@pytest.mark.parametrize("shell", sorted(COMPLETION_FILES))
def test_committed_file_is_up_to_date(shell: str) -> None:
    generated = subprocess.run(
        [okenv_binary(), "completions", shell], capture_output=True, text=True, check=True
    ).stdout
    committed = (COMPLETIONS / COMPLETION_FILES[shell]).read_text()
    assert generated == committed, (
        f"completions/{COMPLETION_FILES[shell]} is stale: "
        f"run .venv/bin/okenv completions {shell} > completions/{COMPLETION_FILES[shell]}"
    )


def test_static_checks() -> None:
    shellcheck = need("shellcheck")
    result = subprocess.run(
        [shellcheck, "-s", "bash", str(COMPLETIONS / "okenv.bash")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout
    zsh = need("zsh")
    subprocess.run([zsh, "-n", str(COMPLETIONS / "_okenv")], check=True)
    fish_indent = need("fish_indent")
    result = subprocess.run(
        [fish_indent, "--check", str(COMPLETIONS / "okenv.fish")], capture_output=True, check=False
    )
    assert result.returncode == 0, "completions/okenv.fish is not fish_indent-clean"
    assert powershell_errors((COMPLETIONS / "okenv.ps1").read_bytes()) == []


def test_posix_has_no_completions() -> None:
    result = subprocess.run(
        [okenv_binary(), "completions", "sh"], capture_output=True, text=True, check=False
    )
    assert (result.returncode, result.stdout) == (2, "")


def test_complete_profiles_is_light(env: dict[str, str]) -> None:
    """Completing a profile name imports neither boto3 nor requests."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "okenv", "__complete-profiles", "p"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    assert result.stdout == "prod-admin\n"
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()}
    assert not imported & {"boto3", "botocore", "requests", "mechanicalsoup", "bs4"}
    started = time.perf_counter()
    subprocess.run(
        [okenv_binary(), "__complete-profiles", ""], env=env, check=True, capture_output=True
    )
    assert time.perf_counter() - started < 2.0  # generous: ~50 ms on a laptop


def test_broken_config_completes_nothing(env: dict[str, str], tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[profiles.x\n")
    for config in (bad, tmp_path / "missing.toml"):
        result = subprocess.run(
            [okenv_binary(), "__complete-profiles", ""],
            capture_output=True,
            text=True,
            env=dict(env, OKENV_CONFIG=str(config)),
            check=False,
        )
        assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# -- bash ------------------------------------------------------------------------------------


def bash_complete(env: dict[str, str], *words: str) -> list[str]:
    """COMPREPLY for the command line *words* (the last one is being completed)."""
    bash = need("bash")
    quoted = " ".join("'" + word.replace("'", "'\\''") + "'" for word in words)
    script = (
        f"source {COMPLETIONS / 'okenv.bash'}\n"
        f"COMP_WORDS=({quoted}); COMP_CWORD={len(words) - 1}; COMPREPLY=()\n"
        "_okenv\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        [bash, "--norc", "--noprofile", "-c", script],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    return [line for line in result.stdout.splitlines() if line]


def test_bash_completes(env: dict[str, str]) -> None:
    first = set(bash_complete(env, "okenv", ""))
    assert first >= SUBCOMMANDS | {"prod-admin", "dev"}
    assert not first & HIDDEN
    assert set(bash_complete(env, "okenv", "e")) == {"env", "exec"}
    assert set(bash_complete(env, "okenv", "exec", "")) == {"prod-admin", "dev"}
    assert bash_complete(env, "okenv", "exec", "--force", "p") == ["prod-admin"]
    assert set(bash_complete(env, "okenv", "use", "")) == {"prod-admin", "dev"}
    assert set(bash_complete(env, "okenv", "init", "")) == SHELL_NAMES
    assert set(bash_complete(env, "okenv", "env", "--shell", "")) == SHELL_NAMES
    assert bash_complete(env, "okenv", "env", "--shell", "=", "f") == ["fish"]
    assert "--no-input" in bash_complete(env, "okenv", "prod-admin", "--")
    assert bash_complete(env, "okenv", "--v") == ["--version"]
    assert bash_complete(env, "okenv", "status", "--j") == ["--json"]


def test_bash_hands_over_after_exec_profile(env: dict[str, str]) -> None:
    assert "okenvtestcmd" in bash_complete(env, "okenv", "exec", "prod-admin", "--", "okenvtest")
    assert "okenvtestcmd" in bash_complete(env, "okenv", "exec", "prod-admin", "okenvtest")


# -- fish ------------------------------------------------------------------------------------


def fish_complete(env: dict[str, str], line: str) -> list[str]:
    fish = need("fish")
    script = f"source {COMPLETIONS / 'okenv.fish'}\ncomplete -C {fish_quote(line)}\n"
    result = subprocess.run(
        [fish, "--no-config", "-c", script], capture_output=True, text=True, env=env, check=True
    )
    return [line.split("\t")[0] for line in result.stdout.splitlines() if line]


def fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def test_fish_completes(env: dict[str, str]) -> None:
    first = set(fish_complete(env, "okenv "))
    assert first >= SUBCOMMANDS | {"prod-admin", "dev"}
    assert not first & HIDDEN
    assert set(fish_complete(env, "okenv exec ")) == {"prod-admin", "dev"}
    assert fish_complete(env, "okenv exec --force p") == ["prod-admin"]
    assert set(fish_complete(env, "okenv init ")) == SHELL_NAMES
    assert set(fish_complete(env, "okenv env --shell ")) == SHELL_NAMES
    assert "--no-input" in fish_complete(env, "okenv prod-admin --")
    assert fish_complete(env, "okenv status --j") == ["--json"]


def test_fish_hands_over_after_exec_profile(env: dict[str, str]) -> None:
    assert "okenvtestcmd" in fish_complete(env, "okenv exec prod-admin -- okenvtest")
    assert "okenvtestcmd" in fish_complete(env, "okenv exec prod-admin okenvtest")
    # the wrapped command's own arguments: files here
    assert "/usr/" in fish_complete(env, "okenv exec prod-admin -- okenvtestcmd /us")


# -- zsh (through a pseudo-terminal: compadd works only inside a completion widget) ----------


def zsh_complete(env: dict[str, str], line: str, tmp_path: Path) -> list[str]:
    pexpect = pytest.importorskip("pexpect")
    zsh = need("zsh")
    out = tmp_path / "matches.txt"
    out.unlink(missing_ok=True)
    child = pexpect.spawn(
        zsh,
        ["-f", "-i"],
        env=dict(env, TERM="dumb", ZDOTDIR=str(tmp_path)),
        encoding="utf-8",
        timeout=20,
    )
    try:
        child.sendline(
            f"bindkey -e; PS1='RE''ADY> '; fpath=({COMPLETIONS} $fpath); "
            "autoload -Uz compinit; compinit -u -D; "
            f'compadd() {{ local -a m; builtin compadd -O m "$@"; print -rl -- $m >> {out}; '
            'builtin compadd "$@"; }'
        )
        child.expect("READY> ")
        child.send(line + "\t")
        child.sendcontrol("u")  # kill-whole-line: a key, queued behind the completion
        child.sendline("print -r -- DO''NE")
        child.expect("DONE")
    finally:
        child.sendline("exit")
        child.close(force=True)
    return out.read_text().split() if out.exists() else []


def test_zsh_completes(env: dict[str, str], tmp_path: Path) -> None:
    first = set(zsh_complete(env, "okenv ", tmp_path))
    assert first >= SUBCOMMANDS | {"prod-admin", "dev"}
    assert not first & HIDDEN
    assert set(zsh_complete(env, "okenv exec ", tmp_path)) == {"prod-admin", "dev"}
    assert set(zsh_complete(env, "okenv init ", tmp_path)) == SHELL_NAMES
    assert set(zsh_complete(env, "okenv env --shell ", tmp_path)) == SHELL_NAMES
    assert "okenvtestcmd" in zsh_complete(env, "okenv exec prod-admin -- okenvtest", tmp_path)
