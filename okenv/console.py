"""An AWS console sign-in URL for temporary credentials, via the federation endpoint.

``GET <signin>/federation?Action=getSigninToken&Session=<json>`` trades the credentials for
a sign-in token; ``<signin>/federation?Action=login&Issuer=…&Destination=<console>&SigninToken=…``
is the URL a browser opens. The sign-in host and the console follow the role's partition
(aws, aws-us-gov, aws-cn, aws-eusc); ``OKENV_AWS_SIGNIN_URL`` replaces the sign-in host (tests).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from okenv import report
from okenv.credentials import Credentials
from okenv.errors import NetworkError, ServiceError
from okenv.partitions import PARTITIONS
from okenv.redact import redact_url
from okenv.urls import signin_base_url

__all__ = ["console_destination", "login_url", "signin_token", "signin_token_url"]

ISSUER = "okenv"
NETWORK_HINT = "check your network connection and proxy settings"


def _partition(creds: Credentials) -> str:
    parts = creds.role_arn.split(":")
    return parts[1] if len(parts) > 2 and parts[1] in PARTITIONS else "aws"


def console_destination(creds: Credentials, region: str | None) -> str:
    base = PARTITIONS[_partition(creds)].console_url
    if region:
        return f"{base}console/home?{urlencode({'region': region})}"
    return base


def signin_token_url(creds: Credentials, environ: Mapping[str, str]) -> str:
    session = json.dumps(
        {
            "sessionId": creds.access_key_id,
            "sessionKey": creds.secret_access_key,
            "sessionToken": creds.session_token,
        },
        separators=(",", ":"),
    )
    base = signin_base_url(_partition(creds), environ)
    return f"{base}/federation?" + urlencode({"Action": "getSigninToken", "Session": session})


def login_url(
    creds: Credentials, token: str, environ: Mapping[str, str], region: str | None = None
) -> str:
    base = signin_base_url(_partition(creds), environ)
    query = urlencode(
        {
            "Action": "login",
            "Issuer": ISSUER,
            "Destination": console_destination(creds, region),
            "SigninToken": token,
        }
    )
    return f"{base}/federation?{query}"


def signin_token(
    creds: Credentials,
    environ: Mapping[str, str],
    *,
    timeout: float = 20.0,
) -> str:
    """Ask the federation endpoint for a sign-in token for ``creds``."""
    import requests

    from okenv.limits import MAX_JSON, Expired, bounded_request

    url = signin_token_url(creds, environ)
    host = urlsplit(url).netloc
    report.trace(f"GET {redact_url(url)}")
    try:
        response = bounded_request(
            "GET", url, timeout=timeout, cap=MAX_JSON, what=f"the AWS federation endpoint at {host}"
        )
    except Expired:
        raise NetworkError(
            f"the AWS federation endpoint at {host} did not answer within {timeout:g} s",
            hint=NETWORK_HINT,
        ) from None
    except requests.RequestException as exc:
        raise NetworkError(
            f"could not reach the AWS federation endpoint at {host}: {type(exc).__name__}",
            hint=NETWORK_HINT,
        ) from None
    report.trace(f"-> HTTP {response.status_code}")
    if response.status_code != 200:
        raise ServiceError(
            f"the AWS federation endpoint refused the credentials (HTTP {response.status_code})",
            hint="the credentials may have expired: run again with --force",
        )
    try:
        token = response.json().get("SigninToken")
    except (ValueError, AttributeError):
        token = None
    if not isinstance(token, str) or not token:
        raise ServiceError("the AWS federation endpoint answered without a SigninToken")
    return token
