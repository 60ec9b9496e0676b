"""Shell code that sets and unsets environment variables, quoted so that no value runs code.

Every statement is one line ending in ``;`` and no value puts a line break into the output
(nor, for bash and zsh, a blank or glob character), so the code works the same whether the
user writes ``eval "$(okenv x)"``, unquoted ``eval $(okenv x)`` (bash and zsh split the
output into words and glob them; fish's ``eval (okenv x)`` splits it into lines), pipes it
into ``source`` or ``Invoke-Expression`` line by line, or joins the lines with spaces.

Quoting per shell:

- bash, zsh: ANSI-C ``$'...'``. Only ``[A-Za-z0-9_.,:/+=@%-]`` and printable non-blank
  non-ASCII characters stand as themselves; every other character is written as the
  ``\\xHH`` escapes of its UTF-8 bytes (both shells read ``\\xHH`` as one byte and take at
  most two hex digits).
- posix: plain single quotes, ``'`` written as ``'\\''``. POSIX sh has no escape that
  survives an unquoted ``eval $(...)``: it splits the output at blanks and globs every word,
  quotes and all, so ``NAME='a*b';`` matches a file planted under that pattern, whose name
  ``eval`` then runs. A posix statement is therefore written only for a value without
  blanks (IFS whitespace), glob characters ``*?[``, ``\\`` or ``'``; any other value is
  refused with a :class:`UsageError` that says to quote the eval.
- fish: single quotes (only ``\\\\`` and ``\\'`` are escapes inside them); control and
  line-separator characters are written outside the quotes as ``\\xHH`` / ``\\uHHHH``.
- powershell: single quotes with ``'`` and its look-alikes U+2018..U+201B doubled (PowerShell
  ends a verbatim string at any of them); control and line-separator characters are
  concatenated in as ``[char]0xHH``, so no statement spans two lines.

NUL cannot be in an environment variable and lone surrogates cannot be written as UTF-8:
both raise :class:`ValueError`, as does a variable name that is not ``[A-Za-z_][A-Za-z0-9_]*``.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Mapping
from pathlib import Path

from okenv.errors import UsageError

SHELLS: tuple[str, ...] = ("bash", "zsh", "fish", "powershell")
"""The shells ``--shell`` accepts (plus the alias ``pwsh``); ``posix`` is the fallback."""

POSIX = "posix"

_ALIASES: dict[str, str] = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "powershell": "powershell",
    "pwsh": "powershell",
    "sh": POSIX,
    "posix": POSIX,
}

# Process names (``/proc/<pid>/comm`` or ``$SHELL``'s basename) that identify a shell.
_PROCESS_NAMES: dict[str, str] = {
    "bash": "bash",
    "zsh": "zsh",
    "fish": "fish",
    "pwsh": "powershell",
    "pwsh-preview": "powershell",
    "powershell": "powershell",
    "sh": POSIX,
    "dash": POSIX,
    "ash": POSIX,
    "ksh": POSIX,
    "ksh93": POSIX,
    "mksh": POSIX,
    "yash": POSIX,
    "busybox": POSIX,
}

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")

# Characters that stand for themselves in every quoting below: not blank, not a glob or
# quote character, not special to any shell's word splitting.
_PLAIN_ASCII = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.,:/+=@%-")

# Unicode categories never written literally: controls, format characters, surrogates,
# unassigned and private-use code points, and every kind of separator (blanks, U+2028/9).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zs", "Zl", "Zp"})

# Characters that end a line for some reader: PowerShell, .NET, Python's splitlines.
_LINE_BREAKS = frozenset("\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")

# What an unquoted `eval $(...)` in sh would split at or glob, even inside our quotes.
_POSIX_UNSAFE = frozenset(" \t\n*?[\\'")

# PowerShell ends a verbatim string at any of these and reads a doubled one as one literal.
_PWSH_QUOTES = frozenset("'\u2018\u2019\u201a\u201b")


def normalize_shell(name: str) -> str:
    """The canonical name for *name* (case-insensitive; ``pwsh`` is ``powershell``, ``sh``
    is ``posix``); :class:`UsageError` for anything else."""
    canonical = _ALIASES.get(name.strip().lower())
    if canonical is None:
        from okenv.suggest import with_suggestion

        raise UsageError(
            f"unknown shell {name!r}",
            hint=with_suggestion(
                f"choose one of {', '.join(SHELLS)} (or pwsh, posix)", name, _ALIASES
            ),
        )
    return canonical


def _shell_from_process_name(name: str) -> str | None:
    name = name.strip()
    name = name.removeprefix("-")  # login shells: argv[0] is "-bash"
    base = name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1].lower()
    base = base.removesuffix(".exe")
    return _PROCESS_NAMES.get(base)


def detect_shell(
    environ: Mapping[str, str] | None = None,
    ppid: int | None = None,
    *,
    proc: Path = Path("/proc"),
) -> str:
    """Guess the shell that will evaluate our output; never starts a process.

    The parent process's name (``/proc/<ppid>/comm``, Linux only), else the basename of
    ``$SHELL``, else ``"posix"``. Names that are not shells (``sudo``, ``python3``, ``uv``)
    are skipped. *proc* exists for tests.
    """
    env = os.environ if environ is None else environ
    pid = os.getppid() if ppid is None else ppid
    if pid > 0:
        try:
            comm = (proc / str(pid) / "comm").read_text(encoding="utf-8", errors="replace")
        except OSError:
            comm = ""
        found = _shell_from_process_name(comm) if comm else None
        if found is not None:
            return found
    login_shell = env.get("SHELL", "")
    if login_shell:
        found = _shell_from_process_name(login_shell)
        if found is not None:
            return found
    return POSIX


def _check_value(value: str) -> None:
    if "\x00" in value:
        raise ValueError("an environment variable cannot hold a NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("value is not valid Unicode text (lone surrogate)") from None


def _is_plain(char: str) -> bool:
    """True when *char* may stand for itself inside any of our quotes."""
    if char < "\x80":
        return char in _PLAIN_ASCII
    return unicodedata.category(char) not in _UNSAFE_CATEGORIES


def _quote_ansi_c(value: str) -> str:
    out = ["$'"]
    for char in value:
        if _is_plain(char):
            out.append(char)
        else:
            out.extend(f"\\x{byte:02x}" for byte in char.encode("utf-8"))
    out.append("'")
    return "".join(out)


def _quote_posix(value: str) -> str:
    return "'" + value.replace("'", "'\\''") + "'"


def _split_quoted(
    value: str, control: Callable[[str], str], in_quotes: Callable[[str], str]
) -> list[str]:
    """Runs of printable characters as single-quoted literals (each character through
    ``in_quotes``); control and line-break characters outside them, through ``control``."""
    parts: list[str] = []
    quoted: list[str] = []
    for char in value:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp") or char in _LINE_BREAKS:
            if quoted:
                parts.append("'" + "".join(quoted) + "'")
                quoted.clear()
            parts.append(control(char))
        else:
            quoted.append(in_quotes(char))
    if quoted:
        parts.append("'" + "".join(quoted) + "'")
    return parts


def _quote_fish(value: str) -> str:
    # fish concatenates adjacent words; inside '…' only \\ and \' are escapes.
    parts = _split_quoted(
        value,
        lambda c: f"\\x{ord(c):02x}" if ord(c) < 0x80 else f"\\u{ord(c):04x}",
        lambda c: "\\" + c if c in "\\'" else c,
    )
    return "".join(parts) or "''"


def _quote_powershell(value: str) -> str:
    parts = _split_quoted(
        value,
        lambda c: f"[char]0x{ord(c):02X}",
        lambda c: c + c if c in _PWSH_QUOTES else c,
    )
    # A leading string literal makes '+' concatenate strings rather than add [char] codes.
    if not parts or not parts[0].startswith("'"):
        parts.insert(0, "''")
    return " + ".join(parts)


def quote(shell: str, value: str) -> str:
    """*value* as one word (an expression, for PowerShell) of *shell* that evaluates to
    exactly *value* and runs nothing."""
    canonical = normalize_shell(shell)
    _check_value(value)
    if canonical in ("bash", "zsh"):
        return _quote_ansi_c(value)
    if canonical == "fish":
        return _quote_fish(value)
    if canonical == "powershell":
        return _quote_powershell(value)
    return _quote_posix(value)


def _statement(shell: str, name: str, value: str | None) -> str:
    if not _NAME.match(name):
        raise ValueError(f"not a valid environment variable name: {name!r}")
    if shell == "fish":
        if value is None:
            # `set -e` of a missing variable prints nothing but returns 4: keep $status 0.
            return f"set -e {name}; or true;"
        return f"set -gx -- {name} {quote(shell, value)};"
    if shell == "powershell":
        if value is None:
            return f"Remove-Item Env:{name} -ErrorAction SilentlyContinue;"
        return f"$Env:{name} = {quote(shell, value)};"
    if value is None:
        return f"unset {name};"
    if shell == POSIX:
        _check_posix(name, value)
    return f"export {name}={quote(shell, value)};"


def _check_posix(name: str, value: str) -> None:
    unsafe = sorted(_POSIX_UNSAFE.intersection(value))
    if unsafe:
        shown = " ".join(repr(c) for c in unsafe)
        raise UsageError(
            f"cannot write {name} for --shell posix: its value holds {shown}, which an "
            "unquoted eval $(okenv ...) would split or expand",
            hint='quote the eval, eval "$(okenv ...)", with --shell bash or zsh (safe either '
            "way), or rename the profile",
        )


def render(shell: str, changes: Mapping[str, str | None]) -> str:
    """Code for *shell* that applies *changes* in order (``None`` unsets): one statement
    per line, each ending in ``;``; empty for no changes."""
    canonical = normalize_shell(shell)
    return "".join(_statement(canonical, name, value) + "\n" for name, value in changes.items())
