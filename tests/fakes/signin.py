"""A fake AWS sign-in host on 127.0.0.1: the SAML role-selection page and the federation
endpoint. okenv reaches it through ``OKENV_AWS_SIGNIN_URL`` (its ``url``).

    with FakeSignin(aliases={"123456789012": "prod-main"}, layout="legacy") as signin:
        env["OKENV_AWS_SIGNIN_URL"] = signin.url
        ...
        assert signin.count(path_prefix="/saml") == 1

``POST /saml`` (form ``SAMLResponse``, ``RelayState``) answers, like AWS, a redirect to the
console when the assertion grants one role, else the role-selection page in ``layout``:

- ``"legacy"``: ``fieldset > div.saml-account`` blocks, "Account: alias (id)" or
  "Account: id", a radio input per role;
- ``"nextjs"``: ``<meta name="data" content=BASE64>`` with ``roles_accounts`` JSON, and the
  rendered list (which okenv does not read);
- ``"broken"``: a 200 page with neither (what a future layout would look like to okenv);
- ``"error"``: HTTP 500.

``GET /federation?Action=getSigninToken&Session=JSON`` answers ``{"SigninToken": ...}`` when
the session keys were issued by the linked :class:`FakeSts` (any keys without one), else
400; ``Action=login`` answers a small console page when the token is known.
"""

from __future__ import annotations

import base64
import html
import json
import secrets
from collections.abc import Mapping
from typing import Literal
from urllib.parse import parse_qs

from tests.fakes.http import FakeHTTPServer, Request, Response, html_response, json_response
from tests.fakes.sts import FakeSts, StsFault, _read_saml

__all__ = ["FakeSignin", "Layout", "legacy_page", "nextjs_page"]

Layout = Literal["legacy", "nextjs", "broken", "error"]

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Amazon Web Services Sign-In</title>
{head}</head>
<body><div id="container">{body}</div></body></html>
"""


def _group(arns: list[str]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for arn in arns:
        groups.setdefault(arn.split(":")[4], []).append(arn)
    return groups


def _label(account: str, aliases: Mapping[str, str]) -> str:
    alias = aliases.get(account)
    return f"{alias} ({account})" if alias else account


def legacy_page(role_arns: list[str], aliases: Mapping[str, str]) -> str:
    """The pre-2023 page: one ``div.saml-account`` per account, radio inputs per role."""
    blocks = []
    for number, (account, arns) in enumerate(_group(role_arns).items()):
        roles = "".join(
            '<div class="saml-role"><input type="radio" name="roleIndex" '
            f'value="{html.escape(arn)}" class="saml-radio" id="{html.escape(arn)}"/>'
            f'<label for="{html.escape(arn)}" class="saml-role-description">'
            f"{html.escape(arn.rsplit('/', 1)[-1])}</label></div>"
            for arn in arns
        )
        blocks.append(
            '<div class="saml-account"><div onclick="expandCollapse('
            f'{number});"><img src="/static/image/down.png"/>'
            '<div class="saml-account-name">Account: '
            f"{html.escape(_label(account, aliases))}</div></div><hr/>"
            f'<div id="{number}" class="saml-account">{roles}</div></div>'
        )
    body = (
        '<form id="saml_form" name="saml_form" action="/saml" method="post">'
        '<p style="font-size: 16px; padding-left: 20px;">Select a role:</p>'
        f"<fieldset>{''.join(blocks)}</fieldset>"
        '<input type="hidden" name="RelayState" value=""/>'
        '<input type="hidden" name="SAMLResponse" value="..."/>'
        '<input type="submit" id="signin_button" value="Sign In"/></form>'
    )
    return _PAGE.format(head="", body=body)


def nextjs_page(role_arns: list[str], aliases: Mapping[str, str], saml: str = "") -> str:
    """The 2023+ page: the data okenv reads is base64 JSON in ``<meta name="data">``."""
    groups = _group(role_arns)
    data = {
        "invalid_accounts": {},
        "RelayState": "",
        "name": None,
        "roles_accounts": {_label(account, aliases): arns for account, arns in groups.items()},
        "foreign_accounts": {},
        "region": "IAD",
        "portal": None,
        "SAMLResponse": saml,
    }
    encoded = base64.b64encode(json.dumps(data).encode()).decode()
    head = (
        '<meta name="csrf_token" content="{{ csrf_token }}">\n'
        f'<meta name="data"\n    content="{encoded}">\n<meta name="panorama" content="IAD">\n'
    )
    items = "".join(
        '<li class="saml-form_custom_list_item"><div class="saml-form_account_name_div">'
        f"{html.escape(aliases.get(account, account))} </div>"
        + "".join(
            f'<a class="saml-form_role_text" id="{html.escape(arn)}" role="button">'
            f"{html.escape(arn.rsplit('/', 1)[-1])}</a>"
            for arn in arns
        )
        + "</li>"
        for account, arns in groups.items()
    )
    body = f'<div id="__next"><ul class="saml-form_custom_list">{items}</ul></div>'
    return _PAGE.format(head=head, body=body)


BROKEN_PAGE = _PAGE.format(
    head="",
    body="<h1>Something new</h1><p>This page has a layout okenv has never seen.</p>",
)


class FakeSignin(FakeHTTPServer):
    def __init__(
        self,
        *,
        aliases: Mapping[str, str] | None = None,
        layout: Layout = "nextjs",
        sts: FakeSts | None = None,
    ) -> None:
        super().__init__()
        self.aliases: dict[str, str] = dict(aliases or {})
        self.layout: Layout = layout
        self.sts = sts
        self.signin_tokens: dict[str, str] = {}  # token -> access key id
        self.sessions: list[dict[str, str]] = []  # Session documents received
        self.add_route("POST", r"/saml", self._saml)
        self.add_route("GET", r"/federation", self._federation)

    def _saml(self, request: Request) -> Response:
        form = {k: v[0] for k, v in parse_qs(request.body.decode("utf-8")).items()}
        try:
            saml = _read_saml(form.get("SAMLResponse", ""))
        except StsFault as fault:
            return html_response(
                f"<h1>Your request included an invalid SAML response</h1>"
                f"<p>{html.escape(fault.message)}</p>",
                400,
            )
        arns = [role for role, _provider in saml.roles]
        if not arns:
            return html_response("<h1>Your request included an invalid SAML response</h1>", 400)
        if len(arns) == 1:  # AWS signs the user straight in
            return Response(302, b"", [("Location", "https://console.aws.amazon.com/")])
        if self.layout == "error":
            return html_response("<h1>Internal Server Error</h1>", 500)
        if self.layout == "broken":
            return html_response(BROKEN_PAGE)
        if self.layout == "legacy":
            return html_response(legacy_page(arns, self.aliases))
        return html_response(nextjs_page(arns, self.aliases, form.get("SAMLResponse", "")))

    def _federation(self, request: Request) -> Response:
        action = request.query.get("Action")
        if action == "getSigninToken":
            try:
                session = json.loads(request.query.get("Session", ""))
                key = str(session["sessionId"])
                valid = bool(session["sessionKey"]) and bool(session["sessionToken"])
            except (ValueError, KeyError, TypeError):
                return html_response("<h1>Bad Request</h1>", 400)
            if self.sts is not None:
                issued = self.sts.issued.get(key)
                valid = valid and issued is not None
                valid = valid and issued.secret_access_key == session["sessionKey"]
                valid = valid and issued.session_token == session["sessionToken"]
            if not valid:
                return html_response("<h1>Bad Request</h1>", 400)
            token = secrets.token_urlsafe(48)
            with self._lock:
                self.signin_tokens[token] = key
                self.sessions.append(session)
            return json_response({"SigninToken": token})
        if action == "login":
            if request.query.get("SigninToken") not in self.signin_tokens:
                return html_response("<h1>Bad Request</h1>", 400)
            return html_response("<h1>AWS Management Console</h1>")
        return html_response("<h1>Bad Request</h1>", 400)
