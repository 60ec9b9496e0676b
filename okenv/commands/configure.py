"""``okenv configure``: first-run setup. Sign in once, discover the AWS apps and their roles,
add profiles to the config file (preserving it), optionally to ``~/.aws/config``.

Every question has a flag (``--org``, ``--username``, ``--all``, ``--yes``); with all of
them and the password/MFA from the environment it asks nothing.
"""

from __future__ import annotations

import os
import re
import shlex
import sys
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from okenv import report
from okenv.errors import ConfigError, NoInputError, UsageError
from okenv.report import notify

if TYPE_CHECKING:
    from okenv.discover import AwsApp
    from okenv.login import Secrets
    from okenv.okta.http import OktaHttp
    from okenv.prompt import Prompter
    from okenv.saml import Role, SamlAssertion

_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_.+=,@-]+")
MAX_NAME = 64


class ConfigureInput(NamedTuple):
    org: str | None = None
    username: str | None = None
    all_roles: bool = False
    yes: bool = False
    aws_config: bool = False
    no_input: bool = False
    debug: bool = False


class Proposal(NamedTuple):
    name: str
    app: AwsApp
    role: Role
    label: str
    """``alias/Role`` (or ``account/Role``): how the role is shown."""


def proposed_name(alias: str | None, role: Role) -> str:
    """``alias-Role``, or ``accountid-Role``: letters, digits and ``_.+=,@-`` only."""
    account, role_name = (_NAME_UNSAFE.sub("-", p).strip("-") for p in (alias or "", role.name))
    return f"{account or role.account_id}-{role_name}"[:MAX_NAME]


def _pick(prompter: Prompter, title: str, labels: Sequence[str]) -> list[int]:
    """Several of ``labels`` (numbers, commas, ranges); Enter for all."""
    if len(labels) == 1:
        return [0]
    prompter.plain(title)
    for number, label in enumerate(labels, 1):
        prompter.plain(f"  {number:>2}) {label}")
    for _ in range(3):
        answer = prompter.ask(f"Which (e.g. 1,3 or 2-4; Enter for all) [1-{len(labels)}]: ")
        answer = answer.strip().lower()
        if answer in ("", "all", "a", "*"):
            return list(range(len(labels)))
        chosen: list[int] = []
        try:
            for part in answer.replace(" ", ",").split(","):
                if not part:
                    continue
                low, _, high = part.partition("-")
                first, last = int(low), int(high or low)
                if not 1 <= first <= last <= len(labels):
                    raise ValueError(part)
                chosen.extend(i - 1 for i in range(first, last + 1) if i - 1 not in chosen)
        except ValueError:
            prompter.info(f"{answer!r} is not a choice; use numbers 1-{len(labels)}")
            continue
        if chosen:
            return chosen
    raise UsageError("no valid choice was made")


def _confirm(prompter: Prompter, question: str, default: bool = False) -> bool:
    answer = prompter.ask(f"{question} [{'Y/n' if default else 'y/N'}]: ").strip().lower()
    return default if not answer else answer in ("y", "yes")


def okenv_command() -> str:
    """How botocore runs this okenv: its absolute path, quoted as ``shlex.split`` reads it
    (botocore's ``credential_process`` splitting on POSIX)."""
    script = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
    if script is not None and script.name == "okenv" and os.access(script, os.X_OK):
        return shlex.quote(str(script))
    return f"{shlex.quote(sys.executable)} -m okenv"


class Signer(NamedTuple):
    """Who signs in, how to ask, whether the password goes to the keyring."""

    username: str
    prompter: Prompter
    keyring: bool = False
    totp_secret: str | None = None
    """A seed typed into configure (for the keyring): it also answers configure's own MFA."""

    def secrets(self) -> Secrets:
        from okenv.login import Secrets

        found = Secrets.from_environment()
        return replace(found, totp_secret=found.totp_secret or self.totp_secret)


def _session_http(org: str, signer: Signer) -> OktaHttp | None:
    """An HTTP client for ``org`` holding the saved Okta session of the user, if any."""
    from okenv.okta.http import OktaHttp
    from okenv.okta.session import default_store

    saved = default_store().load(org, signer.username)
    if saved is None:
        return None
    http = OktaHttp(org)
    http.set_cookie(saved.cookie, saved.value)
    return http


def _org_sign_in(org: str, signer: Signer) -> None:
    """Sign in to ``org`` itself (no app link given): Classic primary auth and MFA, then
    ``POST /api/v1/sessions`` for the session cookie, kept like any login's."""
    from okenv.okta import classic
    from okenv.okta.http import OktaHttp
    from okenv.okta.mfa import MfaContext
    from okenv.okta.session import describe_session, detect_engine
    from okenv.okta.signin import OktaOptions

    username, prompter = signer.username, signer.prompter
    options = OktaOptions.from_environment()
    http = OktaHttp(org, notify=prompter.info)
    if detect_engine(http) == "idx":
        raise ConfigError(
            f"{org} runs Okta Identity Engine: okenv signs in there through an app",
            hint="give the AWS app's link from the Okta dashboard with --org",
        )
    secrets = signer.secrets()
    ctx = MfaContext(prompter, "auto", secrets.totp_secret, secrets.security_answer, options.waits)
    asked: list[str] = []

    def password() -> str:
        if not asked:
            asked.append(
                secrets.password or prompter.ask(f"Okta password for {username}: ", secret=True)
            )
        return asked[0]

    def credentials() -> tuple[str, str]:
        return username, password()

    tx = classic.drive(
        http, classic.start(http, username=username, password=password()), ctx, credentials
    )
    token = tx.get("sessionToken")
    if not isinstance(token, str) or not token:
        raise ConfigError("Okta signed in without a session token", hint="give an AWS app link")
    http.post_json("/api/v1/sessions", {"sessionToken": token})
    saved = describe_session(http, username)
    if saved is not None and options.store is not None:
        options.store.save(saved)
    if signer.keyring and asked and not secrets.password:
        from okenv.secretstore import PASSWORD, put

        put(org, username, PASSWORD, asked[0])


def _assertion(app_link: str, signer: Signer) -> SamlAssertion:
    from okenv.config import Profile
    from okenv.login import fetch_assertion

    profile = Profile(
        name="configure", app_url=app_link, username=signer.username, keyring=signer.keyring
    )
    return fetch_assertion(profile, signer.secrets(), signer.prompter)


def _discover(
    org: str, link: str | None, signer: Signer
) -> tuple[list[AwsApp], dict[str, SamlAssertion]]:
    from okenv.discover import AwsApp, aws_apps
    from okenv.errors import OktaError

    read: dict[str, SamlAssertion] = {}
    if link is not None:
        read[link] = _assertion(link, signer)  # signs in (MFA) and keeps the session
    http = _session_http(org, signer)
    apps: list[AwsApp] | None = None
    if http is not None:
        try:
            apps = aws_apps(http)
        except OktaError:
            apps = None  # the saved session was not accepted: sign in
    if apps is None:
        if link is not None:
            raise OktaError("Okta did not list the apps for the session it just gave okenv")
        _org_sign_in(org, signer)
        http = _session_http(org, signer)
        if http is None:
            raise OktaError("Okta gave okenv no session to list the apps with")
        apps = aws_apps(http)
    if link is not None and all(app.link != link for app in apps):
        instance = link.rsplit("/", 2)[-2]
        apps.insert(0, AwsApp("AWS", link, instance))
    if not apps:
        raise ConfigError(
            f"{signer.username} has no AWS app in {org}",
            hint="ask your Okta admin to assign you the AWS app, or pass its link with --org",
        )
    return apps, read


def _remember(org: str, signer: Signer) -> Signer:
    """Ask whether to keep the password (and, separately, a TOTP seed) in the OS keyring."""
    ask = signer.prompter
    if not _confirm(ask, "Remember the Okta password in the OS keyring?"):
        return signer
    if _confirm(ask, "Also keep a TOTP seed (base32) there, so okenv makes the codes?"):
        import base64
        import binascii

        seed = ask.ask("TOTP seed (base32): ", secret=True).strip().replace(" ", "").upper()
        try:
            base64.b32decode(seed + "=" * (-len(seed) % 8))
        except (binascii.Error, ValueError):
            raise UsageError("that TOTP seed is not base32") from None
        from okenv.secretstore import TOTP, put

        put(org, signer.username, TOTP, seed)
        return signer._replace(keyring=True, totp_secret=seed)
    return signer._replace(keyring=True)


def _existing(data: Mapping[str, object]) -> tuple[set[str], set[tuple[str, str]]]:
    """Configured profile names, and (app_url, role ARN) pairs already covered."""
    profiles = data.get("profiles", {})
    defaults = data.get("defaults", {})
    names = set(profiles) if isinstance(profiles, dict) else set()
    covered: set[tuple[str, str]] = set()
    default_app = defaults.get("app_url") if isinstance(defaults, dict) else None
    for body in profiles.values() if isinstance(profiles, dict) else ():
        if isinstance(body, dict):
            app = body.get("app_url", default_app)
            role = body.get("role")
            if isinstance(app, str) and isinstance(role, str):
                covered.add((app.rstrip("/"), role))
    return names, covered


def _proposals(
    apps: Sequence[AwsApp],
    read: dict[str, SamlAssertion],
    signer: Signer,
    covered: set[tuple[str, str]],
) -> list[Proposal]:
    from okenv.aliases import account_aliases
    from okenv.assume import menu, role_label
    from okenv.commands.common import memory

    found: list[Proposal] = []
    for app in apps:
        assertion = read.get(app.link) or _assertion(app.link, signer)
        aliases = account_aliases(assertion, environ=os.environ, memory=memory())
        ordered, _ = menu(assertion.roles, aliases)
        for role in ordered:
            alias = aliases.get(role.account_id)
            label = role_label(role, aliases)
            if (app.link, role.arn) in covered or (app.link, label) in covered:
                continue
            found.append(Proposal(proposed_name(alias, role), app, role, label))
    return found


def _unique_names(proposals: list[Proposal], taken: set[str]) -> list[Proposal]:
    out: list[Proposal] = []
    used = set(taken)
    for item in proposals:
        name = item.name
        if name in used:
            name = proposed_name(None, item.role)
        base, n = name, 2
        while name in used:
            name, n = f"{base}-{n}", n + 1
        used.add(name)
        out.append(item._replace(name=name))
    return out


def _aws_config(proposals: Sequence[Proposal], region: str | None) -> None:
    from okenv.awsfiles import config_file_path, write_config_profiles
    from okenv.commands.common import cache

    command = okenv_command()
    sections: dict[str, dict[str, str]] = {}
    for item in proposals:
        values = {"credential_process": f"{command} credential-process {item.name}"}
        if region:
            values["region"] = region
        sections[item.name] = values
    with cache().lock("aws-config-file"):
        path, added = write_config_profiles(config_file_path(os.environ), sections)
    notify(
        f"added {len(added)} profile(s) to {path}"
        + (f": {', '.join(added)}" if added else " (all were there)")
    )


def _who(given: ConfigureInput, ask: Prompter, defaults: Mapping[str, object]) -> tuple[str, ...]:
    """(org, app link or "", username): flags, then ``[defaults]``/environment, then asked."""
    from okenv.discover import split_org

    configured = defaults.get("app_url")
    org_text = given.org or (configured if isinstance(configured, str) else None)
    if not org_text:
        org_text = ask.ask("Okta org or AWS app link (e.g. https://acme.okta.com): ")
    org, link = split_org(org_text)
    known = defaults.get("username")
    username = (
        given.username
        or os.environ.get("OKENV_USERNAME")
        or (known if isinstance(known, str) else None)
        or ask.ask("Okta username: ").strip()
    )
    if not username or len(username) > 256 or any(c in username for c in "\r\n\x00"):
        raise UsageError("a username is needed", hint="pass --username")
    return org, link or "", username


def _name(proposals: list[Proposal], ask: Prompter, existing: set[str]) -> list[Proposal]:
    """The roles picked, each under the name typed (Enter: the proposed one)."""
    picked = _pick(ask, "Roles:", [f"{p.label}  ({p.app.label})" for p in proposals])
    taken = set(existing)
    edited: list[Proposal] = []
    for item in (proposals[i] for i in picked):
        name = ask.ask(f"Profile name for {item.label} [{item.name}]: ").strip() or item.name
        if _NAME_UNSAFE.search(name) or len(name) > MAX_NAME or name in taken:
            ask.info(f"{name!r} cannot be used; keeping {item.name}")
            name = item.name
        taken.add(name)
        edited.append(item._replace(name=name))
    return _unique_names(edited, existing)


def run(given: ConfigureInput) -> int:
    from okenv.commands.common import prompter as make_prompter
    from okenv.config import read_config
    from okenv.configwrite import add_profiles, diff, write_config
    from okenv.paths import config_path

    ask = make_prompter(given.no_input)
    path = config_path()
    data = read_config(path)
    defaults = data.get("defaults", {})
    org, link, username = _who(given, ask, defaults)
    report.configure(debug=given.debug)
    signer = Signer(username, ask)
    if ask.interactive and not given.yes:
        signer = _remember(org, signer)
    apps, read = _discover(org, link or None, signer)
    if not given.all_roles and len(apps) > 1:
        picked = _pick(ask, "AWS apps you can reach:", [f"{a.label} ({a.link})" for a in apps])
        apps = [apps[i] for i in picked]
    taken, covered = _existing(data)
    proposals = _unique_names(_proposals(apps, read, signer, covered), taken)
    if not proposals:
        notify(f"every role is configured already in {path}")
        return 0
    if not given.all_roles:
        proposals = _name(proposals, ask, taken)
    new_defaults: dict[str, str | bool] = {"username": username}
    if signer.keyring:
        new_defaults["keyring"] = True
    profiles = {p.name: {"app_url": p.app.link, "role": p.role.arn} for p in proposals}
    before = path.read_text("utf-8") if path.exists() else ""
    after = add_profiles(before, profiles, new_defaults)
    report.REPORTER.write(diff(before, after, path))  # sanitised line by line, no prefix
    if not given.yes:
        if not ask.interactive:
            raise NoInputError("not writing the config without a yes", hint="pass --yes")
        if not _confirm(ask, f"Write {len(profiles)} profile(s) to {path}?", default=True):
            notify("nothing written")
            return 0
    write_config(path, after)
    notify(f"wrote {len(profiles)} profile(s) to {path}")
    if given.aws_config:
        region = defaults.get("region")
        _aws_config(proposals, region if isinstance(region, str) else None)
    notify(f'try it: eval "$(okenv {proposals[0].name})"')
    return 0
