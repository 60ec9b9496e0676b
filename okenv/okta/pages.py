"""Pure parsing of the HTML pages Okta's app link returns. No I/O.

The page that carries the assertion holds a form whose attribute values are HTML-entity
escaped (``&#x2b;`` for ``+``); BeautifulSoup decodes them, and MechanicalSoup's ``Form``
reads the fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mechanicalsoup

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
