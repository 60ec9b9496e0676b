"""Account aliases for a multi-role login: remembered for a week, else read from AWS.

AWS shows aliases only on its role-selection page, which it renders for a POST of the SAML
assertion to the assertion's Destination. That page is best effort: when it cannot be read
okenv shows account ids and says so on stderr; a login never fails because of it.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from okenv import report
from okenv.errors import OkenvError
from okenv.memory import AwsMemory
from okenv.rolepage import parse_signin_page
from okenv.saml import SamlAssertion
from okenv.urls import signin_base_url, signin_post_url

__all__ = ["account_aliases", "warm_connection"]

FALLBACK = "showing account ids instead"


class _Connection:
    """One kept-alive requests session for the AWS sign-in host, opened early.

    When a login will likely need the aliases (a role named ``alias/Role``, or a menu), the
    sign-in host's TCP + TLS are opened in a background thread while Okta answers (a HEAD
    of the host's root: public requests calls only), so the alias POST that follows the
    assertion costs one round trip instead of three."""

    def __init__(self) -> None:
        self.session: Any = None
        self.thread: threading.Thread | None = None

    def warm(self, base_url: str, timeout: float) -> None:
        def run() -> None:
            import requests

            from okenv import __version__
            from okenv.tls import verify

            session = requests.Session()
            try:
                answer = session.head(  # no body; stream=True keeps okenv.limits' rule
                    base_url + "/",
                    timeout=timeout,
                    stream=True,
                    verify=verify(),
                    allow_redirects=False,
                    headers={"User-Agent": f"okenv/{__version__}"},
                )
                _ = answer.content  # read (nothing): the connection goes back to the pool
            except requests.RequestException:
                return  # the POST opens a connection of its own, and reports any problem
            self.session = session

        self.thread = threading.Thread(target=run, name="okenv-signin-warm", daemon=True)
        self.thread.start()

    def take(self, timeout: float) -> Any:
        """The warmed session (after waiting up to ``timeout`` for it), or None."""
        thread, self.thread = self.thread, None
        if thread is not None:
            thread.join(timeout)
            if thread.is_alive():
                return None  # still busy: never share a session across threads
        session, self.session = self.session, None
        return session


_CONNECTION = _Connection()


def warm_connection(environ: Mapping[str, str], timeout: float) -> None:
    """Open the (aws partition's) sign-in host's connection in the background."""
    try:
        base = signin_base_url("aws", environ)
    except OkenvError:
        return
    _CONNECTION.warm(base, timeout)


def _fetch_page(url: str, assertion: SamlAssertion, timeout: float) -> str:
    import requests

    from okenv.limits import MAX_PAGE, Expired, bounded_request

    session = _CONNECTION.take(timeout)  # any host: requests pools connections by host
    report.trace(f"POST {url} (SAMLResponse=<redacted>) for the account aliases")
    try:
        response = bounded_request(
            "POST",
            url,
            timeout=timeout,
            cap=MAX_PAGE,
            what=url,
            session=session,
            data={"SAMLResponse": assertion.encoded, "RelayState": ""},
            headers={"Accept": "text/html"},
        )
    except Expired:
        raise OkenvError(f"{url} did not answer within {timeout:g} s") from None
    except requests.RequestException as exc:
        raise OkenvError(f"could not reach {url}: {type(exc).__name__}") from None
    report.trace(f"-> HTTP {response.status_code} ({len(response.content)} bytes)")
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
) -> dict[str, str]:
    """Account id → alias for the accounts in ``assertion`` that have one.

    Only for assertions with more than one role (AWS shows no list for a single role).
    """
    if len(assertion.roles) < 2:
        return {}
    accounts = sorted({role.account_id for role in assertion.roles})
    known = memory.aliases(accounts) if memory is not None else None
    if known is not None:
        report.trace("account aliases: remembered")
        return {account: alias for account, alias in known.items() if alias}

    url = signin_post_url(assertion.destination, environ)
    if url is None:
        report.warn(
            f"the assertion's Destination {assertion.destination!r} is not an AWS "
            f"sign-in URL, so okenv did not ask it for account aliases; {FALLBACK}"
        )
        return {}
    try:
        page = parse_signin_page(_fetch_page(url, assertion, timeout))
    except OkenvError as exc:
        report.warn(f"could not read account aliases from the AWS sign-in page ({exc}); {FALLBACK}")
        return {}
    report.trace(f"account aliases: {page.layout} page, {len(page.accounts)} account(s)")
    found = {account: page.accounts.get(account) for account in accounts}
    if memory is not None:
        memory.remember_aliases(found)
    return {account: alias for account, alias in found.items() if alias}
