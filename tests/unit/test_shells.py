"""okenv.shells and okenv.env: shell names, detection, statement shapes and quoting.

The quoting is checked here against small reference decoders written from each shell's
rules (and tree-sitter's PowerShell grammar); tests/shell/ evaluates it in real shells.
"""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell
from hypothesis import given, settings
from hypothesis import strategies as st

from okenv.credentials import Credentials
from okenv.env import EXPORTED, STALE, credentials_env, unset_env
from okenv.errors import UsageError
from okenv.shells import SHELLS, detect_shell, normalize_shell, quote, render

ALL_SHELLS = ["bash", "zsh", "fish", "powershell", "posix"]

# --- env -----------------------------------------------------------------------------------

CREDS = Credentials(
    access_key_id="ASIAEXAMPLE",
    secret_access_key="secret/key+=",
    session_token="token",
    expiration=datetime(2026, 11, 25, 13, 41, 23, tzinfo=UTC),
    role_arn="arn:aws:iam::123456789012:role/Admin",
)


def test_credentials_env_without_region_leaves_region_alone() -> None:
    env = credentials_env("prod-admin", CREDS)
    assert list(env) == [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SECURITY_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CREDENTIAL_EXPIRATION",
        "OKENV_PROFILE",
        "OKENV_ROLE_ARN",
        "OKENV_EXPIRES_AT",
    ]
    assert env["AWS_ACCESS_KEY_ID"] == "ASIAEXAMPLE"
    assert env["AWS_SECRET_ACCESS_KEY"] == "secret/key+="
    assert env["AWS_SESSION_TOKEN"] == "token"
    assert env["AWS_CREDENTIAL_EXPIRATION"] == "2026-11-25T13:41:23Z"
    assert env["OKENV_PROFILE"] == "prod-admin"
    assert env["OKENV_ROLE_ARN"] == "arn:aws:iam::123456789012:role/Admin"
    assert env["OKENV_EXPIRES_AT"] == "1795614083"  # date -d 2026-11-25T13:41:23Z +%s
    assert all(env[name] is None for name in STALE)


def test_credentials_env_with_region() -> None:
    creds = CREDS._replace(region="eu-west-1")
    env = credentials_env("dev", creds)
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert set(env) == set(EXPORTED) | set(STALE)


def test_unset_env_covers_everything() -> None:
    env = unset_env()
    assert list(env) == [*EXPORTED, *STALE]
    assert all(value is None for value in env.values())


# --- names and detection -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bash", "bash"),
        ("BASH", "bash"),
        ("Zsh", "zsh"),
        ("fish", "fish"),
        ("powershell", "powershell"),
        ("PowerShell", "powershell"),
        ("pwsh", "powershell"),
        ("PWSH", "powershell"),
        ("sh", "posix"),
        ("posix", "posix"),
        (" zsh ", "zsh"),
    ],
)
def test_normalize_shell(name: str, expected: str) -> None:
    assert normalize_shell(name) == expected


@pytest.mark.parametrize("name", ["tcsh", "", "cmd", "bash5", "nu", "power shell"])
def test_normalize_shell_rejects_unknown(name: str) -> None:
    with pytest.raises(UsageError) as info:
        normalize_shell(name)
    assert info.value.exit_code == 2
    text = f"{info.value.message} {info.value.hint}"
    for choice in SHELLS:
        assert choice in text


def _fake_proc(tmp_path: Path, pid: int, comm: str) -> Path:
    (tmp_path / str(pid)).mkdir()
    (tmp_path / str(pid) / "comm").write_text(comm + "\n")
    return tmp_path


@pytest.mark.parametrize(
    ("comm", "expected"),
    [
        ("bash", "bash"),
        ("-bash", "bash"),
        ("zsh", "zsh"),
        ("-zsh", "zsh"),
        ("fish", "fish"),
        ("pwsh", "powershell"),
        ("powershell", "powershell"),
        ("sh", "posix"),
        ("dash", "posix"),
    ],
)
def test_detect_from_parent_process(tmp_path: Path, comm: str, expected: str) -> None:
    proc = _fake_proc(tmp_path, 4242, comm)
    environ = {"SHELL": "/usr/bin/fish" if expected != "fish" else "/bin/bash"}
    assert detect_shell(environ, 4242, proc=proc) == expected


@pytest.mark.parametrize("comm", ["python3", "sudo", "uv", "tmux: server", ""])
def test_detect_skips_parents_that_are_not_shells(tmp_path: Path, comm: str) -> None:
    proc = _fake_proc(tmp_path, 4242, comm)
    assert detect_shell({"SHELL": "/usr/bin/zsh"}, 4242, proc=proc) == "zsh"


@pytest.mark.parametrize(
    ("shell", "expected"),
    [
        ("/bin/bash", "bash"),
        ("/usr/local/bin/fish", "fish"),
        ("/opt/homebrew/bin/zsh", "zsh"),
        ("/usr/bin/pwsh", "powershell"),
        ("/bin/sh", "posix"),
        ("/bin/tcsh", "posix"),
        ("", "posix"),
    ],
)
def test_detect_falls_back_to_login_shell(tmp_path: Path, shell: str, expected: str) -> None:
    # No /proc entry for the parent (e.g. macOS): $SHELL decides.
    assert detect_shell({"SHELL": shell}, 4242, proc=tmp_path) == expected


def test_detect_falls_back_to_posix(tmp_path: Path) -> None:
    assert detect_shell({}, 4242, proc=tmp_path) == "posix"
    assert detect_shell({}, 0, proc=tmp_path) == "posix"


@pytest.mark.skipif(not Path("/proc/self/comm").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize(("comm", "expected"), [("-bash", "bash"), ("pwsh", "powershell")])
def test_detect_reads_real_proc(comm: str, expected: str) -> None:
    # A child that renames itself stands in for the parent shell.
    code = (
        "import sys, time\n"
        f"open('/proc/self/comm', 'w').write({comm!r})\n"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
    )
    child = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        assert detect_shell({"SHELL": "/usr/bin/fish"}, child.pid) == expected
    finally:
        child.communicate("", timeout=10)


def test_detect_defaults_do_not_fail() -> None:
    assert detect_shell() in (*SHELLS, "posix")


# --- shapes --------------------------------------------------------------------------------

SAMPLE = {"AWS_PROFILE": None, "OKENV_PROFILE": "prod", "AWS_SESSION_TOKEN": "a b'c"}


def test_render_bash_and_zsh() -> None:
    expected = (
        "unset AWS_PROFILE;\n"
        "export OKENV_PROFILE=$'prod';\n"
        "export AWS_SESSION_TOKEN=$'a\\x20b\\x27c';\n"
    )
    assert render("bash", SAMPLE) == expected
    assert render("zsh", SAMPLE) == expected


def test_render_posix() -> None:
    safe = {**SAMPLE, "AWS_SESSION_TOKEN": "FwoG+ab/c=="}
    assert render("sh", safe) == (
        "unset AWS_PROFILE;\n"
        "export OKENV_PROFILE='prod';\n"
        "export AWS_SESSION_TOKEN='FwoG+ab/c==';\n"
    )


@pytest.mark.parametrize("value", ["a b", "a\tb", "a\nb", "a*b", "a?b", "[ab]", "it's", "a\\b"])
def test_render_posix_refuses_what_an_unquoted_eval_would_split_or_glob(value: str) -> None:
    with pytest.raises(UsageError) as caught:
        render("posix", {"OKENV_PROFILE": value})
    assert "cannot write OKENV_PROFILE for --shell posix" in caught.value.message
    assert caught.value.hint is not None and 'eval "$(okenv' in caught.value.hint


def test_render_fish() -> None:
    assert render("fish", SAMPLE) == (
        "set -e AWS_PROFILE; or true;\n"
        "set -gx -- OKENV_PROFILE 'prod';\n"
        "set -gx -- AWS_SESSION_TOKEN 'a b\\'c';\n"
    )


def test_render_powershell() -> None:
    expected = (
        "Remove-Item Env:AWS_PROFILE -ErrorAction SilentlyContinue;\n"
        "$Env:OKENV_PROFILE = 'prod';\n"
        "$Env:AWS_SESSION_TOKEN = 'a b''c';\n"
    )
    assert render("powershell", SAMPLE) == expected
    assert render("pwsh", SAMPLE) == expected


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_render_empty(shell: str) -> None:
    assert render(shell, {}) == ""


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_nul_is_rejected(shell: str) -> None:
    with pytest.raises(ValueError, match="NUL"):
        quote(shell, "a\x00b")
    with pytest.raises(ValueError, match="NUL"):
        render(shell, {"A": "\x00"})


@pytest.mark.parametrize("shell", ALL_SHELLS)
def test_lone_surrogate_is_rejected(shell: str) -> None:
    with pytest.raises(ValueError):
        quote(shell, "\udcff")


@pytest.mark.parametrize("shell", ALL_SHELLS)
@pytest.mark.parametrize("name", ["", "1A", "A-B", "A B", "A;B", "$(x)", "A\n"])
def test_bad_variable_names_are_rejected(shell: str, name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        render(shell, {name: "v"})


def test_quote_unknown_shell() -> None:
    with pytest.raises(UsageError):
        quote("tcsh", "x")


def test_typical_values_stay_readable() -> None:
    token = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+abc="
    assert quote("bash", token) == f"$'{token}'"
    assert quote("fish", token) == f"'{token}'"
    assert quote("powershell", token) == f"'{token}'"
    assert quote("posix", token) == f"'{token}'"


# --- reference decoders --------------------------------------------------------------------

ANY_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="\x00"))
HOSTILE = st.text(
    st.sampled_from(
        [
            *" \t\n\r\v\f'\"`$\\!%*?[]~{}()<>|&;#^=-",
            *["\x01", "\x1b", "\x7f", "\x85", "é", "🔑", "\u2028", "\u2029"],
            *["\u2018", "\u2019", "\u201a", "\u201b", "\u201c", "\u201d", "\u201e"],
        ]
    )
)
VALUES = st.one_of(ANY_TEXT, HOSTILE)

PWSH_SINGLE_QUOTES = "'\u2018\u2019\u201a\u201b"


def decode_powershell(expr: str) -> str:
    """Evaluate ``'…' + [char]0xHH + …`` by PowerShell's rules, rejecting anything else.

    In a verbatim string any of ' U+2018 U+2019 U+201A U+201B ends the string unless the
    next character is one of them too, in which case that next character is literal.
    """
    out: list[str] = []
    i = 0
    first = True
    while True:
        if not first:
            assert expr.startswith(" + ", i), expr[i:]
            i += 3
        first = False
        if expr[i] in PWSH_SINGLE_QUOTES:
            i += 1
            while True:
                char = expr[i]  # IndexError = unterminated string
                if char in PWSH_SINGLE_QUOTES:
                    if i + 1 < len(expr) and expr[i + 1] in PWSH_SINGLE_QUOTES:
                        out.append(expr[i + 1])
                        i += 2
                        continue
                    i += 1
                    break
                out.append(char)
                i += 1
        else:
            match = re.compile(r"\[char\]0x([0-9A-F]{2,6})").match(expr, i)
            assert match, expr[i:]
            out.append(chr(int(match.group(1), 16)))
            i = match.end()
        if i == len(expr):
            return "".join(out)


def decode_ansi_c(word: str) -> bytes:
    """bash/zsh ``$'…'`` limited to what okenv emits: literal characters and ``\\xHH``."""
    assert word.startswith("$'") and word.endswith("'")
    body = word[2:-1]
    out = bytearray()
    i = 0
    while i < len(body):
        if body[i] == "\\":
            assert body[i + 1] == "x"
            out.append(int(body[i + 2 : i + 4], 16))
            i += 4
        else:
            assert body[i] != "'"
            out += body[i].encode()
            i += 1
    return bytes(out)


def decode_fish(word: str) -> str:
    """fish: '…' (with \\\\ and \\' only) concatenated with unquoted \\xHH / \\uHHHH."""
    out: list[str] = []
    i = 0
    while i < len(word):
        if word[i] == "'":
            i += 1
            while word[i] != "'":
                if word[i] == "\\" and word[i + 1] in "\\'":
                    out.append(word[i + 1])
                    i += 2
                else:
                    out.append(word[i])
                    i += 1
            i += 1
        else:
            match = re.compile(r"\\x([0-9a-f]{2})|\\u([0-9a-f]{4})").match(word, i)
            assert match, word[i:]
            out.append(chr(int(match.group(1) or match.group(2), 16)))
            i = match.end()
    return "".join(out)


@settings(max_examples=500)
@given(VALUES)
def test_powershell_quote_round_trips(value: str) -> None:
    expr = quote("powershell", value)
    assert decode_powershell(expr) == value
    assert "\n" not in expr and "\r" not in expr


@settings(max_examples=500)
@given(VALUES)
def test_ansi_c_quote_round_trips_as_one_inert_word(value: str) -> None:
    word = quote("bash", value)
    assert quote("zsh", value) == word
    assert decode_ansi_c(word) == value.encode()
    # Nothing that word splitting or globbing of an unquoted $(…) would act on.
    assert not re.search(r"[\s*?\[\]{}~#^()<>|&;`\"!]", word[2:-1])
    assert word.isprintable()


@settings(max_examples=500)
@given(VALUES)
def test_fish_quote_round_trips_on_one_line(value: str) -> None:
    word = quote("fish", value)
    assert decode_fish(word) == value
    assert "\n" not in word and "\r" not in word


@settings(max_examples=300)
@given(VALUES)
def test_posix_quote_round_trips(value: str) -> None:
    word = quote("posix", value)
    # Single-quoted runs with nothing special inside, joined by \' (an escaped quote).
    assert re.fullmatch(r"'[^']*'(\\''[^']*')*", word), word
    tokens = re.findall(r"'([^']*)'|\\(')", word)
    assert "".join(run or quote_char for run, quote_char in tokens) == value


# --- PowerShell grammar --------------------------------------------------------------------

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))

# Node types allowed inside the right-hand side of an assignment: string literals,
# [char] casts of hex integers, '+' and the grammar's wrapper nodes.
VALUE_NODES = {
    "pipeline",
    "pipeline_chain",
    "logical_expression",
    "bitwise_expression",
    "comparison_expression",
    "additive_expression",
    "multiplicative_expression",
    "format_expression",
    "range_expression",
    "array_literal_expression",
    "unary_expression",
    "expression_with_unary_operator",
    "string_literal",
    "verbatim_string_characters",
    "cast_expression",
    "type_literal",
    "type_spec",
    "type_name",
    "type_identifier",
    "integer_literal",
    "hexadecimal_integer_literal",
    "+",
    "'",
    "[",
    "]",
}


def _walk(node: tree_sitter.Node) -> list[tree_sitter.Node]:
    nodes = [node]
    for child in node.children:
        nodes.extend(_walk(child))
    return nodes


def check_powershell_script(script: str, names: list[str]) -> None:
    tree = PARSER.parse(script.encode("utf-8"))
    root = tree.root_node
    assert not root.has_error, script
    assert all(not n.is_missing for n in _walk(root))
    (statements,) = root.named_children
    assert statements.type == "statement_list"
    seen: list[str] = []
    for statement in statements.named_children:
        if statement.type == "empty_statement":  # the ';'
            continue
        assert statement.type == "pipeline", statement
        (body,) = statement.named_children
        if body.type == "assignment_expression":
            target = body.child_by_field_name("value")
            assert target is not None
            left = body.named_children[0]
            assert left.text is not None
            seen.append(left.text.decode())
            assert body.named_children[1].type == "assignement_operator"
            for node in _walk(target):
                assert node.type in VALUE_NODES, (node.type, script)
                if node.type == "type_identifier":
                    assert node.text == b"char"
        else:
            assert body.type == "pipeline_chain", body
            (command,) = body.named_children
            assert command.type == "command"
            name = command.child_by_field_name("command_name")
            assert name is not None and name.text == b"Remove-Item"
            assert command.text is not None
            seen.append(command.text.decode().split()[1])
    assert seen == names


def test_powershell_unset_script_parses() -> None:
    script = render("powershell", unset_env())
    check_powershell_script(script, [f"Env:{n}" for n in [*EXPORTED, *STALE]])


@settings(max_examples=300)
@given(st.lists(VALUES, min_size=1, max_size=8))
def test_powershell_script_parses_to_assignments_only(values: list[str]) -> None:
    changes: dict[str, str | None] = {f"V{i}": v for i, v in enumerate(values)}
    changes["GONE"] = None
    script = render("powershell", changes)
    assert script.count("\n") == len(changes)
    names = [f"$Env:V{i}" for i in range(len(values))] + ["Env:GONE"]
    check_powershell_script(script, names)
