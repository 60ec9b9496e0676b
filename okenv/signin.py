"""The AWS sign-in side of a login, as pure functions: no I/O, standard library only.

- :func:`parse_signin_page` reads the account aliases from the role-selection page AWS shows
  when a SAML assertion grants more than one role. Two layouts are live: the legacy
  ``div.saml-account`` markup ("Account: alias (123456789012)") and the Next.js page whose
  ``<meta name="data">`` holds base64 JSON with ``roles_accounts``.
- :func:`signin_post_url` decides where the assertion may be posted to get that page: the
  assertion's Destination when it is an AWS sign-in host (or loopback), or the base URL in
  ``OKENV_AWS_SIGNIN_URL`` (tests and unusual networks). Nothing else ever sees an assertion.
- Partition facts: sign-in hosts, console URLs, and which partition a region belongs to.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from okenv.config import is_loopback
from okenv.errors import ConfigError, ServiceError

__all__ = [
    "CONSOLE_URLS",
    "SIGNIN_HOSTS",
    "SIGNIN_URL_ENV",
    "SigninPage",
    "account_label",
    "check_url",
    "parse_signin_page",
    "partition_of_region",
    "signin_base_url",
    "signin_post_url",
]

SIGNIN_URL_ENV = "OKENV_AWS_SIGNIN_URL"
"""Base URL (scheme, host, optional path prefix) that replaces the AWS sign-in host for
both the role-selection POST (``<base>/saml``) and the federation endpoint
(``<base>/federation``)."""

SIGNIN_HOSTS: Mapping[str, str] = {
    "aws": "signin.aws.amazon.com",
    "aws-us-gov": "signin.amazonaws-us-gov.com",
    "aws-cn": "signin.amazonaws.cn",
}
CONSOLE_URLS: Mapping[str, str] = {
    "aws": "https://console.aws.amazon.com/",
    "aws-us-gov": "https://console.amazonaws-us-gov.com/",
    "aws-cn": "https://console.amazonaws.cn/",
}

_ACCOUNT_ID = re.compile(r"\d{12}")
# "alias (123456789012)" or "123456789012", optionally after "Account:".
_ACCOUNT_LABEL = re.compile(
    r"^\s*(?:Account:\s*)?(?:(?P<alias>.+?)\s*\(\s*(?P<id>\d{12})\s*\)|(?P<bare>\d{12}))\s*$",
    re.DOTALL,
)
_ROLE_ARN_ACCOUNT = re.compile(r"^arn:aws[\w-]*:iam::(\d{12}):role/")
_MAX_ALIAS = 63  # IAM account aliases are 3..63 characters
_MAX_PAGE = 4 * 1024 * 1024


@dataclass(frozen=True)
class SigninPage:
    layout: str  # "legacy" | "nextjs"
    accounts: dict[str, str | None]  # account id -> alias (None: the page shows only the id)


def account_label(account_id: str, alias: str | None) -> str:
    """``prod-main (123456789012)``, or the bare id when there is no alias."""
    return f"{alias} ({account_id})" if alias else account_id


def _clean_alias(text: str | None) -> str | None:
    if text is None:
        return None
    alias = " ".join(text.split())
    if not alias or len(alias) > _MAX_ALIAS or _ACCOUNT_ID.fullmatch(alias):
        return None
    if any(not ch.isprintable() for ch in alias):
        return None
    return alias


def _parse_label(text: str) -> tuple[str, str | None] | None:
    match = _ACCOUNT_LABEL.match(text)
    if match is None:
        return None
    if match["bare"]:
        return match["bare"], None
    return match["id"], _clean_alias(match["alias"])


class _PageScanner(HTMLParser):
    """Collects the legacy account-name texts and the Next.js ``data`` meta content."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.account_names: list[str] = []
        self.data_meta: list[str] = []
        self._depth = 0  # > 0 while inside a div.saml-account-name
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name.lower(): value or "" for name, value in attrs}
        if tag == "meta" and attributes.get("name", "").lower() == "data":
            self.data_meta.append(attributes.get("content", ""))
            return
        if self._depth:
            if tag not in _VOID_TAGS:
                self._depth += 1
            return
        classes = attributes.get("class", "").split()
        if "saml-account-name" in classes and tag not in _VOID_TAGS:
            self._depth = 1
            self._text = []

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "meta":
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if not self._depth or tag in _VOID_TAGS:
            return
        self._depth -= 1
        if self._depth == 0:
            self.account_names.append("".join(self._text))

    def handle_data(self, data: str) -> None:
        if self._depth:
            self._text.append(data)


_VOID_TAGS = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}
)


def _decode_data(content: str) -> Any:
    compact = "".join(content.split())
    compact += "=" * (-len(compact) % 4)
    for alphabet in (None, b"-_"):
        try:
            raw = base64.b64decode(compact, altchars=alphabet, validate=True)
            return json.loads(raw.decode("utf-8"))
        except (binascii.Error, ValueError):
            continue
    raise ServiceError("the AWS sign-in page's account data is not base64 JSON")


def _from_roles_accounts(data: Any) -> dict[str, str | None]:
    if not isinstance(data, dict) or not isinstance(data.get("roles_accounts"), dict):
        raise ServiceError("the AWS sign-in page's account data has no roles_accounts")
    accounts: dict[str, str | None] = {}
    for label, arns in data["roles_accounts"].items():
        parsed = _parse_label(str(label))
        if parsed is not None:
            account_id, alias = parsed
            accounts[account_id] = alias or accounts.get(account_id)
            continue
        # A label without an id: take the id from the role ARNs listed under it.
        for arn in arns if isinstance(arns, list) else []:
            match = _ROLE_ARN_ACCOUNT.match(str(arn))
            if match:
                accounts[match.group(1)] = _clean_alias(str(label))
    return accounts


def parse_signin_page(html: str) -> SigninPage:
    """Account ids and aliases from the AWS role-selection page (either layout).

    Raises :class:`ServiceError` when the page is neither layout (an error page, a sign-in
    page for a single role, or a layout this version does not know).
    """
    if len(html) > _MAX_PAGE:
        raise ServiceError("the AWS sign-in page is unexpectedly large")
    scanner = _PageScanner()
    try:
        scanner.feed(html)
        scanner.close()
    except (AssertionError, ValueError) as exc:  # pragma: no cover - HTMLParser is lenient
        raise ServiceError(f"the AWS sign-in page is not readable HTML ({exc})") from None

    for content in scanner.data_meta:
        if content.strip():
            accounts = _from_roles_accounts(_decode_data(content))
            if accounts:
                return SigninPage("nextjs", accounts)

    legacy: dict[str, str | None] = {}
    for text in scanner.account_names:
        parsed = _parse_label(text)
        if parsed is not None:
            account_id, alias = parsed
            legacy[account_id] = alias or legacy.get(account_id)
    if legacy:
        return SigninPage("legacy", legacy)
    raise ServiceError("the AWS sign-in page has no account list in a layout okenv knows")


# -- where an assertion may be posted ---------------------------------------------------------


def check_url(url: str, what: str) -> str:
    """``url`` without a trailing slash; https only, except on a loopback host."""
    parts = urlsplit(url.strip())
    host = parts.hostname or ""
    if parts.scheme not in ("https", "http") or not host:
        raise ConfigError(f"{what} is not an http(s) URL: {url!r}")
    if parts.scheme == "http" and not is_loopback(host):
        raise ConfigError(
            f"{what} must use https: {url}", hint="http:// is accepted only on loopback hosts"
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _aws_signin_host(host: str) -> str | None:
    """The partition of an AWS sign-in host (``signin.aws.amazon.com``, regional variants)."""
    host = host.lower().rstrip(".")
    for partition, base in SIGNIN_HOSTS.items():
        if host == base or host.endswith("." + base):
            return partition
    return None


def signin_base_url(partition: str, environ: Mapping[str, str]) -> str:
    """``https://signin.<partition host>``, or the ``OKENV_AWS_SIGNIN_URL`` override."""
    override = environ.get(SIGNIN_URL_ENV, "").strip()
    if override:
        return check_url(override, SIGNIN_URL_ENV)
    try:
        return f"https://{SIGNIN_HOSTS[partition]}"
    except KeyError:
        raise ConfigError(f"okenv does not know the AWS partition {partition!r}") from None


def signin_post_url(destination: str | None, environ: Mapping[str, str]) -> str | None:
    """Where to post the assertion for the role-selection page, or None when nowhere safe.

    The override wins; otherwise the Destination, but only an https AWS sign-in host or a
    loopback host (local testing). An assertion is a bearer credential: it never goes to a
    host that is not meant to receive it.
    """
    override = environ.get(SIGNIN_URL_ENV, "").strip()
    if override:
        return check_url(override, SIGNIN_URL_ENV) + "/saml"
    if not destination:
        return None
    parts = urlsplit(destination.strip())
    host = parts.hostname or ""
    if parts.scheme == "https" and _aws_signin_host(host):
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/saml", "", ""))
    if parts.scheme in ("http", "https") and is_loopback(host):
        return urlunsplit((parts.scheme, parts.netloc, parts.path or "/saml", "", ""))
    return None


def partition_of_region(region: str) -> str | None:
    """``aws-us-gov`` for us-gov-*, ``aws-cn`` for cn-*, ``aws`` for the usual shapes.

    None for what okenv does not recognise (ISO partitions, typos): no judgement then.
    """
    region = region.strip().lower()
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    if region.startswith("cn-"):
        return "aws-cn"
    if re.fullmatch(r"(?:us|eu|ap|sa|ca|me|af|il|mx)-[a-z]+-\d", region):
        return "aws"
    return None
