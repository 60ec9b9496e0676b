"""Evaluate okenv's shell code in real bash, zsh, fish and sh and compare values byte for byte.

Each run renders a batch of variables, evaluates the file the way users do (quoted
``eval "$(…)"`` and unquoted ``eval $(…)``; fish ``eval (…)`` and ``| source``), then
writes every value with ``printf '%s\\0'`` and the exported environment with ``env -0``.
Hostile values must come back unchanged, run nothing (canary files) and unset cleanly.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from okenv.env import EXPORTED, STALE, unset_env
from okenv.errors import UsageError
from okenv.shells import render

pytestmark = pytest.mark.shell


@dataclass(frozen=True)
class Variant:
    id: str
    shell: str  # okenv shell name passed to render()
    argv: tuple[str, ...]  # interpreter; the script is passed with -c
    prelude: str  # shell options set before evaluating
    evaluate: str  # how the file "$F" is evaluated
    exact: bool = True  # values survive byte for byte


BASH = ("bash", "--norc", "--noprofile")
ZSH = ("zsh", "--no-rcs")
FISH = ("fish", "--no-config")

VARIANTS = [
    Variant("bash-quoted", "bash", BASH, "", 'eval "$(cat "$F")"'),
    Variant("bash-unquoted", "bash", BASH, "", 'eval $(cat "$F")'),
    Variant("bash-strict-quoted", "bash", BASH, "set -euo pipefail", 'eval "$(cat "$F")"'),
    Variant("bash-strict-unquoted", "bash", BASH, "set -euo pipefail", 'eval $(cat "$F")'),
    Variant(
        "bash-globopts-unquoted",
        "bash",
        BASH,
        "set -u; shopt -s extglob nullglob dotglob globstar nocaseglob",
        'eval $(cat "$F")',
    ),
    Variant("bash-posixmode-unquoted", "bash", (*BASH, "--posix"), "", 'eval $(cat "$F")'),
    Variant("zsh-quoted", "zsh", ZSH, "", 'eval "$(cat "$F")"'),
    Variant("zsh-unquoted", "zsh", ZSH, "", 'eval $(cat "$F")'),
    Variant("zsh-nounset-quoted", "zsh", ZSH, "setopt nounset", 'eval "$(cat "$F")"'),
    Variant("zsh-nounset-unquoted", "zsh", ZSH, "setopt nounset", 'eval $(cat "$F")'),
    Variant(
        "zsh-globsubst-unquoted",
        "zsh",
        ZSH,
        "setopt nounset globsubst shwordsplit extendedglob kshglob nullglob",
        'eval $(cat "$F")',
    ),
    Variant("fish-eval", "fish", FISH, "", 'eval (cat "$F")'),
    Variant("fish-source", "fish", FISH, "", 'cat "$F" | source'),
    Variant("sh-quoted", "posix", ("sh",), "set -eu", 'eval "$(cat "$F")"'),
    Variant("bash-posix-quoted", "posix", BASH, "set -eu", 'eval "$(cat "$F")"'),
    Variant("dash-unquoted", "posix", ("dash",), "set -eu", 'eval $(cat "$F")'),
]
VARIANT_IDS = [v.id for v in VARIANTS]
_BY_ID = {v.id: v for v in VARIANTS}


def _require(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed")


def _env(tmp: Path) -> dict[str, str]:
    home = tmp.parent / f"{tmp.name}-home"  # outside tmp, which the canary checks watch
    home.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LC_ALL": "C.UTF-8",
        "LANG": "C.UTF-8",
        "TERM": "dumb",
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_CACHE_HOME": str(home / "cache"),
    }
    # Stale variables present before, so that the code really has something to unset.
    env.update(dict.fromkeys(STALE, "stale"))
    return env


def _printer(variant: Variant, names: list[str], out: str) -> str:
    if variant.shell == "fish":
        args = " ".join(f"${n}" for n in names)
    else:
        args = " ".join(f'"${n}"' for n in names)
    return f"printf '%s\\0' {args} > {out}"


def run(
    variant: Variant,
    changes: Mapping[str, str | None],
    tmp: Path,
    *,
    then_unset: bool = False,
) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Evaluate ``render(changes)`` in *variant*; return (printed values, exported env)."""
    _require(variant.argv[0])
    script = tmp / "okenv-output"
    script.write_text(render(variant.shell, changes), encoding="utf-8")
    names = [n for n, v in changes.items() if v is not None]
    values_file = tmp / "values.bin"
    env_file = tmp / "env.bin"
    lines = [variant.prelude, f"F={script}" if variant.shell != "fish" else f"set F {script}"]
    lines.append(variant.evaluate)
    if names:
        lines.append(_printer(variant, names, str(values_file)))
    if then_unset:
        script_unset = tmp / "okenv-unset"
        script_unset.write_text(render(variant.shell, unset_env()), encoding="utf-8")
        evaluate = variant.evaluate.replace('"$F"', f'"{script_unset}"')
        lines.append(evaluate)
    lines.append(f"env -0 > {env_file}")
    proc = subprocess.run(
        [*variant.argv, "-c", "\n".join(line for line in lines if line)],
        cwd=tmp,
        env=_env(tmp),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, (proc.returncode, proc.stderr.decode(errors="replace"))
    assert proc.stderr == b"", proc.stderr.decode(errors="replace")
    printed: dict[str, bytes] = {}
    if names:
        fields = values_file.read_bytes().split(b"\0")
        assert fields[-1] == b""
        printed = dict(zip(names, fields[:-1], strict=True))
    exported: dict[str, bytes] = {}
    for entry in env_file.read_bytes().split(b"\0"):
        if entry:
            key, _, value = entry.partition(b"=")
            exported[key.decode()] = value
    return printed, exported


HOSTILE_VALUES = [
    "",
    " ",
    "  two  spaces  ",
    "it's",
    "''",
    '"double" "quotes"',
    "back\\slash\\",
    "\\x41\\101\\u0041\\n",
    "$HOME ${HOME} $(id) `id` $((1+1))",
    "line1\nline2\n",
    "\n",
    "\r\n",
    "tab\there",
    "*",
    "?",
    "[a-z]*",
    "~",
    "~root",
    "{a,b}",
    "{1..3}",
    "!",
    "!!",
    "!$",
    "%s %n %%",
    "-e",
    "--help",
    "-",
    "=",
    "a=b",
    ";",
    "&& || | & < > >> 2>&1",
    "# not a comment",
    "^caret #hash",
    "(paren) @(x) +(y) !(z)",
    "é ü ñ 中文 🔑",
    "\u2018\u2019\u201a\u201b\u201c\u201d",
    "\x01\x02\x1b[31m\x7f",
    "\x85\u2028\u2029\ufeff\u200b\u00a0\u3000",
    "\uf600\uf6ff\ufdd0\ufdef\uffff\U0010ffff",
    "x" * 5000,
    "AKIAIOSFODNN7EXAMPLE",
    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY+/=",
]

CANARY_TEMPLATES = [
    "$(touch {c}1)",
    "`touch {c}2`",
    "; touch {c}3",
    "'; touch {c}4; '",
    '"; touch {c}5; "',
    "\\'; touch {c}6; \\'",
    "\ntouch {c}7\n",
    "(touch {c}8)",
    "$(touch {c}9 )",
    "'\ntouch {c}10\n'",
    "x' + $(touch {c}11) + 'y",
    "\u2019; touch {c}12; \u2019",
]


# What an unquoted `eval $(...)` in sh splits at or globs: --shell posix refuses such values.
POSIX_REFUSED = set(" \t\n*?[\\'")


def writable(variant: Variant, values: list[str]) -> list[str]:
    """The values okenv writes for ``variant``'s shell; for posix, the others are refused."""
    if variant.shell != "posix":
        return values
    refused = [v for v in values if POSIX_REFUSED & set(v)]
    for value in refused:
        with pytest.raises(UsageError):
            render("posix", {"V": value})
    return [v for v in values if v not in refused]


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_hostile_values_round_trip(variant: Variant, tmp_path: Path) -> None:
    values = writable(variant, HOSTILE_VALUES)
    changes: dict[str, str | None] = {f"V{i}": v for i, v in enumerate(values)}
    changes.update(dict.fromkeys(STALE))
    printed, exported = run(variant, changes, tmp_path)
    for i, value in enumerate(values):
        name = f"V{i}"
        expected = value.encode("utf-8")
        if variant.exact:
            assert printed[name] == expected, (name, value)
            assert exported.get(name) == expected, (name, value)
    for name in STALE:
        assert name not in exported


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_canaries_run_nothing(variant: Variant, tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    values = writable(variant, [t.format(c=canary) for t in CANARY_TEMPLATES])
    changes: dict[str, str | None] = {f"C{i}": v for i, v in enumerate(values)}
    printed, _ = run(variant, changes, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("canary")) == []
    for i, value in enumerate(values):
        assert printed[f"C{i}"] == value.encode("utf-8")


def test_posix_unquoted_eval_with_hostile_file_names_runs_nothing(tmp_path: Path) -> None:
    """Found: `eval $(okenv --shell posix ...)` globbed `V='a*b';` against a planted file
    named `V='a'$(touch M)'b';` and ran it. Now every value okenv writes for posix has no
    blank or glob character, and the others are refused."""
    variant = _BY_ID["dash-unquoted"]
    hostile = ["a*b", "*", "?", "[a-z]*", "a b", "x'y", "ok", "a=b", "{a,b}", "~root", "é"]
    for i, value in enumerate(hostile):
        planted = value.replace("*", "'$(touch M)'").replace("?", "'$(touch M)'")
        (tmp_path / f"V{i}='{planted}';").touch()
        (tmp_path / f"V{i}='a'$(touch M)'b';").touch()
    (tmp_path / "export").touch()
    values = writable(variant, hostile)
    assert values == ["ok", "a=b", "{a,b}", "~root", "é"]
    printed, _ = run(variant, {f"V{i}": v for i, v in enumerate(values)}, tmp_path)
    assert not (tmp_path / "M").exists()
    assert [printed[f"V{i}"] for i in range(len(values))] == [v.encode() for v in values]


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_unset_removes_everything(variant: Variant, tmp_path: Path) -> None:
    changes: dict[str, str | None] = {name: f"value-of-{name}" for name in EXPORTED}
    changes.update(dict.fromkeys(STALE))
    _, exported = run(variant, changes, tmp_path, then_unset=True)
    for name in EXPORTED + STALE:
        assert name not in exported


@pytest.mark.parametrize("variant", VARIANTS, ids=VARIANT_IDS)
def test_unset_of_missing_variables_is_silent(variant: Variant, tmp_path: Path) -> None:
    # run() asserts exit status 0 and an empty stderr.
    _, exported = run(variant, unset_env(), tmp_path)
    for name in EXPORTED + STALE:
        assert name not in exported


def test_bash_interactive_history_expansion(tmp_path: Path) -> None:
    _require("bash")
    values = ["!!", "!$", "a!b", "!-1", "^a^b"]
    script = tmp_path / "out"
    script.write_text(render("bash", {f"H{i}": v for i, v in enumerate(values)}))
    values_file = tmp_path / "values.bin"
    printer = " ".join(f'"$H{i}"' for i in range(len(values)))
    stdin = (
        "set -o histexpand\n"
        "echo warmup\n"
        f'eval "$(cat {script})"\n'
        f"printf '%s\\0' {printer} > {values_file}\n"
        "exit 0\n"
    )
    proc = subprocess.run(
        [*BASH, "-i"],
        input=stdin.encode(),
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    fields = values_file.read_bytes().split(b"\0")[:-1]
    assert fields == [v.encode() for v in values]


# --- fuzzing -------------------------------------------------------------------------------

HOSTILE_ALPHABET = st.sampled_from(
    [
        *" \t\n\r\v\f'\"`$\\!%*?[]~{}()<>|&;#^=-+,./:@_",
        *["\x01", "\x1b", "\x7f", "\x85", "\xa0", "é", "\u2018", "\u2019", "\u201a", "\u201b"],
        *["\u2028", "\u2029", "\ufeff", "\u200b", "\uf600", "\ufdd0", "\uffff", "🔑", "x", "0"],
    ]
)
VALUES = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00")),
    st.text(HOSTILE_ALPHABET),
    st.text(st.characters(codec="utf-8", exclude_characters="\x00", max_codepoint=0x7F)),
)
BATCHES = st.lists(VALUES, min_size=1, max_size=25)

FUZZ_EXAMPLES = int(os.environ.get("OKENV_FUZZ_EXAMPLES", "200"))

# Per shell: quoted and unquoted evaluation of the same batch.
FUZZ_SHELLS = {
    "bash": ("bash-strict-quoted", "bash-globopts-unquoted"),
    "zsh": ("zsh-nounset-quoted", "zsh-globsubst-unquoted"),
    "fish": ("fish-eval", "fish-source"),
}


@pytest.mark.parametrize("shell", list(FUZZ_SHELLS))
def test_fuzz_round_trip(shell: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    _require(_BY_ID[FUZZ_SHELLS[shell][0]].argv[0])
    started = time.monotonic()
    counter = {"examples": 0, "values": 0}

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(batch=BATCHES)
    def check(batch: list[str]) -> None:
        counter["examples"] += 1
        counter["values"] += len(batch)
        tmp = tmp_path_factory.mktemp(shell)
        changes: dict[str, str | None] = {f"F{i}": v for i, v in enumerate(batch)}
        for variant_id in FUZZ_SHELLS[shell]:
            printed, exported = run(_BY_ID[variant_id], changes, tmp)
            for i, value in enumerate(batch):
                assert printed[f"F{i}"] == value.encode("utf-8"), (variant_id, value)
                assert exported.get(f"F{i}") == value.encode("utf-8"), (variant_id, value)
            assert not [
                p for p in tmp.iterdir() if p.name not in {"okenv-output", "values.bin", "env.bin"}
            ]

    check()
    elapsed = time.monotonic() - started
    examples, values = counter["examples"], counter["values"]
    print(f"\nfuzz {shell}: {examples} examples, {values} values, {elapsed:.1f}s")
