"""A full login: Okta → SAML assertion → role → STS credentials. Plain inputs, a dataclass out.

Imported only when the cache cannot answer: this is where requests, MechanicalSoup and
(in a background thread, while Okta answers) boto3 come in.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from okenv.config import MAX_DURATION, Profile
from okenv.credentials import Credentials
from okenv.errors import RoleNotFoundError, SamlError
from okenv.okta import classic
from okenv.okta.http import OktaHttp
from okenv.okta.pages import parse_app_page
from okenv.prompt import Prompter
from okenv.saml import Role, SamlAssertion, match_role, parse_saml_response

Trace = Callable[[str], None]


@dataclass(frozen=True)
class Secrets:
    """What may come from the environment instead of the terminal. Never written anywhere."""

    password: str | None = None
    totp_secret: str | None = None


def _preload_sts() -> threading.Thread:
    """Import boto3 and build its loaders while Okta answers (≈200 ms hidden behind I/O)."""

    def work() -> None:
        # The real import after join() reports any failure.
        with contextlib.suppress(Exception):
            import okenv.sts  # noqa: F401

    thread = threading.Thread(target=work, name="okenv-preload-sts", daemon=True)
    thread.start()
    return thread


def fetch_assertion(
    profile: Profile, secrets: Secrets, prompter: Prompter, trace: Trace | None = None
) -> SamlAssertion:
    """Sign in to Okta and return the AWS app's SAML assertion."""
    http = OktaHttp(profile.org_url, timeout=profile.timeout, trace=trace)
    username = profile.username or prompter.ask("Okta username: ").strip()
    password = secrets.password or prompter.ask(f"Okta password for {username}: ", secret=True)
    token = classic.authenticate(
        http,
        username=username,
        password=password,
        factor_preference=profile.factor,
        totp_secret=secrets.totp_secret,
        prompter=prompter,
    )
    form = parse_app_page(http.open_page(profile.app_url, params={"sessionToken": token}))
    assertion = parse_saml_response(form.saml_response)
    expiry = assertion.not_on_or_after
    if expiry is not None and expiry.timestamp() < time.time():
        raise SamlError(
            "the SAML assertion from Okta has already expired",
            hint="check this machine's clock",
        )
    return assertion


def choose_role(assertion: SamlAssertion, wanted: str | None, prompter: Prompter) -> Role:
    """The configured role, the only role, or the user's pick from a menu."""
    roles = assertion.roles
    if wanted:
        return match_role(roles, wanted)
    if len(roles) == 1:
        return roles[0]
    if not prompter.interactive:
        raise RoleNotFoundError(
            f"the login grants {len(roles)} roles and no role is configured",
            hint="set role in the profile or pass --role; roles: "
            + ", ".join(r.arn for r in roles),
        )
    labels = [f"{r.account_id}  {r.name}" for r in roles]
    return roles[prompter.choose("Choose an AWS role:", labels)]


def login(
    profile: Profile, secrets: Secrets, prompter: Prompter, trace: Trace | None = None
) -> Credentials:
    preload = _preload_sts()
    assertion = fetch_assertion(profile, secrets, prompter, trace)
    role = choose_role(assertion, profile.role, prompter)
    duration = min(profile.duration, assertion.session_duration or MAX_DURATION)
    preload.join()
    from okenv import sts

    if trace:
        trace(f"AssumeRoleWithSAML {role.arn} for {duration} s")
    return sts.assume_role_with_saml(
        role=role, assertion=assertion, duration=duration, region=profile.region
    )
