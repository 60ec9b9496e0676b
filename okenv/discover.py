"""Which AWS apps a user can reach in an Okta org (for ``okenv configure``).

With the Okta session a sign-in left (``sid`` on Classic, ``idx`` on Identity Engine),
``GET /api/v1/users/me/appLinks`` lists the user's dashboard; the AWS apps are those whose
``appName`` is ``amazon_aws``. An org that does not answer it (404) is asked for the
dashboard's ``/api/v1/users/me/home/tabs`` instead. Every link is checked before it is kept:
https (loopback excepted), on the org's own host and port, an AWS app's path; labels are
made printable and capped; at most :data:`MAX_APPS` apps.

:func:`parse_app_links`, :func:`parse_home_tabs` and :func:`split_org` are pure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from okenv.config import check_org_url
from okenv.errors import ConfigError, OkenvError, OktaError
from okenv.text import printable
from okenv.urls import split

MAX_APPS = 100
MAX_LABEL = 100
_APP_PATH = re.compile(r"/home/amazon_aws/(?P<instance>0oa[A-Za-z0-9]{1,40})/(?P<num>\d{1,6})")


@dataclass(frozen=True)
class AwsApp:
    label: str
    link: str
    """The app's embed link (``app_url``), checked."""
    instance: str


def split_org(url: str) -> tuple[str, str | None]:
    """``--org``: the org (scheme://host[:port]) and, for an AWS app link, that link."""
    url = url.strip()
    if "://" not in url:
        url = "https://" + url
    check_org_url(url, "the Okta org")
    parts = split(url, "the Okta org")
    org = f"{parts.scheme}://{parts.netloc}"
    path = parts.path.rstrip("/")
    if not path:
        return org, None
    if _APP_PATH.fullmatch(path):
        return org, f"{org}{path}"
    raise ConfigError(
        f"not an Okta org or AWS app link: {url!r}",
        hint="give the org (https://acme.okta.com) or the AWS app's link from the dashboard",
    )


def _app(org: str, label: Any, link: Any) -> AwsApp | None:
    """The app at ``link`` if it is an AWS app link on ``org``'s host, else None."""
    if not isinstance(link, str) or len(link) > 2048:
        return None
    try:
        check_org_url(link, "an app link from Okta")
        parts = split(link, "an app link from Okta")
    except ConfigError:
        return None
    if f"{parts.scheme}://{parts.netloc}".lower() != org.lower() or parts.query:
        return None
    match = _APP_PATH.fullmatch(parts.path)
    if match is None:
        return None
    name = printable(label.strip())[:MAX_LABEL] if isinstance(label, str) else ""
    return AwsApp(name or "AWS", f"{org}{parts.path}", match["instance"])


def _unique(apps: list[AwsApp]) -> list[AwsApp]:
    seen: dict[str, AwsApp] = {}
    for app in apps:
        seen.setdefault(app.instance, app)
    return list(seen.values())[:MAX_APPS]


def parse_app_links(data: list[Any], org: str) -> list[AwsApp]:
    """The AWS apps of an ``/api/v1/users/me/appLinks`` answer."""
    apps = []
    for item in data[: MAX_APPS * 10]:
        if isinstance(item, dict) and item.get("appName") == "amazon_aws":
            app = _app(org, item.get("label"), item.get("linkUrl"))
            if app is not None:
                apps.append(app)
    return _unique(apps)


def parse_home_tabs(data: list[Any], org: str) -> list[AwsApp]:
    """The AWS apps of a ``/api/v1/users/me/home/tabs?expand=items,items.resource`` answer
    (the dashboard's tabs; an AWS app is known by its link)."""
    apps = []
    for tab in data[:100]:
        embedded = tab.get("_embedded") if isinstance(tab, dict) else None
        items = embedded.get("items") if isinstance(embedded, dict) else None
        if not isinstance(items, list):
            continue
        for item in items[: MAX_APPS * 10]:
            embedded = item.get("_embedded") if isinstance(item, dict) else None
            resource = embedded.get("resource") if isinstance(embedded, dict) else None
            if isinstance(resource, dict):
                app = _app(org, resource.get("label"), resource.get("linkUrl"))
                if app is not None:
                    apps.append(app)
    return _unique(apps)


def aws_apps(http: Any) -> list[AwsApp]:
    """The AWS apps of the user whose Okta session ``http`` (an :class:`OktaHttp`) holds."""
    try:
        return parse_app_links(http.get_json_list("/api/v1/users/me/appLinks"), http.org_url)
    except OkenvError as exc:
        if "404" not in exc.message and "E0000022" not in exc.message:
            raise
    try:
        tabs = http.get_json_list(
            "/api/v1/users/me/home/tabs", params={"type": "all", "expand": "items,items.resource"}
        )
    except OktaError:
        raise OktaError(
            "Okta listed no apps (neither /api/v1/users/me/appLinks nor the dashboard answered)",
            hint="give the AWS app's link with --org",
        ) from None
    return parse_home_tabs(tabs, http.org_url)
