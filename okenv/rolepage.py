"""The AWS role-selection page, read as a pure function: no I/O, standard library only.

:func:`parse_signin_page` reads the account aliases from the page AWS shows when a SAML
assertion grants more than one role. Two layouts are live: the legacy
``div.saml-account`` markup ("Account: alias (123456789012)") and the Next.js page whose
``<meta name="data">`` holds base64 JSON with ``roles_accounts``. Where the assertion may be
posted to get it is :func:`okenv.urls.signin_post_url`'s decision.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from okenv.errors import ServiceError

__all__ = ["MAX_PAGE", "SigninPage", "account_label", "parse_signin_page"]

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# "alias (123456789012)" or "123456789012", optionally after "Account:".
_ACCOUNT_LABEL = re.compile(
    r"^\s*(?:Account:\s*)?(?:(?P<alias>.+?)\s*\(\s*(?P<id>[0-9]{12})\s*\)|(?P<bare>[0-9]{12}))\s*$",
    re.DOTALL,
)
_ROLE_ARN_ACCOUNT = re.compile(r"^arn:aws[a-z-]*:iam::([0-9]{12}):role/")
_MAX_ALIAS = 63  # IAM account aliases are 3..63 characters
MAX_PAGE = 8 * 1024 * 1024  # bytes; the reader stops there (okenv.limits)


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
    if len(html) > MAX_PAGE:
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
