"""Shell integration: the ``okenv init`` scripts and the generated completion scripts.

This module never imports typer: ``okenv.cli`` hands in the click command tree that
``typer.main.get_command(app)`` builds, and the completion scripts are generated from it.
They are static (``completions/`` in the repository): pressing TAB runs no Python except
``okenv __complete-profiles PREFIX`` where a profile name is wanted.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from okenv.errors import UsageError

PLACEHOLDER = "__OKENV_COMMAND__"
"""Stands in the scripts in ``shell/`` for the quoted words of the command that printed them."""

SHELLS: tuple[str, ...] = ("bash", "zsh", "fish", "powershell")
EXTENSIONS: dict[str, str] = {"bash": "bash", "zsh": "zsh", "fish": "fish", "powershell": "ps1"}
COMPLETION_FILES: dict[str, str] = {
    "bash": "okenv.bash",
    "zsh": "_okenv",
    "fish": "okenv.fish",
    "powershell": "okenv.ps1",
}
"""The committed file in ``completions/`` for each shell."""


def _check_shell(shell: str) -> None:
    if shell not in SHELLS:
        raise UsageError(
            f"no shell integration for {shell!r}",
            hint="okenv init and okenv completions support bash, zsh, fish and powershell; "
            'in a POSIX sh use eval "$(okenv env PROFILE --shell posix)"',
        )


# -- okenv init ----------------------------------------------------------------------------


def own_command(argv0: str | None = None, executable: str | None = None) -> list[str]:
    """The words that run this very okenv: the installed ``okenv`` script by absolute path,
    else ``python -m okenv`` with this interpreter (e.g. under ``python -m okenv``)."""
    arg = sys.argv[0] if argv0 is None else argv0
    python = sys.executable if executable is None else executable
    if arg:
        path = Path(arg)
        name = path.name.lower().removesuffix(".exe")
        if name == "okenv":
            for candidate in (path, path.with_name(path.name + ".exe")):
                if candidate.is_file():
                    return [os.path.abspath(candidate)]
    return [python, "-m", "okenv"]


def _shell_dir() -> Path:
    """``okenv/shell/`` in a wheel (force-included), ``<repo>/shell/`` in a source tree."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "shell", here.parent / "shell"):
        if candidate.is_dir():
            return candidate
    raise UsageError("the shell integration scripts are missing from this installation")


def init_script(shell: str, command: Sequence[str]) -> str:
    """The integration script for *shell*, calling *command* (quoted for that shell)."""
    from okenv.shells import quote

    _check_shell(shell)
    path = _shell_dir() / f"okenv.{EXTENSIONS[shell]}"
    template = path.read_text(encoding="utf-8")
    words = " ".join(quote(shell, word) for word in command)
    return template.replace(PLACEHOLDER, words)


# -- profile names -------------------------------------------------------------------------


def profile_candidates(prefix: str = "") -> list[str]:
    """Profile names from the config file that start with *prefix*; [] if it is unreadable."""
    from okenv.config import profile_candidates as candidates
    from okenv.paths import config_path

    return candidates(config_path(), prefix)


# -- the command tree, reduced to what completion needs ------------------------------------

PROFILE, SHELL, COMMAND, VALUE = "profile", "shell", "command", "value"


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    positionals: tuple[str, ...]  # PROFILE, SHELL, COMMAND (the rest of the line) or VALUE

    @property
    def value_options(self) -> list[str]:
        return [name for option in self.options if option.takes_value for name in option.names]

    @property
    def option_names(self) -> list[str]:
        return [name for option in self.options for name in option.names]


@dataclass(frozen=True)
class Tree:
    options: tuple[Option, ...]
    commands: tuple[Command, ...]

    def command(self, name: str) -> Command:
        return next(command for command in self.commands if command.name == name)

    @property
    def implicit(self) -> Command:
        """``okenv PROFILE ...`` is ``okenv env PROFILE ...``: env with its profile given."""
        env = self.command("env")
        return Command("", env.help, env.options, env.positionals[1:])


def _first_line(text: str | None) -> str:
    return (text or "").strip().splitlines()[0].strip() if (text or "").strip() else ""


def _option(param: Any) -> Option:
    from okenv.config import FACTORS

    names = tuple(
        sorted([*param.opts, *param.secondary_opts], key=lambda n: (n.startswith("--"), n))
    )
    takes_value = not (param.is_flag or param.count)
    choices: tuple[str, ...] = ()
    if param.name == "shell":
        choices = SHELLS
    elif param.name == "factor":
        choices = FACTORS
    elif hasattr(param.type, "choices"):
        choices = tuple(str(choice) for choice in param.type.choices)
    return Option(names, _first_line(param.help), takes_value, choices)


def _positional(param: Any) -> str:
    if param.name == "profile":
        return PROFILE
    if param.name == "shell":
        return SHELL
    if param.name == "command" and param.nargs == -1:
        return COMMAND
    return VALUE


def _params(command: Any, ctx: Any) -> tuple[tuple[Option, ...], tuple[str, ...]]:
    options: list[Option] = []
    positionals: list[str] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if getattr(param, "param_type_name", "") == "option":
            options.append(_option(param))
        else:
            positionals.append(_positional(param))
    return tuple(options), tuple(positionals)


def command_tree(group: Any) -> Tree:
    """What completion needs from the click group: visible commands, options, arguments.

    ``use`` is ``env`` evaluated by the shell function, so it completes env's options
    (``--shell`` aside: the function chooses it).
    """
    import click

    root = click.Context(group, info_name="okenv", **group.context_settings)
    root_options, _ = _params(group, root)
    commands: list[Command] = []
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        if command is None or command.hidden:
            continue
        options, positionals = _params(command, click.Context(command, parent=root, info_name=name))
        commands.append(Command(name, _first_line(command.help), options, positionals))
    tree = Tree(root_options, tuple(commands))
    if any(c.name == "use" for c in commands) and any(c.name == "env" for c in commands):
        env = tree.command("env")
        use = tree.command("use")
        options = tuple(option for option in env.options if "--shell" not in option.names)
        tree = Tree(
            root_options,
            tuple(
                Command("use", use.help, options, use.positionals) if c.name == "use" else c
                for c in commands
            ),
        )
    return tree


def completion_script(shell: str, command: Any) -> str:
    """The static completion script for *shell*, generated from the click group *command*."""
    _check_shell(shell)
    generators: dict[str, Callable[[Tree], str]] = {
        "bash": _bash,
        "zsh": _zsh,
        "fish": _fish,
        "powershell": _powershell,
    }
    return generators[shell](command_tree(command))


def _sq(text: str) -> str:
    """POSIX single quotes (bash, zsh)."""
    return "'" + text.replace("'", "'\\''") + "'"


def _fish_q(text: str) -> str:
    if "'" in text and not any(c in text for c in '"$\\'):
        return '"' + text + '"'
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_word(text: str) -> str:
    return text if text and all(c.isalnum() or c in "_.-" for c in text) else _fish_q(text)


def _ps_q(text: str) -> str:
    return "'" + "".join(c + c if c in "'\u2018\u2019\u201a\u201b" else c for c in text) + "'"


def _words(items: Iterable[str]) -> str:
    return " ".join(items)


# -- bash ----------------------------------------------------------------------------------

_BASH_HEAD = """\
# bash completion for okenv. Generated by `okenv completions bash`; do not edit.
# Install: copy to ~/.local/share/bash-completion/completions/okenv, or add to ~/.bashrc:
#   source /path/to/completions/okenv.bash
# Profile names come from `okenv __complete-profiles PREFIX` (okenv's shell function when
# `okenv init` is loaded, else the okenv on PATH); after `okenv exec PROFILE --` the
# wrapped command's own completion takes over (bash-completion's _command_offset).

__okenv_reply() {
  local word
  # shellcheck disable=SC2086 # $1 is a list of option or command names
  for word in $1; do
    [[ $word == "$2"* ]] && COMPREPLY+=("$word")
  done
  return 0
}

__okenv_handover() {
  if declare -F _command_offset >/dev/null; then
    _command_offset "$1"
  elif (($1 == COMP_CWORD)); then
    mapfile -t COMPREPLY < <(compgen -c -- "$2")
  else
    compopt -o default 2>/dev/null
    COMPREPLY=()
  fi
}

_okenv() {
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} i word
  local cmd='' start=0 n=0 dashdash=0 opts values positionals
  COMPREPLY=()
  # `--opt=value`: bash splits it into `--opt`, `=`, `value`.
  if [[ $cur == = ]]; then
    cur=
  elif [[ $prev == = ]]; then
    prev=${COMP_WORDS[COMP_CWORD - 2]}
  fi
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ $word != -* ]]; then
      cmd=$word
      start=$i
      break
    fi
  done
  case $cmd in
"""

_BASH_TAIL = """\
  esac
  local -a kinds
  read -r -a kinds <<<"$positionals"
  for ((i = start + 1; i < COMP_CWORD; i++)); do
    word=${COMP_WORDS[i]}
    if [[ ${kinds[n]-} == command ]]; then
      if [[ $word == -- ]] && ((dashdash == 0)); then
        dashdash=1
        continue
      fi
      __okenv_handover "$i" "$cur"
      return
    fi
    if [[ $word == = ]]; then
      ((i++))
    elif [[ $word == -- ]] && ((dashdash == 0)); then
      dashdash=1
    elif [[ $word == -* ]] && ((dashdash == 0)); then
      if [[ " $values " == *" $word "* && ${COMP_WORDS[i + 1]-} != = ]]; then
        ((i++))
      fi
    elif ((n < ${#kinds[@]} - 1)) || [[ ${kinds[n]-} != command ]]; then
      ((n++))
    fi
  done
  if [[ ${kinds[n]-} == command ]]; then
    if [[ $cur == -* ]] && ((dashdash == 0)); then
      __okenv_reply -- "$cur"
    else
      __okenv_handover "$COMP_CWORD" "$cur"
    fi
    return
  fi
  if ((dashdash == 0)) && [[ " $values " == *" $prev "* ]]; then
    __okenv_values "$prev" "$cur"
    return
  fi
  if [[ $cur == -* ]] && ((dashdash == 0)); then
    __okenv_reply "$opts" "$cur"
    return
  fi
  case ${kinds[n]-} in
    profile) __okenv_profiles "$cur" ;;
    shell) __okenv_reply "$__okenv_shells" "$cur" ;;
    command) __okenv_handover "$COMP_CWORD" "$cur" ;;
  esac
}

complete -F _okenv okenv
"""


def _bash(tree: Tree) -> str:
    names = [c.name for c in tree.commands]
    lines = [_BASH_HEAD]
    lines.append("    '')\n")
    lines.append("      if [[ $cur == -* ]]; then\n")
    root_opts = _words(n for o in tree.options for n in o.names)
    lines.append(f'        __okenv_reply {_sq(root_opts)} "$cur"\n')
    lines.append("      else\n")
    lines.append(f'        __okenv_reply {_sq(_words(names))} "$cur"\n')
    lines.append('        __okenv_profiles "$cur"\n')
    lines.append("      fi\n      return\n      ;;\n")

    def branch(pattern: str, command: Command, first: int) -> None:
        lines.append(f"    {pattern})\n")
        lines.append(f"      opts={_sq(_words(command.option_names))}\n")
        lines.append(f"      values={_sq(_words(command.value_options))}\n")
        lines.append(f"      positionals={_sq(_words(command.positionals))}\n")
        if first:
            lines.append(f"      n={first}\n")
        lines.append("      ;;\n")

    for command in tree.commands:
        branch(_sq(command.name), command, 0)
    env = tree.command("env")
    branch("*", env, 1)  # okenv PROFILE ... is okenv env PROFILE ...
    head = "".join(lines)

    choices: dict[str, tuple[str, ...]] = {}
    for command in (*tree.commands, tree.implicit):
        for option in command.options:
            if option.choices:
                for name in option.names:
                    choices[name] = option.choices
    values = ["__okenv_values() {\n  case $1 in\n"]
    for name in sorted(choices):
        values.append(f'    {name}) __okenv_reply {_sq(_words(choices[name]))} "$2" ;;\n')
    values.append("  esac\n}\n\n")
    profiles = (
        "__okenv_profiles() {\n"
        "  local line\n"
        "  while IFS= read -r line; do\n"
        '    COMPREPLY+=("$line")\n'
        '  done < <(okenv __complete-profiles "$1" 2>/dev/null)\n'
        "}\n\n"
        f"__okenv_shells={_sq(_words(SHELLS))}\n\n"
    )
    head = head.replace("_okenv() {\n", "".join(values) + profiles + "_okenv() {\n", 1)
    return head + _BASH_TAIL


# -- zsh -----------------------------------------------------------------------------------


def _zsh_desc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _zsh_option_specs(options: Sequence[Option], *, root: bool = False) -> list[str]:
    specs: list[str] = []
    for option in options:
        help_text = _zsh_desc(option.help)
        if option.choices:
            action = "(" + " ".join(option.choices) + ")"
        elif option.takes_value:
            action = " "
        else:
            action = ""
        for name in option.names:
            exclusive = "(- *)" if root or name in ("-h", "--help") else ""
            if option.takes_value:
                label = option.names[-1].lstrip("-")
                spec = f"{exclusive}{name}=[{help_text}]:{label}:{action}"
            else:
                spec = f"{exclusive}{name}[{help_text}]"
            specs.append(_sq(spec))
    return specs


def _zsh_positional_specs(positionals: Sequence[str]) -> list[str]:
    specs: list[str] = []
    for index, kind in enumerate(positionals, start=1):
        if kind == PROFILE:
            specs.append(_sq(f"{index}:profile:__okenv_profiles"))
        elif kind == SHELL:
            specs.append(_sq(f"{index}:shell:(" + " ".join(SHELLS) + ")"))
        elif kind == COMMAND:
            specs.append(_sq("*:::command:_normal"))
        else:
            specs.append(_sq(f"{index}: :"))
    return specs


def _zsh(tree: Tree) -> str:
    out = [
        "#compdef okenv\n",
        "# zsh completion for okenv. Generated by `okenv completions zsh`; do not edit.\n",
        "# Install: put this file, named _okenv, in a directory of your $fpath before compinit.\n",
        "# Profile names come from `okenv __complete-profiles PREFIX`; after\n",
        "# `okenv exec PROFILE --` the wrapped command's own completion takes over (_normal).\n\n",
        "__okenv_profiles() {\n",
        "  local -a profiles\n",
        '  profiles=(${(f)"$(_call_program profiles okenv __complete-profiles'
        ' ${(q)PREFIX} 2>/dev/null)"})\n',
        "  _wanted profiles expl 'okenv profile' compadd -a profiles\n",
        "}\n\n",
        "__okenv_commands() {\n",
        "  local -a commands\n",
        "  commands=(\n",
    ]
    for command in tree.commands:
        entry = command.name.replace(":", "\\:") + ":" + command.help
        out.append(f"    {_sq(entry)}\n")
    out += [
        "  )\n",
        "  _describe -t commands 'okenv command' commands\n",
        "}\n\n",
        "_okenv() {\n",
        "  local curcontext=$curcontext state state_descr line ret=1\n",
        "  typeset -A opt_args\n",
        "  _arguments -C \\\n",
    ]
    for spec in _zsh_option_specs(tree.options, root=True):
        out.append(f"    {spec} \\\n")
    out += [
        "    '1: :->command' \\\n",
        "    '*:: :->args' && ret=0\n",
        "  case $state in\n",
        "    command)\n",
        "      __okenv_commands && ret=0\n",
        "      __okenv_profiles && ret=0\n",
        "      ;;\n",
        "    args)\n",
        "      curcontext=${curcontext%:*:*}:okenv-$words[1]:\n",
        "      case $words[1] in\n",
    ]

    def branch(pattern: str, command: Command) -> None:
        out.append(f"        {pattern})\n")
        out.append("          _arguments -S \\\n")
        for spec in _zsh_option_specs(command.options):
            out.append(f"            {spec} \\\n")
        for spec in _zsh_positional_specs(command.positionals):
            out.append(f"            {spec} \\\n")
        out.append("            && ret=0\n")
        out.append("          ;;\n")

    for command in tree.commands:
        branch(_sq(command.name), command)
    branch("*", tree.implicit)  # okenv PROFILE ... is okenv env PROFILE ...
    out += [
        "      esac\n",
        "      ;;\n",
        "  esac\n",
        "  return ret\n",
        "}\n\n",
        "if [[ $zsh_eval_context[-1] == loadautofunc ]]; then\n",
        '  _okenv "$@"\n',
        "else\n",
        "  compdef _okenv okenv\n",
        "fi\n",
    ]
    return "".join(out)


# -- fish ----------------------------------------------------------------------------------

_FISH_HEAD = """\
# fish completion for okenv. Generated by `okenv completions fish`; do not edit.
# Install: copy to ~/.config/fish/completions/okenv.fish
# Profile names come from `okenv __complete-profiles PREFIX`; after `okenv exec PROFILE --`
# the wrapped command's own completion takes over (complete -C).

# Prints "COMMAND KIND INDEX": the subcommand (env for `okenv PROFILE`), what the current
# word is (profile, shell, command, value, or - past the positionals) and, for the wrapped
# command of `okenv exec`, the index of its first word on the command line.
function __okenv_state
    set -l tokens (commandline -opc)
    set -l cmd
    set -l kinds
    set -l values
    set -l n 1
    set -l dashdash 0
    for i in (seq 2 (count $tokens))
        set -l word $tokens[$i]
        if test -z "$cmd"
            string match -q -- '-*' $word; and continue
            set cmd $word
            switch $cmd
"""

_FISH_TAIL = """\
            end
            continue
        end
        if test "$kinds[$n]" = command
            if test "$word" = -- -a $dashdash = 0
                set dashdash 1
                continue
            end
            echo $cmd handover $i
            return
        end
        if test "$word" = -- -a $dashdash = 0
            set dashdash 1
        else if string match -q -- '-*' $word; and test $dashdash = 0
            if contains -- $word $values
                set skip 1
            end
        else if set -q skip[1]
            set -e skip
        else if test $n -lt (count $kinds); or test "$kinds[$n]" != command
            set n (math $n + 1)
        end
    end
    if test -z "$cmd"
        echo - subcommand 0
    else
        set -l kind $kinds[$n]
        test -n "$kind"; or set kind -
        echo $cmd $kind (math (count $tokens) + 1)
    end
end

function __okenv_want --description 'the current word is of kind $argv[1] (of command $argv[2])'
    set -l state (string split ' ' -- (__okenv_state))
    test "$state[2]" = "$argv[1]"; or return
    not set -q argv[2]; or test "$state[1]" = "$argv[2]"
end

function __okenv_in --description 'options of command $argv[1] apply here'
    set -l state (string split ' ' -- (__okenv_state))
    test "$state[1]" = "$argv[1]"; and not contains -- "$state[2]" command handover
end

function __okenv_profiles
    okenv __complete-profiles (commandline -ct) 2>/dev/null
end

function __okenv_handover
    set -l state (string split ' ' -- (__okenv_state))
    set -l tokens (commandline -opc)
    set -l words
    if test "$state[3]" -le (count $tokens)
        set words (string escape -- $tokens[$state[3]..-1])
    end
    complete -C (string join ' ' -- $words (commandline -ct))
end

complete -c okenv -f
complete -c okenv -n '__okenv_want subcommand' -a '(__okenv_profiles)' -d profile
complete -c okenv -n '__okenv_want profile' -a '(__okenv_profiles)' -d profile
complete -c okenv -n '__okenv_want shell' -a 'bash zsh fish powershell'
complete -c okenv -n '__okenv_want command; or __okenv_want handover' -a '(__okenv_handover)'
"""


def _fish_option_lines(condition: str, options: Sequence[Option]) -> list[str]:
    lines: list[str] = []
    for option in options:
        parts = ["complete -c okenv", f"-n {_fish_q(condition)}"]
        for name in option.names:
            if name.startswith("--"):
                parts.append(f"-l {name[2:]}")
            elif len(name) == 2:
                parts.append(f"-s {name[1:]}")
            else:
                parts.append(f"-o {name[1:]}")
        if option.takes_value:
            parts.append("-x")
        if option.choices:
            parts.append(f"-a {_fish_q(' '.join(option.choices))}")
        if option.help:
            parts.append(f"-d {_fish_q(option.help)}")
        lines.append(" ".join(parts) + "\n")
    return lines


def _fish(tree: Tree) -> str:
    out = [_FISH_HEAD]

    def branch(pattern: str, command: Command, first: int) -> None:
        out.append(f"                case {pattern}\n")
        if command.positionals:
            out.append(f"                    set kinds {_words(command.positionals)}\n")
        if command.value_options:
            out.append(f"                    set values {_words(command.value_options)}\n")
        if first:
            out.append(f"                    set cmd env\n                    set n {first}\n")

    for command in tree.commands:
        branch(_fish_word(command.name), command, 0)
    branch("'*'", tree.command("env"), 2)
    out.append(_FISH_TAIL)
    out.append("\n# subcommands\n")
    for command in tree.commands:
        out.append(
            f"complete -c okenv -n '__okenv_want subcommand' -a {_fish_word(command.name)}"
            f" -d {_fish_q(command.help)}\n"
        )
    out.append("\n# options\n")
    out += _fish_option_lines("__okenv_want subcommand", tree.options)
    for command in tree.commands:
        out += _fish_option_lines(f"__okenv_in {command.name}", command.options)
    return "".join(out)


# -- PowerShell ----------------------------------------------------------------------------


def _powershell(tree: Tree) -> str:
    out = [
        "# PowerShell completion for okenv. Generated by `okenv completions powershell`; do not\n",
        "# edit. Install: add to $PROFILE  . /path/to/completions/okenv.ps1\n",
        "# Profile names come from `okenv __complete-profiles PREFIX`; after\n",
        "# `okenv exec PROFILE --` PowerShell's own completion (TabExpansion2) takes over.\n\n",
        "$__okenvCommands = [ordered]@{\n",
    ]
    for command in tree.commands:
        out.append(f"    {_ps_q(command.name)} = {_ps_q(command.help)}\n")
    out.append("}\n$__okenvSpecs = @{\n")
    specs = [*((c.name, c) for c in tree.commands), ("", tree.implicit)]
    for name, command in specs:
        out.append(f"    {_ps_q(name)} = @{{\n")
        opts = ", ".join(_ps_q(n) for n in command.option_names) or ""
        values = ", ".join(_ps_q(n) for n in command.value_options) or ""
        kinds = ", ".join(_ps_q(k) for k in command.positionals) or ""
        out.append(f"        Options = @({opts})\n")
        out.append(f"        Values = @({values})\n")
        out.append(f"        Positionals = @({kinds})\n")
        out.append("    }\n")
    out.append("}\n$__okenvChoices = @{\n")
    choices: dict[str, tuple[str, ...]] = {}
    for _, command in specs:
        for option in command.options:
            for option_name in option.names:
                if option.choices:
                    choices[option_name] = option.choices
    for option_name in sorted(choices):
        joined = ", ".join(_ps_q(c) for c in choices[option_name])
        out.append(f"    {_ps_q(option_name)} = @({joined})\n")
    root = ", ".join(_ps_q(n) for o in tree.options for n in o.names)
    shells = ", ".join(_ps_q(s) for s in SHELLS)
    out.append("}\n")
    out.append(f"$__okenvRootOptions = @({root})\n")
    out.append(f"$__okenvShells = @({shells})\n")
    out.append(_PS_TAIL)
    return "".join(out)


_PS_TAIL = """
Register-ArgumentCompleter -Native -CommandName okenv -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)
    $words = @($commandAst.CommandElements |
        Where-Object { $_.Extent.EndOffset -le $cursorPosition } |
        ForEach-Object { $_.Extent.Text })
    if ($wordToComplete -and $words.Count -gt 0) { $words = @($words | Select-Object -SkipLast 1) }
    $candidates = @()
    $cmd = $null
    $spec = $null
    $n = 0
    $dashdash = $false
    $skip = $false
    for ($i = 1; $i -lt $words.Count; $i++) {
        $word = $words[$i]
        if ($null -eq $cmd) {
            if ($word.StartsWith('-')) { continue }
            $cmd = $word
            if ($__okenvSpecs.Contains($word)) { $spec = $__okenvSpecs[$word] }
            else { $spec = $__okenvSpecs['']; $cmd = 'env' }
            continue
        }
        if ($n -lt $spec.Positionals.Count -and $spec.Positionals[$n] -eq 'command') {
            if ($word -eq '--' -and -not $dashdash) { $dashdash = $true; continue }
            $rest = ($words[$i..($words.Count - 1)] + $wordToComplete) -join ' '
            $found = TabExpansion2 -inputScript $rest -cursorColumn $rest.Length
            return $found.CompletionMatches
        }
        if ($skip) { $skip = $false }
        elseif ($word -eq '--' -and -not $dashdash) { $dashdash = $true }
        elseif ($word.StartsWith('-') -and -not $dashdash) { $skip = $spec.Values -contains $word }
        else { $n++ }
    }
    $previous = if ($words.Count -gt 0) { $words[-1] } else { '' }
    if ($null -eq $cmd) {
        if ($wordToComplete.StartsWith('-')) { $candidates = $__okenvRootOptions }
        else {
            $profiles = @(okenv __complete-profiles $wordToComplete 2>$null)
            $candidates = @($__okenvCommands.Keys) + $profiles
        }
    } elseif ($skip -and $__okenvChoices.Contains($previous)) {
        $candidates = $__okenvChoices[$previous]
    } elseif ($skip) {
        $candidates = @()
    } elseif ($wordToComplete.StartsWith('-') -and -not $dashdash) {
        $candidates = $spec.Options
    } else {
        $kind = if ($n -lt $spec.Positionals.Count) { $spec.Positionals[$n] } else { '' }
        switch ($kind) {
            'profile' { $candidates = @(okenv __complete-profiles $wordToComplete 2>$null) }
            'shell' { $candidates = $__okenvShells }
            'command' {
                $line = $wordToComplete
                $found = TabExpansion2 -inputScript $line -cursorColumn $line.Length
                return $found.CompletionMatches
            }
        }
    }
    $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
        [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
    }
}
"""
