"""The generated completion scripts, driven through each shell's own completion machinery."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Annotated

import pytest
import typer

from okenv.cli import Choices, profile_name
from okenv.integration import COMPLETION_FILES
from tests.shell.test_init import fill_cache, need, okenv_binary, powershell_errors
from tools.completions import COMMAND, PROFILE, VALUE, Argument, command_tree, generate, okenv_tree

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
    """completions/ is what tools/completions.py makes of today's command tree."""
    committed = (COMPLETIONS / COMPLETION_FILES[shell]).read_text()
    assert generate(shell) == committed, (
        f"completions/{COMPLETION_FILES[shell]} is stale: run make completions"
    )


@pytest.mark.parametrize("shell", sorted(COMPLETION_FILES))
def test_completions_command_prints_the_shipped_file(shell: str) -> None:
    printed = subprocess.run(
        [okenv_binary(), "completions", shell], capture_output=True, text=True, check=True
    ).stdout
    assert printed == (COMPLETIONS / COMPLETION_FILES[shell]).read_text()


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


def test_zsh_completes_use_with_envs_flags(env: dict[str, str], tmp_path: Path) -> None:
    flags = set(zsh_complete(env, "okenv use prod-admin --", tmp_path))
    assert "--force" in flags and "--shell" not in flags


# -- the generator reads declarations, not names ------------------------------------------


def test_generator_reads_the_declarations() -> None:
    """Choices, profile arguments and the wrapped command come from the types in cli.py."""
    app = typer.Typer(add_completion=False)

    @app.command("paint")
    def paint(
        who: Annotated[str, typer.Argument(parser=profile_name)],
        colour: Annotated[str, typer.Argument(click_type=Choices(("red", "blue")))],
        note: Annotated[str, typer.Argument()],
        rest: Annotated[list[str], typer.Argument()],
        brush: Annotated[str | None, typer.Option(click_type=Choices(("fine", "wide")))] = None,
        shell: Annotated[str | None, typer.Option()] = None,
    ) -> None: ...

    @app.command("other", hidden=True)
    def other() -> None: ...

    tree = command_tree(typer.main.get_command(app))
    (paint_command,) = tree.commands
    assert paint_command.arguments == (
        Argument(PROFILE),
        Argument("colour", ("red", "blue")),
        Argument(VALUE),
        Argument(COMMAND),
    )
    options = {option.names[-1]: option for option in paint_command.options}
    assert options["--brush"].choices == ("fine", "wide")
    assert options["--shell"].choices == ()  # a plain string option named shell: no words


def test_okenv_declares_its_closed_sets() -> None:
    tree = okenv_tree()
    assert tree.choices == {
        "--factor": (
            "auto",
            "totp",
            "push",
            "sms",
            "call",
            "email",
            "hardware",
            "question",
            "webauthn",
        ),
        "--shell": ("bash", "zsh", "fish", "powershell"),
        "shell": ("bash", "zsh", "fish", "powershell"),
    }
    env, use = tree.command("env"), tree.command("use")
    assert [o for o in env.options if "--shell" not in o.names] == list(use.options)


# -- hostile profile names: a completed name is one word that runs nothing -----------------

HOSTILE = {
    "zz1": "zz1$(touch X1)",
    "zz2": "zz2`touch X2`",
    "zz3": "zz3 a;touch X3",
    "zz4": "zz4*[x]?",  # globs against the planted file zz4x1
    "zz5": "zz5'q\"d>X5",
    "zz6": "zz6!!x",  # history expansion in interactive bash and zsh
}


@pytest.fixture
def hostile(env: dict[str, str], tmp_path: Path) -> tuple[dict[str, str], Path]:
    """A config of hostile profile names, and an empty working directory but for zz4x1."""
    config = tmp_path / "hostile.toml"
    lines = ['[defaults]\napp_url = "https://acme.okta.com/home/amazon_aws/0oa1/272"\n']
    lines += [f"[profiles.{json.dumps(name)}]\n" for name in HOSTILE.values()]
    config.write_text("".join(lines))
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    (cwd / "zz4x1").touch()
    return dict(env, OKENV_CONFIG=str(config)), cwd


def planted(cwd: Path) -> set[str]:
    return {path.name for path in cwd.iterdir()} - {"zz4x1"}


# What is typed before TAB → how the completed word stands on the line. After an opening
# quote, readline (bash) keeps it and closes it around the completion.
TYPED = [("", "{}"), ("'", "'{}'"), ('"', '"{}"')]


@pytest.mark.parametrize(("quote", "word"), TYPED)
def test_bash_quotes_hostile_profile_names(
    hostile: tuple[dict[str, str], Path], quote: str, word: str
) -> None:
    env, cwd = hostile
    bash = need("bash")
    for prefix, name in HOSTILE.items():
        for line in (["okenv", quote + prefix], ["okenv", "exec", quote + prefix]):
            replies = bash_complete(env, *line)
            assert len(replies) == 1, (line, replies)
            completed = word.format(replies[0])
            result = subprocess.run(
                [bash, "--norc", "--noprofile", "-c", f"printf '%s\\0' {completed}"],
                capture_output=True,
                text=True,
                cwd=cwd,
                check=True,
            )
            assert result.stdout.split("\0")[:-1] == [name], (line, completed)
            assert planted(cwd) == set(), (line, completed)


def test_bash_completes_a_word_it_quoted(hostile: tuple[dict[str, str], Path]) -> None:
    """TAB again on a partly inserted (backslash-quoted) name finds the profile."""
    env, _ = hostile
    assert bash_complete(env, "okenv", "zz1\\$\\(to") == ["zz1\\$\\(touch\\ X1\\)"]
    assert bash_complete(env, "okenv", "zz3\\ a\\;") == ["zz3\\ a\\;touch\\ X3"]


def test_fish_completes_a_word_it_quoted(hostile: tuple[dict[str, str], Path]) -> None:
    env, _ = hostile
    assert fish_complete(env, "okenv zz1\\$\\(to") == [HOSTILE["zz1"]]
    assert fish_complete(env, "okenv 'zz3 a;") == [HOSTILE["zz3"]]
    assert fish_complete(env, "okenv exec zz5\\'q") == [HOSTILE["zz5"]]


def tab_then_enter(shell: str, env: dict[str, str], cwd: Path, lines: list[str]) -> list[list[str]]:
    """Type each line, press TAB, then Enter, in an interactive *shell* on a pty; return the
    arguments `okenv` got each time (okenv is a function there, except for completion)."""
    pexpect = pytest.importorskip("pexpect")
    out = cwd.parent / "argv.txt"
    record = f"printf '%s\\0' \"$@\" >> {out}; printf '\\n' >> {out}"
    if shell == "fish":
        argv = [need("fish"), "--no-config", "-i"]
        setup = (
            "function fish_prompt; echo -n 'RE''ADY> '; end; "
            f"source {COMPLETIONS / 'okenv.fish'}; function okenv; "
            'if test "$argv[1]" = __complete-profiles; command okenv $argv; '
            f"else; printf '%s\\0' $argv >> {out}; printf '\\n' >> {out}; end; end"
        )
    elif shell == "zsh":
        argv = [need("zsh"), "-f", "-i"]
        setup = (
            f"bindkey -e; PS1='RE''ADY> '; fpath=({COMPLETIONS} $fpath); "
            "autoload -Uz compinit; compinit -u -D; okenv() { "
            f'if [[ $1 == __complete-profiles ]]; then command okenv "$@"; else {record}; fi; }}'
        )
    else:
        argv = [need("bash"), "--norc", "--noprofile", "-i"]
        setup = (
            f"PS1='RE''ADY> '; source {COMPLETIONS / 'okenv.bash'}; okenv() {{ "
            f'if [[ $1 == __complete-profiles ]]; then command okenv "$@"; else {record}; fi; }}'
        )
    env = dict(env, TERM="dumb", ZDOTDIR=str(cwd.parent))
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(cwd), encoding="utf-8", timeout=30)
    try:
        child.sendline(setup)
        child.expect("READY> ")
        for number, line in enumerate(lines):
            child.send(line + "\t")
            child.send("\r")  # a key queued behind the completion, not a wait for it
            child.sendline(f"echo DO''NE{number}")
            child.expect(f"DONE{number}")
    finally:
        child.sendline("exit")
        child.close(force=True)
    calls = out.read_text().splitlines() if out.exists() else []
    return [call.split("\0")[:-1] for call in calls]


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_tab_inserts_a_hostile_name_as_one_inert_word(
    shell: str, hostile: tuple[dict[str, str], Path]
) -> None:
    """`okenv zz<TAB><Enter>` in a real shell: okenv gets the profile name; nothing runs."""
    env, cwd = hostile
    lines = [f"okenv {prefix}" for prefix in HOSTILE]
    lines += [f"okenv exec {quote}{prefix}" for quote in ("'", '"') for prefix in HOSTILE]
    expected = [[name] for name in HOSTILE.values()]
    expected += [["exec", name] for _ in ("'", '"') for name in HOSTILE.values()]
    lines += ["okenv zz1\\$\\(to", "okenv use zz3\\ a\\;"]  # TAB on a partly quoted name
    expected += [[HOSTILE["zz1"]], ["use", HOSTILE["zz3"]]]
    assert tab_then_enter(shell, env, cwd, lines) == expected
    assert planted(cwd) == set()
