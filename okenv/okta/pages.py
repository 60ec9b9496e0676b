"""Pure parsing of the HTML pages Okta's app link returns. No I/O.

The page that carries the assertion holds a form whose attribute values are HTML-entity
escaped (``&#x2b;`` for ``+``); BeautifulSoup decodes them, and MechanicalSoup's ``Form``
reads the fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from okenv.errors import OktaError


@dataclass(frozen=True)
class SamlForm:
    action: str
    saml_response: str
    relay_state: str


def parse_app_page(soup: Any) -> SamlForm:
    """The SAML form of the app page, or an :class:`OktaError` saying what the page is."""
    if soup is None:
        raise OktaError("Okta's app link did not return an HTML page")
    for tag in soup.find_all("form"):
        if tag.find("input", attrs={"name": "SAMLResponse"}) is None:
            continue
        import mechanicalsoup  # loaded by now (okenv.okta.http preloads it)

        form = mechanicalsoup.Form(tag)
        fields = {
            field.get("name"): field.get("value", "")
            for field in form.form.find_all("input")
            if field.get("name")
        }
        return SamlForm(
            action=str(tag.get("action", "")),
            saml_response=str(fields.get("SAMLResponse", "")),
            relay_state=str(fields.get("RelayState", "")),
        )
    error = soup.find(class_="error-content")
    if error is not None:
        text = " ".join(error.get_text(" ").split())[:200]
        raise OktaError(
            f"Okta showed an error page instead of the SAML form: {text}",
            hint="check that app_url is the AWS app's embed link and that you are assigned to it",
        )
    if soup.find(id="okta-sign-in") is not None:
        raise OktaError(
            "Okta answered the app link with its sign-in page (the session was not accepted)",
            hint="the app may need extra sign-on steps; try again or check app_url",
        )
    raise OktaError(
        "Okta's app link returned a page without a SAML form",
        hint="check that app_url is the AWS app's embed link from the Okta dashboard",
    )


def has_saml_form(soup: Any) -> bool:
    """Whether the page carries the SAML form (without raising for other pages)."""
    if soup is None:
        return False
    return any(
        tag.find("input", attrs={"name": "SAMLResponse"}) is not None
        for tag in soup.find_all("form")
    )


_STATE_TOKEN = re.compile(
    r"""(?:\bvar\s+stateToken\s*=\s*|["']stateToken["']\s*:\s*)(["'])(?P<token>(?:\\.|(?!\1).)*)\1"""
)
_JS_ESCAPE = re.compile(r"\\(?:x([0-9A-Fa-f]{2})|u([0-9A-Fa-f]{4})|u\{([0-9A-Fa-f]{1,6})\}|(.))")
_JS_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}


def js_unescape(text: str) -> str:
    """Decode a JavaScript string literal's escapes (``\\x2D`` → ``-``, ``\\u002D``, ``\\/``)."""

    def decode(match: re.Match[str]) -> str:
        hex2, hex4, braced, char = match.groups()
        code = hex2 or hex4 or braced
        if code is not None:
            return chr(int(code, 16))
        return _JS_SIMPLE.get(char, char)

    return _JS_ESCAPE.sub(decode, text)


def state_token(soup: Any) -> str | None:
    """The ``stateToken`` that Okta's sign-in page holds in a script, decoded; else None.

    Classic pages write ``var stateToken = '00\\x2D…';``, Identity Engine pages
    ``"stateToken":"…"`` inside ``oktaData``; both JS-escaped.
    """
    if soup is None:
        return None
    for script in soup.find_all("script"):
        text = script.string or script.get_text() or ""
        match = _STATE_TOKEN.search(text)
        if match and match["token"]:
            return js_unescape(match["token"])
    return None
