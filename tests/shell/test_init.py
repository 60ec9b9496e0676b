"""`okenv init SHELL` in real shells: loading, `okenv use`/`okenv unset`, the prompt segment.

Credentials come from a pre-filled cache (no Okta, no STS): `okenv use` is a cache hit.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from okenv.cache import CredentialCache
from okenv.config import resolve_profile
from okenv.credentials import Credentials
from okenv.errors import UsageError
from okenv.integration import init_script, own_command
from okenv.paths import cache_dir, config_path
from okenv.provider import cache_key

pytestmark = pytest.mark.shell

ROOT = Path(__file__).resolve().parents[2]
SHELL_DIR = ROOT / "shell"
SHELLS = ("bash", "zsh", "fish")

CONFIG = """\
[defaults]
app_url = "https://acme.okta.com/home/amazon_aws/0oa1b2c3d4e5f6g7h8i9/272"
username = "alice@acme.com"

[profiles.prod-admin]
role = "arn:aws:iam::123456789012:role/Admin"
region = "eu-west-1"

[profiles.dev]
role = "arn:aws:iam::210987654321:role/Developer"
"""

OKENV_VARIABLES = (
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "OKENV_PROFILE",
    "OKENV_ROLE_ARN",
    "OKENV_EXPIRES_AT",
)


def okenv_binary() -> str:
    """The installed okenv script next to this interpreter."""
    found = shutil.which("okenv", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("the okenv script is not installed next to this Python")
    return found


def need(program: str) -> str:
    found = shutil.which(program)
    if found is None:
        pytest.skip(f"{program} is not installed")
    return found


def shell_argv(shell: str) -> list[str]:
    """The shell, without rc files and in its strict mode, ready for a script argument."""
    path = need(shell)
    if shell == "bash":
        return [path, "--norc", "--noprofile", "-c", "set -euo pipefail\n{script}"]
    if shell == "zsh":
        return [path, "--no-rcs", "-c", "setopt nounset err_exit\n{script}"]
    return [path, "--no-config", "-c", "{script}"]


def run_shell(
    shell: str, script: str, env: dict[str, str] | None = None, timeout: float = 30
) -> subprocess.CompletedProcess[str]:
    argv = [word.replace("{script}", script) for word in shell_argv(shell)]
    environment = dict(os.environ if env is None else env)
    environment["PATH"] = f"{Path(okenv_binary()).parent}{os.pathsep}{environment['PATH']}"
    return subprocess.run(
        argv, capture_output=True, text=True, env=environment, timeout=timeout, check=False
    )


def load_line(shell: str) -> str:
    binary = okenv_binary()
    if shell == "fish":
        return f"{binary} init fish | source"
    return f'eval "$({binary} init {shell})"'


def parse_env(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def fill_cache(profiles: tuple[str, ...] = ("prod-admin", "dev")) -> dict[str, Credentials]:
    """Write the config and cached credentials (valid for 1 hour) for *profiles*."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(CONFIG)
    cache = CredentialCache(cache_dir())
    filled = {}
    for name in profiles:
        profile = resolve_profile(name, path=path, environ={})
        creds = Credentials(
            access_key_id=f"ASIA{name.upper().replace('-', '')}",
            secret_access_key='s3cr3t\'$(touch pwned) `x` "y"',
            session_token=f"token-{name}",
            expiration=datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1),
            role_arn=profile.role or "",
            region=profile.region,
        )
        cache.store(cache_key(profile), name, creds)
        filled[name] = creds
    return filled


@pytest.fixture
def cached() -> dict[str, Credentials]:
    return fill_cache()


# -- the script files ----------------------------------------------------------------------


def test_bash_script_passes_shellcheck(tmp_path: Path) -> None:
    shellcheck = need("shellcheck")
    rendered = tmp_path / "init.bash"
    rendered.write_text(init_script("bash", [okenv_binary()]))
    for path in (SHELL_DIR / "okenv.bash", rendered):
        result = subprocess.run(
            [shellcheck, "-s", "bash", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, result.stdout + result.stderr


def test_zsh_script_parses(tmp_path: Path) -> None:
    zsh = need("zsh")
    rendered = tmp_path / "init.zsh"
    rendered.write_text(init_script("zsh", [okenv_binary()]))
    for path in (SHELL_DIR / "okenv.zsh", rendered):
        result = subprocess.run([zsh, "-n", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, result.stderr


def test_fish_script_is_fish_indent_clean(tmp_path: Path) -> None:
    fish_indent = need("fish_indent")
    rendered = tmp_path / "init.fish"
    rendered.write_text(init_script("fish", [okenv_binary()]))
    for path in (SHELL_DIR / "okenv.fish", rendered):
        result = subprocess.run(
            [fish_indent, "--check", str(path)], capture_output=True, text=True, check=False
        )
        assert result.returncode == 0, f"{path} is not fish_indent-clean"


def powershell_errors(source: bytes) -> list[str]:
    tree_sitter = pytest.importorskip("tree_sitter")
    grammar = pytest.importorskip("tree_sitter_powershell")
    parser = tree_sitter.Parser(tree_sitter.Language(grammar.language()))
    tree = parser.parse(source)
    errors: list[str] = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            errors.append(f"{node.type} at {node.start_point}: {node.text!r}"[:200])
        stack.extend(node.children)
    return errors


def test_powershell_script_parses() -> None:
    assert powershell_errors(b"function f { if ($x) { ") != []  # the check can fail
    assert powershell_errors((SHELL_DIR / "okenv.ps1").read_bytes()) == []
    command = [sys.executable, "-m", "okenv"]
    assert powershell_errors(init_script("powershell", command).encode()) == []


def test_scripts_share_the_structure() -> None:
    for ext in ("bash", "zsh", "fish", "ps1"):
        text = (SHELL_DIR / f"okenv.{ext}").read_text()
        assert text.count("__OKENV_COMMAND__") == 1, ext
        for name in ("__okenv_command", "okenv_prompt", "__okenv_segment", "OKENV_PROMPT_COLOR"):
            assert name in text, (ext, name)


# -- okenv init ----------------------------------------------------------------------------


def test_own_command() -> None:
    binary = okenv_binary()
    assert own_command(binary, "/py") == [os.path.abspath(binary)]
    assert own_command("/somewhere/okenv/__main__.py", "/py") == ["/py", "-m", "okenv"]
    assert own_command("", "/py") == ["/py", "-m", "okenv"]


def test_init_embeds_the_quoted_command() -> None:
    script = init_script("bash", ["/opt/my tools/python3", "-m", "okenv"])
    assert "command $'/opt/my\\x20tools/python3' $'-m' $'okenv' \"$@\"" in script
    assert "__OKENV_COMMAND__" not in script


def test_init_posix_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        init_script("posix", ["okenv"])
    result = subprocess.run(
        [okenv_binary(), "init", "sh"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    assert "okenv:" in result.stderr


def test_init_under_python_m_calls_python_m(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "okenv", "init", "bash"], capture_output=True, text=True, check=True
    )
    assert "$'-m' $'okenv'" in result.stdout


# -- loading -------------------------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("prompt", ["", "1"])
def test_loads_silently_in_strict_mode(shell: str, prompt: str) -> None:
    env = dict(os.environ, OKENV_PROMPT=prompt)
    result = run_shell(shell, load_line(shell), env=env)
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


# -- okenv use / okenv unset ---------------------------------------------------------------


@pytest.mark.parametrize("shell", SHELLS)
def test_use_then_unset(shell: str, cached: dict[str, Credentials]) -> None:
    script = f"{load_line(shell)}\nokenv use prod-admin\nenv\necho -----\nokenv unset\nenv\n"
    env = dict(os.environ, AWS_PROFILE="stale", AWS_SECURITY_TOKEN="stale")
    result = run_shell(shell, script, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    used, unset = (parse_env(part) for part in result.stdout.split("-----\n"))
    creds = cached["prod-admin"]
    assert used["AWS_ACCESS_KEY_ID"] == creds.access_key_id
    assert used["AWS_SECRET_ACCESS_KEY"] == creds.secret_access_key
    assert used["AWS_SESSION_TOKEN"] == creds.session_token
    assert used["AWS_REGION"] == "eu-west-1"
    assert used["OKENV_PROFILE"] == "prod-admin"
    assert used["OKENV_EXPIRES_AT"] == str(creds.expires_at)
    assert "AWS_PROFILE" not in used and "AWS_SECURITY_TOKEN" not in used
    assert not set(OKENV_VARIABLES) & set(unset)
    assert not Path("pwned").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_failing_use_changes_nothing(shell: str, cached: dict[str, Credentials]) -> None:
    status = "$status" if shell == "fish" else "$?"
    script = (
        f"{load_line(shell)}\nokenv use dev\nokenv use nosuch; echo status={status}\n"
        if shell == "fish"
        else f"{load_line(shell)}\nokenv use dev\nokenv use nosuch || echo status={status}\n"
    )
    result = run_shell(shell, script + "env\n")
    assert "status=2" in result.stdout.splitlines()
    assert parse_env(result.stdout)["OKENV_PROFILE"] == "dev"
    assert parse_env(result.stdout)["AWS_ACCESS_KEY_ID"] == cached["dev"].access_key_id
    assert "unknown profile 'nosuch'" in result.stderr


@pytest.mark.parametrize("shell", SHELLS)
def test_command_substitution_reaches_the_binary(
    shell: str, cached: dict[str, Credentials]
) -> None:
    """`eval "$(okenv unset)"` and `eval "$(okenv prod-admin)"` work with the function loaded."""
    if shell == "fish":
        body = "eval (okenv prod-admin)\nenv\necho -----\neval (okenv unset)\nenv\n"
    else:
        body = 'eval "$(okenv prod-admin)"\nenv\necho -----\neval "$(okenv unset)"\nenv\n'
    result = run_shell(shell, f"{load_line(shell)}\n{body}")
    assert result.returncode == 0, result.stderr
    used, unset = (parse_env(part) for part in result.stdout.split("-----\n"))
    assert used["OKENV_PROFILE"] == "prod-admin"
    assert not set(OKENV_VARIABLES) & set(unset)


def test_fish_pipe_into_source_still_works(cached: dict[str, Credentials]) -> None:
    script = f"{load_line('fish')}\nokenv use dev\nokenv unset | source\nenv\n"
    result = run_shell("fish", script)
    assert result.returncode == 0, result.stderr
    assert not set(OKENV_VARIABLES) & set(parse_env(result.stdout))


@pytest.mark.parametrize("shell", SHELLS)
def test_help_and_other_commands_pass_through(shell: str, cached: dict[str, Credentials]) -> None:
    result = run_shell(shell, f"{load_line(shell)}\nokenv use --help\nokenv --version\n")
    assert result.returncode == 0, result.stderr
    assert "PROFILE" in result.stdout
    assert "okenv " in result.stdout.splitlines()[-1]


# -- the prompt segment --------------------------------------------------------------------


def segment_script(shell: str, expires: int | None, *, empty_path: Path, colour: bool) -> str:
    lines = [load_line(shell)]
    if shell == "fish":
        lines.append("set -gx OKENV_PROFILE prod-admin")
        if expires is not None:
            lines.append(f"set -gx OKENV_EXPIRES_AT {expires}")
        if colour:
            lines.append("set -gx OKENV_PROMPT_COLOR 1")
        lines.append(f"set -gx PATH {empty_path}")
        lines.append('set -l segment (okenv_prompt); echo "[$segment]"')
    else:
        lines.append("export OKENV_PROFILE=prod-admin")
        if expires is not None:
            lines.append(f"export OKENV_EXPIRES_AT={expires}")
        if colour:
            lines.append("export OKENV_PROMPT_COLOR=1")
        lines.append(f"PATH={empty_path}")
        lines.append('echo "[$(okenv_prompt)]"')
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(
    ("remaining", "expected"),
    [
        (3 * 3600 + 5 * 60 + 30, "prod-admin 3h05m"),
        (42 * 60 + 30, "prod-admin 42m"),
        (0, "prod-admin expired"),
        (-100, "prod-admin expired"),
        (None, ""),
    ],
)
def test_prompt_segment_starts_no_process(
    shell: str, remaining: int | None, expected: str, tmp_path: Path
) -> None:
    """PATH is an empty directory while okenv_prompt runs: any command it started would fail."""
    empty = tmp_path / "empty"
    empty.mkdir()
    expires = None if remaining is None else int(time.time()) + remaining
    result = run_shell(shell, segment_script(shell, expires, empty_path=empty, colour=False))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == f"[{expected}]\n"


@pytest.mark.parametrize("shell", SHELLS)
def test_prompt_segment_is_empty_without_okenv(shell: str) -> None:
    show = (
        'set -l segment (okenv_prompt); echo "[$segment]"'
        if shell == "fish"
        else 'echo "[$(okenv_prompt)]"'
    )
    result = run_shell(shell, f"{load_line(shell)}\n{show}\n")
    assert (result.returncode, result.stdout, result.stderr) == (0, "[]\n", "")


@pytest.mark.parametrize(
    ("shell", "start", "end"),
    [
        ("bash", "\x01\x1b[33m\x02", "\x01\x1b[0m\x02"),
        ("zsh", "%{\x1b[33m%}", "%{\x1b[0m%}"),
        ("fish", "\x1b[33m", "\x1b["),
    ],
)
def test_prompt_colour_is_opt_in(shell: str, start: str, end: str, tmp_path: Path) -> None:
    expires = int(time.time()) + 5 * 60 + 30
    plain = run_shell(shell, segment_script(shell, expires, empty_path=tmp_path, colour=False))
    assert plain.stdout == "[prod-admin 5m]\n"
    env = dict(os.environ, TERM="xterm-256color")
    coloured = run_shell(
        shell, segment_script(shell, expires, empty_path=tmp_path, colour=True), env=env
    )
    assert coloured.returncode == 0, coloured.stderr
    text = coloured.stdout.strip()[1:-1]
    assert text.startswith(start), repr(text)
    assert "prod-admin 5m" in text
    assert end in text[len(start) :]


def test_bash_prompt_hook_fills_ps1(tmp_path: Path) -> None:
    expires = int(time.time()) + 42 * 60 + 30
    script = (
        f"PS1='\\u$ '\n{load_line('bash')}\n"
        f"export OKENV_PROFILE=prod-admin OKENV_EXPIRES_AT={expires}\n"
        f"PATH={tmp_path}\n"
        'eval "$PROMPT_COMMAND"\n'
        'echo "[${PS1@P}]"\n'
        'eval "$PROMPT_COMMAND"\n'  # a second prompt does not add the segment twice
        'echo "[${PS1@P}]"\n'
        "unset OKENV_PROFILE\n"
        'eval "$PROMPT_COMMAND"\n'
        'echo "[${PS1@P}]"\n'
    )
    env = dict(os.environ, OKENV_PROMPT="1", USER="alice")
    result = run_shell("bash", script, env=env)
    assert result.returncode == 0, result.stderr
    user = subprocess.run(["id", "-un"], capture_output=True, text=True, check=True).stdout.strip()
    assert result.stdout.splitlines() == [
        f"[(prod-admin 42m) {user}$ ]",
        f"[(prod-admin 42m) {user}$ ]",
        f"[{user}$ ]",
    ]


@pytest.mark.parametrize("subst", [False, True])
def test_zsh_precmd_fills_prompt(subst: bool, tmp_path: Path) -> None:
    expires = int(time.time()) + 42 * 60 + 30
    script = (
        f"{'setopt prompt_subst' if subst else ''}\nPROMPT='> '\n{load_line('zsh')}\n"
        f"export OKENV_PROFILE=50%-admin OKENV_EXPIRES_AT={expires}\n"
        f"PATH={tmp_path}\n"
        "for f in $precmd_functions; do $f; done\n"
        'print -r -- "[${(%)PROMPT}]"\n'
        "for f in $precmd_functions; do $f; done\n"
        'print -r -- "[${(%)PROMPT}]"\n'
        "unset OKENV_PROFILE\n"
        "for f in $precmd_functions; do $f; done\n"
        'print -r -- "[${(%)PROMPT}]"\n'
    )
    if subst:  # with prompt_subst, ${...} in PROMPT expands at each prompt
        script = script.replace('"[${(%)PROMPT}]"', '"[${(%)${(e)PROMPT}}]"')
    result = run_shell("zsh", script, env=dict(os.environ, OKENV_PROMPT="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "[(50%-admin 42m) > ]",
        "[(50%-admin 42m) > ]",
        "[> ]",
    ]


ZSH_HOSTILE_PROFILES = [
    "x$(touch M1)",
    "50%-`touch M2`",
    "a\\b ${HOME} $[1+1] $HOME",
    "\x1b]0;t\x07z",
]


@pytest.mark.parametrize("profile", ZSH_HOSTILE_PROFILES)
def test_zsh_prompt_segment_runs_nothing_with_or_without_prompt_subst(
    profile: str, tmp_path: Path
) -> None:
    """Found: with prompt_subst off, a profile named x$(touch M) left a literal segment in
    PROMPT that ran once a theme turned prompt_subst on. Prompts are expanded by zsh itself
    (print -P honours prompt_subst) after each precmd: off, off then on (a theme), on."""
    expires = int(time.time()) + 42 * 60 + 30
    precmd = "for f in $precmd_functions; do $f; done"
    show = 'print -rP -- "[$PROMPT]"'
    script = "\n".join(
        [
            "PROMPT='> '",
            load_line("zsh"),
            f"export OKENV_EXPIRES_AT={expires}",
            'export OKENV_PROFILE="$(<profile)"',
            f"cd {tmp_path}",
            precmd,
            show,  # prompt_subst off
            "setopt prompt_subst",  # a theme turns it on after okenv's hook ran
            show,
            precmd,  # the next prompt: okenv sees prompt_subst on
            show,
            precmd,
            show,
        ]
    )
    (tmp_path / "profile").write_text(profile)
    result = run_shell("zsh", f"cd {tmp_path}\n{script}", env=dict(os.environ, OKENV_PROMPT="1"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["profile"]  # nothing ran
    lines = result.stdout.splitlines()
    assert len(lines) == 4, result.stdout
    assert not any(c in result.stdout for c in "\x1b\x07"), repr(result.stdout)
    for line in lines:
        assert line.startswith("[(") and line.endswith(" 42m) > ]"), lines  # the segment once
    if "`" not in profile and "\\" not in profile and "\x1b" not in profile:
        assert lines == [f"[({profile} 42m) > ]"] * 4  # shown as it is, in both modes


def test_fish_prompt_wrapper(tmp_path: Path) -> None:
    expires = int(time.time()) + 42 * 60 + 30
    script = (
        'function fish_prompt; echo -n "st=$status> "; end\n'
        f"{load_line('fish')}\n"
        f"set -gx OKENV_PROFILE prod-admin; set -gx OKENV_EXPIRES_AT {expires}\n"
        f"set -gx PATH {tmp_path}\n"
        'false; set -l p (fish_prompt); echo "[$p]"\n'
        'set -e OKENV_PROFILE; set -l p (fish_prompt); echo "[$p]"\n'
    )
    result = run_shell("fish", script, env=dict(os.environ, OKENV_PROMPT="1"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[(prod-admin 42m) st=1> ]", "[st=0> ]"]


def test_bash_prompt_without_epochseconds(tmp_path: Path) -> None:
    """bash 4.2-4.4 have no $EPOCHSECONDS: printf's %(%s)T is the clock, still no process."""
    expires = int(time.time()) + 42 * 60 + 30
    script = (
        f"{load_line('bash')}\nunset EPOCHSECONDS\n"
        f"export OKENV_PROFILE=prod-admin OKENV_EXPIRES_AT={expires}\nPATH={tmp_path}\n"
        'echo "[$(okenv_prompt)]"\n'
    )
    result = run_shell("bash", script)
    assert (result.returncode, result.stdout, result.stderr) == (0, "[prod-admin 42m]\n", "")
