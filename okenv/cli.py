"""The command line: the only module that imports typer.

Each command function turns typer's reading of argv into that command's input (a NamedTuple
of plain values, :mod:`okenv.commands`) and returns it; :func:`parse` hands it to
:mod:`okenv.main`, which runs it. So typer and :mod:`okenv.fast` (the everyday forms without
typer) build the same inputs, and a command's behaviour is written once.
"""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from typer._types import TyperChoice

from okenv import __version__
from okenv.commands import HIDDEN, NAMES, Input, with_default_command
from okenv.commands.common import LoginOptions
from okenv.commands.completions import CompletionsInput
from okenv.commands.configure import ConfigureInput
from okenv.commands.console import ConsoleInput
from okenv.commands.credential_process import CredentialProcessInput
from okenv.commands.env import EnvInput
from okenv.commands.exec import ExecInput
from okenv.commands.init import InitInput
from okenv.commands.login import LoginInput
from okenv.commands.logout import LogoutInput
from okenv.commands.roles import RolesInput
from okenv.commands.status import StatusInput
from okenv.commands.unset import UnsetInput
from okenv.commands.use import UseInput
from okenv.config import FACTORS
from okenv.errors import UsageError
from okenv.paths import config_path
from okenv.shells import SHELLS

app = typer.Typer(
    name="okenv",
    help="Okta sign-in to short-lived AWS credentials in your shell.\n\n"
    '`okenv PROFILE` is short for `okenv env PROFILE`: eval "$(okenv PROFILE)".\n\n'
    f"Config file: {config_path()} (OKENV_CONFIG); `okenv configure` writes it.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# -- shared options ------------------------------------------------------------------------


class Choices(TyperChoice[str]):
    """A closed set of words, declared for --help and for the generated completions (typer
    0.28 vendors click; this is its own choice type, the one it builds for an Enum).

    The value passes as typed: the command checks it where it uses it (``normalize_shell``,
    ``resolve_profile``), so aliases (``pwsh``, ``sh``), any case and the ``PROVIDER-totp``
    factors keep working and a bad value gets okenv's own message."""

    def convert(self, value: Any, param: Any, ctx: Any) -> str:
        return str(value)


def profile_name(value: str) -> str:
    """A profile name from the config file: what completion asks ``__complete-profiles``."""
    return value


ProfileArg = Annotated[
    str, typer.Argument(parser=profile_name, help="Profile name from the config file.")
]
AnyProfileArg = Annotated[
    str | None, typer.Argument(parser=profile_name, help="Profile (default: all).")
]
RoleOpt = Annotated[
    str | None, typer.Option("--role", help="Role ARN or ACCOUNT/ROLE_NAME.", show_default=False)
]
DurationOpt = Annotated[
    str | None, typer.Option("--duration", help="Session length: 15m..12h or seconds.")
]
RegionOpt = Annotated[str | None, typer.Option("--region", help="AWS region to export.")]
UsernameOpt = Annotated[str | None, typer.Option("--username", help="Okta username.")]
FactorOpt = Annotated[
    str | None,
    typer.Option(
        "--factor", click_type=Choices(FACTORS), help="MFA factor: totp, push, sms, call, email, …"
    ),
]
NoInputOpt = Annotated[
    bool, typer.Option("--no-input", help="Never prompt; fail with a clear error instead.")
]
DebugOpt = Annotated[
    bool, typer.Option("--debug", help="Trace each step on stderr (secrets redacted).")
]
OpenOpt = Annotated[
    bool,
    typer.Option(
        "--open", help='engine = "device": open the approval page in this machine\'s browser.'
    ),
]
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Ignore cached credentials and log in again.")
]
ShellOpt = Annotated[
    str | None,
    typer.Option(
        "--shell",
        click_type=Choices(SHELLS),
        help="bash, zsh, fish, powershell or posix (default: detected).",
    ),
]
ShellArg = Annotated[
    str, typer.Argument(click_type=Choices(SHELLS), help="bash, zsh, fish or powershell.")
]
DetectedShellArg = Annotated[
    str | None,
    typer.Argument(
        click_type=Choices(SHELLS),
        help="bash, zsh, fish or powershell (default: detected).",
        show_default=False,
    ),
]


NO_LOGIN = LoginOptions()
"""The default a command gives its ``login`` parameter (its flags fill it)."""
_LOGIN_FLAGS: dict[str, object] = {
    "role": RoleOpt,
    "duration": DurationOpt,
    "region": RegionOpt,
    "username": UsernameOpt,
    "factor": FactorOpt,
    "no_input": NoInputOpt,
    "debug": DebugOpt,
    "open_browser": OpenOpt,
}
"""A :class:`LoginOptions` field → its flag (its default is the field's)."""
LOGIN = ("role", "duration", "region", "username", "factor", "no_input", "debug")
"""The login flags most commands take, in their --help order (``--open``: add "open_browser")."""


def login_options(*names: str) -> Callable[[Callable[..., Input]], Callable[..., Input]]:
    """The command's ``login: LoginOptions`` parameter becomes the flags ``names`` (one option
    each, declared once above, in that order, where ``login`` stands); typer reads them and the
    command gets them as one :class:`LoginOptions`."""

    def decorate(func: Callable[..., Input]) -> Callable[..., Input]:
        signature = inspect.signature(func, eval_str=True)
        params: list[inspect.Parameter] = []
        for param in signature.parameters.values():
            if param.name != "login":
                params.append(param)
                continue
            for name in names:
                flag, default = _LOGIN_FLAGS[name], getattr(NO_LOGIN, name)
                params.append(param.replace(name=name, annotation=flag, default=default))

        @functools.wraps(func)
        def command(**kwargs: Any) -> Input:
            login = LoginOptions(**{name: kwargs.pop(name) for name in names})
            return func(**kwargs, login=login)

        # typer reads inspect.signature(), which takes __signature__ as it stands
        command.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
        return command

    return decorate


# -- commands ------------------------------------------------------------------------------


@app.command("env")
@login_options(*LOGIN, "open_browser")
def env_command(
    profile: ProfileArg,
    shell: ShellOpt = None,
    force: ForceOpt = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """Print shell code that sets the profile's credentials (log in when needed)."""
    return EnvInput(profile, shell, force, login)


@app.command("exec")
@login_options(*LOGIN)
def exec_command(
    profile: ProfileArg,
    command: Annotated[list[str], typer.Argument(help="The command to run, after --.")],
    force: ForceOpt = False,
    login: LoginOptions = NO_LOGIN,
    server: Annotated[
        bool,
        typer.Option(
            "--server",
            help="Serve the credentials on a loopback endpoint (ECS container credentials) "
            "that renews them before they expire, instead of static variables: for commands "
            "that may outlive the credentials (terraform apply, long test runs).",
        ),
    ] = False,
    imds: Annotated[
        bool,
        typer.Option(
            "--imds",
            help="The --server endpoint as IMDSv2 instead (implies --server), for tools that "
            "only read EC2 instance metadata.",
        ),
    ] = False,
) -> Input:
    """Run COMMAND with the profile's credentials in its environment.

    Plain, okenv becomes COMMAND and the credentials are static: they end when their
    session does (an hour by default). With --server okenv stays as COMMAND's parent and
    hands out credentials that it renews, from the cache or a login that needs no prompt,
    5 minutes before they expire; use it when COMMAND may run longer than that.
    """
    return ExecInput(profile, tuple(command), force, login, server=server or imds, imds=imds)


@app.command("login")
@login_options(*LOGIN, "open_browser")
def login_command(
    profile: ProfileArg,
    force: ForceOpt = False,
    aws_profile: Annotated[
        str | None,
        typer.Option(
            "--aws-profile",
            help="Also write the credentials into this profile of the AWS credentials file.",
            show_default=False,
        ),
    ] = None,
    all_roles: Annotated[
        bool,
        typer.Option(
            "--all",
            help="Write every granted role into the AWS credentials file (alias-RoleName).",
        ),
    ] = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """Log in and fill the cache; say on stderr until when the credentials are valid."""
    return LoginInput(profile, force, aws_profile, all_roles, login)


@app.command("credential-process")
@login_options(*LOGIN)
def credential_process_command(
    profile: ProfileArg,
    force: ForceOpt = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """Print the AWS credential_process JSON (Version 1) for the profile."""
    return CredentialProcessInput(profile, force, login)


@app.command("roles")
@login_options("username", "factor", "no_input", "debug")
def roles_command(
    profile: ProfileArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """List the roles the login grants, grouped by account (with aliases when known)."""
    return RolesInput(profile, as_json, login)


@app.command("console")
@login_options(*LOGIN)
def console_command(
    profile: ProfileArg,
    print_url: Annotated[
        bool, typer.Option("--print", help="Print the sign-in URL instead of opening it.")
    ] = False,
    force: ForceOpt = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """Open (or print) an AWS console sign-in URL for the profile's credentials."""
    return ConsoleInput(profile, print_url, force, login)


@app.command("status")
def status_command(
    profile: AnyProfileArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> Input:
    """Remaining lifetime of active or cached credentials (exit 1 when none is valid)."""
    return StatusInput(profile, as_json)


@app.command("unset")
def unset_command(shell: ShellOpt = None) -> Input:
    """Print shell code that removes everything okenv sets."""
    return UnsetInput(shell)


@app.command("logout")
def logout_command(
    profile: AnyProfileArg = None,
    debug: DebugOpt = False,
    forget_password: Annotated[
        bool,
        typer.Option(
            "--forget-password", help="Also remove the password and TOTP seed from the OS keyring."
        ),
    ] = False,
) -> Input:
    """Forget cached credentials and end Okta sessions (at Okta, then here)."""
    return LogoutInput(profile, debug, forget_password)


@app.command("init")
def init_command(shell: DetectedShellArg = None) -> Input:
    """Print the shell integration (okenv use/unset, prompt segment) to evaluate in an rc file."""
    return InitInput(shell)


@app.command("use")
@login_options(*LOGIN, "open_browser")
def use_command(
    profile: ProfileArg,
    force: ForceOpt = False,
    login: LoginOptions = NO_LOGIN,
) -> Input:
    """Switch the current shell to PROFILE (needs the shell integration from `okenv init`).

    The shell function runs `okenv env --shell SHELL PROFILE [FLAGS]` and evaluates it, so
    `use` takes env's flags but --shell."""
    return UseInput(profile)


@app.command("configure")
def configure_command(
    org: Annotated[
        str | None,
        typer.Option("--org", help="The Okta org or any AWS app link.", show_default=False),
    ] = None,
    username: UsernameOpt = None,
    all_roles: Annotated[
        bool, typer.Option("--all", help="Every discovered role becomes a profile (alias-Role).")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Write without asking.")] = False,
    aws_config: Annotated[
        bool,
        typer.Option("--aws-config", help="Also add credential_process profiles to ~/.aws/config."),
    ] = False,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> Input:
    """First-run setup: sign in, discover the AWS apps and roles, add profiles to the config."""
    return ConfigureInput(org, username, all_roles, yes, aws_config, no_input, debug)


@app.command("completions", hidden=True)
def completions_command(shell: ShellArg) -> Input:
    """Print the completion script for SHELL (the file `make completions` wrote)."""
    return CompletionsInput(shell)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"okenv {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Okta sign-in to short-lived AWS credentials in your shell.

    `okenv PROFILE` is `okenv env PROFILE`.
    """


def check_command_word(args: Sequence[str]) -> None:
    """``okenv lgin demo``: when typer refuses ``args``, a first word that is neither a
    command nor a profile but close to a command is a mistyped command, not a profile
    (typer would say "unexpected extra argument" of ``env``)."""
    if not args or args[0].startswith("-") or args[0] in NAMES + HIDDEN:
        return
    from okenv.suggest import did_you_mean

    if did_you_mean(args[0], NAMES) is None:
        return
    from okenv.config import profile_names, read_config, unknown_profile
    from okenv.errors import ConfigError
    from okenv.paths import config_path

    path = config_path()
    try:
        data = read_config(path)
    except ConfigError:
        data = {}
    if args[0] not in profile_names(data):
        raise unknown_profile(args[0], data, path)


def parse(args: Sequence[str]) -> Input | int:
    """The input typer reads from ``args``, or the exit code when typer answered itself
    (``--help``, ``--version``, a usage error)."""
    try:
        result = app(args=with_default_command(args), prog_name="okenv", standalone_mode=False)
    except typer.Abort:
        raise KeyboardInterrupt from None
    except typer.Exit as exc:
        return int(exc.exit_code)
    except typer.TyperException as exc:  # click's usage errors: bad flag, missing argument
        check_command_word(args)
        exc.show()  # type: ignore[attr-defined]
        return UsageError.exit_code
    if isinstance(result, tuple):
        return result
    return result if isinstance(result, int) else 0
