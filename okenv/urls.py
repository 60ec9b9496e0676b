"""The URL rules, in one place: what okenv will connect to, and how a URL is shown.

Pure and light (standard library only, and okenv.partitions only where an AWS host is
judged: ``app_url`` is checked on the cached path too).
A URL okenv accepts is one that ``urllib.parse`` and the HTTP client (urllib3's
``parse_url``) read the same way: no backslash, no userinfo (``user@``), no whitespace or
control character anywhere, an ASCII host. Then both agree on the host, and the host is
compared exactly:

- :func:`check_url`: https, or http on a loopback host only (the literal ``localhost``,
  127.0.0.0/8 or ``::1``; never a name that DNS or /etc/hosts resolves).
- :func:`aws_signin_url`: an https AWS sign-in host of a known partition, default port.
- :func:`redact_userinfo`: a URL as it may appear in a message.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit, urlunsplit

from okenv.errors import ConfigError

__all__ = [
    "SIGNIN_URL_ENV",
    "aws_signin_url",
    "check_url",
    "is_loopback",
    "redact_userinfo",
    "signin_base_url",
    "signin_post_url",
    "split",
]

# Whitespace, C0/C1 controls, DEL and the backslash that urllib3 reads as a path separator.
# Character sets rather than regular expressions: the cached path checks app_url, and
# compiling a pattern costs more than the check.
_UNSAFE = frozenset(map(chr, [*range(0x21), *range(0x7F, 0xA0), 0x5C]))
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789.-")
_IP6_CHARS = frozenset("0123456789abcdef:.")


def _plain_host(host: str) -> bool:
    """An ASCII host name (lower case) or a bracketed IPv6 literal, nothing else."""
    if host.startswith("[") and host.endswith("]"):
        inner = host[1:-1]
        return bool(inner) and _IP6_CHARS.issuperset(inner)
    return bool(host) and _NAME_CHARS.issuperset(host)


def redact_userinfo(url: str) -> str:
    """``url`` with any ``user:password@`` before the host replaced by ``<redacted>@``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    end = len(rest)
    for mark in "/?#":
        found = rest.find(mark)
        if found != -1:
            end = min(end, found)
    authority = rest[:end]
    if "@" not in authority:
        return url
    return f"{scheme}://<redacted>@{authority.rsplit('@', 1)[1]}{rest[end:]}"


def is_loopback(host: str) -> bool:
    """The literal ``localhost``, an address in 127.0.0.0/8, or ``::1`` (brackets allowed).

    ``*.localhost`` is not loopback here: a resolver may send it anywhere.
    """
    host = host.lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.removeprefix("[").removesuffix("]")).is_loopback
    except ValueError:
        return False


def split(url: str, what: str) -> SplitResult:
    """``url`` split the way the HTTP client splits it, or :class:`ConfigError`.

    Refused: a backslash, whitespace or control character anywhere, userinfo, a host that
    is not plain ASCII (name or IP literal), a port that is not a number.
    """
    shown = redact_userinfo(url)
    if not _UNSAFE.isdisjoint(url):
        raise ConfigError(f"{what} contains a space, a backslash or a control character: {shown!r}")
    parts = urlsplit(url)
    if "@" in parts.netloc:
        raise ConfigError(
            f"{what} must not contain a user name or password: {shown}",
            hint="okenv asks for the password itself; remove the user@ part",
        )
    host = parts.netloc.rpartition(":")[0] if _has_port(parts.netloc) else parts.netloc
    if parts.scheme not in ("https", "http") or not _plain_host(host.lower()):
        raise ConfigError(f"{what} is not an http(s) URL: {shown!r}")
    try:
        parts.port  # noqa: B018  (validates the port)
    except ValueError:
        raise ConfigError(f"{what} has an invalid port: {shown!r}") from None
    return parts


def _has_port(netloc: str) -> bool:
    return ":" in netloc.rpartition("]")[2]


def check_url(url: str, what: str) -> str:
    """``url`` (stripped, no trailing slash, no query or fragment): https, or http on a
    loopback host. :class:`ConfigError` otherwise."""
    parts = split(url.strip(), what)
    if parts.scheme == "http" and not is_loopback(parts.hostname or ""):
        raise ConfigError(
            f"{what} must use https: {redact_userinfo(url)}",
            hint="http:// is accepted only on loopback hosts (localhost, 127.0.0.0/8, ::1)",
        )
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def aws_signin_url(url: str | None) -> tuple[str, str] | None:
    """(``url`` as scheme://host/path, its partition) when it is an https URL on an AWS
    sign-in host (default port), else None.

    Also accepted: a loopback URL (local testing), partition ``"loopback"``.
    """
    from okenv.partitions import partition_of_signin_host  # not on the cached path

    if not url:
        return None
    try:
        parts = split(url.strip(), "the URL")
    except ConfigError:
        return None
    host = parts.hostname or ""
    path = parts.path or "/saml"
    if is_loopback(host):
        return urlunsplit((parts.scheme, parts.netloc, path, "", "")), "loopback"
    partition = partition_of_signin_host(host)
    if parts.scheme != "https" or partition is None or parts.port not in (None, 443):
        return None
    return urlunsplit(("https", host, path, "", "")), partition


SIGNIN_URL_ENV = "OKENV_AWS_SIGNIN_URL"
"""Base URL (scheme, host, optional path prefix) that replaces the AWS sign-in host for
both the role-selection POST (``<base>/saml``) and the federation endpoint
(``<base>/federation``): tests and unusual networks."""


def signin_base_url(partition: str, environ: Mapping[str, str]) -> str:
    """``https://signin.<partition host>``, or the ``OKENV_AWS_SIGNIN_URL`` override."""
    from okenv.partitions import PARTITIONS

    override = environ.get(SIGNIN_URL_ENV, "").strip()
    if override:
        return check_url(override, SIGNIN_URL_ENV)
    try:
        known = PARTITIONS[partition]
    except KeyError:
        raise ConfigError(f"okenv does not know the AWS partition {partition!r}") from None
    return f"https://{known.federation_host or known.signin_host}"


def signin_post_url(destination: str | None, environ: Mapping[str, str]) -> str | None:
    """Where to post the assertion for the role-selection page, or None when nowhere safe.

    The override wins; otherwise the Destination, but only as :func:`aws_signin_url`
    accepts it. An assertion is a bearer credential: it never goes to a host that is not
    meant to receive it.
    """
    override = environ.get(SIGNIN_URL_ENV, "").strip()
    if override:
        return check_url(override, SIGNIN_URL_ENV) + "/saml"
    found = aws_signin_url(destination)
    return found[0] if found is not None else None
