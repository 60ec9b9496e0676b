"""Compile okenv's command tree into the four static completion scripts in ``completions/``.

Dev tooling, run by ``make completions``; never at run time (``okenv completions SHELL``
prints the file this wrote, shipped as package data). Each shell's fixed code is a
template in ``tools/completion-templates/``; this module reduces the click tree that typer
builds from ``okenv.cli.app`` to plain data and fills the templates' ``@@SLOT@@``s with it,
quoted for that shell. Everything comes from the declarations in ``okenv/cli.py``: an
option's or argument's words from its choice type (``cli.Choices``, or typer's own for an
Enum or Literal), a profile argument from its ``profile_name`` parser, the wrapped command
of ``exec`` from its variadic argument.

    python -m tools.completions           # write completions/
    python -m tools.completions --check   # exit 1 when completions/ is stale
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import typer
import typer.main
from typer._types import TyperChoice

from okenv import cli
from okenv.integration import COMPLETION_FILES

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = Path(__file__).resolve().parent / "completion-templates"
OUTPUT = ROOT / "completions"

DEFAULT_COMMAND = "env"
"""``okenv PROFILE …`` is ``okenv env PROFILE …`` (a first word that is no command)."""

PROFILE, COMMAND, VALUE = "profile", "command", "value"
RESERVED = frozenset({PROFILE, COMMAND, VALUE, "handover", "subcommand", "-", ""})
"""Kinds the templates know; a choice argument's kind is its name, and must not be one."""


# -- the command tree, reduced to what completion needs ----------------------------------


@dataclass(frozen=True)
class Option:
    names: tuple[str, ...]
    help: str
    takes_value: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Argument:
    kind: str  # PROFILE, COMMAND (the rest of the line), VALUE, or a choice argument's name
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Command:
    name: str
    help: str
    options: tuple[Option, ...]
    arguments: tuple[Argument, ...]

    @property
    def kinds(self) -> list[str]:
        return [argument.kind for argument in self.arguments]

    @property
    def option_names(self) -> list[str]:
        return [name for option in self.options for name in option.names]

    @property
    def value_options(self) -> list[str]:
        return [name for option in self.options if option.takes_value for name in option.names]


@dataclass(frozen=True)
class Tree:
    options: tuple[Option, ...]
    commands: tuple[Command, ...]

    def command(self, name: str) -> Command:
        return next(command for command in self.commands if command.name == name)

    @property
    def implicit(self) -> Command:
        """``okenv PROFILE …``: the default command with its profile given."""
        default = self.command(DEFAULT_COMMAND)
        return Command("", default.help, default.options, default.arguments[1:])

    @property
    def choices(self) -> dict[str, tuple[str, ...]]:
        """Option names and choice-argument names → their words, over every command."""
        found: dict[str, tuple[str, ...]] = {}

        def add(key: str, words: tuple[str, ...]) -> None:
            if found.setdefault(key, words) != words:
                raise ValueError(f"{key} has different choices in different commands")

        for command in (*self.commands, self.implicit):
            for option in command.options:
                for name in option.names if option.choices else ():
                    add(name, option.choices)
            for argument in command.arguments:
                if argument.choices:
                    add(argument.kind, argument.choices)
        return dict(sorted(found.items()))


def _first_line(text: str | None) -> str:
    lines = (text or "").strip().splitlines()
    return lines[0].strip() if lines else ""


# typer 0.28 vendors click (typer._click) and exports none of its parameter classes: the
# parameters below are typer's TyperOption / TyperArgument, read through click's attributes.


def _words(param: Any) -> tuple[str, ...]:
    if isinstance(param.type, TyperChoice):
        return tuple(str(choice) for choice in param.type.choices)
    return ()


def _option(param: Any) -> Option:
    names = sorted([*param.opts, *param.secondary_opts], key=lambda n: (n.startswith("--"), n))
    takes_value = not (param.is_flag or param.count)
    return Option(tuple(names), _first_line(param.help), takes_value, _words(param))


def _argument(param: Any) -> Argument:
    if getattr(param.type, "func", None) is cli.profile_name:
        return Argument(PROFILE)
    choices = _words(param)
    if choices:
        if param.name is None or param.name in RESERVED:
            raise ValueError(f"a choice argument may not be named {param.name!r}")
        return Argument(param.name, choices)
    return Argument(COMMAND if param.nargs == -1 else VALUE)


def _params(command: Any, ctx: typer.Context) -> tuple[tuple[Option, ...], tuple[Argument, ...]]:
    options: list[Option] = []
    arguments: list[Argument] = []
    for param in command.get_params(ctx):
        if getattr(param, "hidden", False):
            continue
        if param.param_type_name == "option":
            options.append(_option(param))
        else:
            arguments.append(_argument(param))
    return tuple(options), tuple(arguments)


def command_tree(group: Any) -> Tree:
    """What completion needs from the click group: visible commands, options, arguments."""
    root = typer.Context(group, info_name="okenv", **group.context_settings)
    root_options, _ = _params(group, root)
    commands: list[Command] = []
    for name in group.list_commands(root):
        command = group.get_command(root, name)
        if command is None or command.hidden:
            continue
        ctx = typer.Context(command, parent=root, info_name=name)
        options, arguments = _params(command, ctx)
        commands.append(Command(name, _first_line(command.help), options, arguments))
    return Tree(root_options, tuple(commands))


def okenv_tree() -> Tree:
    return command_tree(typer.main.get_command(cli.app))


# -- templates ----------------------------------------------------------------------------

_SLOT = re.compile(r"@@([A-Z_]+)@@")


def fill(template: str, slots: dict[str, str]) -> str:
    """Replace each ``@@NAME@@`` by ``slots[NAME]``: every slot used, none unknown."""
    used = _SLOT.findall(template)
    if sorted(used) != sorted(slots):
        raise ValueError(f"template slots {sorted(used)} are not {sorted(slots)}")
    return _SLOT.sub(lambda match: slots[match.group(1)], template)


def _lines(items: Iterable[str]) -> str:
    return "\n".join(items)


def _sq(text: str) -> str:
    """POSIX single quotes (bash, zsh)."""
    return "'" + text.replace("'", "'\\''") + "'"


# -- bash -----------------------------------------------------------------------------------


def bash(tree: Tree) -> dict[str, str]:
    def case(pattern: str, command: Command, first: int) -> str:
        body = [
            f"    {pattern})",
            f"      opts={_sq(' '.join(command.option_names))}",
            f"      values={_sq(' '.join(command.value_options))}",
            f"      positionals={_sq(' '.join(command.kinds))}",
        ]
        if first:
            body.append(f"      n={first}")
        return _lines([*body, "      ;;"])

    cases = [case(_sq(command.name), command, 0) for command in tree.commands]
    cases.append(case("*", tree.command(DEFAULT_COMMAND), 1))  # okenv PROFILE …
    values = [
        f'    {key}) __okenv_reply {_sq(" ".join(words))} "$2" ;;'
        for key, words in tree.choices.items()
    ]
    return {
        "VALUES": _lines(values),
        "ROOT_OPTIONS": _sq(" ".join(n for o in tree.options for n in o.names)),
        "COMMANDS": _sq(" ".join(c.name for c in tree.commands)),
        "COMMAND_CASES": _lines(cases),
    }


# -- zsh ------------------------------------------------------------------------------------


def _zsh_desc(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


def _zsh_option_specs(options: Sequence[Option], *, root: bool = False) -> list[str]:
    specs: list[str] = []
    for option in options:
        help_text = _zsh_desc(option.help)
        if option.choices:
            action = "(" + " ".join(option.choices) + ")"
        else:
            action = " " if option.takes_value else ""
        for name in option.names:
            exclusive = "(- *)" if root or name in ("-h", "--help") else ""
            if option.takes_value:
                label = option.names[-1].lstrip("-")
                spec = f"{exclusive}{name}=[{help_text}]:{label}:{action}"
            else:
                spec = f"{exclusive}{name}[{help_text}]"
            specs.append(_sq(spec))
    return specs


def _zsh_argument_specs(arguments: Sequence[Argument]) -> list[str]:
    specs: list[str] = []
    for index, argument in enumerate(arguments, start=1):
        if argument.kind == PROFILE:
            specs.append(_sq(f"{index}:profile:__okenv_profiles"))
        elif argument.kind == COMMAND:
            specs.append(_sq("*:::command:_normal"))
        elif argument.choices:
            specs.append(_sq(f"{index}:{argument.kind}:(" + " ".join(argument.choices) + ")"))
        else:
            specs.append(_sq(f"{index}: :"))
    return specs


def zsh(tree: Tree) -> dict[str, str]:
    def case(pattern: str, command: Command) -> str:
        specs = _zsh_option_specs(command.options) + _zsh_argument_specs(command.arguments)
        return _lines(
            [
                f"        {pattern})",
                "          _arguments -S \\",
                *(f"            {spec} \\" for spec in specs),
                "            && ret=0",
                "          ;;",
            ]
        )

    cases = [case(_sq(command.name), command) for command in tree.commands]
    cases.append(case("*", tree.implicit))  # okenv PROFILE …
    entries = [_sq(c.name.replace(":", "\\:") + ":" + c.help) for c in tree.commands]
    return {
        "COMMANDS": _lines(f"    {entry}" for entry in entries),
        "ROOT_SPECS": _lines(
            f"    {spec} \\" for spec in _zsh_option_specs(tree.options, root=True)
        ),
        "COMMAND_CASES": _lines(cases),
    }


# -- fish -----------------------------------------------------------------------------------


def _fish_q(text: str) -> str:
    if "'" in text and not any(c in text for c in '"$\\'):
        return '"' + text + '"'
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _fish_word(text: str) -> str:
    return text if text and all(c.isalnum() or c in "_.-" for c in text) else _fish_q(text)


def _fish_options(condition: str, options: Sequence[Option]) -> list[str]:
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
        lines.append(" ".join(parts))
    return lines


def fish(tree: Tree) -> dict[str, str]:
    def case(pattern: str, command: Command, first: int) -> list[str]:
        lines = [f"                case {pattern}"]
        if command.kinds:
            lines.append(f"                    set kinds {' '.join(command.kinds)}")
        if command.value_options:
            lines.append(f"                    set values {' '.join(command.value_options)}")
        if first:
            lines.append(f"                    set cmd {DEFAULT_COMMAND}")
            lines.append(f"                    set n {first}")
        return lines

    cases = [line for c in tree.commands for line in case(_fish_word(c.name), c, 0)]
    cases += case("'*'", tree.command(DEFAULT_COMMAND), 2)  # okenv PROFILE …
    arguments = {a.kind: a.choices for c in tree.commands for a in c.arguments if a.choices}
    options = _fish_options("__okenv_want subcommand", tree.options)
    for command in tree.commands:
        options += _fish_options(f"__okenv_in {command.name}", command.options)
    return {
        "COMMAND_CASES": _lines(cases),
        "CHOICE_ARGUMENTS": _lines(
            f"complete -c okenv -n {_fish_q('__okenv_want ' + kind)} -a {_fish_q(' '.join(words))}"
            for kind, words in arguments.items()
        ),
        "SUBCOMMANDS": _lines(
            f"complete -c okenv -n '__okenv_want subcommand' -a {_fish_word(c.name)}"
            f" -d {_fish_q(c.help)}"
            for c in tree.commands
        ),
        "OPTIONS": _lines(options),
    }


# -- PowerShell -----------------------------------------------------------------------------


def _ps_q(text: str) -> str:
    return "'" + "".join(c + c if c in "'\u2018\u2019\u201a\u201b" else c for c in text) + "'"


def _ps_list(items: Iterable[str]) -> str:
    return ", ".join(_ps_q(item) for item in items)


def powershell(tree: Tree) -> dict[str, str]:
    specs: list[str] = []
    for name, command in [*((c.name, c) for c in tree.commands), ("", tree.implicit)]:
        specs += [
            f"    {_ps_q(name)} = @{{",
            f"        Options = @({_ps_list(command.option_names)})",
            f"        Values = @({_ps_list(command.value_options)})",
            f"        Positionals = @({_ps_list(command.kinds)})",
            "    }",
        ]
    return {
        "COMMANDS": _lines(f"    {_ps_q(c.name)} = {_ps_q(c.help)}" for c in tree.commands),
        "SPECS": _lines(specs),
        "CHOICES": _lines(f"    {_ps_q(k)} = @({_ps_list(w)})" for k, w in tree.choices.items()),
        "ROOT_OPTIONS": _ps_list(n for o in tree.options for n in o.names),
    }


# -- the files ------------------------------------------------------------------------------

RENDERERS: dict[str, Callable[[Tree], dict[str, str]]] = {
    "bash": bash,
    "zsh": zsh,
    "fish": fish,
    "powershell": powershell,
}


def generate(shell: str, tree: Tree | None = None) -> str:
    """The completion script for *shell* (``COMPLETION_FILES[shell]`` in ``completions/``)."""
    name = COMPLETION_FILES[shell]
    template = (TEMPLATES / f"{name}.in").read_text(encoding="utf-8")
    return fill(template, RENDERERS[shell](okenv_tree() if tree is None else tree))


def main(argv: Sequence[str]) -> int:
    check = list(argv) == ["--check"]
    if argv and not check:
        sys.stderr.write("usage: python -m tools.completions [--check]\n")
        return 2
    tree = okenv_tree()
    stale = []
    for shell, name in COMPLETION_FILES.items():
        text = generate(shell, tree)
        path = OUTPUT / name
        if path.exists() and path.read_text(encoding="utf-8") == text:
            continue
        stale.append(name)
        if not check:
            path.write_text(text, encoding="utf-8")
    if check and stale:
        sys.stderr.write(f"stale: {', '.join(stale)}; run make completions\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
