"""A full login: Okta → SAML assertion → role → STS credentials. Plain inputs, a dataclass out.

Imported only when the cache cannot answer: this is where requests and MechanicalSoup come
in; boto3 comes in with the STS calls (see okenv.worker).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from okenv import report
from okenv.config import Profile
from okenv.credentials import Credentials
from okenv.errors import RoleNotFoundError, SamlError
from okenv.okta.http import REJECTED_PASSWORD, OktaRefusal
from okenv.okta.pages import SamlForm
from okenv.okta.signin import OktaOptions, device_sign_in, sign_in
from okenv.prompt import Prompter, progress
from okenv.saml import Role, SamlAssertion, match_role, parse_saml_response

if TYPE_CHECKING:
    from okenv.assume import StsCall
    from okenv.memory import AwsMemory


@dataclass(frozen=True)
class Secrets:
    """What may come from the environment instead of the terminal. Never written anywhere."""

    password: str | None = None
    totp_secret: str | None = None
    security_answer: str | None = None

    @classmethod
    def from_environment(cls) -> Secrets:
        """``OKENV_PASSWORD``, ``OKENV_TOTP_SECRET`` and ``OKENV_SECURITY_ANSWER`` (empty =
        not set)."""
        return cls(
            password=os.environ.get("OKENV_PASSWORD") or None,
            totp_secret=os.environ.get("OKENV_TOTP_SECRET") or None,
            security_answer=os.environ.get("OKENV_SECURITY_ANSWER") or None,
        )


def _with_keyring(
    profile: Profile, username: str, secrets: Secrets, prompter: Prompter
) -> tuple[Secrets, bool]:
    """``keyring = true``: the password and TOTP seed the environment does not give, from
    the OS keyring; and whether the password came from there."""
    if not profile.keyring:
        return secrets, False
    from okenv.secretstore import PASSWORD, TOTP, get

    password = secrets.password or get(profile.org_url, username, PASSWORD)
    seed = secrets.totp_secret or get(profile.org_url, username, TOTP)
    found = replace(secrets, password=password, totp_secret=seed)
    return found, password is not None and not secrets.password


def _keyring(profile: Profile, username: str, prompter: Prompter, accepted: str | None) -> None:
    """Store a password Okta ``accepted``, or (None) remove the one it rejected."""
    from okenv.secretstore import PASSWORD, forget, put

    if accepted is not None:
        put(profile.org_url, username, PASSWORD, accepted)
        return
    forget(profile.org_url, username, (PASSWORD,))
    prompter.info("Okta rejected the password from the OS keyring; it is removed")


def fetch_assertion(
    profile: Profile,
    secrets: Secrets,
    prompter: Prompter,
    okta: OktaOptions | None = None,
) -> SamlAssertion:
    """Sign in to Okta (reusing the org's Okta session when it is still good) and return
    the AWS app's SAML assertion. ``okta``: timing and session storage (default: okenv's
    cache dir, see :meth:`OktaOptions.from_environment`)."""
    options = okta or OktaOptions.from_environment()
    if profile.engine == "device":  # no username needed: Okta says who approved
        form = device_sign_in(
            profile, username=profile.username, prompter=prompter, options=options
        )
        return _checked(parse_saml_response(form.saml_response))
    username = profile.username or prompter.ask("Okta username: ").strip()
    secrets, from_keyring = _with_keyring(profile, username, secrets, prompter)
    typed: list[str] = []

    def password() -> str:
        if secrets.password:
            return secrets.password
        typed.append(prompter.ask(f"Okta password for {username}: ", secret=True))
        return typed[-1]

    def attempt() -> SamlForm:
        with progress(prompter, f"Signing in to {urlsplit(profile.org_url).hostname}…"):
            return sign_in(
                profile,
                username=username,
                password=password,
                totp_secret=secrets.totp_secret,
                security_answer=secrets.security_answer,
                prompter=prompter,
                options=options,
                password_at_hand=bool(secrets.password),
            )

    try:
        form = attempt()
    except OktaRefusal as exc:
        if not from_keyring or exc.code != REJECTED_PASSWORD:
            raise
        _keyring(profile, username, prompter, None)
        secrets = replace(secrets, password=None)
        form = attempt()
    if profile.keyring and typed:
        _keyring(profile, username, prompter, typed[-1])
    return _checked(parse_saml_response(form.saml_response))


def _checked(assertion: SamlAssertion) -> SamlAssertion:
    expiry = assertion.not_on_or_after
    if expiry is not None and expiry.timestamp() < time.time():
        raise SamlError(
            "the SAML assertion from Okta has already expired",
            hint="check this machine's clock",
        )
    return assertion


def names_alias(role: str) -> bool:
    """Whether a ``role`` setting names an account alias (``alias/Role``)."""
    account = role.strip().split("/", 1)[0]
    return "/" in role and not role.strip().startswith("arn:") and not account.isdigit()


def choose_role(
    assertion: SamlAssertion,
    wanted: str | None,
    prompter: Prompter,
    aliases: Callable[[], Mapping[str, str]] | None = None,
) -> Role:
    """The configured role, the only role, or the user's pick from a menu.

    ``aliases`` looks up account aliases (account id → alias); it is called only when they
    matter: for the menu, or for a ``role = "alias/Role"`` that does not match by id.
    """
    from okenv.assume import menu

    roles = assertion.roles
    if wanted:
        try:
            return match_role(roles, wanted)
        except RoleNotFoundError:
            if aliases is None or not names_alias(wanted) or len(roles) < 2:
                raise
        return match_role(roles, wanted, aliases())
    if len(roles) == 1:
        return roles[0]
    if not prompter.interactive:
        raise RoleNotFoundError(
            f"the login grants {len(roles)} roles and no role is configured",
            hint="set role in the profile or pass --role; roles: "
            + ", ".join(r.arn for r in roles),
        )
    ordered, labels = menu(roles, aliases() if aliases is not None else {})
    return ordered[prompter.choose("Choose an AWS role:", labels)]


@dataclass(frozen=True)
class GrantedRole:
    role: Role
    alias: str | None
    credentials: Credentials


def _alias_lookup(
    assertion: SamlAssertion,
    profile: Profile,
    memory: AwsMemory | None,
) -> Callable[[], Mapping[str, str]]:
    found: list[Mapping[str, str]] = []

    def lookup() -> Mapping[str, str]:
        if not found:
            import os

            from okenv.aliases import account_aliases

            found.append(
                account_aliases(
                    assertion,
                    environ=os.environ,
                    memory=memory,
                    timeout=profile.timeout,
                )
            )
        return found[0]

    return lookup


def login(
    profile: Profile,
    secrets: Secrets,
    prompter: Prompter,
    *,
    memory: AwsMemory | None = None,
    call: StsCall | None = None,
) -> Credentials:
    """Okta → assertion → role (aliases when needed) → STS, with the duration and chaining
    rules of :mod:`okenv.assume`. ``notify`` gets one-line messages for stderr; ``call``
    runs the STS calls (e.g. in :class:`okenv.worker.Worker`)."""
    from okenv.assume import assume, check_profile

    check_profile(profile)
    if (profile.role is None and prompter.interactive) or (
        profile.role is not None and names_alias(profile.role)
    ):
        import os

        from okenv.aliases import warm_connection

        warm_connection(os.environ, profile.timeout)  # the alias page, if needed, is 1 RTT
    assertion = fetch_assertion(profile, secrets, prompter)
    lookup = _alias_lookup(assertion, profile, memory)
    role = choose_role(assertion, profile.role, prompter, lookup)
    known = memory.aliases([role.account_id]) if memory else None
    account = (known or {}).get(role.account_id) or role.account_id
    if not profile.role and len(assertion.roles) > 1:
        prompter.info(
            f'to skip this menu, set role = "{account}/{role.name}" in [profiles.{profile.name}]'
        )
    with progress(prompter, f"Asking AWS for {account}/{role.name}…"):
        return assume(role, assertion, profile, memory=memory, call=call)


def login_all(
    profile: Profile,
    secrets: Secrets,
    prompter: Prompter,
    *,
    memory: AwsMemory | None = None,
) -> list[GrantedRole]:
    """Credentials for every role the assertion grants (roles STS refuses are skipped
    with a warning; if it refuses all, the first error is raised)."""
    assertion = fetch_assertion(profile, secrets, prompter)
    aliases = _alias_lookup(assertion, profile, memory)()
    from okenv.assume import assume, menu
    from okenv.errors import OkenvError

    ordered, _ = menu(assertion.roles, aliases)
    granted: list[GrantedRole] = []
    failures: list[OkenvError] = []
    for role in ordered:
        try:
            creds = assume(role, assertion, profile, memory=memory, chain=False)
        except OkenvError as exc:
            failures.append(exc)
            report.warn(f"skipping {role.arn}: {exc.message}")
            continue
        granted.append(GrantedRole(role, aliases.get(role.account_id), creds))
    if not granted:
        raise failures[0]
    return granted
