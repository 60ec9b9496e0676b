"""The command line: the only module that imports typer.

It turns flags into calls of the core and exceptions into exit codes and one-line messages
(SPEC.md). stdout carries only shell code, JSON or the listing asked for.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from typer._types import TyperChoice

from okenv import __version__
from okenv.cache import CredentialCache
from okenv.config import FACTORS, Profile, parse_duration, resolve_profile
from okenv.credentials import Credentials, rfc3339
from okenv.errors import OkenvError, UsageError
from okenv.fast import COMMANDS, guard_credential_process, guarded
from okenv.paths import cache_dir, config_path
from okenv.provider import credentials
from okenv.provider import notify as _notify
from okenv.provider import trace as _trace
from okenv.provider import warn as _warn
from okenv.shells import SHELLS

if TYPE_CHECKING:
    from okenv.memory import AwsMemory
    from okenv.prompt import Prompter


app = typer.Typer(
    name="okenv",
    help="Okta sign-in to short-lived AWS credentials in your shell.\n\n"
    '`okenv PROFILE` is short for `okenv env PROFILE`: eval "$(okenv PROFILE)".',
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
ForceOpt = Annotated[
    bool, typer.Option("--force", help="Ignore cached credentials and log in again.")
]
ShellOpt = Annotated[
    str | None,
    typer.Option(
        "--shell",
        click_type=Choices(SHELLS),
        help="bash, zsh, fish or powershell (default: detected).",
    ),
]
ShellArg = Annotated[
    str, typer.Argument(click_type=Choices(SHELLS), help="bash, zsh, fish or powershell.")
]


@dataclass
class LoginOptions:
    role: str | None = None
    duration: str | None = None
    region: str | None = None
    username: str | None = None
    factor: str | None = None
    no_input: bool = False
    debug: bool = False

    def overrides(self) -> dict[str, Any]:
        return {
            "role": self.role,
            "duration": parse_duration(self.duration) if self.duration else None,
            "region": self.region,
            "username": self.username,
            "factor": self.factor.lower() if self.factor else None,
        }


def _profile(name: str, options: LoginOptions) -> Profile:
    return resolve_profile(
        name,
        path=config_path(),
        environ=os.environ,
        overrides=options.overrides(),
        warn=_warn,
    )


def _cache() -> CredentialCache:
    return CredentialCache(cache_dir(), warn=_warn)


def _memory() -> AwsMemory:
    from okenv.memory import AwsMemory

    return AwsMemory(_cache())


def _prompter(no_input: bool) -> Prompter:
    from okenv.prompt import make_prompter

    return make_prompter(no_input)


def _credentials(
    profile: Profile, options: LoginOptions, *, force: bool
) -> tuple[Credentials, bool]:
    """Cached credentials, or a login (imported only then: the hit path stays light)."""
    return credentials(
        profile, _cache(), force=force, no_input=options.no_input, debug=options.debug
    )


def _shell(name: str | None) -> str:
    from okenv.shells import detect_shell, normalize_shell

    return normalize_shell(name) if name else detect_shell()


def _lifetime(seconds: float) -> str:
    if seconds <= 0:
        return "expired"
    minutes = int(seconds // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


# -- commands ------------------------------------------------------------------------------


@app.command("env")
def env_command(
    profile: ProfileArg,
    shell: ShellOpt = None,
    force: ForceOpt = False,
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Print shell code that sets the profile's credentials (log in when needed)."""
    from okenv.env import credentials_env
    from okenv.shells import render

    options = LoginOptions(role, duration, region, username, factor, no_input, debug)
    target = _shell(shell)
    resolved = _profile(profile, options)
    creds, _ = _credentials(resolved, options, force=force)
    sys.stdout.write(render(target, credentials_env(resolved.name, creds)))


@app.command("exec")
def exec_command(
    profile: ProfileArg,
    command: Annotated[list[str], typer.Argument(help="The command to run, after --.")],
    force: ForceOpt = False,
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Run COMMAND with the profile's credentials in its environment."""
    from okenv import run
    from okenv.env import credentials_env

    options = LoginOptions(role, duration, region, username, factor, no_input, debug)
    run.check_nesting(os.environ, profile, force)
    resolved = _profile(profile, options)
    creds, _ = _credentials(resolved, options, force=force)
    environment = run.build_environment(os.environ, credentials_env(resolved.name, creds))
    run.exec_command(command, environment)


@app.command("login")
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
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Log in and fill the cache; say on stderr until when the credentials are valid."""
    options = LoginOptions(role, duration, region, username, factor, no_input, debug)
    resolved = _profile(profile, options)
    if all_roles:
        _login_all(resolved, options)
        return
    creds, cached = _credentials(resolved, options, force=force)
    source = "cached credentials" if cached else "logged in"
    sys.stderr.write(
        f"okenv: {resolved.name}: {source} for {creds.role_arn}, valid until "
        f"{rfc3339(creds.expiration)} ({_lifetime(creds.remaining())})\n"
    )
    section = aws_profile or resolved.aws_profile
    if section:
        from okenv.awsfiles import credentials_section

        _write_aws_profiles({section: credentials_section(creds)})


def _write_aws_profiles(sections: dict[str, dict[str, str]]) -> None:
    """Write sections into the AWS credentials file under okenv's lock; report on stderr."""
    from okenv.awsfiles import credentials_file_path, profile_name, write_credentials_file

    for name in sections:
        profile_name(name)
    with _cache().lock("aws-credentials-file"):
        path = write_credentials_file(credentials_file_path(os.environ), sections)
    names = ", ".join(sections)
    sys.stderr.write(f"okenv: wrote AWS profile(s) {names} to {path}\n")


def _login_all(profile: Profile, options: LoginOptions) -> None:
    """``okenv login PROFILE --all``: one AWS profile per granted role (alias-RoleName)."""
    from okenv.awsfiles import credentials_section
    from okenv.login import Secrets, login_all

    if profile.assume_role:
        _warn("--all writes the roles the login grants; assume_role is not applied")
    granted = login_all(
        profile,
        Secrets.from_environment(),
        _prompter(options.no_input),
        _trace if options.debug else None,
        memory=_memory(),
        notify=_notify,
    )
    sections: dict[str, dict[str, str]] = {}
    for item in granted:
        base = f"{item.alias or item.role.account_id}-{item.role.name}"
        name = base if base not in sections else f"{item.role.account_id}-{item.role.name}"
        sections[name] = credentials_section(item.credentials)
    _write_aws_profiles(sections)


@app.command("credential-process")
def credential_process_command(
    profile: ProfileArg,
    force: ForceOpt = False,
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Print the AWS credential_process JSON (Version 1) for the profile."""
    guard_credential_process()
    options = LoginOptions(role, duration, region, username, factor, no_input, debug)
    resolved = _profile(profile, options)
    creds, _ = _credentials(resolved, options, force=force)
    sys.stdout.write(creds.process_json() + "\n")


@app.command("roles")
def roles_command(
    profile: ProfileArg,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """List the roles the login grants, grouped by account (with aliases when known)."""
    from okenv.aliases import account_aliases
    from okenv.assume import menu
    from okenv.login import Secrets, fetch_assertion
    from okenv.rolepage import account_label

    options = LoginOptions(username=username, factor=factor, no_input=no_input, debug=debug)
    resolved = _profile(profile, options)
    trace = _trace if debug else None
    assertion = fetch_assertion(resolved, Secrets.from_environment(), _prompter(no_input), trace)
    aliases = account_aliases(
        assertion,
        environ=os.environ,
        memory=_memory(),
        timeout=resolved.timeout,
        trace=trace,
        warn=_warn,
    )
    ordered, _ = menu(assertion.roles, aliases)
    rows = [
        {
            "account_id": r.account_id,
            "alias": aliases.get(r.account_id),
            "role": r.name,
            "arn": r.arn,
        }
        for r in ordered
    ]
    if as_json:
        sys.stdout.write(json.dumps(rows, indent=2) + "\n")
        return
    current = None
    for r in ordered:
        if r.account_id != current:
            current = r.account_id
            sys.stdout.write(account_label(r.account_id, aliases.get(r.account_id)) + "\n")
        sys.stdout.write(f"  {r.path:<24}  {r.arn}\n")


@app.command("console")
def console_command(
    profile: ProfileArg,
    print_url: Annotated[
        bool, typer.Option("--print", help="Print the sign-in URL instead of opening it.")
    ] = False,
    force: ForceOpt = False,
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Open (or print) an AWS console sign-in URL for the profile's credentials."""
    from okenv.console import login_url, signin_token

    options = LoginOptions(role, duration, region, username, factor, no_input, debug)
    resolved = _profile(profile, options)
    creds, _ = _credentials(resolved, options, force=force)
    token = signin_token(
        creds, os.environ, timeout=resolved.timeout, trace=_trace if debug else None
    )
    url = login_url(creds, token, os.environ, creds.region or resolved.region)
    if print_url:
        sys.stdout.write(url + "\n")
        return
    from okenv.browser import open_url

    if not open_url(url):
        _warn("no browser could be opened; use `okenv console --print` and open the URL")
        raise typer.Exit(1)
    sys.stderr.write(f"okenv: opened the AWS console for {creds.role_arn}\n")


@app.command("status")
def status_command(
    profile: AnyProfileArg = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Remaining lifetime of active or cached credentials (exit 1 when none is valid)."""
    now = time.time()
    rows: list[dict[str, Any]] = []
    active = os.environ.get("OKENV_PROFILE")
    expires = os.environ.get("OKENV_EXPIRES_AT", "")
    if active and expires.isdigit() and profile in (None, active):
        rows.append({"profile": active, "source": "environment", "expires_at": int(expires)})
    if not rows:
        for name, creds in _cache().entries():
            if profile in (None, name):
                rows.append({"profile": name, "source": "cache", "expires_at": creds.expires_at})
    for row in rows:
        row["remaining"] = max(0, int(row["expires_at"] - now))
        row["valid"] = row["remaining"] > 0
    if as_json:
        sys.stdout.write(json.dumps(rows) + "\n")
    elif not rows:
        sys.stdout.write(f"{profile or 'okenv'}: no credentials\n")
    for row in [] if as_json else rows:
        sys.stdout.write(f"{row['profile']}: {_lifetime(row['remaining'])} ({row['source']})\n")
    raise typer.Exit(0 if any(row["valid"] for row in rows) else 1)


@app.command("unset")
def unset_command(shell: ShellOpt = None) -> None:
    """Print shell code that removes everything okenv sets."""
    from okenv.env import unset_env
    from okenv.shells import render

    sys.stdout.write(render(_shell(shell), unset_env()))


@app.command("logout")
def logout_command(
    profile: AnyProfileArg = None,
    debug: DebugOpt = False,
) -> None:
    """Forget cached credentials and end Okta sessions (at Okta, then here)."""
    from okenv.okta.session import default_store, logout

    count = _cache().remove(profile)
    org = username = None
    if profile is not None:
        try:
            resolved = _profile(profile, LoginOptions())
        except OkenvError:
            resolved = None  # not a configured profile: no Okta session of its own
        if resolved is not None:
            org, username = resolved.org_url, resolved.username
    ended = 0
    if profile is None or org is not None:
        ended = logout(
            default_store(warn=_warn),
            org=org,
            username=username,
            warn=_warn,
            trace=_trace if debug else None,
        )
    sys.stderr.write(
        f"okenv: forgot {count} cached credential set(s) and {ended} Okta session(s)\n"
    )


@app.command("init")
def init_command(shell: ShellArg) -> None:
    """Print the shell integration (okenv use/unset, prompt segment) to evaluate in an rc file."""
    from okenv.integration import init_script, own_command
    from okenv.shells import normalize_shell

    sys.stdout.write(init_script(normalize_shell(shell), own_command()))


@app.command("use")
def use_command(
    profile: ProfileArg,
    force: ForceOpt = False,
    role: RoleOpt = None,
    duration: DurationOpt = None,
    region: RegionOpt = None,
    username: UsernameOpt = None,
    factor: FactorOpt = None,
    no_input: NoInputOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Switch the current shell to PROFILE (needs the shell integration from `okenv init`).

    The shell function runs `okenv env --shell SHELL PROFILE [FLAGS]` and evaluates it, so
    `use` takes env's flags but --shell."""
    raise UsageError(
        "okenv use changes the current shell, so it works only through the shell integration",
        hint='add eval "$(okenv init bash)" (or zsh/fish/powershell) to your shell\'s rc file, '
        f'or run eval "$(okenv env {profile})"',
    )


@app.command("completions", hidden=True)
def completions_command(shell: ShellArg) -> None:
    """Print the completion script for SHELL (the file `make completions` wrote)."""
    from okenv.integration import completion_script
    from okenv.shells import normalize_shell

    sys.stdout.write(completion_script(normalize_shell(shell)))


@app.command("__complete-profiles", hidden=True)
def complete_profiles_command(
    prefix: Annotated[str, typer.Argument()] = "",
) -> None:
    """Print the profile names that start with PREFIX, one per line (for completions)."""
    from okenv.integration import profile_candidates

    for name in profile_candidates(prefix):
        sys.stdout.write(name + "\n")


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


# -- the funnel: exceptions → exit codes ---------------------------------------------------


def _with_default_command(args: list[str]) -> list[str]:
    """``okenv PROFILE [...]`` means ``okenv env PROFILE [...]``."""
    if args and not args[0].startswith("-") and args[0] not in COMMANDS:
        return ["env", *args]
    return args


def main(argv: Sequence[str] | None = None) -> NoReturn:
    args = _with_default_command(list(sys.argv[1:] if argv is None else argv))

    def run() -> int:
        try:
            result = app(args=args, prog_name="okenv", standalone_mode=False)
        except typer.Abort:
            raise KeyboardInterrupt from None
        except typer.Exit as exc:
            return int(exc.exit_code)
        except typer.TyperException as exc:  # click's usage errors: bad flag, missing argument
            exc.show()  # type: ignore[attr-defined]
            return UsageError.exit_code
        return result if isinstance(result, int) else 0

    code = guarded(run, debug="--debug" in args)
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        code = code or 1
    sys.exit(code)
