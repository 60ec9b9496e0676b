"""Account aliases for a multi-role login: remembered for a week, else read from AWS.

AWS shows aliases only on its role-selection page, which it renders for a POST of the SAML
assertion to the assertion's Destination. That page is best effort: when it cannot be read
okenv shows account ids and says so on stderr; a login never fails because of it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from okenv.errors import OkenvError
from okenv.memory import AwsMemory
from okenv.rolepage import parse_signin_page
from okenv.saml import SamlAssertion
from okenv.urls import signin_post_url

__all__ = ["account_aliases"]

Say = Callable[[str], None]
FALLBACK = "showing account ids instead"


def _fetch_page(url: str, assertion: SamlAssertion, timeout: float, trace: Say | None) -> str:
    import requests

    from okenv.limits import MAX_PAGE, Expired, bounded_request

    if trace:
        trace(f"POST {url} (SAMLResponse=<redacted>) for the account aliases")
    try:
        response = bounded_request(
            "POST",
            url,
            timeout=timeout,
            cap=MAX_PAGE,
            what=url,
            data={"SAMLResponse": assertion.encoded, "RelayState": ""},
            headers={"Accept": "text/html"},
        )
    except Expired:
        raise OkenvError(f"{url} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise OkenvError(f"could not reach {url}: {type(exc).__name__}") from None
    if trace:
        trace(f"-> HTTP {response.status_code} ({len(response.content)} bytes)")
    if response.status_code != 200:
        raise OkenvError(f"{url} answered HTTP {response.status_code}")
    response.encoding = response.encoding or "utf-8"
    text: str = response.text
    return text


def account_aliases(
    assertion: SamlAssertion,
    *,
    environ: Mapping[str, str],
    memory: AwsMemory | None = None,
    timeout: float = 20.0,
    trace: Say | None = None,
    warn: Say | None = None,
) -> dict[str, str]:
    """Account id → alias for the accounts in ``assertion`` that have one.

    Only for assertions with more than one role (AWS shows no list for a single role).
    """
    if len(assertion.roles) < 2:
        return {}
    accounts = sorted({role.account_id for role in assertion.roles})
    known = memory.aliases(accounts) if memory is not None else None
    if known is not None:
        if trace:
            trace("account aliases: remembered")
        return {account: alias for account, alias in known.items() if alias}

    url = signin_post_url(assertion.destination, environ)
    if url is None:
        if warn:
            warn(
                f"the assertion's Destination {assertion.destination!r} is not an AWS "
                f"sign-in URL, so okenv did not ask it for account aliases; {FALLBACK}"
            )
        return {}
    try:
        page = parse_signin_page(_fetch_page(url, assertion, timeout, trace))
    except OkenvError as exc:
        if warn:
            warn(f"could not read account aliases from the AWS sign-in page ({exc}); {FALLBACK}")
        return {}
    if trace:
        trace(f"account aliases: {page.layout} page, {len(page.accounts)} account(s)")
    found = {account: page.accounts.get(account) for account in accounts}
    if memory is not None:
        memory.remember_aliases(found)
    return {account: alias for account, alias in found.items() if alias}
