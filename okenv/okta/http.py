"""HTTP to one Okta org: one requests session for the JSON API and the pages (MechanicalSoup).

Every request has a deadline (connect to last byte) and a size cap, TLS verification
stays on (``REQUESTS_CA_BUNDLE`` is honoured by requests), redirects are followed by hand
and only within the org's origin, so the password, tokens and cookies never reach another
host.
"""

from __future__ import annotations

import functools
import importlib
import json
import math
import sys
import threading
import time
from collections.abc import Callable, Collection, Mapping
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from okenv import __version__, report
from okenv.errors import AuthenticationError, NetworkError, OkenvError, OktaError
from okenv.limits import MAX_JSON, MAX_PAGE, Expired, deadline, read_capped
from okenv.redact import redact_url
from okenv.tls import ca_bundle
from okenv.urls import is_loopback

DEFAULT_TIMEOUT = 20.0  # seconds for each request, connect to last byte
MAX_REDIRECTS = 10
JSON_TYPES = ("application/json", "application/ion+json")
ION_TYPE = "application/ion+json; okta-version=1.0.0"
RATE_LIMIT_MAX_WAIT = 60.0  # seconds: a longer wait for Okta's rate limit is an error instead
RATE_LIMIT_MARGIN = 0.2  # seconds after the announced reset before the retry
RETRY_STATUSES = frozenset({500, 502, 503, 504})  # a GET that got one of these is tried again
RETRY_BACKOFF = 0.5  # seconds before that one retry (GET only: a POST is never repeated)
SESSION_COOKIES = ("idx", "sid")  # Okta's session cookie: idx on Identity Engine, sid on Classic

Notify = Callable[[str], None]
Sleep = Callable[[float], None]


def _origin(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, parts.netloc.lower()


SOUP_CONFIG = {"features": "html.parser"}


@functools.cache
def _preload_pages() -> None:
    """Import MechanicalSoup (and BeautifulSoup) in a thread, once: only the pages need it,
    and the first of them comes after the primary auth and the factor, so ~60 ms of imports
    run while those requests wait for Okta (the GIL is free then) instead of before them.
    requests is imported already, so the two threads never wait on each other's imports."""
    if "mechanicalsoup" not in sys.modules:
        threading.Thread(
            target=importlib.import_module,
            args=("mechanicalsoup",),
            name="okenv-preload",
            daemon=True,
        ).start()


class OktaHttp:
    """One org, one connection pool, one cookie jar (HTML pages read with MechanicalSoup)."""

    def __init__(
        self,
        org_url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        notify: Notify | None = None,
        sleep: Sleep = time.sleep,
        rate_limit_max_wait: float = RATE_LIMIT_MAX_WAIT,
        retry_backoff: float = RETRY_BACKOFF,
    ) -> None:
        self.org_url = org_url.rstrip("/")
        self.timeout = timeout
        self._origin = _origin(self.org_url)
        self._notify = notify or report.notify
        self._sleep = sleep
        self._rate_limit_max_wait = rate_limit_max_wait
        self._retry_backoff = retry_backoff
        self.session = requests.Session()
        self.session.headers["User-Agent"] = f"okenv/{__version__}"
        _preload_pages()  # MechanicalSoup loads while the first requests wait for Okta
        bundle = ca_bundle()
        if bundle is not None:
            self.session.verify = bundle  # never False: verification stays on
        # Browsers treat loopback as a secure context and send Secure cookies over
        # http://127.0.0.1; so does okenv (config.check_org_url allows http only there).
        self._loopback_http = self._origin[0] == "http" and is_loopback(self.host)

    def sibling(self) -> OktaHttp:
        """A client for the same org with the same settings and a session (a connection, a
        cookie jar) of its own: for a request made in another thread at the same time."""
        return OktaHttp(
            self.org_url,
            timeout=self.timeout,
            notify=self._notify,
            sleep=self._sleep,
            rate_limit_max_wait=self._rate_limit_max_wait,
            retry_backoff=self._retry_backoff,
        )

    @property
    def host(self) -> str:
        return urlsplit(self.org_url).hostname or ""

    def url(self, path: str) -> str:
        return urljoin(self.org_url + "/", path)

    # -- cookies ----------------------------------------------------------------------------

    def session_cookie(self) -> tuple[str, str] | None:
        """Okta's session cookie (``idx`` or ``sid``) for this org, if the jar holds one."""
        found: dict[str, str] = {}
        for cookie in self.session.cookies:
            domain = cookie.domain.lstrip(".").lower()
            if cookie.name in SESSION_COOKIES and cookie.value and self.host.endswith(domain):
                found[cookie.name] = cookie.value
        for name in SESSION_COOKIES:
            if name in found:
                return name, found[name]
        return None

    def set_cookie(self, name: str, value: str) -> None:
        """Put a cookie for this org into the jar (e.g. a saved Okta session)."""
        self.session.cookies.set(
            name, value, domain=self.host, path="/", secure=self._origin[0] == "https"
        )

    # -- plumbing -------------------------------------------------------------------------

    def _check_origin(self, url: str) -> None:
        if _origin(url) != self._origin:
            raise OktaError(
                f"Okta sent okenv to another host ({urlsplit(url).netloc}); refusing to follow",
                hint=f"only {self.org_url} is trusted with your credentials",
            )

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        self._check_origin(url)
        start = time.monotonic()
        accept = str(kwargs.get("headers", {}).get("Accept", ""))
        cap = MAX_JSON if "json" in accept else MAX_PAGE
        try:
            with deadline(self.timeout):
                response = self.session.request(
                    method, url, timeout=self.timeout, allow_redirects=False, stream=True, **kwargs
                )
                read_capped(response, cap, f"Okta at {self.org_url}")
        except requests.exceptions.SSLError as exc:
            raise NetworkError(
                f"TLS certificate verification failed for {self.org_url}: {_reason(exc)}",
                hint="if your network uses its own CA, point REQUESTS_CA_BUNDLE at its bundle",
            ) from None
        except requests.exceptions.ProxyError as exc:
            raise NetworkError(
                f"cannot reach Okta at {self.org_url} through the proxy: {_reason(exc)}",
                hint="check HTTPS_PROXY / HTTP_PROXY and NO_PROXY",
            ) from None
        except (requests.exceptions.Timeout, Expired):
            raise NetworkError(
                f"Okta at {self.org_url} did not answer within {self.timeout:g} s",
                hint="check your network or VPN and try again",
            ) from None
        except requests.exceptions.ConnectionError as exc:
            if _caused_by(exc, "NameResolutionError") or _caused_by(exc, "gaierror"):
                raise NetworkError(
                    f"cannot find the Okta host {self.host} (DNS lookup failed)",
                    hint="check the app_url in your config, your network and your VPN",
                ) from None
            raise NetworkError(
                f"cannot reach Okta at {self.org_url}: {_reason(exc)}",
                hint="check the app_url in your config and your network",
            ) from None
        except requests.exceptions.RequestException as exc:
            raise NetworkError(f"request to Okta failed: {_reason(exc)}") from None
        if self._loopback_http:
            for cookie in self.session.cookies:
                cookie.secure = False
        if report.tracing():
            elapsed = (time.monotonic() - start) * 1000
            report.trace(f"{method} {redact_url(url)} → {response.status_code} ({elapsed:.0f} ms)")
        return response

    def _request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """:meth:`_send`, and after an HTTP 429 one retry once Okta's rate limit resets.

        The wait comes from ``X-Rate-Limit-Reset`` (UTC epoch seconds), is announced to the
        user and is bounded: a limit that resets later than ``rate_limit_max_wait`` seconds
        from now (or an answer without the header) is returned for the caller to report.
        A GET (idempotent) that gets a 500/502/503/504 is tried once more after a short
        back-off; a POST never is (it may have taken effect: a code spent, a push sent).
        """
        response = self._send(method, url, **kwargs)
        if method == "GET" and response.status_code in RETRY_STATUSES:
            report.trace(f"HTTP {response.status_code}: retrying once in {self._retry_backoff:g} s")
            self._sleep(self._retry_backoff)
            response = self._send(method, url, **kwargs)
        if response.status_code != 429:
            return response
        wait = rate_limit_wait(response.headers.get("X-Rate-Limit-Reset"), time.time())
        if wait is None or wait > self._rate_limit_max_wait:
            return response
        self._notify(
            f"Okta's rate limit was reached; retrying in {math.ceil(wait)} s when it resets…"
        )
        self._sleep(wait)
        return self._send(method, url, **kwargs)

    # -- the JSON API ---------------------------------------------------------------------

    def post_json(self, url: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """POST JSON, return the JSON object of a 2xx answer; map Okta's errors to ours."""
        response = self._request(
            "POST",
            self.url(url),
            json=dict(body),
            headers={"Accept": "application/json", "Content-Type": "application/json"},
        )
        data = _json_body(response)
        if 200 <= response.status_code < 300 and data is not None:
            return data
        raise okta_error(response, data)

    def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, dict[str, Any] | None]:
        """POST a form (the OAuth endpoints); the status and the answer's JSON object (None
        when it has none). Every status comes back: OAuth puts its errors in 4xx bodies."""
        response = self._request(
            "POST", self.url(url), data=dict(form), headers={"Accept": "application/json"}
        )
        return response.status_code, _json_body(response)

    def get_json(self, url: str) -> dict[str, Any]:
        """GET a JSON object (2xx), mapping Okta's errors to ours."""
        response = self._request("GET", self.url(url), headers={"Accept": "application/json"})
        data = _json_body(response)
        if 200 <= response.status_code < 300 and data is not None:
            return data
        raise okta_error(response, data)

    def get_json_list(self, url: str, params: Mapping[str, str] | None = None) -> list[Any]:
        """GET a JSON array (2xx), e.g. ``/api/v1/users/me/appLinks``; Okta's errors mapped."""
        response = self._request(
            "GET", self.url(url), params=params, headers={"Accept": "application/json"}
        )
        if 200 <= response.status_code < 300:
            try:
                data = json.loads(response.content)
            except ValueError:
                data = None
            if isinstance(data, list):
                return data
            raise OktaError(f"Okta answered {url} with something other than a list")
        raise okta_error(response, _json_body(response))

    def delete(self, url: str) -> int:
        """DELETE; returns the HTTP status (the caller decides what a 404 means)."""
        response = self._request("DELETE", self.url(url), headers={"Accept": "application/json"})
        if response.status_code >= 500 or response.status_code == 429:
            raise okta_error(response, _json_body(response))
        return response.status_code

    def post_ion(self, url: str, body: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST to an Identity Engine (IDX) endpoint; (status, JSON) of 2xx and 4xx answers.

        IDX puts its errors, with the next forms, in 4xx bodies: the caller reads them.
        """
        response = self._request(
            "POST",
            self.url(url),
            data=json.dumps(dict(body)),
            headers={"Accept": ION_TYPE, "Content-Type": ION_TYPE, "Origin": self.org_url},
        )
        data = _json_body(response)
        status = response.status_code
        if data is not None and (200 <= status < 300 or (400 <= status < 500 and status != 429)):
            return status, data
        raise okta_error(response, data)

    # -- pages ----------------------------------------------------------------------------

    def open_page(self, url: str, params: Mapping[str, str] | None = None) -> Any:
        """GET a page, following same-origin redirects; returns the BeautifulSoup of the end."""
        target = urljoin(self.org_url + "/", url)
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request("GET", target, params=params)
            params = None
            if response.is_redirect:
                target = urljoin(response.url, response.headers["Location"])
                continue
            if response.status_code >= 400:
                raise okta_error(response, _json_body(response))
            import mechanicalsoup

            mechanicalsoup.Browser.add_soup(response, SOUP_CONFIG)
            return getattr(response, "soup", None)
        raise OktaError(f"Okta redirected more than {MAX_REDIRECTS} times (a redirect loop)")


def rate_limit_wait(reset_header: str | None, now: float) -> float | None:
    """Seconds to wait for a rate limit that resets at ``reset_header`` (epoch seconds)."""
    try:
        reset = float(reset_header or "")
    except ValueError:
        return None
    if not math.isfinite(reset):
        return None
    return max(0.0, reset - now) + RATE_LIMIT_MARGIN


def _caused_by(exc: BaseException, name: str) -> bool:
    """Whether an exception of class ``name`` is in ``exc``'s chain (urllib3 wraps deeply)."""
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if any(cls.__name__ == name for cls in type(current).__mro__):
            return True
        pending.extend([current.__cause__, current.__context__, getattr(current, "reason", None)])
        pending.extend(arg for arg in current.args if isinstance(arg, BaseException))
    return False


def _reason(exc: BaseException) -> str:
    """The innermost reason of a requests/urllib3 exception, short."""
    text = str(exc)
    for marker in ("Caused by ", "] "):
        if marker in text:
            text = text.rsplit(marker, 1)[-1]
    return text.strip("()'\" ")[:200] or type(exc).__name__


def _json_body(response: requests.Response) -> dict[str, Any] | None:
    ctype = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
    if ctype not in JSON_TYPES:
        return None
    try:
        data = json.loads(response.content)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _json_problem(content: bytes) -> str:
    """Why a JSON body was unusable: not JSON at all (e.g. cut short), or not an object."""
    try:
        data = json.loads(content)
    except ValueError:
        return "malformed or truncated"
    return f"a JSON {type(data).__name__} where an object was expected"


REJECTED_PASSWORD = "E0000004"  # noqa: S105 (an error code, not a password)
"""Okta's errorCode for a wrong password (Classic; an OktaRefusal's ``code`` on both)."""
_WRONG_PASSWORD_KEYS = frozenset({"errors.E0000004", "incorrectPassword"})


def refusal_code(keys: Collection[str]) -> str:
    """The errorCode for an Identity Engine ERROR with these i18n keys (a wrong password:
    :data:`REJECTED_PASSWORD`), else ""."""
    return REJECTED_PASSWORD if _WRONG_PASSWORD_KEYS & set(keys) else ""


# Okta error codes a user can act on → (exception class, message, hint)
_OKTA_ERRORS: dict[str, tuple[type[OkenvError], str, str | None]] = {
    "E0000004": (
        AuthenticationError,
        "Okta rejected the username or password",
        "check both (OKENV_USERNAME / username in the config) and try again",
    ),
    "E0000011": (AuthenticationError, "the Okta sign-in transaction expired", "start over"),
    "E0000068": (AuthenticationError, "the MFA code was not accepted", None),
    "E0000069": (
        AuthenticationError,
        "the Okta account is locked",
        "unlock it in a browser or ask your Okta admin",
    ),
    "E0000082": (
        AuthenticationError,
        "the MFA code was already used",
        "wait for the next code and try again",
    ),
    "E0000083": (
        AuthenticationError,
        "the MFA code is outside its time window",
        "check the clock of the device that makes the codes",
    ),
}


class OktaRefusal(AuthenticationError):
    """Okta refused a request a user can act on; ``code`` is Okta's ``errorCode``."""

    def __init__(self, message: str, hint: str | None = None, code: str = "") -> None:
        super().__init__(message, hint)
        self.code = code


def okta_error(response: requests.Response, data: Mapping[str, Any] | None) -> OkenvError:
    status = response.status_code
    if data is None:
        ctype = response.headers.get("Content-Type", "unknown").split(";")[0] or "unknown"
        if status >= 500:
            return OktaError(f"Okta answered HTTP {status}", hint="Okta may be down; try again")
        if ctype.strip().lower() in JSON_TYPES:
            return OktaError(
                f"Okta answered HTTP {status} with JSON okenv cannot read "
                f"({_json_problem(response.content)})",
                hint="Okta or a proxy in between may be failing; try again",
            )
        return OktaError(
            f"Okta answered HTTP {status} with {ctype} where JSON was expected",
            hint="is app_url the Okta org's AWS app link?",
        )
    code = str(data.get("errorCode", ""))
    summary = str(data.get("errorSummary", "")).strip() or f"HTTP {status}"
    if code in _OKTA_ERRORS:
        cls, message, hint = _OKTA_ERRORS[code]
        if cls is AuthenticationError:
            return OktaRefusal(message, hint, code)
        return cls(message, hint=hint)
    if status == 429 or code == "E0000047":
        return OktaError("Okta's rate limit was hit", hint="wait a minute before trying again")
    if status >= 500:
        return OktaError(f"Okta answered HTTP {status}: {summary}", hint="try again later")
    return OktaError(f"Okta answered HTTP {status}: {summary}" + (f" ({code})" if code else ""))
